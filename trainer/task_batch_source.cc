#include "trainer/task_batch_source.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "util/random.h"

namespace cloze {
namespace {

// Identifies the features (ids, segments, targets) and the seed: a cursor is only valid
// for the order they make.
std::string OrderFingerprint(const std::vector<ModelInput>& inputs, uint64_t seed) {
  uint64_t h = util::MixKey(seed, inputs.size());
  auto add = [&h](uint64_t v) { h = util::Mix64(h ^ (v + 0x9E3779B97F4A7C15ull)); };
  for (const ModelInput& x : inputs) {
    for (int32_t id : x.input_ids) add(static_cast<uint32_t>(id));
    for (int32_t t : x.token_type_ids) add(static_cast<uint32_t>(t));
    // One label or none hashes as the sentence features always did (the cursors of runs
    // from before other layouts existed stay valid).
    if (x.labels.size() <= 1) {
      add(x.labels.empty() ? ~0ull : static_cast<uint64_t>(x.labels[0]));
    } else {
      for (int32_t label : x.labels) add(static_cast<uint64_t>(label));
    }
    float score = x.target.value_or(0);
    uint32_t bits;
    std::memcpy(&bits, &score, sizeof bits);
    add(bits);
  }
  return absl::StrFormat("task:%d:%016x", inputs.size(), h);
}

}  // namespace

absl::StatusOr<Batch> CollateTaskFeatures(std::span<const tasks::SequenceFeature* const> features, int32_t pad_id,
                                          bool regression) {
  std::vector<ModelInput> inputs;
  inputs.reserve(features.size());
  for (const tasks::SequenceFeature* f : features) inputs.push_back(ToModelInput(*f));
  std::vector<const ModelInput*> rows;
  for (const ModelInput& x : inputs) rows.push_back(&x);
  return CollateModelInputs(rows, pad_id, {.labels = LabelLayout::kPerSequence, .regression = regression});
}

absl::StatusOr<std::unique_ptr<TaskBatchSource>> TaskBatchSource::Create(std::vector<ModelInput> inputs,
                                                                         const TaskBatchOptions& options) {
  if (inputs.empty()) return absl::InvalidArgumentError("TaskBatchSource: the train split has no examples");
  if (options.batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("TaskBatchSource: batch_size ", options.batch_size, " is not >= 1"));
  }
  if (options.world_size < 1 || options.rank < 0 || options.rank >= options.world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("TaskBatchSource: rank ", options.rank, " is outside [0, world_size = ", options.world_size, ")"));
  }
  for (const ModelInput& x : inputs) {
    if (absl::Status s = CheckModelInput(x, options.batch_layout()); !s.ok()) return s;
  }
  std::unique_ptr<TaskBatchSource> source(new TaskBatchSource());
  source->order_fingerprint_ =
      absl::StrCat(OrderFingerprint(inputs, options.seed), options.group_by_length ? ":by-length" : "");
  source->features_ = std::move(inputs);
  source->options_ = options;
  return source;
}

std::vector<int64_t> TaskBatchSource::Order(int64_t epoch) const {
  std::vector<int64_t> order(features_.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  util::Rng rng(util::MixKey(options_.seed, 0x7461736B6F72646Full /* "taskord" */, static_cast<uint64_t>(epoch)));
  for (int64_t i = static_cast<int64_t>(order.size()) - 1; i > 0; --i) {
    std::swap(order[i], order[rng.UniformInt(0, i)]);
  }
  if (options_.group_by_length) {
    const size_t group = static_cast<size_t>(kLengthGroupSteps) * options_.world_size * options_.batch_size;
    auto longer = [this](int64_t a, int64_t b) { return features_[a].input_ids.size() > features_[b].input_ids.size(); };
    for (size_t start = 0; start < order.size(); start += group) {
      std::stable_sort(order.begin() + start, order.begin() + std::min(order.size(), start + group), longer);
    }
  }
  return order;
}

const ModelInput& TaskBatchSource::At(int64_t stream_index) {
  const int64_t n = size();
  const int64_t epoch = stream_index / n;
  if (epoch != cached_epoch_) {
    cached_order_ = Order(epoch);
    cached_epoch_ = epoch;
  }
  return features_[cached_order_[stream_index % n]];
}

absl::StatusOr<Batch> TaskBatchSource::Next() {
  const int64_t b = options_.batch_size, first = int64_t{options_.rank} * b;
  std::vector<const ModelInput*> rows;
  rows.reserve(b);
  // Padded to the longest input of the whole step (every rank's share), so that the batch
  // shape, and with it each example's dropout masks (model/step_options.h), do not depend on
  // how the step is split over workers.
  size_t step_longest = 0;
  for (int64_t i = 0; i < int64_t{options_.world_size} * b; ++i) {
    const ModelInput& input = At(next_ + i);
    step_longest = std::max(step_longest, input.input_ids.size());
    if (i >= first && i < first + b) rows.push_back(&input);
  }
  next_ += int64_t{options_.world_size} * b;
  return CollateModelInputs(rows, options_.pad_id, options_.batch_layout(), step_longest);
}

DataCursor TaskBatchSource::cursor() const {
  DataCursor c;
  c.set_epoch(next_ / size());
  c.set_position(next_ % size());
  c.set_order_fingerprint(order_fingerprint_);
  return c;
}

absl::Status TaskBatchSource::Seek(const DataCursor& cursor) {
  if (!cursor.order_fingerprint().empty() && cursor.order_fingerprint() != order_fingerprint_) {
    return absl::FailedPreconditionError(absl::StrCat("the cursor belongs to the order ", cursor.order_fingerprint(),
                                                      ", these features and seed make ", order_fingerprint_));
  }
  if (cursor.epoch() < 0 || cursor.position() < 0 || cursor.position() >= size()) {
    return absl::InvalidArgumentError(absl::StrCat("cursor (epoch ", cursor.epoch(), ", position ", cursor.position(),
                                                   ") is outside ", size(), " examples"));
  }
  next_ = cursor.epoch() * size() + cursor.position();
  return absl::OkStatus();
}

}  // namespace cloze
