#include "data/dataset_writer.h"

#include <algorithm>

namespace cloze::data {

absl::StatusOr<std::unique_ptr<DatasetWriter>> DatasetWriter::Create(const std::string& dataset_dir,
                                                                     const ShardSpec& spec,
                                                                     const ShardWriterOptions& options) {
  std::vector<std::unique_ptr<ShardWriter>> shards;
  ShardWriterOptions shard_options = options;
  const size_t per_shard = kMemtableBudgetBytes / (2 * static_cast<size_t>(std::max(1, spec.shard_count)));
  shard_options.write_buffer_bytes = std::clamp<size_t>(per_shard, 4 << 20, options.write_buffer_bytes);
  for (int i = 0; i < spec.shard_count; ++i) {
    ShardSpec shard_spec = spec;
    shard_spec.shard_index = i;
    absl::StatusOr<std::unique_ptr<ShardWriter>> writer = ShardWriter::Create(dataset_dir, shard_spec, shard_options);
    if (!writer.ok()) return writer.status();
    shards.push_back(*std::move(writer));
  }
  return std::unique_ptr<DatasetWriter>(new DatasetWriter(std::move(shards)));
}

absl::Status DatasetWriter::Add(const Example& example) {
  return shards_[static_cast<size_t>(next_++ % static_cast<int64_t>(shards_.size()))]->Append(example);
}

absl::StatusOr<std::vector<ShardMetadata>> DatasetWriter::Finish(const CorpusCounts& corpus) {
  std::vector<ShardMetadata> metadata;
  for (auto& shard : shards_) {
    absl::StatusOr<ShardMetadata> m = shard->Finish(corpus);
    if (!m.ok()) return m.status();
    metadata.push_back(*std::move(m));
  }
  return metadata;
}

}  // namespace cloze::data
