#include "cli/finetune_recipe.h"

#include <algorithm>
#include <cstdio>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/internal/parse.h"
#include "absl/strings/str_cat.h"
#include "cli/common_flags.h"

ABSL_DECLARE_FLAG(int, batch_size);
ABSL_DECLARE_FLAG(int, max_seq_length);
ABSL_DECLARE_FLAG(double, learning_rate);

ABSL_FLAG(std::string, recipe, "",
          "cloze finetune, evaluate: a published recipe's per-task settings (albert: the ALBERT paper's learning "
          "rate, batch, steps, warm-up, sequence length and dropout for each GLUE task and SQuAD); explicit "
          "flags win over it");

namespace cloze::cli {
namespace {

// Whether the user set `flag` (a default-valued flag and an explicit one that equals the default
// differ here). CommandLineFlag::IsSpecifiedOnCommandLine is private in Debian's Abseil
// (20220623); the parser's own record is what it reads.
bool GivenOnCommandLine(const char* flag) { return absl::flags_internal::WasPresentOnCommandLine(flag); }

bool IsSquad(const std::string& task) { return task == "squad" || task == "squad_v2"; }

}  // namespace

absl::StatusOr<FinetuneHyperparameters> ResolveFinetuneHyperparameters(const std::string& task, int workers) {
  FinetuneHyperparameters h;
  h.learning_rate = absl::GetFlag(FLAGS_learning_rate);
  h.batch_size = OrCommandDefault(absl::GetFlag(FLAGS_batch_size), 32);
  h.max_seq_length = OrCommandDefault(absl::GetFlag(FLAGS_max_seq_length), IsSquad(task) ? 384 : 128);
  const std::string recipe_name = absl::GetFlag(FLAGS_recipe);
  if (recipe_name.empty()) return h;
  absl::StatusOr<std::optional<TaskRecipe>> recipe = FindTaskRecipe(recipe_name, task);
  if (!recipe.ok()) return recipe.status();
  if (!recipe->has_value()) {
    std::printf("--recipe=%s has no settings for %s: its flags (and defaults) apply\n", recipe_name.c_str(),
                task.c_str());
    return h;
  }
  const TaskRecipe& r = **recipe;
  h.recipe = r;
  if (!GivenOnCommandLine("learning_rate")) h.learning_rate = r.learning_rate;
  if (!GivenOnCommandLine("max_seq_length")) h.max_seq_length = r.max_seq_length;
  if (!GivenOnCommandLine("batch_size")) {
    workers = std::max(1, workers);
    if (r.batch_size % workers != 0) {
      return absl::InvalidArgumentError(absl::StrCat("--recipe=", recipe_name, ": ", task, "'s batch of ",
                                                     r.batch_size, " does not split over ", workers,
                                                     " workers (give --batch_size per worker)"));
    }
    h.batch_size = r.batch_size / workers;
  }
  if (!GivenOnCommandLine("epochs")) h.total_steps = r.total_steps;
  if (!GivenOnCommandLine("warmup_ratio")) h.warmup_steps = r.warmup_steps;
  return h;
}

void ApplyRecipeDropout(const FinetuneHyperparameters& hyperparameters, ModelConfig& model) {
  if (!hyperparameters.recipe.has_value()) return;
  model.set_hidden_dropout_prob(hyperparameters.recipe->encoder_dropout);
  model.set_attention_probs_dropout_prob(hyperparameters.recipe->encoder_dropout);
  model.set_classifier_dropout_prob(hyperparameters.recipe->classifier_dropout);
}

}  // namespace cloze::cli
