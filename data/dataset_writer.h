// Writes a whole dataset: examples spread round-robin over N shards (shard_writer.h).
#ifndef CLOZE_DATA_DATASET_WRITER_H_
#define CLOZE_DATA_DATASET_WRITER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/example_pipeline.h"
#include "data/shard_writer.h"

namespace cloze::data {

// Example k of the stream goes to shard k mod N, so shards differ in size by at most one
// example and each holds a sample of the whole corpus. All N shards are open at once, so
// their memtables share a budget of kMemtableBudgetBytes (at least 4 MiB each). Shards are published by Finish()
// only; if anything fails before, or the writer is destroyed unfinished, no shard appears
// in `dataset_dir` (shard_writer.h). Not thread-safe (the pipeline calls Add from one thread).
class DatasetWriter : public ExampleSink {
 public:
  static constexpr size_t kMemtableBudgetBytes = 256 << 20;

  // `spec` gives everything but the shard index; spec.shard_count is the number of shards.
  static absl::StatusOr<std::unique_ptr<DatasetWriter>> Create(const std::string& dataset_dir, const ShardSpec& spec,
                                                               const ShardWriterOptions& options = {});

  absl::Status Add(const Example& example) override;

  // Finishes every shard (in index order), recording `corpus` in each, and returns their
  // metadata.
  absl::StatusOr<std::vector<ShardMetadata>> Finish(const CorpusCounts& corpus = {});

 private:
  explicit DatasetWriter(std::vector<std::unique_ptr<ShardWriter>> shards) : shards_(std::move(shards)) {}

  std::vector<std::unique_ptr<ShardWriter>> shards_;
  int64_t next_ = 0;
};

}  // namespace cloze::data

#endif  // CLOZE_DATA_DATASET_WRITER_H_
