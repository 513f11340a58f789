// Fine-tuning hyperparameters from the flags, or from a published recipe (--recipe=albert).
//
// A recipe (tasks/recipes.h) gives each task its own learning rate, batch, steps, warm-up,
// sequence length and dropout. It fills in only what the command line leaves unsaid: an
// explicit --learning_rate, --batch_size, --max_seq_length, --epochs or --warmup_ratio wins,
// so that one setting can be varied around a recipe.
#ifndef CLOZE_CLI_FINETUNE_RECIPE_H_
#define CLOZE_CLI_FINETUNE_RECIPE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"
#include "tasks/recipes.h"

namespace cloze::cli {

struct FinetuneHyperparameters {
  double learning_rate = 0;
  int batch_size = 0;  // per worker
  int max_seq_length = 0;
  std::optional<int64_t> total_steps;   // the recipe's; nullopt: from --epochs
  std::optional<int64_t> warmup_steps;  // the recipe's; nullopt: from --warmup_ratio
  std::optional<TaskRecipe> recipe;     // the task's entry in --recipe, if any
};

// `task`'s hyperparameters for a job of `workers` workers (a recipe's batch is the job's, split
// evenly; InvalidArgument when it does not divide). Without --recipe, or for a task the recipe
// has no entry for (then a note goes to stdout), the flags and the command's defaults.
absl::StatusOr<FinetuneHyperparameters> ResolveFinetuneHyperparameters(const std::string& task, int workers);

// The recipe's dropout on the model, if it has an entry for the task (else unchanged).
void ApplyRecipeDropout(const FinetuneHyperparameters& hyperparameters, ModelConfig& model);

}  // namespace cloze::cli

#endif  // CLOZE_CLI_FINETUNE_RECIPE_H_
