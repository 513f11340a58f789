// Times cloze's whole training step on one GPU (GpuModel + GpuOptimizer: ZeroGradients,
// Forward, Backward, global-norm clip at 1.0, optimizer update) for ALBERT-base and
// BERT-base at sequence lengths 128 and 512, and reports tokens/s and MFU.
//
//   bazel-bin/bench/gpu_step_bench                       # the four default cases, bf16,
//                                                        # each with both attentions
//   bazel-bin/bench/gpu_step_bench --cases=albert-base:512:32 --steps=20 --precision=fp32
//
// Run from the repository root (configs/ is read from there); bench/gpu/run_gpu_checks.sh
// --run runs it with the defaults and tabulates it beside bench/gpu/torch_step.py, which
// times the same step of Hugging Face's models on the same shapes and batches
// (model/synthetic_batch.h; batch_checksum matches torch_step.py's).
//
// MFU. The denominator is the bf16 matmul rate measured here, on the same GPU, by a
// cuBLASLt GEMM loop (kernels/cuda/matmul.h's bf16 path: 8192³, bf16 inputs, fp32
// accumulation and output). The numerator is the model FLOPs of one step, forward plus
// backward counted as 3 × forward (6 per multiply-add of a weight):
//   6 × tokens × (L × P_layer + P_projection)          the encoder's matmuls
//   + 12 × L × B × T² × H                               attention: Q·Kᵀ and P·V (2·2·B·T²·H
//                                                        forward per layer, × 3)
//   + 6 × M × (H·E + E·V) + 6 × B × (H·H + 2·H)          the heads where cloze computes them
// with tokens = B·T (padding included), P_layer = 4·H² + 2·H·I (Q, K, V, output, the
// feed-forward pair; biases left out), P_projection = E·H for ALBERT (0 for BERT), L the
// number of layer APPLICATIONS (ALBERT's shared layer counts 12 times: it is computed 12
// times), and M = B·predictions_per_seq masked positions (the MLM head runs only there).
// That is "6 × non-embedding parameters × tokens + attention" with ALBERT's sharing
// unrolled and the heads counted where they run; embedding lookups, norms, softmax and
// elementwise work count zero. Recomputation would not count either (there is none).
//
// Prints, one line each, key=value and machine-readable: "gemm ..." (the measured rate),
// then one "case ..." line per case. Exits non-zero when a case fails.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "kernels/cuda/bf16.h"
#include "kernels/cuda/blas_context.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/matmul.h"
#include "proto/train_config.pb.h"
#include "kernels/cuda/device_array.h"
#include "model/gpu_model.h"
#include "kernels/cuda/gpu_optimizer.h"
#include "model/model_config.h"
#include "model/synthetic_batch.h"

ABSL_FLAG(std::string, cases, "albert-base:128:128,albert-base:512:32,bert-base:128:128,bert-base:512:32",
          "Comma-separated NAME:SEQ_LEN:BATCH_SIZE, NAME a file configs/NAME.textproto.");
ABSL_FLAG(int, predictions_per_seq, 0,
          "Masked positions per sequence; 0: seq_len·5/32 (20 at 128, 80 at 512, as BERT's README).");
ABSL_FLAG(std::string, precision, "bf16", "bf16 (bf16 matmul inputs, fp32 master weights) or fp32.");
ABSL_FLAG(std::string, optimizer, "adamw", "adamw (as bench/gpu/torch_step.py) or lamb.");
ABSL_FLAG(std::string, attention, "both",
          "unfused, fused (GpuModelOptions::attention), or both: each case once with each, "
          "printed as impl=cloze and impl=cloze_fused.");
ABSL_FLAG(bool, fuse_gelu, true, "GELU (tanh) in cuBLASLt's epilogues where the model uses gelu_new.");
ABSL_FLAG(int, warmup, 3, "Untimed steps first (allocation, cuBLASLt heuristics).");
ABSL_FLAG(int, steps, 10, "Timed steps; the median is reported.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the batch and of the parameters.");
ABSL_FLAG(int, gemm_size, 8192, "m = n = k of the GEMM loop that measures the bf16 matmul rate.");
ABSL_FLAG(int, gemm_reps, 50, "GEMMs timed for the rate (after 5 untimed).");

namespace cloze::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The bf16 matmul rate of this GPU in FLOP/s, through the same cuBLASLt path the model's
// matmuls take (random inputs: an all-zero GEMM draws less power and runs faster).
absl::StatusOr<double> MeasureBf16GemmRate(int size, int reps) {
#ifdef CLOZE_CUDA_BUILT
  std::unique_ptr<cuda::BlasContext> blas;
  if (absl::Status s = FromDeviceStatus(cuda::BlasContext::Create(&blas), "cuBLAS"); !s.ok()) return s;
  const int64_t elements = int64_t{size} * size;
  DeviceArray<cuda::Bf16> a, b;
  DeviceArray<float> c;
  for (absl::Status s : {a.Resize(elements, "GEMM A"), b.Resize(elements, "GEMM B"), c.Resize(elements, "GEMM C")}) {
    if (!s.ok()) return s;
  }
  std::vector<cuda::Bf16> host(elements);
  uint64_t state = 12345;
  for (cuda::Bf16& x : host) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    x = cuda::to_bf16(static_cast<float>(static_cast<int64_t>(state >> 40) - (1 << 23)) / (1 << 23));
  }
  if (absl::Status s = a.Upload(host, "GEMM A"); !s.ok()) return s;
  if (absl::Status s = b.Upload(host, "GEMM B"); !s.ok()) return s;
  Clock::time_point start;
  for (int rep = 0; rep < 5 + reps; ++rep) {
    if (rep == 5) {
      if (absl::Status s = FromDeviceStatus(cuda::device_synchronize(), "GEMM warmup"); !s.ok()) return s;
      start = Clock::now();
    }
    if (absl::Status s = FromDeviceStatus(
            cuda::matmul_forward_bf16(*blas, c.get(), a.get(), b.get(), nullptr, size, size, size), "GEMM");
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = FromDeviceStatus(cuda::device_synchronize(), "GEMM loop"); !s.ok()) return s;
  return 2.0 * size * double(size) * size * reps / Seconds(start, Clock::now());
#else
  (void)size;
  (void)reps;
  return absl::FailedPreconditionError("gpu_step_bench was built without CUDA (--config=cpu or no toolkit)");
#endif
}

// The step's model FLOPs (see the header comment for the formula).
double ModelFlopsPerStep(const ModelConfig& c, int64_t batch, int64_t seq, int64_t predictions) {
  const double b = batch, t = seq, tokens = b * t, m = b * predictions;
  const double h = c.hidden_size(), e = c.embedding_size(), inner = c.intermediate_size(), v = c.vocab_size();
  const double layers = c.num_hidden_layers();
  const double layer_params = 4 * h * h + 2 * h * inner;
  const double projection = IsAlbert(c) ? e * h : 0;
  return 6 * tokens * (layers * layer_params + projection) + 12 * layers * b * t * t * h +
         6 * m * (h * e + e * v) + 6 * b * (h * h + 2 * h);
}

struct Case {
  std::string name;
  int seq_len = 0, batch_size = 0;
};

absl::StatusOr<std::vector<Case>> ParseCases(const std::string& text) {
  std::vector<Case> cases;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(item, ':');
    Case c;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &c.seq_len) || !absl::SimpleAtoi(parts[2], &c.batch_size) ||
        c.seq_len < 2 || c.batch_size <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("--cases: \"", item, "\" is not NAME:SEQ_LEN:BATCH_SIZE"));
    }
    c.name = parts[0];
    cases.push_back(c);
  }
  return cases;
}

// The "impl" of a case line: run_gpu_checks.sh's table reads these two names.
const char* ImplName(GpuAttention attention) {
  return attention == GpuAttention::kFused ? "cloze_fused" : "cloze";
}

// One case: builds the model and optimizer, runs warmup + steps, prints the "case" line.
absl::Status RunCase(const Case& c, GpuAttention attention, double gemm_flops) {
  const std::string config_path = "configs/" + c.name + ".textproto";
  absl::StatusOr<ModelConfig> config = LoadModelConfig(config_path);
  if (!config.ok()) return config.status();
  const std::string precision_name = absl::GetFlag(FLAGS_precision);
  const GpuPrecision precision = precision_name == "fp32" ? GpuPrecision::kFp32 : GpuPrecision::kBf16;
  const int predictions =
      absl::GetFlag(FLAGS_predictions_per_seq) > 0 ? absl::GetFlag(FLAGS_predictions_per_seq) : c.seq_len * 5 / 32;
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  const Batch batch = MakeSyntheticBatch(*config, c.batch_size, c.seq_len, predictions, seed);

  absl::StatusOr<std::unique_ptr<GpuModel>> model = GpuModel::Create(
      *config, {.precision = precision, .attention = attention, .fuse_gelu = absl::GetFlag(FLAGS_fuse_gelu)});
  if (!model.ok()) return model.status();
  if (absl::Status s = (*model)->InitializeParameters(seed); !s.ok()) return s;
  OptimizerConfig oc;
  const std::string optimizer_name = absl::GetFlag(FLAGS_optimizer);
  oc.set_kind(optimizer_name == "lamb" ? OptimizerConfig::LAMB : OptimizerConfig::ADAMW);
  oc.set_learning_rate(1e-4f);
  oc.set_beta1(0.9f);
  oc.set_beta2(0.999f);
  oc.set_epsilon(1e-6f);
  oc.set_weight_decay(0.01f);
  oc.set_max_grad_norm(1.0f);
  absl::StatusOr<std::unique_ptr<GpuOptimizer>> optimizer = GpuOptimizer::Create(oc, (*model)->layout());
  if (!optimizer.ok()) return optimizer.status();

  const int warmup = absl::GetFlag(FLAGS_warmup), steps = absl::GetFlag(FLAGS_steps);
  std::vector<double> seconds;
  Losses first;
  for (int step = 0; step < warmup + steps; ++step) {
    const Clock::time_point start = Clock::now();
    if (absl::Status s = (*model)->ZeroGradients(); !s.ok()) return s;
    absl::StatusOr<Losses> losses =
        (*model)->Forward(batch, {.training = true, .dropout_seed = static_cast<uint64_t>(step)});
    if (!losses.ok()) return losses.status();
    if (absl::Status s = (*model)->Backward(); !s.ok()) return s;
    absl::StatusOr<ClipResult> clip = (*optimizer)->Step((*model)->parameters(), (*model)->gradients(), 1e-4f);
    if (!clip.ok()) return clip.status();
    if (absl::Status s = FromDeviceStatus(cuda::device_synchronize(), "end of step"); !s.ok()) return s;
    const Clock::time_point end = Clock::now();
    if (step == 0) first = *losses;
    if (step >= warmup) seconds.push_back(Seconds(start, end));
  }
  const double median_s = Median(seconds);
  const double tokens = double(c.batch_size) * c.seq_len;
  const double flops = ModelFlopsPerStep(*config, c.batch_size, c.seq_len, predictions);
  std::printf(
      "case name=%s_seq%d impl=%s config=%s batch_size=%d seq_len=%d predictions_per_seq=%d "
      "precision=%s optimizer=%s batch_checksum=%016llx steps=%d step_ms=%.3f min_ms=%.3f "
      "tokens_per_s=%.1f model_tflop_per_step=%.4f achieved_tflops=%.2f gemm_tflops=%.2f mfu=%.4f "
      "first_loss=%.4f\n",
      c.name.c_str(), c.seq_len, ImplName(attention), config_path.c_str(), c.batch_size, c.seq_len, predictions, precision_name.c_str(),
      optimizer_name.c_str(), static_cast<unsigned long long>(BatchChecksum(batch)), steps, median_s * 1e3,
      *std::min_element(seconds.begin(), seconds.end()) * 1e3, tokens / median_s, flops / 1e12,
      flops / median_s / 1e12, gemm_flops / 1e12, flops / median_s / gemm_flops, first.total_loss);
  std::fflush(stdout);
  return absl::OkStatus();
}

int Run() {
  const std::string precision = absl::GetFlag(FLAGS_precision), optimizer = absl::GetFlag(FLAGS_optimizer);
  const std::string attention = absl::GetFlag(FLAGS_attention);
  std::vector<GpuAttention> attentions;
  if (attention == "unfused" || attention == "both") attentions.push_back(GpuAttention::kUnfused);
  if (attention == "fused" || attention == "both") attentions.push_back(GpuAttention::kFused);
  if ((precision != "bf16" && precision != "fp32") || (optimizer != "adamw" && optimizer != "lamb") ||
      attentions.empty() ||
      absl::GetFlag(FLAGS_warmup) < 0 || absl::GetFlag(FLAGS_steps) <= 0 || absl::GetFlag(FLAGS_gemm_size) <= 0 ||
      absl::GetFlag(FLAGS_gemm_reps) <= 0) {
    std::fprintf(stderr, "gpu_step_bench: need --precision bf16|fp32, --optimizer adamw|lamb, "
                         "--attention unfused|fused|both, --warmup >= 0, "
                         "--steps > 0, --gemm_size > 0, --gemm_reps > 0\n");
    return 2;
  }
  absl::StatusOr<std::vector<Case>> cases = ParseCases(absl::GetFlag(FLAGS_cases));
  if (!cases.ok()) {
    std::fprintf(stderr, "gpu_step_bench: %s\n", cases.status().ToString().c_str());
    return 2;
  }
  if (const cuda::DeviceStatus usable = cuda::gpu_usable(); !usable.ok()) {
    std::fprintf(stderr, "gpu_step_bench: no usable GPU: %s\n", usable.error.c_str());
    return 1;
  }
  const int size = absl::GetFlag(FLAGS_gemm_size);
  absl::StatusOr<double> gemm = MeasureBf16GemmRate(size, absl::GetFlag(FLAGS_gemm_reps));
  if (!gemm.ok()) {
    std::fprintf(stderr, "gpu_step_bench: measuring the GEMM rate: %s\n", gemm.status().ToString().c_str());
    return 1;
  }
  std::printf("gemm device=\"%s\" m=%d n=%d k=%d dtype=bf16 accumulate=fp32 tflops=%.2f\n",
              cuda::device_description().c_str(), size, size, size, *gemm / 1e12);
  int failed = 0;
  for (const Case& c : *cases) {
    for (GpuAttention kind : attentions) {
      if (absl::Status s = RunCase(c, kind, *gemm); !s.ok()) {
        std::printf("case name=%s_seq%d impl=%s error=\"%s\"\n", c.name.c_str(), c.seq_len,
                    ImplName(kind), std::string(s.message()).c_str());
        failed = 1;
      }
    }
  }
  return failed;
}

}  // namespace
}  // namespace cloze::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return cloze::bench::Run();
}
