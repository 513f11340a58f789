// Training and evaluation batches from a prepared dataset: the dataset reader's shuffled,
// resumable, rank-partitioned stream, masked at read time when the dataset is unmasked,
// collated to the model's fixed-shape Batch.
#ifndef CLOZE_TRAINER_BATCH_SOURCE_H_
#define CLOZE_TRAINER_BATCH_SOURCE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "data/dataset_reader.h"
#include "data/masking.h"
#include "data/vocab_info.h"
#include "proto/checkpoint.pb.h"
#include "proto/train_config.pb.h"
#include "model/batch.h"
#include "trainer/batch_stream.h"

namespace cloze {

class BatchSource final : public BatchStream {
 public:
  // Opens `dataset_dir` for rank `rank` of `world_size`, shuffled with config.seed, and
  // checks it fits the run: FailedPrecondition naming both sides when its vocabulary size
  // differs from the model's (shards made with another tokenizer), when its examples are
  // longer than config.seq_len or carry more predictions than max_predictions_per_seq, or
  // when `expected_tokenizer_fingerprint` (from a checkpoint; empty: unchecked) differs.
  // Errors no restart mends carry their exit status (util/exit_status.h): kExitDataError
  // for a damaged shard, kExitUsage for a dataset missing or not fitting the config.
  static absl::StatusOr<std::unique_ptr<BatchSource>> Open(const std::string& dataset_dir, const TrainConfig& config,
                                                           int rank, int world_size,
                                                           const std::string& expected_tokenizer_fingerprint = "");

  // The next config.batch_size examples of this rank, collated; advances the cursor by the
  // whole world's share. Errors (a corrupt shard: kExitDataError) name the shard and example.
  absl::StatusOr<Batch> Next() override;

  DataCursor cursor() const override;
  absl::Status Seek(const DataCursor& cursor) override;

  const std::string& tokenizer_fingerprint() const override { return tokenizer_fingerprint_; }
  int64_t size() const { return reader_->size(); }

 private:
  BatchSource() = default;

  std::unique_ptr<data::DatasetReader> reader_;
  TrainConfig config_;
  int rank_ = 0, world_size_ = 1;
  bool dynamic_masking_ = false;
  data::VocabInfo vocab_;
  data::MaskingOptions masking_;
  uint64_t masking_seed_ = 0;
  std::string tokenizer_fingerprint_;
};

}  // namespace cloze

#endif  // CLOZE_TRAINER_BATCH_SOURCE_H_
