#include "worker/coordinated_checkpoint.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "checkpoint/checkpoint_parts.h"
#include "util/exit_status.h"

namespace cloze {

CoordinatedCheckpointSink::CoordinatedCheckpointSink(CoordinatorClient& coordinator, std::string run_dir,
                                                     ParameterLayout layout, int rank, absl::Duration commit_timeout)
    : coordinator_(coordinator),
      run_dir_(std::move(run_dir)),
      layout_(std::move(layout)),
      rank_(rank),
      commit_timeout_(commit_timeout) {}

CoordinatedCheckpointSink::~CoordinatedCheckpointSink() { Join(); }

void CoordinatedCheckpointSink::Join() {
  if (!worker_.joinable()) return;
  worker_.join();
  if (error_.ok()) error_ = worker_status_;
  if (worker_status_.ok()) last_written_ = worker_committed_;
}

absl::Status CoordinatedCheckpointSink::Schedule(CheckpointContents snapshot) {
  Join();
  if (!error_.ok()) return error_;
  in_flight_.store(true, std::memory_order_release);
  worker_ = std::thread([this, snapshot = std::move(snapshot)]() mutable {
    std::vector<CheckpointFile> files;
    absl::Status status;
    if (rank_ == 0 && !snapshot.parameters.empty()) {
      const CheckpointPart part{.step = snapshot.step,
                                .optimizer_step = snapshot.optimizer_step,
                                .first_tensor = 0,
                                .end_tensor = static_cast<int>(layout_.tensors.size()),
                                .parameters = snapshot.parameters,
                                .exp_avg = snapshot.exp_avg,
                                .exp_avg_sq = snapshot.exp_avg_sq};
      absl::StatusOr<std::vector<CheckpointFile>> written = WriteCheckpointPart(run_dir_, part, layout_);
      if (written.ok()) {
        files = *std::move(written);
      } else {
        status = written.status();
      }
    }
    if (status.ok()) {
      snapshot.manifest.set_step(snapshot.step);
      status = coordinator_.ReportCheckpointPart(snapshot.step, files, rank_ == 0 ? &snapshot.manifest : nullptr);
    }
    if (status.ok()) {
      // Waiting here, off the training thread, keeps the step loop from stalling on the
      // other members' parts.
      absl::StatusOr<std::string> committed = coordinator_.WaitForCheckpoint(snapshot.step, commit_timeout_);
      if (committed.ok()) {
        worker_committed_ = *std::move(committed);
      } else {
        status = WithMessagePrefix(committed.status(), "waiting for the coordinator to commit: ");
      }
    }
    if (!status.ok()) {
      // The exit status travels on: a full disk stops the job rather than restarting it.
      status = WithMessagePrefix(status, absl::StrCat("checkpoint of step ", snapshot.step, ": "));
    }
    worker_status_ = status;
    in_flight_.store(false, std::memory_order_release);
  });
  return absl::OkStatus();
}

absl::Status CoordinatedCheckpointSink::Wait() {
  Join();
  return error_;
}

}  // namespace cloze
