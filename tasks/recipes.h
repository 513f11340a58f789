// Published fine-tuning hyperparameters, task by task.
//
// Papers tune each task separately, and a lab reproducing one wants those settings without
// copying a table into flags: `cloze finetune --recipe=albert --task=RTE` trains as ALBERT's
// authors did (their run_glue.sh and the paper's Table 15). Explicit flags still win: the
// recipe only fills in what the command line leaves unsaid (cli/finetune_run.cc).
#ifndef CLOZE_TASKS_RECIPES_H_
#define CLOZE_TASKS_RECIPES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cloze {

// One task's settings in a recipe. Steps and batch are the whole job's (all workers).
struct TaskRecipe {
  double learning_rate = 0;
  int batch_size = 0;
  int64_t total_steps = 0;
  int64_t warmup_steps = 0;
  int max_seq_length = 0;
  float encoder_dropout = 0;     // hidden and attention dropout of the encoder ("ALBERT DR")
  float classifier_dropout = 0;  // before the task head ("Classifier DR")
};

// The recipes known, by name ("albert").
std::vector<std::string> RecipeNames();

// `task`'s settings in `recipe` (task names as cloze finetune --task takes them: GLUE names in
// any case, with or without the hyphen, "squad", "squad_v2"). nullopt when the recipe has no
// entry for the task (POS tagging, a generic task): the caller falls back to its flags.
// InvalidArgument for an unknown recipe.
absl::StatusOr<std::optional<TaskRecipe>> FindTaskRecipe(const std::string& recipe, const std::string& task);

}  // namespace cloze

#endif  // CLOZE_TASKS_RECIPES_H_
