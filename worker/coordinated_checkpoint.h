// A distributed job's checkpoints, as the training loop's CheckpointSink: every worker
// reports its part of step N to the coordinator, which commits the step once every part of
// every member is durable (checkpoint/checkpoint_parts.h).
//
// All-reduce mode: parameters and moments are the same on every worker, so rank 0 writes
// them (model.safetensors, optimizer.safetensors: the single-process format) and the others
// report empty parts. Parameter-server mode: the servers write their ranges; workers report
// empty parts. Rank 0's report carries the manifest (train config, data cursor, trainer
// state) in both.
#ifndef CLOZE_WORKER_COORDINATED_CHECKPOINT_H_
#define CLOZE_WORKER_COORDINATED_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "checkpoint/checkpoint_sink.h"
#include "model/parameter_layout.h"
#include "rpc/coordinator_client.h"

namespace cloze {

class CoordinatedCheckpointSink final : public CheckpointSink {
 public:
  // `coordinator` must outlive the sink. `commit_timeout`: how long a checkpoint may wait
  // for the coordinator to commit it before that is an error.
  CoordinatedCheckpointSink(CoordinatorClient& coordinator, std::string run_dir, ParameterLayout layout, int rank,
                            absl::Duration commit_timeout = absl::Minutes(10));
  ~CoordinatedCheckpointSink() override;

  // On a background thread: writes this worker's part, reports it and waits for the
  // coordinator to commit the step (it needs every other member's part too). A snapshot
  // without parameters (parameter-server mode) writes no files.
  absl::Status Schedule(CheckpointContents snapshot) override;
  // Waits for that background work: the last scheduled step is then committed.
  absl::Status Wait() override;
  bool WriteInFlight() const override { return in_flight_.load(std::memory_order_acquire); }
  const std::string& last_written() const override { return last_written_; }

 private:
  void Join();

  CoordinatorClient& coordinator_;
  const std::string run_dir_;
  const ParameterLayout layout_;
  const int rank_;
  const absl::Duration commit_timeout_;
  std::thread worker_;
  std::atomic<bool> in_flight_{false};
  // Written by the worker thread, read after joining it.
  absl::Status worker_status_;
  std::string worker_committed_;
  absl::Status error_;  // sticky
  std::string last_written_;
};

}  // namespace cloze

#endif  // CLOZE_WORKER_COORDINATED_CHECKPOINT_H_
