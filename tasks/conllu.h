// CoNLL-U treebanks (Universal Dependencies) as POS-tagging data.
//
// Each sentence is a run of 10-column token lines (ID FORM LEMMA UPOS XPOS FEATS HEAD
// DEPREL DEPS MISC) ended by a blank line (or the end of the file). Comment lines (`#`) are
// skipped, except `# sent_id = ...`, which names the sentence. Multiword-token lines (ID
// `3-4`) and empty nodes (ID `5.1`) are skipped: the tagged words are the syntactic words,
// as UD's own POS evaluation counts them. `.xz` files are read transparently.
#ifndef CLOZE_TASKS_CONLLU_H_
#define CLOZE_TASKS_CONLLU_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tasks/read_options.h"
#include "tasks/task_example.h"

namespace cloze::tasks {

enum class PosTagSet {
  kUpos,  // universal POS tags (column 4)
  kXpos,  // language-specific tags (column 5; EWT's are Penn Treebank tags)
};

// Reads every sentence of `path`, with the words' tags from `tag_set`. Errors
// (InvalidArgument naming file, 1-based line and column): a token line without exactly
// 10 tab-separated columns, an ID that is not a positive integer, range or decimal, word
// IDs that do not count 1, 2, 3, ... within a sentence, an empty FORM or tag, a HEAD that
// is neither `_` nor a word number of the sentence (0 = root), a file without sentences.
// Each sentence also carries HEAD and DEPREL (TaggedSentence::heads, relations). NotFound for a missing file. With skip_bad_lines the sentence that
// holds a bad line is dropped and the line counted in *stats.
absl::StatusOr<std::vector<TaggedSentence>> ReadConllu(const std::string& path, PosTagSet tag_set,
                                                       const ReadOptions& options,
                                                       ReadStats* stats);

// The file of `split` ("train", "dev", "test") of the UD treebank in `dir`: the one file whose
// name ends in -ud-<split>.conllu or -ud-<split>.conllu.xz (UD's naming). NotFound naming
// the folder when there is none (or the folder is missing); InvalidArgument listing them when
// there are several.
absl::StatusOr<std::string> FindTreebankFile(const std::string& dir, const std::string& split);

// The UD v2 UPOS inventory, sorted: the label list of a UPOS tagging task.
std::vector<std::string> UniversalPosTags();

// The distinct tags of `sentences`, sorted bytewise: the label list of a tagging task whose
// inventory comes from its train set (XPOS).
std::vector<std::string> CollectTags(const std::vector<TaggedSentence>& sentences);

// A tagging TaskSpec named `name` whose labels are `tags` (e.g. UniversalPosTags(), or the
// sorted distinct tags of a train set for XPOS) and whose metric is "accuracy".
TaskSpec TaggingTaskSpec(const std::string& name, std::vector<std::string> tags);

}  // namespace cloze::tasks

#endif  // CLOZE_TASKS_CONLLU_H_
