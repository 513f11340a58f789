// The raw examples of the fine-tuning tasks, as their readers return them (before any
// tokenisation), and the TaskSpec that says how to interpret and score them.
//
// Text is kept exactly as in the file (UTF-8 bytes, nothing normalised or trimmed), so a
// featuriser can apply the tokenizer's own normalisation.
#ifndef CLOZE_TASKS_TASK_EXAMPLE_H_
#define CLOZE_TASKS_TASK_EXAMPLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cloze::tasks {

// What a task predicts, which decides the model's head and the meaning of a label.
enum class TaskKind {
  kSingle,      // one sentence, one class (CoLA, SST-2)
  kPair,        // two sentences, one class (MRPC, MNLI, ...)
  kRegression,  // one or two sentences, one real number (STS-B)
  kTagging,     // one tag per word (POS tagging)
  kSpan,        // an answer span in a context (SQuAD)
};

// "single", "pair", "regression", "tagging", "span".
const char* TaskKindName(TaskKind kind);

struct TaskSpec {
  std::string name;  // e.g. "CoLA", "MNLI", "en_ewt-upos"
  TaskKind kind = TaskKind::kSingle;
  // The classes (or tags), index <-> string; a label's index is its position here.
  // Empty for regression and span tasks.
  std::vector<std::string> labels;
  // The metrics the task is reported with, as GLUE's leaderboard names them:
  // "matthews_corrcoef", "accuracy", "f1", "pearson", "spearman", "exact_match", ...
  std::vector<std::string> metrics;
  // Regression only: the range a score must lie in (STS-B: 0..5), when the task has one.
  std::optional<double> min_score, max_score;

  // The index of `label` in `labels`; NotFound (message lists the labels) when absent.
  absl::StatusOr<int> LabelIndex(const std::string& label) const;
};

// One sentence or a sentence pair with an optional label (test splits have none).
struct SentenceExample {
  std::string guid;    // "<split>-<line>", unique within a read
  int64_t line = 0;    // 1-based line in the source file (provenance for error reports)
  std::string id;      // the row's own id column (GLUE test `index`), for submission
                       // files; empty when the format has none
  std::string text_a;
  std::optional<std::string> text_b;  // pair tasks only
  std::optional<int> label;           // classification: index into TaskSpec::labels
  std::optional<float> score;         // regression: the target
};

// A sentence of a tagging task: words[i] carries tags[i]. Read from CoNLL-U, it also
// carries the dependency tree (for the syntactic probes): word i's head heads[i] (1-based
// word number, 0 = the root, -1 = `_`, not annotated) and relation relations[i] (DEPREL,
// e.g. "nsubj", "obl:tmod"); both are empty for sentences from elsewhere.
struct TaggedSentence {
  std::string id;    // CoNLL-U `# sent_id`, empty when the file has none
  int64_t line = 0;  // 1-based line of the sentence's first token
  std::vector<std::string> words;
  std::vector<std::string> tags;
  std::vector<int> heads;
  std::vector<std::string> relations;
};

struct QaAnswer {
  std::string text;
  int64_t char_start = 0;  // answer_start as in the file: Unicode code points into context
  int64_t byte_start = 0;  // the same offset in bytes of the UTF-8 context
};

// A SQuAD-style question. For SQuAD 2.0 an unanswerable question has is_impossible set,
// no answers, and usually plausible_answers.
struct QaExample {
  std::string id;
  std::string title;  // the article's title, empty when absent
  std::string question;
  std::string context;
  std::vector<QaAnswer> answers;
  bool is_impossible = false;
  std::vector<QaAnswer> plausible_answers;
};

}  // namespace cloze::tasks

#endif  // CLOZE_TASKS_TASK_EXAMPLE_H_
