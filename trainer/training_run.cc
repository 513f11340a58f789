// TrainingRun's Setup and Finish, and the checkpoint bookkeeping both use; the step is in
// training_step.cc.
#include "trainer/training_run.h"

#include <cstdio>
#include <filesystem>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "checkpoint/checkpoint_fallback.h"
#include "util/atomic_file.h"
#include "util/exit_status.h"
#include "util/file_error.h"
#include "trainer/finetune_init.h"
#include "trainer/task_batch_source.h"
#include "trainer/train_config.h"

namespace cloze {
namespace {

namespace fs = std::filesystem;

double Mean(const std::deque<double>& values) {
  return values.empty() ? 0 : std::accumulate(values.begin(), values.end(), 0.0) / values.size();
}

// A checkpoint to resume from that cannot be loaded (damaged past the fallback, written
// for another model, gone) fails every restart the same way.
absl::Status UnusableCheckpoint(absl::Status status) {
  return PermanentIfBadInput(std::move(status), kExitNoCheckpoint);
}

}  // namespace

TrainingRun::TrainingRun(const TrainOptions& options)
    : options_(options),
      config_(options.config),
      exchange_(options.exchange != nullptr ? *options.exchange : single_process_),
      chief_(exchange_.rank() == 0),
      local_optimizer_(!exchange_.applies_remotely()),
      checkpoint_options_{.warn = [this](const std::string& message) { Event(message); }},
      state_(DefaultTrainerState()) {}

absl::StatusOr<std::unique_ptr<TrainingRun>> TrainingRun::Setup(const TrainOptions& options) {
  std::unique_ptr<TrainingRun> run(new TrainingRun(options));
  // With parameter servers the optimizer and its moments live on the servers.
  absl::StatusOr<std::unique_ptr<TrainingBackend>> made =
      MakeTrainingBackend(options.device, options.config, run->local_optimizer_);
  if (!made.ok()) return made.status();
  run->model_ = *std::move(made);
  // Said once, before anything else of the run: a BF16 config on a CPU without AVX512-BF16
  // runs in fp32, and the user must not take its speed or losses for bf16's.
  run->matmul_precision_ = MatmulPrecisionOf(options.device, options.config);
  run->Event(DescribeMatmulPrecision(options.device, options.config));
  if (run->model_->on_device()) run->host_parameters_.resize(run->model_->layout().total_size);
  if (options.config.has_finetune()) {
    if (options.finetune_task != nullptr) {
      run->task_ = options.finetune_task;
    } else {
      absl::StatusOr<std::unique_ptr<FinetuneTask>> task =
          LoadFinetuneTask(options.config.finetune(), options.config.model().vocab_size());
      if (!task.ok()) return task.status();
      run->task_ = *std::move(task);
    }
    const tasks::ReadStats& read = run->task_->read_stats();
    if (read.skipped > 0) {
      run->Event(absl::StrCat("skipped ", read.skipped, " bad records of the task's files (--skip_bad_lines); the first: ",
                              read.first_skipped));
    }
  }
  std::error_code error;
  fs::create_directories(options.run_dir, error);
  if (error) return util::FileError(options.run_dir, "cannot create", error.value());

  if (absl::Status s = run->ResumeOrInitialize(); !s.ok()) return s;
  if (absl::Status s = run->MoveDamagedCheckpointsAside(); !s.ok()) return s;
  DataCursor cursor;
  std::string fingerprint;
  if (run->resumed_.has_value()) {
    cursor = run->resumed_->contents.manifest.data_cursor();
    fingerprint = run->resumed_->contents.manifest.tokenizer_fingerprint();
    run->resumed_.reset();  // its buffers are restored; free them
  }
  if (absl::Status s = run->OpenData(cursor, fingerprint); !s.ok()) return s;
  if (absl::Status s = run->OpenLogs(); !s.ok()) return s;

  run->guard_.emplace(options.config.guard(), run->state_);
  if (options.checkpoint_sink == nullptr) {
    run->local_writer_.emplace(options.run_dir, run->model_->layout(), options.config.checkpoint(),
                               run->checkpoint_options_);
  }
  run->writer_ = options.checkpoint_sink != nullptr ? options.checkpoint_sink : &*run->local_writer_;
  if (absl::Status s = run->BeginExchange(); !s.ok()) return s;
  run->last_checkpoint_step_ = run->summary_.resumed ? run->step_ : -1;
  run->end_ = options.stop_after_step > 0 ? std::min(options.config.total_steps(), options.stop_after_step)
                                          : options.config.total_steps();
  run->run_start_ = std::chrono::steady_clock::now();
  return run;
}

absl::Status TrainingRun::ResumeOrInitialize() {
  const ParameterLayout& layout = model_->layout();
  absl::StatusOr<LoadedCheckpoint> loaded = absl::NotFoundError("start fresh");
  if (!options_.resume_from.has_value()) {
    loaded = LoadLatestValidCheckpoint(options_.run_dir, layout, checkpoint_options_);
  } else if (!options_.resume_from->empty()) {
    absl::StatusOr<CheckpointContents> contents = LoadCheckpoint(*options_.resume_from, layout, checkpoint_options_);
    if (!contents.ok()) return UnusableCheckpoint(contents.status());  // the coordinator's choice: never skipped
    loaded = LoadedCheckpoint{*options_.resume_from, *std::move(contents)};
  }
  if (absl::IsNotFound(loaded.status())) {
    if (absl::Status s = model_->InitializeParameters(config_.seed()); !s.ok()) return s;
    if (task_) return LoadInitialParameters(config_.finetune().init(), task_->tokenizer().vocab_size());
    if (!config_.init_from().empty()) return LoadInitialParameters(config_.init_from(), config_.model().vocab_size());
    return absl::OkStatus();
  }
  if (!loaded.ok()) return UnusableCheckpoint(loaded.status());
  const CheckpointContents& c = loaded->contents;
  if (absl::Status s = model_->RestoreState(c); !s.ok()) return UnusableCheckpoint(s);
  step_ = c.step;
  state_ = c.manifest.trainer_state();
  summary_.resumed = true;
  summary_.start_step = step_;
  summary_.last_checkpoint = loaded->path;
  Event(absl::StrCat("resuming from ", loaded->path, " (step ", step_, ")"));
  resumed_ = *std::move(loaded);
  return absl::OkStatus();
}

// A fresh run that starts from other parameters than the seed's (a fine-tuning run's
// finetune.init, a pretraining run's init_from): the seed's parameters, then the tensors
// `init` holds (finetune_init.h).
absl::Status TrainingRun::LoadInitialParameters(const std::string& init_spec, int vocab_size) {
  absl::StatusOr<FinetuneInit> init = ResolveFinetuneInit(init_spec);
  if (!init.ok()) return init.status();
  absl::StatusOr<std::span<float>> parameters = ParametersOnHost();
  if (!parameters.ok()) return parameters.status();
  if (absl::Status s = cloze::LoadInitialParameters(*init, config_.model(), model_->layout(), HeadSpecOf(config_),
                                                    config_.seed(), vocab_size, *parameters,
                                                    [this](const std::string& m) { Event(m); });
      !s.ok()) {
    return s;
  }
  return model_->on_device() ? model_->UploadParameters(host_parameters_) : absl::OkStatus();
}

// Checkpoints newer than the one resumed from were skipped as damaged: moved aside, so that
// this run can write those steps again.
absl::Status TrainingRun::MoveDamagedCheckpointsAside() {
  if (options_.resume_from.has_value()) return absl::OkStatus();  // the coordinator's business
  return MoveCheckpointsAsideAfter(options_.run_dir, summary_.resumed ? step_ : -1,
                                   [this](const std::string& line) { Event(line); }, checkpoint_options_);
}

absl::Status TrainingRun::OpenData(const DataCursor& cursor, const std::string& expected_fingerprint) {
  if (task_) return OpenTaskData(cursor, expected_fingerprint);
  absl::StatusOr<std::unique_ptr<BatchSource>> source =
      BatchSource::Open(config_.dataset(), config_, exchange_.rank(), exchange_.world_size(), expected_fingerprint);
  if (!source.ok()) return source.status();
  source_ = *std::move(source);
  if (summary_.resumed) {
    if (absl::Status s = source_->Seek(cursor); !s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(config_.dataset(), ": cannot continue the checkpoint's data order (",
                                                        s.message(), "); was the dataset replaced?"));
    }
  }
  if (chief_ && config_.eval_every_steps() > 0) {
    absl::StatusOr<std::unique_ptr<BatchSource>> opened = BatchSource::Open(config_.eval_dataset(), config_, 0, 1);
    if (!opened.ok()) return opened.status();
    eval_source_ = *std::move(opened);
  }
  return absl::OkStatus();
}

absl::Status TrainingRun::OpenTaskData(const DataCursor& cursor, const std::string& expected_fingerprint) {
  const std::string fingerprint = task_->tokenizer().Fingerprint();
  if (!expected_fingerprint.empty() && expected_fingerprint != fingerprint) {
    return absl::FailedPreconditionError(absl::StrCat("the checkpoint was trained with the tokenizer ", expected_fingerprint,
                                                      ", FinetuneConfig.tokenizer ", config_.finetune().tokenizer(),
                                                      " is ", fingerprint));
  }
  absl::StatusOr<std::unique_ptr<TaskBatchSource>> source =
      TaskBatchSource::Create(task_->TakeTrainInputs(), {.batch_size = config_.batch_size(),
                                                        .seed = config_.seed(),
                                                        .rank = exchange_.rank(),
                                                        .world_size = exchange_.world_size(),
                                                        .pad_id = task_->tokenizer().pad_id(),
                                                        .label_layout = task_->batch_layout().labels,
                                                        .regression = task_->batch_layout().regression,
                                                        .group_by_length = config_.finetune().group_by_length(),
                                                        .tokenizer_fingerprint = fingerprint});
  if (!source.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(config_.finetune().data_dir(), " train split: ", source.status().message()));
  }
  if (summary_.resumed) {
    if (absl::Status s = (*source)->Seek(cursor); !s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(config_.finetune().data_dir(),
                                                        ": cannot continue the checkpoint's data order (", s.message(),
                                                        "); was the train split replaced?"));
    }
  }
  source_ = *std::move(source);
  return absl::OkStatus();
}

// The run's files are the chief's to write (the run directory is shared by the job); any
// process may serve Prometheus.
absl::Status TrainingRun::OpenLogs() {
  if (chief_) {
    // As LoadTrainConfig reads it back (`cloze train`, `cloze coordinator`: explicit zeros kept).
    const std::string config_text = TrainConfigText(config_);
    if (absl::Status s = util::WriteTextFileAtomically(options_.run_dir + "/train_config.pb.txt", config_text); !s.ok()) {
      return s;
    }
    absl::StatusOr<std::unique_ptr<MetricsLog>> opened = MetricsLog::Open(options_.run_dir, step_);
    if (!opened.ok()) return opened.status();
    log_ = *std::move(opened);
  }
  if (options_.metrics_address.empty()) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<TrainingMetrics>> started =
      TrainingMetrics::Start({.listen_address = options_.metrics_address, .run = options_.run_name});
  if (!started.ok()) return started.status();
  metrics_ = *std::move(started);
  summary_.metrics_port = metrics_->port();
  if (options_.on_metrics_serving) options_.on_metrics_serving(metrics_->port());
  if (!options_.metrics_port_file.empty()) {
    if (absl::Status s = util::WriteTextFileAtomically(options_.metrics_port_file, absl::StrCat(metrics_->port(), "\n"));
        !s.ok()) {
      return s;
    }
  }
  const std::string& address = options_.metrics_address;
  Event(absl::StrCat("metrics at http://", address.substr(0, address.rfind(':')), ":", metrics_->port(), "/metrics"));
  return absl::OkStatus();
}

absl::Status TrainingRun::BeginExchange() {
  absl::StatusOr<std::span<float>> parameters = ParametersOnHost();
  if (!parameters.ok()) return parameters.status();
  return exchange_.Begin(step_, *parameters);
}

absl::StatusOr<std::span<float>> TrainingRun::ParametersOnHost() {
  if (!model_->on_device()) return model_->parameters();
  if (absl::Status s = model_->DownloadParameters(host_parameters_); !s.ok()) return s;
  return std::span<float>(host_parameters_);
}

absl::StatusOr<CheckpointContents> TrainingRun::Snapshot() {
  CheckpointContents c;
  c.step = step_;
  if (local_optimizer_) {  // else the parameter servers save parameters and moments
    if (absl::Status s = model_->SaveState(c); !s.ok()) return s;
  }
  *c.manifest.mutable_train_config() = config_;
  *c.manifest.mutable_data_cursor() = source_->cursor();
  guard_->Save(&state_);
  *c.manifest.mutable_trainer_state() = state_;
  c.manifest.set_tokenizer_fingerprint(source_->tokenizer_fingerprint());
  return c;
}

absl::Status TrainingRun::ScheduleCheckpoint() {
  absl::StatusOr<CheckpointContents> contents = Snapshot();
  if (!contents.ok()) return contents.status();
  if (absl::Status s = writer_->Schedule(*std::move(contents)); !s.ok()) return s;
  pending_checkpoint_ = step_;
  last_checkpoint_step_ = step_;
  return absl::OkStatus();
}

absl::Status TrainingRun::NoteFinishedCheckpoint(bool wait) {
  if (pending_checkpoint_ < 0 || (!wait && writer_->WriteInFlight())) return absl::OkStatus();
  if (absl::Status s = writer_->Wait(); !s.ok()) return s;
  summary_.last_checkpoint = writer_->last_written();
  if (metrics_) metrics_->RecordCheckpoint(pending_checkpoint_);
  Event(absl::StrCat("checkpoint ", writer_->last_written()));
  pending_checkpoint_ = -1;
  return absl::OkStatus();
}

absl::StatusOr<TrainSummary> TrainingRun::Finish() {
  if (task_ && chief_) {
    if (!last_task_eval_.has_value() || last_task_eval_->step != step_) {
      absl::StatusOr<TaskEvaluation> evaluated = EvaluateTaskNow();
      if (!evaluated.ok()) return evaluated.status();
    }
    if (absl::Status s = WriteEvalResults(); !s.ok()) return s;
    if (step_ >= config_.total_steps()) {
      absl::StatusOr<std::vector<std::pair<std::string, std::string>>> files =
          task_->PredictUnlabelled(*model_, config_.batch_size());
      if (!files.ok()) return files.status();
      if (absl::Status s = WriteTaskPredictions(options_.run_dir, *files); !s.ok()) return s;
      for (const auto& [name, text] : *files) Event(absl::StrCat("test predictions: ", options_.run_dir, "/", name));
    }
  }
  if (last_checkpoint_step_ != step_) {
    if (absl::Status s = ScheduleCheckpoint(); !s.ok()) return s;
  }
  if (absl::Status s = NoteFinishedCheckpoint(/*wait=*/true); !s.ok()) return s;
  summary_.end_step = step_;
  summary_.skipped_steps = guard_->skipped_steps();
  guard_->Save(&state_);
  summary_.rollbacks = state_.rollbacks();
  summary_.first_window_mlm_accuracy = Mean(first_accuracies_);
  summary_.last_window_mlm_accuracy = Mean(last_accuracies_);
  summary_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start_).count();
  return summary_;
}

absl::StatusOr<TaskEvaluation> TrainingRun::EvaluateTaskNow() {
  absl::StatusOr<TaskEvaluation> evaluated = task_->Evaluate(*model_, config_.batch_size(), step_);
  if (!evaluated.ok()) return evaluated.status();
  if (absl::Status s = WriteTaskPredictions(options_.run_dir, evaluated->prediction_files); !s.ok()) return s;
  evaluated->prediction_files.clear();  // written; eval_results.json needs the figures only
  if (state_.best_eval_json().empty() || evaluated->primary() > state_.best_eval_primary()) {
    state_.set_best_eval_json(TaskEvaluationJson(*evaluated));
    state_.set_best_eval_primary(evaluated->primary());
  }
  last_task_eval_ = *evaluated;
  std::string metrics;
  for (const auto& [name, value] : evaluated->metrics) absl::StrAppend(&metrics, ", ", name, " ", value);
  Event(absl::StrCat("dev evaluation at step ", step_, ": loss ", evaluated->loss, metrics,
                     evaluated->degenerate ? " (DEGENERATE: one prediction for every example)" : ""));
  return evaluated;
}

// eval_results.json: the final evaluation and the best one on dev, told apart (picking the
// best on dev is selection on the evaluation set: report both).
absl::Status TrainingRun::WriteEvalResults() {
  const std::string primary = task_->spec().metrics.empty() ? "" : task_->spec().metrics.front();
  const std::string text = absl::StrCat(
      "{\n  \"task\": \"", task_->spec().name, "\",\n  \"eval_split\": \"", task_->eval_split(), "\",\n  \"primary_metric\": \"",
      primary, "\",\n  \"finished\": ", step_ >= config_.total_steps() ? "true" : "false",
      ",\n  \"final\": ", TaskEvaluationJson(*last_task_eval_), ",\n  \"best\": ", state_.best_eval_json(),
      ",\n  \"degenerate\": ", last_task_eval_->degenerate ? "true" : "false", "\n}\n");
  return util::WriteTextFileAtomically(options_.run_dir + "/eval_results.json", text);
}

}  // namespace cloze
