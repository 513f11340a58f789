#include "trainer/batch_source.h"

#include "absl/strings/str_cat.h"
#include "data/collate.h"
#include "data/dynamic_masking.h"
#include "data/prepare.h"
#include "data/tokenizer_vocab_info.h"
#include "util/exit_status.h"

namespace cloze {
namespace {

// Failures of the dataset no restart can mend: a damaged shard (DataLoss) is bad data; a
// dataset that is missing or does not fit the config is the config's error. Anything else
// (an I/O error) may pass.
absl::Status Classified(absl::Status status) {
  if (absl::IsDataLoss(status)) return WithExitStatus(std::move(status), kExitDataError);
  return PermanentIfBadInput(std::move(status), kExitUsage);
}

}  // namespace

absl::StatusOr<std::unique_ptr<BatchSource>> BatchSource::Open(const std::string& dataset_dir,
                                                               const TrainConfig& config, int rank, int world_size,
                                                               const std::string& expected_tokenizer_fingerprint) {
  data::DatasetReaderOptions options;
  options.seed = config.seed();
  options.expected_tokenizer_fingerprint = expected_tokenizer_fingerprint;
  absl::StatusOr<std::unique_ptr<data::DatasetReader>> reader = data::DatasetReader::Open(dataset_dir, options);
  if (!reader.ok()) return Classified(reader.status());
  const ShardMetadata& meta = (*reader)->shard_metadata(0);
  const DataConfig& data = meta.data_config();
  auto mismatch = [&](const std::string& what) {
    return WithExitStatus(absl::FailedPreconditionError(absl::StrCat(dataset_dir, ": ", what)), kExitUsage);
  };
  if (meta.vocab_size() != config.model().vocab_size()) {
    return mismatch(absl::StrCat("made with a tokenizer of ", meta.vocab_size(), " ids (", meta.tokenizer_fingerprint(),
                                 ") but TrainConfig.model.vocab_size is ", config.model().vocab_size()));
  }
  if (data.max_seq_length() > config.seq_len()) {
    return mismatch(absl::StrCat("examples have up to ", data.max_seq_length(),
                                 " tokens, more than TrainConfig.seq_len = ", config.seq_len()));
  }
  if (data.max_predictions_per_seq() > config.max_predictions_per_seq()) {
    return mismatch(absl::StrCat("examples carry up to ", data.max_predictions_per_seq(),
                                 " predictions, more than TrainConfig.max_predictions_per_seq = ",
                                 config.max_predictions_per_seq()));
  }
  std::unique_ptr<BatchSource> source(new BatchSource());
  source->config_ = config;
  source->rank_ = rank;
  source->world_size_ = world_size;
  source->tokenizer_fingerprint_ = meta.tokenizer_fingerprint();
  source->dynamic_masking_ = data.dynamic_masking();
  if (source->dynamic_masking_) {
    // Read-time masking needs the vocabulary's word starts and special ids.
    absl::StatusOr<std::unique_ptr<data::Tokenizer>> tokenizer = data::LoadDatasetTokenizer(dataset_dir, meta);
    if (!tokenizer.ok()) return Classified(tokenizer.status());
    source->vocab_ = data::VocabInfoOf(**tokenizer);
    source->masking_ = {.masked_lm_prob = data.masked_lm_prob(), .max_predictions_per_seq = data.max_predictions_per_seq(),
                        .max_ngram = data.max_ngram(), .whole_word_mask = data.whole_word_mask()};
    source->masking_seed_ = config.seed() ^ data.seed();
  }
  source->reader_ = *std::move(reader);
  return source;
}

absl::StatusOr<Batch> BatchSource::Next() {
  absl::StatusOr<std::vector<data::DatasetExample>> examples =
      reader_->Next(rank_, world_size_, config_.batch_size());
  if (!examples.ok()) return Classified(examples.status());
  std::vector<Example> rows;
  std::vector<int64_t> ids;
  rows.reserve(examples->size());
  for (data::DatasetExample& e : *examples) {
    if (dynamic_masking_) data::MaskDynamically(&e.example, vocab_, masking_, masking_seed_, e.epoch, e.index);
    rows.push_back(std::move(e.example));
    ids.push_back(e.index);
  }
  return data::Collate(rows,
                       {.seq_len = config_.seq_len(), .max_predictions_per_seq = config_.max_predictions_per_seq(),
                        .pad_id = 0, .vocab_size = config_.model().vocab_size()},
                       ids);
}

DataCursor BatchSource::cursor() const {
  const data::DatasetCursor c = reader_->cursor();
  DataCursor out;
  out.set_epoch(c.epoch);
  out.set_position(c.position);
  out.set_order_fingerprint(c.order_fingerprint);
  return out;
}

absl::Status BatchSource::Seek(const DataCursor& cursor) {
  return reader_->Seek({.epoch = cursor.epoch(), .position = cursor.position(), .order_fingerprint = cursor.order_fingerprint()});
}

}  // namespace cloze
