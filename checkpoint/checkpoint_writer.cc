#include "checkpoint/checkpoint_writer.h"

#include <utility>

#include "checkpoint/checkpoint_retention.h"

namespace cloze {

AsyncCheckpointWriter::AsyncCheckpointWriter(std::string run_dir, ParameterLayout layout, CheckpointConfig config,
                                             CheckpointOptions options)
    : run_dir_(std::move(run_dir)),
      layout_(std::move(layout)),
      config_(std::move(config)),
      options_(std::move(options)) {}

AsyncCheckpointWriter::~AsyncCheckpointWriter() { Join(); }

void AsyncCheckpointWriter::Join() {
  if (!worker_.joinable()) return;
  worker_.join();
  if (!worker_status_.ok() && error_.ok()) error_ = worker_status_;
  if (!worker_written_.empty()) last_written_ = worker_written_;
  worker_status_ = absl::OkStatus();
  worker_written_.clear();
}

void AsyncCheckpointWriter::Write(CheckpointContents snapshot) {
  absl::StatusOr<std::string> written = WriteCheckpoint(run_dir_, snapshot, layout_, options_);
  // The snapshot is large: free it before pruning reads a checkpoint back.
  snapshot = CheckpointContents();
  if (!written.ok()) {
    worker_status_ = written.status();
  } else {
    worker_written_ = *written;
    if (config_.keep_last() > 0) {
      worker_status_ = PruneCheckpoints(run_dir_, config_.keep_last(), config_.keep_every(), options_);
    }
  }
  in_flight_.store(false, std::memory_order_release);
}

absl::Status AsyncCheckpointWriter::Schedule(CheckpointContents snapshot) {
  Join();
  if (!error_.ok()) return error_;
  in_flight_.store(true, std::memory_order_release);
  worker_ = std::thread(&AsyncCheckpointWriter::Write, this, std::move(snapshot));
  return absl::OkStatus();
}

absl::Status AsyncCheckpointWriter::Wait() {
  Join();
  return error_;
}

}  // namespace cloze
