// The pretraining loop of `cloze train` on one process (CPU or one GPU, TrainOptions.device):
// data, model, optimizer, guard, checkpoints, metrics.
//
// A run lives in its run directory: checkpoints/ (checkpoint/checkpoint.h), metrics.jsonl
// (one line per step), train_config.pb.txt (what was asked; a config file for `cloze train`
// or `cloze coordinator`). Starting a run whose
// directory holds a valid checkpoint resumes from the newest one (damaged ones are skipped
// with a warning), and on CPU the resumed run computes bit-for-bit the losses the
// uninterrupted run would have: parameters, moments and guard state are restored exactly,
// data order and dropout masks are functions of (seed, step), and every op sums in a fixed
// order.
//
// In a data-parallel job (TrainOptions.exchange) every worker runs this loop on its share
// of each step; the step's loss is the mean over all its predictions and its dropout masks
// are keyed by global example index, so W workers × batch b compute the step 1 worker ×
// batch W·b computes. Rank 0 alone writes metrics.jsonl and runs evaluations.
//
// Fine-tuning (TrainConfig.finetune, `cloze finetune`) is the same loop with the task's head,
// batches from its train split (task_batch_source.h), initial parameters from its `init`
// (finetune_init.h), and the dev split's metrics at eval_every_steps and at the end
// (finetune_task.h): metrics.jsonl eval lines, predictions_<split>.jsonl and
// eval_results.json (the final evaluation and the best on dev, told apart). The best so far
// lives in the checkpoints' TrainerState, so a resumed run reports what the uninterrupted one
// would. CPU only for now.
//
// On a GPU (trainer/training_backend.h) the same loop runs on GpuModel + GpuOptimizer; its
// losses follow the CPU's within float rounding (fp32), but atomics in two backward ops make
// it inexact run to run, so the bit-for-bit resume above is the CPU's guarantee only.
#ifndef CLOZE_TRAINER_TRAINER_H_
#define CLOZE_TRAINER_TRAINER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/train_config.pb.h"
#include "checkpoint/checkpoint_sink.h"
#include "trainer/step_exchange.h"
#include "metrics/step_record.h"
#include "trainer/training_backend.h"

namespace cloze {

class FinetuneTask;  // trainer/finetune_task.h

struct TrainOptions {
  TrainConfig config;       // validated (ValidateTrainConfig)
  std::string run_dir;      // created when missing
  // CPU, or which GPU at which precision. kCuda without a usable GPU: Train fails
  // (FailedPrecondition "--device=cuda: no usable GPU: ...") before touching the run.
  TrainingDevice device;
  int64_t stop_after_step = 0;  // > 0: stop (with a checkpoint) once this step is done
  std::string metrics_address;  // Prometheus endpoint "HOST:PORT"; empty: none
  std::string run_name = "cloze";  // the metrics' `run` label
  std::string metrics_port_file;   // when set, the endpoint's port is written there
  // Called once with the endpoint's port when it serves (a worker tells its coordinator,
  // which lists it for Prometheus). May be empty.
  std::function<void(int port)> on_metrics_serving;
  // Fault injection for tests of the guard and the alerts: these steps (1-based) report a
  // NaN loss, as a diverging step would.
  std::vector<int64_t> nonfinite_loss_steps;
  // Set (from a signal handler) to stop after the current step, write a checkpoint and
  // return normally. Not owned; may be null.
  const std::atomic<bool>* stop_requested = nullptr;
  // Receives progress: one call per step with its record (the CLI draws a progress bar or
  // log lines from it). May be empty.
  std::function<void(const StepRecord&, int64_t total_steps, double elapsed_seconds)> on_step;
  // Receives human-readable events (resumed, checkpoint written, rollback, evaluation).
  std::function<void(const std::string&)> on_event;

  // A distributed job's worker (worker/worker.h) sets these three; otherwise one process.
  // The exchange combines each step with the other workers (step_exchange.h); not owned.
  StepExchange* exchange = nullptr;
  // Where checkpoints go; null: an AsyncCheckpointWriter on run_dir. Not owned.
  CheckpointSink* checkpoint_sink = nullptr;
  // Set: resume from this checkpoint directory ("": start fresh), as the job's coordinator
  // decided, instead of from the run's newest valid checkpoint; nothing is moved aside.
  std::optional<std::string> resume_from;

  // Fine-tuning: config.finetune's task, already loaded (LoadFinetuneTask) by a caller that
  // needed it to size the run, so that its splits are not read and tokenised twice; null:
  // the run loads it. The run takes its train inputs (TakeTrainInputs): one task, one run.
  std::shared_ptr<FinetuneTask> finetune_task;
};

struct TrainSummary {
  int64_t start_step = 0;  // 0 for a fresh run, else the checkpoint's step
  int64_t end_step = 0;
  bool resumed = false;
  bool interrupted = false;  // stopped by stop_requested
  StepRecord first, last;    // the first and last steps this process ran
  double first_window_mlm_accuracy = 0, last_window_mlm_accuracy = 0;  // means over ≤ 20 steps
  std::string last_checkpoint;  // directory of the newest checkpoint written
  int64_t skipped_steps = 0, rollbacks = 0;
  double seconds = 0;
  int metrics_port = 0;
};

// Errors that no restart mends carry the exit status to end with (util/exit_status.h):
// kExitDataError for a damaged shard, kExitUsage for a dataset missing or not fitting the
// config, kExitNoCheckpoint for a checkpoint to resume from that cannot be loaded.
absl::StatusOr<TrainSummary> Train(const TrainOptions& options);

}  // namespace cloze

#endif  // CLOZE_TRAINER_TRAINER_H_
