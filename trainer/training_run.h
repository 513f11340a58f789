// One run of the training loop in three phases, so that pretraining and fine-tuning share
// it and each phase reads on its own:
//   Setup   the backend, the run directory, resume (or initialise) and move damaged
//           checkpoints aside, the data streams, metrics.jsonl, Prometheus, the exchange;
//   Step    one optimizer step: forward and backward over the step's micro-batches, the
//           gradient exchange, the guard, the update or rollback, evaluation, metrics and
//           the checkpoint cadence;
//   Finish  the final checkpoint and the summary.
// Train (trainer.h) is Setup, Step until done, Finish. The contracts are trainer.h's.
#ifndef CLOZE_TRAINER_TRAINING_RUN_H_
#define CLOZE_TRAINER_TRAINING_RUN_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/batch_source.h"
#include "trainer/batch_stream.h"
#include "trainer/finetune_task.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/checkpoint_writer.h"
#include "trainer/loss_guard.h"
#include "metrics/metrics_log.h"
#include "trainer/trainer.h"
#include "trainer/training_backend.h"
#include "metrics/training_metrics.h"

namespace cloze {

class TrainingRun {
 public:
  static absl::StatusOr<std::unique_ptr<TrainingRun>> Setup(const TrainOptions& options);

  // True while steps remain (up to total_steps or stop_after_step) and no stop was asked.
  bool HasNextStep() const { return step_ < end_ && !summary_.interrupted; }
  absl::Status Step();
  absl::StatusOr<TrainSummary> Finish();

 private:
  explicit TrainingRun(const TrainOptions& options);

  // Setup's parts.
  absl::Status ResumeOrInitialize();
  absl::Status MoveDamagedCheckpointsAside();
  absl::Status OpenData(const DataCursor& cursor, const std::string& expected_fingerprint);
  absl::Status OpenTaskData(const DataCursor& cursor, const std::string& expected_fingerprint);
  // The seed's parameters overwritten by those `init_spec` names (finetune.init, init_from);
  // `vocab_size` is the tokenizer's, which the file's word embeddings must match.
  absl::Status LoadInitialParameters(const std::string& init_spec, int vocab_size);
  absl::Status OpenLogs();
  absl::Status BeginExchange();

  // Step's parts. ComputeGradients fills the record's losses and accuracies and returns
  // the statistics every worker summed.
  absl::StatusOr<bool> ComputeGradients(StepRecord& record);
  absl::StatusOr<double> ReduceGradients();
  absl::Status ApplyDecision(GuardDecision decision, float learning_rate, float clip_scale,
                             absl::StatusOr<LoadedCheckpoint>& rollback_target);
  absl::Status RollBack(const absl::StatusOr<LoadedCheckpoint>& target);
  absl::Status Record(StepRecord& record, std::chrono::steady_clock::time_point step_start);
  // Fine-tuning: the dev split's evaluation at step_, its predictions file and the best
  // so far (TrainerState); eval_results.json at the end.
  absl::StatusOr<TaskEvaluation> EvaluateTaskNow();
  absl::Status WriteEvalResults();

  // Checkpoints.
  absl::StatusOr<std::span<float>> ParametersOnHost();
  absl::StatusOr<CheckpointContents> Snapshot();
  absl::Status ScheduleCheckpoint();
  absl::Status NoteFinishedCheckpoint(bool wait);

  void Event(const std::string& message) const {
    if (options_.on_event) options_.on_event(message);
  }

  const TrainOptions& options_;
  const TrainConfig& config_;
  SingleProcessExchange single_process_;
  StepExchange& exchange_;
  bool chief_;            // rank 0: writes the run's files and evaluates
  bool local_optimizer_;  // false with parameter servers, which hold the optimizer
  std::unique_ptr<TrainingBackend> model_;
  std::string matmul_precision_;  // what the matrix products run at (MatmulPrecisionOf)
  CheckpointOptions checkpoint_options_;
  // Host copies of device buffers, for exchanges that take host memory (gradients) and
  // parameter servers (parameters); empty on the CPU, whose buffers are host memory.
  std::vector<float> host_gradients_, host_parameters_;

  TrainSummary summary_;
  TrainerState state_;
  int64_t step_ = 0, end_ = 0;
  std::optional<LoadedCheckpoint> resumed_;
  std::unique_ptr<BatchStream> source_;
  std::unique_ptr<BatchSource> eval_source_;  // pretraining's held-out set
  std::shared_ptr<FinetuneTask> task_;        // a fine-tuning run's task (TrainConfig.finetune)
  std::optional<TaskEvaluation> last_task_eval_;
  std::unique_ptr<MetricsLog> log_;
  std::unique_ptr<TrainingMetrics> metrics_;
  std::optional<LossGuard> guard_;
  std::optional<AsyncCheckpointWriter> local_writer_;
  CheckpointSink* writer_ = nullptr;
  int64_t pending_checkpoint_ = -1;  // step of a scheduled write not yet seen finished
  int64_t last_checkpoint_step_ = -1;
  std::chrono::steady_clock::time_point run_start_;
  std::deque<double> first_accuracies_, last_accuracies_;  // MLM accuracy, ≤ 20 steps each
};

}  // namespace cloze

#endif  // CLOZE_TRAINER_TRAINING_RUN_H_
