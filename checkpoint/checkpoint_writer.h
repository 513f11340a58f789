// Writing checkpoints in the background, so that training does not stall on the disk.
#ifndef CLOZE_CHECKPOINT_CHECKPOINT_WRITER_H_
#define CLOZE_CHECKPOINT_CHECKPOINT_WRITER_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "proto/train_config.pb.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/checkpoint_sink.h"
#include "model/parameter_layout.h"

namespace cloze {

// Writes snapshots with WriteCheckpoint on a worker thread, then applies the run's retention
// (PruneCheckpoints with config.keep_last() and keep_every(); keep_last 0 keeps everything).
//
// At most one write is in flight and none is queued: Schedule waits for the previous write
// to finish before handing over the next snapshot. That bounds memory to one snapshot (the
// caller's copy of parameters and moments) and keeps checkpoints in step order; with a
// checkpoint every few hundred steps the previous write has long finished.
//
// Errors are sticky: the first failed write or prune is returned by the next Schedule and by
// every Wait and Schedule after it, and no further snapshot is written (a run whose disk
// fails should stop, not train on without checkpoints). Checkpoints already published are
// never affected by a failure (see WriteCheckpoint).
//
// Not thread-safe: one owner thread (the training loop) calls every method.
class AsyncCheckpointWriter final : public CheckpointSink {
 public:
  // `run_dir` must exist when the first write runs. `layout` is copied; `options`' file
  // system must outlive the writer.
  AsyncCheckpointWriter(std::string run_dir, ParameterLayout layout, CheckpointConfig config,
                        CheckpointOptions options = {});
  // Waits for the write in flight. Its error is then lost: call Wait() first to see it.
  ~AsyncCheckpointWriter() override;

  AsyncCheckpointWriter(const AsyncCheckpointWriter&) = delete;
  AsyncCheckpointWriter& operator=(const AsyncCheckpointWriter&) = delete;

  // Takes ownership of `snapshot` (move the buffers in, or pass copies; the caller's own
  // buffers are free to change as soon as Schedule returns) and starts writing it. Blocks
  // only while a previous write is still running. Returns the sticky error, if any, instead
  // of scheduling.
  absl::Status Schedule(CheckpointContents snapshot) override;

  // Blocks until no write is in flight; returns the sticky error or OK. Call before exiting,
  // on SIGTERM too, so the last checkpoint is complete.
  absl::Status Wait() override;

  // Whether a write (or its pruning) is still running. Never blocks.
  bool WriteInFlight() const override { return in_flight_.load(std::memory_order_acquire); }

  // The directory of the last checkpoint this writer published ("" before the first); as of
  // the last Schedule or Wait.
  const std::string& last_written() const override { return last_written_; }

 private:
  // Joins the worker, if any, and folds its result into error_.
  void Join();
  // The worker: writes, then prunes.
  void Write(CheckpointContents snapshot);

  const std::string run_dir_;
  const ParameterLayout layout_;
  const CheckpointConfig config_;
  const CheckpointOptions options_;

  std::thread worker_;
  std::atomic<bool> in_flight_{false};
  // Written by the worker, read by the owner only after joining it.
  absl::Status worker_status_;
  std::string worker_written_;

  absl::Status error_;  // sticky
  std::string last_written_;
};

}  // namespace cloze

#endif  // CLOZE_CHECKPOINT_CHECKPOINT_WRITER_H_
