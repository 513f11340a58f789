#include "trainer/training_backend.h"

#include "absl/strings/str_cat.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/gpu_select.h"

namespace cloze {

absl::Status SelectTrainingDevice(const TrainingDevice& device) {
  if (device.kind == TrainingDevice::Kind::kCpu) return absl::OkStatus();
  // Select first: gpu_usable() probes the current device.
  if (const std::string error = SelectGpu(device.gpu); !error.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("--device=cuda: no usable GPU: ", error));
  }
  if (const cuda::DeviceStatus usable = cuda::gpu_usable(); !usable.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("--device=cuda: no usable GPU: ", usable.error));
  }
  return absl::OkStatus();
}

HeadSpec HeadSpecOf(const TrainConfig& config) {
  if (!config.has_finetune()) return HeadSpec{};
  const std::string& head = config.finetune().head();
  absl::StatusOr<HeadKind> kind = head.empty() ? HeadKind::kSequenceClassification : ParseHeadKind(head);
  // An unknown name is ValidateTrainConfig's to refuse; a head is still needed here.
  return HeadSpec{.kind = kind.ok() ? *kind : HeadKind::kSequenceClassification,
                  .num_labels = config.finetune().num_labels()};
}

cpu::Precision CpuPrecisionOf(const TrainConfig& config) {
  return config.precision() == TrainConfig::BF16 ? cpu::Precision::kBf16 : cpu::Precision::kFp32;
}

TokenLayout CpuTokenLayoutOf(const TrainConfig& config) {
  const HeadKind kind = HeadSpecOf(config).kind;
  const bool reads_real_positions_only =
      kind == HeadKind::kSequenceClassification || kind == HeadKind::kTokenClassification;
  const bool packed = config.has_finetune() && !config.finetune().padded_tokens() && reads_real_positions_only;
  return packed ? TokenLayout::kPacked : TokenLayout::kPadded;
}

std::string MatmulPrecisionOf(const TrainingDevice& device, const TrainConfig& config) {
  if (device.kind == TrainingDevice::Kind::kCuda) {
    return device.gpu_model.precision == GpuPrecision::kBf16 ? "bf16" : "fp32";
  }
  return cpu::PrecisionName(cpu::EffectivePrecision(CpuPrecisionOf(config)));
}

std::string DescribeMatmulPrecision(const TrainingDevice& device, const TrainConfig& config) {
  const std::string ran = MatmulPrecisionOf(device, config);
  if (device.kind == TrainingDevice::Kind::kCuda) return absl::StrCat("precision: ", ran, " on the GPU (--gpu_precision)");
  if (config.precision() != TrainConfig::BF16) return "precision: fp32";
  if (ran == "bf16") return "precision: bf16 matrix products (AVX512-BF16 through oneDNN), fp32 elsewhere";
  return "precision: fp32, not the config's BF16: this CPU has no AVX512-BF16 instructions (or ONEDNN_MAX_CPU_ISA "
         "excludes them), so the matrix products run in fp32";
}

absl::StatusOr<std::unique_ptr<TrainingBackend>> MakeTrainingBackend(const TrainingDevice& device,
                                                                     const TrainConfig& config,
                                                                     bool with_optimizer) {
  if (device.kind == TrainingDevice::Kind::kCpu) return MakeCpuBackend(config, with_optimizer);
  if (absl::Status s = SelectTrainingDevice(device); !s.ok()) return s;
  return MakeGpuBackend(config, device.gpu_model, with_optimizer);
}

}  // namespace cloze
