// The training loop's stream of batches: pretraining examples from a prepared dataset
// (BatchSource) or a fine-tuning task's features (TaskBatchSource). The loop reads the
// next batch of its rank, saves the cursor in every checkpoint and seeks back to it on
// resume, so a resumed run reads exactly the batches the uninterrupted run would have.
#ifndef CLOZE_TRAINER_BATCH_STREAM_H_
#define CLOZE_TRAINER_BATCH_STREAM_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/batch.h"
#include "proto/checkpoint.pb.h"

namespace cloze {

class BatchStream {
 public:
  virtual ~BatchStream() = default;

  // This rank's next batch; advances the cursor by the whole world's share of the step.
  virtual absl::StatusOr<Batch> Next() = 0;

  // Where the next batch starts (epoch, position, the order's fingerprint).
  virtual DataCursor cursor() const = 0;
  // Continues from `cursor`; FailedPrecondition when it belongs to another order (other
  // data or seed), InvalidArgument when it lies outside the data.
  virtual absl::Status Seek(const DataCursor& cursor) = 0;

  // The tokenizer the examples were made with (data/tokenizer.h Fingerprint()), recorded
  // in checkpoints so that a resume with other data is refused.
  virtual const std::string& tokenizer_fingerprint() const = 0;
};

}  // namespace cloze

#endif  // CLOZE_TRAINER_BATCH_STREAM_H_
