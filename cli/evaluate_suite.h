// The tasks of a `cloze evaluate` suite and where their data is: glue (GLUE's nine tasks in the
// folder layout GLUE distributes: GLUE/CoLA/train.tsv, GLUE/CoLA/dev.tsv, ...; MNLI's dev
// splits dev_matched.tsv and dev_mismatched.tsv), pos (a UD treebank folder), squad (a SQuAD
// v1.1 folder), all (the three).
#ifndef CLOZE_CLI_EVALUATE_SUITE_H_
#define CLOZE_CLI_EVALUATE_SUITE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cloze::cli {

struct SuiteFolders {
  std::string glue;   // --data_dir
  std::string ud;     // --ud_dir
  std::string squad;  // --squad_dir
};

struct SuiteTask {
  std::string task;      // as cloze finetune names it: "CoLA", ..., "pos", "squad"
  std::string data_dir;  // its --data_dir
};

struct SkippedTask {
  std::string task;
  std::string reason;  // names the folder or file that is missing
};

struct Suite {
  std::vector<SuiteTask> tasks;  // in GLUE's order, then pos, then squad
  std::vector<SkippedTask> skipped;
};

// The suite's tasks whose files are present, and the others with the reason. A GLUE task is
// present when its folder holds train.tsv and its labelled dev splits; pos and squad when their
// folder is given (their files are looked for by the fine-tune itself, which names what is
// missing). `only` (--tasks), when not empty, keeps the tasks it names (GLUE names match without
// case or hyphen: "sst2"). InvalidArgument for an unknown suite, or a name in `only` that is not
// one of the suite's tasks (listing them).
absl::StatusOr<Suite> ResolveSuite(const std::string& suite, const std::vector<std::string>& only,
                                   const SuiteFolders& folders);

}  // namespace cloze::cli

#endif  // CLOZE_CLI_EVALUATE_SUITE_H_
