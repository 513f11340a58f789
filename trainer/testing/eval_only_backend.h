// A TrainingBackend for tests of a task's evaluation: Forward keeps the batch and reports a
// loss of 0.5 per row in term 0 (and, with two outputs, term 1); the logits come from the
// subclass, as a function of the batch. Everything a training step needs is a no-op.
#ifndef CLOZE_TRAINER_TESTING_EVAL_ONLY_BACKEND_H_
#define CLOZE_TRAINER_TESTING_EVAL_ONLY_BACKEND_H_

#include <cstdlib>
#include <vector>

#include "gtest/gtest.h"
#include "trainer/training_backend.h"

namespace cloze::testing {

class EvalOnlyBackend : public TrainingBackend {
 public:
  explicit EvalOnlyBackend(int loss_terms = 1) : loss_terms_(loss_terms) {}

  // The logits of head output `output` for `batch`, shaped as Head::logits.
  virtual std::vector<float> LogitsFor(const Batch& batch, int output) = 0;

  const ParameterLayout& layout() const override { return layout_; }
  const HeadDefinition& head() const override { std::abort(); }
  bool on_device() const override { return false; }
  bool has_optimizer() const override { return false; }
  std::span<float> parameters() override { return {}; }
  std::span<float> gradients() override { return {}; }
  absl::Status InitializeParameters(uint64_t) override { return absl::OkStatus(); }
  absl::Status ZeroGradients() override { return absl::OkStatus(); }
  absl::StatusOr<Losses> Forward(const Batch& batch, const StepOptions& options) override {
    EXPECT_FALSE(options.training);
    batch_ = batch;
    Losses losses;
    for (int t = 0; t < loss_terms_; ++t) {
      losses.terms[t].sum = 0.5 * batch.batch_size;
      losses.terms[t].count = batch.batch_size;
    }
    return losses;
  }
  absl::Status Backward(const LossNormalizer&) override { return absl::OkStatus(); }
  absl::StatusOr<double> GradientNorm() override { return 0.0; }
  absl::Status ApplyUpdate(float, float) override { return absl::OkStatus(); }
  absl::Status DownloadParameters(std::span<float>) override { return absl::OkStatus(); }
  absl::Status UploadParameters(std::span<const float>) override { return absl::OkStatus(); }
  absl::Status DownloadGradients(std::span<float>) override { return absl::OkStatus(); }
  absl::Status UploadGradients(std::span<const float>) override { return absl::OkStatus(); }
  absl::Status SaveState(CheckpointContents&) override { return absl::OkStatus(); }
  absl::Status RestoreState(const CheckpointContents&) override { return absl::OkStatus(); }
  absl::StatusOr<std::vector<float>> Logits(int output) override { return LogitsFor(batch_, output); }

 private:
  int loss_terms_;
  ParameterLayout layout_;
  Batch batch_;
};

}  // namespace cloze::testing

#endif  // CLOZE_TRAINER_TESTING_EVAL_ONLY_BACKEND_H_
