#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "absl/flags/flag.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "model/model.h"
#include "model/model_config.h"
#include "model/synthetic_batch.h"

ABSL_FLAG(int, batch_size, 0, "examples per batch (0: the command's default: step 8, finetune 32, predict the run's)");
ABSL_FLAG(int, seq_len, 128, "tokens per example (cloze step)");
ABSL_FLAG(int, steps, 3, "forward+backward passes to run (cloze step)");
ABSL_FLAG(bool, training, true, "dropout on (cloze step)");

namespace cloze::cli {
namespace {

}  // namespace

int RunStepCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::fprintf(stderr, "usage: cloze step CONFIG [--batch_size B --seq_len T --steps N --seed S]\n");
    return 2;
  }
  absl::StatusOr<ModelConfig> config = LoadModelConfig(args[0]);
  if (!config.ok()) {
    std::fprintf(stderr, "cloze step: %s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  const uint64_t seed = SeedFlag();
  Model model(*config);
  model.InitializeParameters(seed);
  const int batch_size = OrCommandDefault(absl::GetFlag(FLAGS_batch_size), 8);
  if (batch_size < 1 || absl::GetFlag(FLAGS_seq_len) < 2) {
    std::fprintf(stderr, "cloze step: --batch_size must be >= 1 and --seq_len >= 2\n");
    return 2;
  }
  // ALBERT's supervision: 20 predictions per sequence (max_predictions_per_seq).
  const Batch batch = MakeSyntheticBatch(*config, batch_size,
                                         absl::GetFlag(FLAGS_seq_len), 20, seed);
  std::printf("%s: batch %d x %d, %d threads\n", args[0].c_str(), batch.batch_size, batch.seq_len,
              omp_get_max_threads());
  for (int step = 0; step < absl::GetFlag(FLAGS_steps); ++step) {
    const auto start = std::chrono::steady_clock::now();
    model.ZeroGradients();
    absl::StatusOr<Losses> losses =
        model.Forward(batch, {.training = absl::GetFlag(FLAGS_training), .dropout_seed = seed + step});
    if (!losses.ok()) {
      std::fprintf(stderr, "cloze step: %s\n", std::string(losses.status().message()).c_str());
      return 1;
    }
    const auto forward_done = std::chrono::steady_clock::now();
    if (absl::Status s = model.Backward(); !s.ok()) {
      std::fprintf(stderr, "cloze step: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    const auto done = std::chrono::steady_clock::now();
    double norm = 0;
    for (float g : model.gradients()) norm += double(g) * g;
    const double forward_ms = std::chrono::duration<double, std::milli>(forward_done - start).count();
    const double total_ms = std::chrono::duration<double, std::milli>(done - start).count();
    std::printf("step %d: loss %.4f (mlm %.4f, sentence %.4f), grad norm %.4f, forward %.1f ms, "
                "forward+backward %.1f ms, %.0f tokens/s\n",
                step, losses->total_loss, losses->mlm().mean, losses->sentence().mean, std::sqrt(norm),
                forward_ms, total_ms, batch.batch_size * batch.seq_len / (total_ms / 1000.0));
    if (!std::isfinite(losses->total_loss) || !std::isfinite(norm)) {
      std::fprintf(stderr, "cloze step: non-finite loss or gradient\n");
      return 1;
    }
  }
  return 0;
}

}  // namespace cloze::cli
