// GLUE submission files: what gluebenchmark.com takes for a test split, one TSV per task.
//
// Each file is named as the server expects (CoLA.tsv, SST-2.tsv, MRPC.tsv, STS-B.tsv,
// QQP.tsv, MNLI-m.tsv, MNLI-mm.tsv, QNLI.tsv, RTE.tsv, WNLI.tsv), starts with the header
// `index<TAB>prediction` and has one line per test example, in file order: the example's own
// index (the test file's `index` column, QQP's `id`) and the prediction as the task's files
// spell labels (`0`/`1`, `entailment`/`not_entailment`, ...) or, for STS-B, the score with
// three decimals (as Hugging Face's run_glue.py writes it), clipped to GLUE's range [0, 5].
// The diagnostic set AX (predicted with an MNLI model) is not covered.
#ifndef CLOZE_TASKS_GLUE_SUBMISSION_H_
#define CLOZE_TASKS_GLUE_SUBMISSION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tasks/task_example.h"

namespace cloze::tasks {

// The submission file's name for a GLUE task's test split ("test"; MNLI: "test_matched",
// "test_mismatched"). InvalidArgument for an unknown task or a split that is not a test
// split.
absl::StatusOr<std::string> GlueSubmissionFileName(const std::string& task, const std::string& split);

// The file's text. `spec` is the task's GlueTaskSpec; `examples` the test split as
// ReadGlueSplit read it. Classification tasks read `predicted_labels` (indices into
// spec.labels), regression reads `predicted_scores`; the other list is ignored. Errors
// (InvalidArgument): the prediction list's size differs from the examples', an example
// without its index (naming its line), a label index outside spec.labels, a non-finite score.
absl::StatusOr<std::string> GlueSubmissionText(const TaskSpec& spec, const std::vector<SentenceExample>& examples,
                                               const std::vector<int>& predicted_labels,
                                               const std::vector<double>& predicted_scores);

}  // namespace cloze::tasks

#endif  // CLOZE_TASKS_GLUE_SUBMISSION_H_
