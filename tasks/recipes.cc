#include "tasks/recipes.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace cloze {
namespace {

std::string CanonicalTask(const std::string& name) {
  return absl::AsciiStrToLower(absl::StrReplaceAll(name, {{"-", ""}, {"_", ""}}));
}

// ALBERT (Lan et al. 2020), Table 15 of the paper's appendix and google-research/albert's
// run_glue.sh: AdamW, sequence length 512 (384 for SQuAD v1.1), the xxlarge model's settings,
// which the authors also used for the smaller models' GLUE runs.
const std::map<std::string, TaskRecipe>& AlbertRecipe() {
  static const auto* recipe = new std::map<std::string, TaskRecipe>{
      {"cola", {1e-5, 16, 5336, 320, 512, 0.0f, 0.1f}},
      {"stsb", {2e-5, 16, 3598, 214, 512, 0.0f, 0.1f}},
      {"sst2", {1e-5, 32, 20935, 1256, 512, 0.0f, 0.1f}},
      {"mnli", {3e-5, 128, 10000, 1000, 512, 0.0f, 0.1f}},
      {"qnli", {1e-5, 32, 33112, 1986, 512, 0.0f, 0.1f}},
      {"qqp", {5e-5, 128, 14000, 1000, 512, 0.1f, 0.1f}},
      {"rte", {3e-5, 32, 800, 200, 512, 0.1f, 0.1f}},
      {"mrpc", {2e-5, 32, 800, 200, 512, 0.0f, 0.1f}},
      {"wnli", {2e-5, 16, 2000, 250, 512, 0.1f, 0.1f}},
      {"squad", {5e-5, 48, 3649, 365, 384, 0.0f, 0.1f}},
      {"squadv2", {3e-5, 48, 8144, 814, 512, 0.0f, 0.1f}},
  };
  return *recipe;
}

}  // namespace

std::vector<std::string> RecipeNames() { return {"albert"}; }

absl::StatusOr<std::optional<TaskRecipe>> FindTaskRecipe(const std::string& recipe, const std::string& task) {
  if (recipe != "albert") {
    return absl::InvalidArgumentError(
        absl::StrCat("--recipe=", recipe, ": unknown (known: ", absl::StrJoin(RecipeNames(), ", "), ")"));
  }
  const auto& table = AlbertRecipe();
  auto it = table.find(CanonicalTask(task));
  if (it == table.end()) return std::optional<TaskRecipe>();
  return std::optional<TaskRecipe>(it->second);
}

}  // namespace cloze
