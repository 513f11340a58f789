// Where the training loop's model and optimizer live: the CPU (Model + clip + Optimizer) or
// one GPU (GpuModel + GpuOptimizer). trainer.cc runs one loop over this interface, so the
// guard, checkpoints, evaluation, data order and the data-parallel exchange are the same
// code on both.
//
// Buffers: parameters() and gradients() are the flat buffers of layout(), in HOST memory
// for the CPU backend and in DEVICE memory of the current GPU for the GPU one
// (on_device()). Code that needs host values (checkpoints, rollback, host-memory
// exchanges) goes through the Download*/Upload* calls, which are plain copies on the CPU.
//
// Exactness: the CPU backend is a thin wrapper, bit for bit the computation trainer.cc ran
// before it existed (tests/resume:exact_resume_test). The GPU backend follows it op for op
// within float rounding (fp32) or bf16 matmul rounding (gpu_model.h).
//
// Errors: FailedPrecondition from MakeTrainingBackend when the device is unusable, naming
// what is missing; Internal naming the op when a device call fails (the backend's state is
// then undefined); InvalidArgument for a bad batch or wrong-sized host spans.
//
// Not thread-safe: one backend per training thread. The GPU backend works on the device
// that was current when it was made (SelectGpu first).
#ifndef CLOZE_TRAINER_TRAINING_BACKEND_H_
#define CLOZE_TRAINER_TRAINING_BACKEND_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kernels/cpu/bf16_gemm.h"
#include "proto/train_config.pb.h"
#include "model/batch.h"
#include "checkpoint/checkpoint.h"
#include "model/gpu_model.h"
#include "model/head.h"
#include "model/model.h"
#include "model/parameter_layout.h"

namespace cloze {

// What `--device`, `--gpu`, `--gpu_precision` and `--gpu_attention` choose (cli/common_flags.h).
struct TrainingDevice {
  enum class Kind { kCpu, kCuda };
  Kind kind = Kind::kCpu;
  int gpu = 0;  // CUDA device index (cudaSetDevice), for kCuda
  GpuModelOptions gpu_model;  // for kCuda
};

class TrainingBackend {
 public:
  virtual ~TrainingBackend() = default;

  virtual const ParameterLayout& layout() const = 0;
  // The model's head: its label counts and loss-term weights.
  virtual const HeadDefinition& head() const = 0;
  // True when parameters() and gradients() point to DEVICE memory.
  virtual bool on_device() const = 0;
  // False when made without an optimizer (parameter servers hold it): then
  // ApplyUpdate is FailedPrecondition and checkpoints get no moments from here.
  virtual bool has_optimizer() const = 0;

  virtual std::span<float> parameters() = 0;
  virtual std::span<float> gradients() = 0;

  // Model::InitializeParameters's values (a function of the config and seed).
  virtual absl::Status InitializeParameters(uint64_t seed) = 0;
  virtual absl::Status ZeroGradients() = 0;
  // As Model::Forward / Model::Backward(normalizer).
  virtual absl::StatusOr<Losses> Forward(const Batch& batch, const StepOptions& options) = 0;
  virtual absl::Status Backward(const LossNormalizer& normalizer) = 0;

  // The L2 norm of gradients() in clip.h's fixed order (waits for the device).
  virtual absl::StatusOr<double> GradientNorm() = 0;
  // gradients() *= clip_scale (nothing when 1), then one optimizer update of parameters()
  // at learning_rate.
  virtual absl::Status ApplyUpdate(float clip_scale, float learning_rate) = 0;

  // Host copies of the whole buffers (layout().total_size floats; InvalidArgument else).
  virtual absl::Status DownloadParameters(std::span<float> host) = 0;
  virtual absl::Status UploadParameters(std::span<const float> host) = 0;
  virtual absl::Status DownloadGradients(std::span<float> host) = 0;
  virtual absl::Status UploadGradients(std::span<const float> host) = 0;

  // Checkpoint state: parameters, and with an optimizer its moments and step count, into
  // `contents` (other fields untouched); and the way back from a loaded checkpoint
  // (moments ignored without an optimizer).
  virtual absl::Status SaveState(CheckpointContents& contents) = 0;
  virtual absl::Status RestoreState(const CheckpointContents& contents) = 0;

  // A host copy of the last Forward's head logits (Model::logits(output): 0, or 1 for the
  // span head's end logits), for evaluating a fine-tuned head. Unimplemented where the
  // backend cannot give them.
  virtual absl::StatusOr<std::vector<float>> Logits(int output) = 0;
};

// The head the run's model carries: the pretraining head, or with TrainConfig.finetune the
// head finetune.head names ("": sequence classification; 1 output: regression) with
// finetune.num_labels outputs.
HeadSpec HeadSpecOf(const TrainConfig& config);

// The precision of the CPU model's matrix products: TrainConfig.precision.
cpu::Precision CpuPrecisionOf(const TrainConfig& config);

// How the CPU model lays out a batch's tokens (model/encoder.h): packed, skipping the pad
// tokens, for the fine-tuning heads that read real positions only (sequence classification or
// regression, token classification) unless FinetuneConfig.padded_tokens; padded otherwise
// (pretraining, spans). The same losses
// and gradients either way, to fp32 rounding; the GPU model always pads.
TokenLayout CpuTokenLayoutOf(const TrainConfig& config);

// The precision the run's matrix products actually run at, "fp32" or "bf16" (metrics.jsonl's
// "precision"): on the CPU TrainConfig.precision where the CPU can (BF16 falls back to fp32
// without AVX512-BF16: cpu::EffectivePrecision), on a GPU --gpu_precision's.
std::string MatmulPrecisionOf(const TrainingDevice& device, const TrainConfig& config);

// The run's log line about it: what runs, and for a BF16 config that falls back to fp32, why.
std::string DescribeMatmulPrecision(const TrainingDevice& device, const TrainConfig& config);

// For kCuda: makes device.gpu current for the calling thread and checks that kernels run
// there; FailedPrecondition "--device=cuda: no usable GPU: <why>" otherwise (CUDA not
// built, no driver or device, an index past the visible devices). OK for kCpu.
absl::Status SelectTrainingDevice(const TrainingDevice& device);

// The backend for `device`, carrying HeadSpecOf(config), with an optimizer for
// `config.optimizer()` when with_optimizer. InvalidArgument for an unusable head. For kCuda:
// SelectTrainingDevice first (its errors), then GpuModel's and GpuOptimizer's (device
// memory, cuBLAS); the GPU heads are model/gpu_heads/ (not yet run on a GPU).
absl::StatusOr<std::unique_ptr<TrainingBackend>> MakeTrainingBackend(const TrainingDevice& device,
                                                                     const TrainConfig& config,
                                                                     bool with_optimizer);

// The two implementations, for tests that want one in particular. The CPU one runs its
// matrix products at CpuPrecisionOf(config).
absl::StatusOr<std::unique_ptr<TrainingBackend>> MakeCpuBackend(const TrainConfig& config, bool with_optimizer);
absl::StatusOr<std::unique_ptr<TrainingBackend>> MakeGpuBackend(const TrainConfig& config,
                                                                const GpuModelOptions& options,
                                                                bool with_optimizer);

}  // namespace cloze

#endif  // CLOZE_TRAINER_TRAINING_BACKEND_H_
