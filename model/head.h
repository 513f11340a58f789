// A task head on the encoder (trainer/encoder.h): what it adds to the parameters, what
// labels it reads from a Batch, and its forward and backward on the CPU ops.
//
// A head is two parts:
//   HeadDefinition  backend-independent facts: its tensors (Hugging Face names, appended
//                   after the encoder's), whether it reads the pooled [CLS], how it
//                   validates and counts a batch's labels, the weights of its loss terms
//                   (trainer/losses.h). The CUDA twin of a head (trainer/gpu_heads/) reuses
//                   its definition, so both agree on layout and counts by construction.
//   Head            the CPU computation over the encoder's outputs.
// Adding a head is one file pair under trainer/heads/ (definition + CPU), its CUDA twin,
// and a line in heads.cc's factory; the encoder is not touched.
#ifndef CLOZE_MODEL_HEAD_H_
#define CLOZE_MODEL_HEAD_H_

#include <array>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "proto/model_config.pb.h"
#include "model/batch.h"
#include "model/head_spec.h"
#include "model/losses.h"
#include "model/parameter_layout.h"
#include "kernels/cpu/bf16_gemm.h"
#include "model/step_options.h"

namespace cloze {

class HeadDefinition {
 public:
  virtual ~HeadDefinition() = default;

  virtual HeadSpec spec() const = 0;
  // Appends the head's tensors to `builder`'s layout (after the encoder's) and keeps their
  // slots. Called once, before any other use.
  virtual void AddParameters(LayoutBuilder& builder) = 0;
  // True when the head reads the pooled [CLS] (the encoder then runs its pooler).
  virtual bool uses_pooled_output() const = 0;
  // The head's label fields in `batch`: lengths and ranges, InvalidArgument naming the
  // field and the first bad element. The encoder's inputs are checked separately.
  virtual absl::Status ValidateLabels(const Batch& batch) const = 0;
  // The rows each loss term counts (see LossNormalizer).
  virtual PredictionCounts CountPredictions(const Batch& batch) const = 0;
  // total_loss = Σ weight_i · term_i.mean.
  virtual std::array<double, kMaxLossTerms> term_weights() const = 0;
};

// What a head reads after the encoder's forward pass (CPU, host memory).
struct HeadInputs {
  const Batch* batch = nullptr;
  const float* parameters = nullptr;  // the flat buffer
  const float* hidden = nullptr;      // (B·T, H) the encoder's last layer
  const float* pooled = nullptr;      // (B, H); null unless uses_pooled_output()
  StepOptions options;
  cpu::Precision precision = cpu::Precision::kFp32;  // of the head's matrix products (the model's)
};

// Where a head's backward adds its gradients.
struct HeadGradients {
  float* parameters = nullptr;  // the flat gradient buffer
  float* hidden = nullptr;      // (B·T, H) d(loss)/d(hidden)
  float* pooled = nullptr;      // (B, H) d(loss)/d(pooled); null unless uses_pooled_output()
};

class Head {
 public:
  virtual ~Head() = default;
  virtual const HeadDefinition& definition() const = 0;
  virtual HeadDefinition& definition() = 0;

  // Forward on validated inputs; keeps what Backward needs.
  virtual Losses Forward(const HeadInputs& in) = 0;
  // Adds scales[i] · d(Σ rows of term i)/d(...) for the last Forward into `out`
  // (scales[i] = weight_i / rows normalising term i: TermScales).
  virtual void Backward(const HeadInputs& in, const std::array<float, kMaxLossTerms>& scales,
                        const HeadGradients& out) = 0;
  // The last Forward's logits, output 0 or 1:
  //   pretraining              0: MLM at the masked positions (M, V); 1: sentence (B, 2)
  //   sequence classification  0: (B, num_labels)
  //   token classification     0: (B·T, num_labels)
  //   span extraction          0: start (B, T); 1: end (B, T)
  virtual std::span<const float> logits(int output = 0) const = 0;
};

// The definition and CPU head for `spec` on an encoder of `config` with `encoder_layout`
// (whose slots a head may share, as the MLM decoder shares the word embeddings).
// InvalidArgument for an unusable spec (num_labels < 1, or 1 where regression is not
// possible), naming it.
absl::StatusOr<std::unique_ptr<HeadDefinition>> MakeHeadDefinition(const HeadSpec& spec, const ModelConfig& config,
                                                                   const ParameterLayout& encoder_layout);
// The encoder's layout (with a pooler only when `head` reads it) and the head's tensors
// appended through `head.AddParameters`, which keeps their slots.
ParameterLayout LayoutWithHead(const ModelConfig& config, HeadDefinition& head);

absl::StatusOr<std::unique_ptr<Head>> MakeCpuHead(const HeadSpec& spec, const ModelConfig& config,
                                                  const ParameterLayout& encoder_layout);

}  // namespace cloze

#endif  // CLOZE_MODEL_HEAD_H_
