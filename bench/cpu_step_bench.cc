// Times one pretraining step of cloze on the CPU: ZeroGradients + Forward + Backward.
//
//   OMP_NUM_THREADS=2 bazel-bin/bench/cpu_step_bench --config=configs/albert-base.textproto
//
// The batch is model/synthetic_batch.h's (B = 8, T = 128, 20 predictions per sequence by
// default); bench/torch_step.py times the same step in PyTorch on the same batch. The
// thread count is OpenMP's (OMP_NUM_THREADS), which the OpenMP build of OpenBLAS shares.
// Prints a human-readable summary, then one JSON line (the last line of stdout) for
// bench/run_cpu_step.sh. Exits non-zero if the config or the batch is rejected.
#include <omp.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/synthetic_batch.h"
#include "kernels/cpu/bf16_gemm.h"
#include "kernels/cpu/clip.h"
#include "model/model.h"
#include "kernels/cpu/optimizer.h"
#include "model/model_config.h"

ABSL_FLAG(std::string, config, "configs/albert-base.textproto", "Model config (text proto or config.json).");
ABSL_FLAG(int, batch_size, 8, "Sequences per batch (B).");
ABSL_FLAG(int, seq_len, 128, "Tokens per sequence (T).");
ABSL_FLAG(int, predictions_per_seq, 20, "Masked positions per sequence (ALBERT's max_predictions_per_seq).");
ABSL_FLAG(int, warmup, 3, "Untimed steps first (buffers, caches, thread pool).");
ABSL_FLAG(int, steps, 10, "Timed steps.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the batch and of the parameters.");
ABSL_FLAG(bool, training, true, "Dropout as configured (false: no dropout anywhere).");
ABSL_FLAG(std::string, precision, "fp32",
          "fp32, or bf16: the matrix products with bf16 operands and fp32 accumulation (kernels/cpu/bf16_gemm.h)");
ABSL_FLAG(std::string, optimizer, "none",
          "none: forward + backward only; adamw or lamb: the whole training step (global-norm "
          "clipping at 1.0 and the optimizer's update, lr 1e-4, weight decay 0.01)");

namespace cloze::bench {
namespace {

// Order statistics of the per-step times; torch_step.py uses the same definitions.
struct StepStats {
  double median_ms = 0, min_ms = 0, p90_ms = 0;
};

// CPU time of the whole process (all threads), in ms. On a machine shared with other work
// a 1-thread step's CPU time stays close to its idle wall time while the wall time does not;
// with more threads it also counts OpenMP's spinning at barriers.
double ProcessCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

StepStats Summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  const size_t n = ms.size();
  StepStats s;
  s.min_ms = ms.front();
  s.median_ms = n % 2 == 1 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  // Nearest rank: the smallest time at or above 90% of the steps.
  const size_t rank = (9 * n + 9) / 10;  // ceil(0.9 n)
  s.p90_ms = ms[std::max<size_t>(rank, 1) - 1];
  return s;
}

int Run() {
  const std::string config_path = absl::GetFlag(FLAGS_config);
  const int batch_size = absl::GetFlag(FLAGS_batch_size), seq_len = absl::GetFlag(FLAGS_seq_len);
  const int predictions = absl::GetFlag(FLAGS_predictions_per_seq);
  const int warmup = absl::GetFlag(FLAGS_warmup), steps = absl::GetFlag(FLAGS_steps);
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  const bool training = absl::GetFlag(FLAGS_training);
  if (batch_size <= 0 || seq_len < 2 || predictions < 0 || warmup < 0 || steps <= 0) {
    std::fprintf(stderr, "cpu_step_bench: need batch_size > 0, seq_len >= 2, predictions_per_seq >= 0, "
                         "warmup >= 0, steps > 0\n");
    return 2;
  }
  absl::StatusOr<ModelConfig> config = LoadModelConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "cpu_step_bench: %s\n", config.status().ToString().c_str());
    return 1;
  }
  const std::string precision = absl::GetFlag(FLAGS_precision);
  if (precision != "fp32" && precision != "bf16") {
    std::fprintf(stderr, "cpu_step_bench: --precision must be fp32 or bf16\n");
    return 2;
  }
  const Batch batch = MakeSyntheticBatch(*config, batch_size, seq_len, predictions, seed);
  absl::StatusOr<Model> created =
      Model::Create(*config, HeadSpec{}, precision == "bf16" ? cpu::Precision::kBf16 : cpu::Precision::kFp32);
  if (!created.ok()) {
    std::fprintf(stderr, "cpu_step_bench: %s\n", created.status().ToString().c_str());
    return 1;
  }
  Model& model = *created;
  model.InitializeParameters(seed);
  const int threads = omp_get_max_threads();
  const std::string optimizer_name = absl::GetFlag(FLAGS_optimizer);
  std::unique_ptr<Optimizer> optimizer;
  if (optimizer_name != "none") {
    OptimizerConfig oc;
    if (optimizer_name == "adamw") {
      oc.set_kind(OptimizerConfig::ADAMW);
    } else if (optimizer_name == "lamb") {
      oc.set_kind(OptimizerConfig::LAMB);
    } else {
      std::fprintf(stderr, "cpu_step_bench: --optimizer must be none, adamw or lamb\n");
      return 2;
    }
    oc.set_learning_rate(1e-4f);
    oc.set_beta1(0.9f);
    oc.set_beta2(0.999f);
    oc.set_epsilon(1e-6f);
    oc.set_weight_decay(0.01f);
    oc.set_max_grad_norm(1.0f);
    optimizer = std::make_unique<Optimizer>(oc, model.layout());
  }

  Losses first;
  std::vector<double> ms, cpu_ms;
  for (int step = 0; step < warmup + steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = ProcessCpuMs();
    model.ZeroGradients();
    absl::StatusOr<Losses> losses = model.Forward(batch, {training, static_cast<uint64_t>(step)});
    if (!losses.ok()) {
      std::fprintf(stderr, "cpu_step_bench: %s\n", losses.status().ToString().c_str());
      return 1;
    }
    if (absl::Status s = model.Backward(); !s.ok()) {
      std::fprintf(stderr, "cpu_step_bench: %s\n", s.ToString().c_str());
      return 1;
    }
    if (optimizer) {
      const ClipResult clip = ClipGradientsByGlobalNorm(model.gradients(), 1.0);
      if (clip.finite) optimizer->Step(model.parameters(), model.gradients(), 1e-4f);
    }
    const auto end = std::chrono::steady_clock::now();
    const double cpu_end = ProcessCpuMs();
    if (step == 0) first = *losses;
    if (step >= warmup) {
      ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
      cpu_ms.push_back(cpu_end - cpu_start);
    }
  }
  const StepStats stats = Summarize(ms);
  const StepStats cpu_stats = Summarize(cpu_ms);
  const int64_t tokens = int64_t{batch_size} * seq_len;
  const double tokens_per_s = tokens / (stats.median_ms / 1000.0);
  const ModelConfig& c = *config;

  std::printf("cpu_step_bench: cloze, ZeroGradients + Forward + Backward%s\n",
              optimizer ? absl::StrCat(" + clipping + ", optimizer_name, " update").c_str() : "");
  std::printf("  config     %s (%s: %d layers, hidden %d, embedding %d, intermediate %d, heads %d, "
              "vocab %d; %.2fM parameters)\n",
              config_path.c_str(), c.model_type().c_str(), c.num_hidden_layers(), c.hidden_size(),
              c.embedding_size(), c.intermediate_size(), c.num_attention_heads(), c.vocab_size(),
              model.parameters().size() / 1e6);
  std::printf("  batch      %d x %d tokens, %lld padding, %lld masked predictions, checksum %016llx\n",
              batch_size, seq_len, static_cast<long long>(PaddingTokens(batch)),
              static_cast<long long>(CountedPredictions(batch)),
              static_cast<unsigned long long>(BatchChecksum(batch)));
  std::printf("  threads    %d (omp_get_max_threads)\n", threads);
  std::printf("  precision  %s (AVX512-BF16 %s)\n", precision.c_str(), cpu::CpuHasBf16() ? "present" : "absent: fp32");
  std::printf("  steps      %d warmup + %d timed, training %s\n", warmup, steps, training ? "on" : "off");
  std::printf("  loss       %.4f at the first step (mlm %.4f, sentence %.4f)\n", first.total_loss,
              first.mlm().mean, first.sentence().mean);
  std::printf("  ms/step    median %.1f  min %.1f  p90 %.1f\n", stats.median_ms, stats.min_ms, stats.p90_ms);
  std::printf("  cpu ms     median %.1f  min %.1f (process CPU time per step, all threads)\n", cpu_stats.median_ms,
              cpu_stats.min_ms);
  std::printf("  tokens/s   %.1f (at the median)\n", tokens_per_s);
  std::vector<std::string> times;
  for (double t : ms) times.push_back(absl::StrCat(absl::SixDigits(t)));
  std::printf(
      "{\"bench\": \"cpu_step\", \"impl\": \"cloze\", \"precision\": \"%s\", \"mlm_head\": \"masked\", "
      "\"optimizer\": \"%s\", "
      "\"config\": \"%s\", "
      "\"model_type\": \"%s\", \"threads\": %d, \"batch_size\": %d, \"seq_len\": %d, "
      "\"masked_predictions\": %lld, \"padding_tokens\": %lld, \"batch_checksum\": \"%016llx\", "
      "\"warmup\": %d, \"steps\": %d, \"training\": %s, \"first_loss\": %.6f, \"median_ms\": %.3f, "
      "\"min_ms\": %.3f, \"p90_ms\": %.3f, \"cpu_median_ms\": %.3f, \"tokens_per_s\": %.2f, \"times_ms\": [%s]}\n",
      precision.c_str(), optimizer_name.c_str(), config_path.c_str(), c.model_type().c_str(), threads, batch_size,
      seq_len,
      static_cast<long long>(CountedPredictions(batch)), static_cast<long long>(PaddingTokens(batch)),
      static_cast<unsigned long long>(BatchChecksum(batch)), warmup, steps, training ? "true" : "false",
      first.total_loss, stats.median_ms, stats.min_ms, stats.p90_ms, cpu_stats.median_ms, tokens_per_s,
      absl::StrJoin(times, ", ").c_str());
  return 0;
}

}  // namespace
}  // namespace cloze::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return cloze::bench::Run();
}
