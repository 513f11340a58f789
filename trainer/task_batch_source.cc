#include "trainer/task_batch_source.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "util/random.h"

namespace cloze {
namespace {

absl::Status CheckFeature(const tasks::SequenceFeature& f, bool regression) {
  const size_t n = f.input_ids.size();
  if (n == 0 || f.token_type_ids.size() != n || f.attention_mask.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat("feature of example ", f.example_index, ": ", n,
                                                   " input ids, ", f.token_type_ids.size(), " token type ids and ",
                                                   f.attention_mask.size(), " mask values"));
  }
  if (regression ? !f.score.has_value() : !f.label.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("feature of example ", f.example_index, ": no ",
                                                   regression ? "score" : "label", " (an unlabelled split?)"));
  }
  return absl::OkStatus();
}

// Identifies the features (ids, segments, targets) and the seed: a cursor is only valid
// for the order they make.
std::string OrderFingerprint(const std::vector<tasks::SequenceFeature>& features, uint64_t seed) {
  uint64_t h = util::MixKey(seed, features.size());
  auto add = [&h](uint64_t v) { h = util::Mix64(h ^ (v + 0x9E3779B97F4A7C15ull)); };
  for (const tasks::SequenceFeature& f : features) {
    for (int32_t id : f.input_ids) add(static_cast<uint32_t>(id));
    for (int32_t t : f.token_type_ids) add(static_cast<uint32_t>(t));
    add(f.label.has_value() ? static_cast<uint64_t>(*f.label) : ~0ull);
    float score = f.score.value_or(0);
    uint32_t bits;
    std::memcpy(&bits, &score, sizeof bits);
    add(bits);
  }
  return absl::StrFormat("task:%d:%016x", features.size(), h);
}

}  // namespace

absl::StatusOr<Batch> CollateTaskFeatures(std::span<const tasks::SequenceFeature* const> features, int32_t pad_id,
                                          bool regression, size_t pad_to) {
  if (features.empty()) return absl::InvalidArgumentError("CollateTaskFeatures: no features");
  size_t longest = pad_to;
  for (const tasks::SequenceFeature* f : features) {
    if (absl::Status s = CheckFeature(*f, regression); !s.ok()) return s;
    longest = std::max(longest, f->input_ids.size());
  }
  Batch batch;
  batch.batch_size = static_cast<int>(features.size());
  batch.seq_len = static_cast<int>(longest);
  const size_t cells = features.size() * longest;
  batch.input_ids.assign(cells, pad_id);
  batch.token_type_ids.assign(cells, 0);
  batch.attention_mask.assign(cells, 0);
  for (size_t b = 0; b < features.size(); ++b) {
    const tasks::SequenceFeature& f = *features[b];
    std::copy(f.input_ids.begin(), f.input_ids.end(), batch.input_ids.begin() + b * longest);
    std::copy(f.token_type_ids.begin(), f.token_type_ids.end(), batch.token_type_ids.begin() + b * longest);
    std::copy(f.attention_mask.begin(), f.attention_mask.end(), batch.attention_mask.begin() + b * longest);
    if (regression) {
      batch.targets.push_back(*f.score);
    } else {
      batch.labels.push_back(*f.label);
    }
  }
  return batch;
}

absl::StatusOr<std::unique_ptr<TaskBatchSource>> TaskBatchSource::Create(std::vector<tasks::SequenceFeature> features,
                                                                         const TaskBatchOptions& options) {
  if (features.empty()) return absl::InvalidArgumentError("TaskBatchSource: the train split has no examples");
  if (options.batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("TaskBatchSource: batch_size ", options.batch_size, " is not >= 1"));
  }
  if (options.world_size < 1 || options.rank < 0 || options.rank >= options.world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("TaskBatchSource: rank ", options.rank, " is outside [0, world_size = ", options.world_size, ")"));
  }
  for (const tasks::SequenceFeature& f : features) {
    if (absl::Status s = CheckFeature(f, options.regression); !s.ok()) return s;
  }
  std::unique_ptr<TaskBatchSource> source(new TaskBatchSource());
  source->order_fingerprint_ = OrderFingerprint(features, options.seed);
  source->features_ = std::move(features);
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
  return order;
}

const tasks::SequenceFeature& TaskBatchSource::At(int64_t stream_index) {
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
  std::vector<const tasks::SequenceFeature*> rows;
  rows.reserve(b);
  // Padded to the longest example of the whole step (every rank's share), so that the batch
  // shape, and with it each example's dropout masks (model/step_options.h), do not depend on
  // how the step is split over workers.
  size_t step_longest = 0;
  for (int64_t i = 0; i < int64_t{options_.world_size} * b; ++i) {
    const tasks::SequenceFeature& f = At(next_ + i);
    step_longest = std::max(step_longest, f.input_ids.size());
    if (i >= first && i < first + b) rows.push_back(&f);
  }
  next_ += int64_t{options_.world_size} * b;
  return CollateTaskFeatures(rows, options_.pad_id, options_.regression, step_longest);
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
