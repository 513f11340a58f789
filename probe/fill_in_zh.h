// The fill-in probe (fill_in.h) on Chinese text, by character class: there is no Chinese
// treebank in shared data, so classes come from the characters themselves, not a tagger.
//
// Every Han character and punctuation mark of a sentence is one query: the sentence is
// tokenized whole, as pretraining saw it, and the tokens the character's bytes cover are all
// masked ([CLS] sentence [SEP], other characters left as they are); it counts as recovered
// only when the head's argmax is right at every one of them. A character is not asked when
// a token it covers also covers other characters (a SentencePiece piece of several
// characters, "中国": masking it would hide its neighbour too) or when one of its tokens is
// the unknown id (predicting [UNK] for [UNK] says nothing). A sentence longer than
// max_seq_length - 2 tokens is cut into windows; a character whose tokens straddle two is
// not asked either.
//
// Classes (ChineseCharacterClass):
//   function      a closed list of frequent grammatical characters, simplified and
//                 traditional: structural and aspect particles (的 地 得 之 了 着 过 ...),
//                 sentence-final particles (吗 呢 吧 啊 乎 矣 ...), pronouns and
//                 demonstratives (我 你 他 她 它 们 这 那 其 此 ...), prepositions and
//                 coverbs (在 于 以 从 对 向 与 把 被 为 ...), conjunctions (和 及 而 或
//                 且 并 但 则 ...), negation (不 没 未 非 无 莫 ...), the copula and
//                 existential (是 有) and frequent adverbs (也 都 就 又 还 很 亦 皆);
//                 the counterpart of English DET, ADP, PRON, AUX, PART, CCONJ;
//   numeral       Han numerals (一 二 ... 十 百 千 万 亿 零 〇 两 and their traditional forms);
//   punctuation   CJK and full-width punctuation (，。、；：？！「」《》（） ...), general
//                 punctuation (“” ‘’ — …) and the middle dot ·;
//   content       every other Han character (nouns, verbs, adjectives, names);
// Latin letters, digits and other characters are context only, never asked.
#ifndef CLOZE_PROBE_FILL_IN_ZH_H_
#define CLOZE_PROBE_FILL_IN_ZH_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "data/tokenizer.h"
#include "probe/fill_in.h"
#include "tasks/read_options.h"
#include "tasks/tagging_features.h"

namespace cloze::probe {

// "function", "numeral", "punctuation", "content", or "" for a character that is not asked.
std::string ChineseCharacterClass(char32_t c);

// The sentences of a UTF-8 text file (one passage or sentence per line), split after 。！？
// (data/sentence_splitter.h), keeping those with at least one Han character, in order, the
// first `skip_lines` lines left out (text the probed run pretrained on). Errors name the
// file, and the line of a line that is not UTF-8 (skipped and counted in `stats` with
// read.skip_bad_lines); FailedPrecondition when no sentence has a Han character.
absl::StatusOr<std::vector<std::string>> ReadChineseSentences(const std::string& path, int skip_lines,
                                                              const tasks::ReadOptions& read, tasks::ReadStats* stats);

// The queries of `sentences`, with the features they point into. Movable, not copyable.
struct ChineseFillIn {
  std::vector<tasks::TaggingFeature> features;  // one per window: only the ids and masks are set
  std::vector<FillInQuery> queries;             // word_class: ChineseCharacterClass
  int64_t in_longer_pieces = 0;  // characters not asked: a token covers other characters too
  int64_t unknown = 0;           // not asked: a token is the unknown id
  int64_t cut = 0;               // not asked: their tokens straddle two windows

  ChineseFillIn() = default;
  ChineseFillIn(ChineseFillIn&&) = default;
  ChineseFillIn& operator=(ChineseFillIn&&) = default;
  ChineseFillIn(const ChineseFillIn&) = delete;
  ChineseFillIn& operator=(const ChineseFillIn&) = delete;
};

// The queries of every sentence, in order. InvalidArgument when max_seq_length < 3.
absl::StatusOr<ChineseFillIn> ChineseFillInQueries(const std::vector<std::string>& sentences,
                                                   const data::Tokenizer& tokenizer, int max_seq_length);

}  // namespace cloze::probe

#endif  // CLOZE_PROBE_FILL_IN_ZH_H_
