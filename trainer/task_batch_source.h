// Training batches of a fine-tuning task: its train split as model inputs
// (trainer/model_input.h: sentence features, tagging windows or SQuAD windows), shuffled
// anew each epoch, cut into batches padded to their longest example.
//
// Order: the examples form an endless stream, epoch after epoch; epoch e visits every
// feature once, in a permutation that is a pure function of (seed, e, N) (Fisher–Yates
// with util::Rng), so the order depends neither on the thread count nor on the world
// size. A step takes the next world_size × batch_size examples of the stream, rank r the
// r-th batch_size of them (micro-batch-major, then by rank, as BatchSource); a batch may
// straddle an epoch boundary. The cursor is the stream position (epoch, position within
// it) of the next step, plus a fingerprint of the features and seed, so Seek refuses a
// cursor from other data.
//
// Padding (dynamic): each batch is padded with pad_id to the longest example of its step
// (all ranks' shares, so that a step's shapes and dropout masks are the same however it is
// split over workers), attention mask 0 and segment 0 on padding; labels in the options' layout
// (CollateModelInputs: Batch.labels B, B·T or 2B; regression: Batch.targets B).
#ifndef CLOZE_TRAINER_TASK_BATCH_SOURCE_H_
#define CLOZE_TRAINER_TASK_BATCH_SOURCE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tasks/features.h"
#include "trainer/batch_stream.h"
#include "trainer/model_input.h"

namespace cloze {

inline constexpr int kLengthGroupSteps = 50;

struct TaskBatchOptions {
  int batch_size = 32;  // examples per rank per batch
  uint64_t seed = 0;    // the run's seed
  int rank = 0, world_size = 1;
  int32_t pad_id = 0;
  LabelLayout label_layout = LabelLayout::kPerSequence;
  bool regression = false;  // kPerSequence: read the target (SequenceFeature::score), not the label
  // Length grouping: each epoch's permutation is cut into groups of kLengthGroupSteps steps
  // (world_size × batch_size inputs each) and every group sorted by input length, longest
  // first (stable), as Hugging Face's LengthGroupedSampler does with its megabatches. Steps
  // then hold inputs of similar lengths and pad less; the order stays a pure function of
  // (seed, epoch, inputs, world_size × batch_size).
  bool group_by_length = false;
  std::string tokenizer_fingerprint;

  BatchLayout batch_layout() const { return {.labels = label_layout, .regression = regression}; }
};

// Sentence `features` padded to their longest into one batch (CollateModelInputs with the
// per-sequence layout). InvalidArgument naming the feature's example_index when it lacks
// its label (or score) or its three token lists differ in length; an empty span is
// InvalidArgument too.
absl::StatusOr<Batch> CollateTaskFeatures(std::span<const tasks::SequenceFeature* const> features, int32_t pad_id,
                                          bool regression);

class TaskBatchSource final : public BatchStream {
 public:
  // InvalidArgument for no inputs, an input CollateModelInputs would refuse in
  // options.batch_layout() (checked here, once), batch_size < 1 or a rank outside
  // [0, world_size).
  static absl::StatusOr<std::unique_ptr<TaskBatchSource>> Create(std::vector<ModelInput> inputs,
                                                                 const TaskBatchOptions& options);
  // Featuriser outputs (tasks::SequenceFeature, TaggingFeature, SquadFeature), converted by
  // ToModelInput; options.label_layout must be theirs.
  template <typename Feature>
  static absl::StatusOr<std::unique_ptr<TaskBatchSource>> Create(const std::vector<Feature>& features,
                                                                 const TaskBatchOptions& options) {
    return Create(ToModelInputs(features), options);
  }

  absl::StatusOr<Batch> Next() override;
  DataCursor cursor() const override;
  absl::Status Seek(const DataCursor& cursor) override;
  const std::string& tokenizer_fingerprint() const override { return options_.tokenizer_fingerprint; }

  int64_t size() const { return static_cast<int64_t>(features_.size()); }
  // Epoch `epoch`'s order: a permutation of [0, size()).
  std::vector<int64_t> Order(int64_t epoch) const;

 private:
  TaskBatchSource() = default;
  const ModelInput& At(int64_t stream_index);

  std::vector<ModelInput> features_;
  TaskBatchOptions options_;
  std::string order_fingerprint_;
  int64_t next_ = 0;  // stream index of the next step's first example
  int64_t cached_epoch_ = -1;
  std::vector<int64_t> cached_order_;
};

}  // namespace cloze

#endif  // CLOZE_TRAINER_TASK_BATCH_SOURCE_H_
