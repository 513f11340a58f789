// Where the training loop sends its checkpoints: AsyncCheckpointWriter for one process
// (checkpoint_writer.h), or a distributed job's coordinated checkpoint (worker/), in which
// every member writes its part and the coordinator commits the step.
#ifndef CLOZE_CHECKPOINT_CHECKPOINT_SINK_H_
#define CLOZE_CHECKPOINT_CHECKPOINT_SINK_H_

#include <string>

#include "absl/status/status.h"
#include "checkpoint/checkpoint.h"

namespace cloze {

// Called from the training loop's thread only.
class CheckpointSink {
 public:
  virtual ~CheckpointSink() = default;
  // Starts saving `snapshot` (its buffers are owned from now on) and returns; blocks only
  // while an earlier save is still running. Errors are sticky (see AsyncCheckpointWriter).
  virtual absl::Status Schedule(CheckpointContents snapshot) = 0;
  // Blocks until every scheduled checkpoint is durable (published or committed).
  virtual absl::Status Wait() = 0;
  // Whether a save is still running. Never blocks.
  virtual bool WriteInFlight() const = 0;
  // The directory of the newest checkpoint known durable ("" before the first).
  virtual const std::string& last_written() const = 0;
};

}  // namespace cloze

#endif  // CLOZE_CHECKPOINT_CHECKPOINT_SINK_H_
