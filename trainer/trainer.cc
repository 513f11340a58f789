#include "trainer/trainer.h"

#include <chrono>
#include <algorithm>
#include <cmath>
#include <limits>
#include <deque>
#include <filesystem>
#include <memory>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/strings/str_format.h"
#include "data/random.h"
#include "google/protobuf/text_format.h"
#include "trainer/batch_source.h"
#include "trainer/checkpoint.h"
#include "trainer/checkpoint_writer.h"
#include "trainer/clip.h"
#include "trainer/loss_guard.h"
#include "trainer/metrics_log.h"
#include "trainer/model.h"
#include "trainer/optimizer.h"
#include "trainer/schedule.h"
#include "trainer/training_metrics.h"

namespace cloze {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Dropout masks of micro-batch `micro` of step `step`: a function of the run's seed only.
uint64_t DropoutSeed(uint64_t seed, int64_t step, int micro) {
  return data::MixKey(seed, 0x64726F706F7574ull /* "dropout" */, static_cast<uint64_t>(step), static_cast<uint64_t>(micro));
}

int64_t TokensIn(const Batch& batch) {
  return std::accumulate(batch.attention_mask.begin(), batch.attention_mask.end(), int64_t{0});
}

absl::Status WriteTextFileAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::FILE* f = std::fopen(temporary.c_str(), "w");
    if (f == nullptr) return absl::PermissionDeniedError(absl::StrCat(temporary, ": cannot create"));
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (std::fclose(f) != 0 || !ok) return absl::DataLossError(absl::StrCat(temporary, ": write failed"));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) return absl::DataLossError(absl::StrCat(path, ": rename failed"));
  return absl::OkStatus();
}

// The held-out evaluation: the first eval_batches batches of the eval dataset's epoch-0
// order, no dropout; the same batches every time, so evaluations are comparable.
absl::StatusOr<EvalRecord> Evaluate(Model& model, BatchSource& source, const TrainConfig& config, int64_t step) {
  if (absl::Status s = source.Seek(DataCursor()); !s.ok()) return s;
  EvalRecord record;
  record.step = step;
  double loss = 0;
  int64_t mlm_correct = 0, mlm_count = 0, sentence_correct = 0, sentence_count = 0;
  for (int b = 0; b < config.eval_batches(); ++b) {
    absl::StatusOr<Batch> batch = source.Next();
    if (!batch.ok()) return batch.status();
    absl::StatusOr<Losses> losses = model.Forward(*batch, StepOptions{});
    if (!losses.ok()) return losses.status();
    loss += losses->total_loss;
    mlm_correct += losses->mlm_correct;
    mlm_count += losses->mlm_count;
    sentence_correct += losses->sentence_correct;
    sentence_count += losses->sentence_count;
  }
  record.loss = loss / config.eval_batches();
  record.mlm_accuracy = mlm_count > 0 ? static_cast<double>(mlm_correct) / mlm_count : 0;
  record.sentence_accuracy = sentence_count > 0 ? static_cast<double>(sentence_correct) / sentence_count : 0;
  return record;
}

double Mean(const std::deque<double>& values) {
  return values.empty() ? 0 : std::accumulate(values.begin(), values.end(), 0.0) / values.size();
}

}  // namespace

absl::StatusOr<TrainSummary> Train(const TrainOptions& options) {
  const TrainConfig& config = options.config;
  const auto event = [&](const std::string& message) {
    if (options.on_event) options.on_event(message);
  };
  std::error_code error;
  fs::create_directories(options.run_dir, error);
  if (error) return absl::PermissionDeniedError(absl::StrCat(options.run_dir, ": ", error.message()));

  Model model(config.model());
  const ParameterLayout& layout = model.layout();
  Optimizer optimizer(config.optimizer(), layout);
  const CheckpointOptions checkpoint_options{.warn = event};

  TrainSummary summary;
  TrainerState state = DefaultTrainerState();
  int64_t step = 0;
  DataCursor cursor;
  std::string expected_fingerprint;
  absl::StatusOr<LoadedCheckpoint> loaded = LoadLatestValidCheckpoint(options.run_dir, layout, checkpoint_options);
  if (loaded.ok()) {
    CheckpointContents& c = loaded->contents;
    std::copy(c.parameters.begin(), c.parameters.end(), model.parameters().begin());
    if (absl::Status s = optimizer.Restore(c.exp_avg, c.exp_avg_sq, c.optimizer_step); !s.ok()) return s;
    step = c.step;
    state = c.manifest.trainer_state();
    cursor = c.manifest.data_cursor();
    expected_fingerprint = c.manifest.tokenizer_fingerprint();
    summary.resumed = true;
    summary.last_checkpoint = loaded->path;
    event(absl::StrCat("resuming from ", loaded->path, " (step ", step, ")"));
  } else if (absl::IsNotFound(loaded.status())) {
    model.InitializeParameters(config.seed());
  } else {
    return loaded.status();
  }
  summary.start_step = step;
  // Checkpoints newer than the one resumed from were skipped as damaged. Moving them aside
  // (not deleting: an operator may want them) lets this run write those steps again.
  absl::StatusOr<std::vector<int64_t>> steps = ListCheckpointSteps(options.run_dir, checkpoint_options);
  if (!steps.ok()) return steps.status();
  for (int64_t damaged : *steps) {
    if (summary.resumed && damaged <= step) continue;
    const std::string from = absl::StrCat(options.run_dir, "/checkpoints/", CheckpointDirName(damaged));
    const std::string to = absl::StrCat(from, ".damaged-", absl::ToUnixSeconds(absl::Now()));
    fs::rename(from, to, error);
    if (error) return absl::DataLossError(absl::StrCat(from, ": cannot move the damaged checkpoint aside: ", error.message()));
    event(absl::StrCat("moved the damaged checkpoint ", from, " aside to ", to));
  }

  absl::StatusOr<std::unique_ptr<BatchSource>> source =
      BatchSource::Open(config.dataset(), config, /*rank=*/0, /*world_size=*/1, expected_fingerprint);
  if (!source.ok()) return source.status();
  if (summary.resumed) {
    if (absl::Status s = (*source)->Seek(cursor); !s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(config.dataset(), ": cannot continue the checkpoint's data order (",
                                                        s.message(), "); was the dataset replaced?"));
    }
  }
  std::unique_ptr<BatchSource> eval_source;
  if (config.eval_every_steps() > 0) {
    absl::StatusOr<std::unique_ptr<BatchSource>> opened = BatchSource::Open(config.eval_dataset(), config, 0, 1);
    if (!opened.ok()) return opened.status();
    eval_source = *std::move(opened);
  }

  std::string config_text;
  google::protobuf::TextFormat::PrintToString(config, &config_text);
  if (absl::Status s = WriteTextFileAtomically(options.run_dir + "/train_config.pb.txt", config_text); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<MetricsLog>> log = MetricsLog::Open(options.run_dir, step);
  if (!log.ok()) return log.status();
  std::unique_ptr<TrainingMetrics> metrics;
  if (!options.metrics_address.empty()) {
    absl::StatusOr<std::unique_ptr<TrainingMetrics>> started =
        TrainingMetrics::Start({.listen_address = options.metrics_address, .run = options.run_name});
    if (!started.ok()) return started.status();
    metrics = *std::move(started);
    summary.metrics_port = metrics->port();
    if (!options.metrics_port_file.empty()) {
      if (absl::Status s = WriteTextFileAtomically(options.metrics_port_file, absl::StrCat(metrics->port(), "\n")); !s.ok()) {
        return s;
      }
    }
    event(absl::StrCat("metrics at http://", options.metrics_address.substr(0, options.metrics_address.rfind(':')), ":",
                       metrics->port(), "/metrics"));
  }

  LossGuard guard(config.guard(), state);
  AsyncCheckpointWriter writer(options.run_dir, layout, config.checkpoint(), checkpoint_options);
  int64_t pending_checkpoint = -1;  // step of a scheduled write not yet seen finished
  int64_t last_checkpoint_step = summary.resumed ? step : -1;
  auto snapshot = [&]() {
    CheckpointContents c;
    c.step = step;
    c.optimizer_step = optimizer.step_count();
    c.parameters.assign(model.parameters().begin(), model.parameters().end());
    c.exp_avg.assign(optimizer.exp_avg().begin(), optimizer.exp_avg().end());
    c.exp_avg_sq.assign(optimizer.exp_avg_sq().begin(), optimizer.exp_avg_sq().end());
    *c.manifest.mutable_train_config() = config;
    *c.manifest.mutable_data_cursor() = (*source)->cursor();
    guard.Save(&state);
    *c.manifest.mutable_trainer_state() = state;
    c.manifest.set_tokenizer_fingerprint((*source)->tokenizer_fingerprint());
    return c;
  };
  auto schedule_checkpoint = [&]() -> absl::Status {
    if (absl::Status s = writer.Schedule(snapshot()); !s.ok()) return s;
    pending_checkpoint = step;
    last_checkpoint_step = step;
    return absl::OkStatus();
  };
  auto note_finished_checkpoint = [&](bool wait) -> absl::Status {
    if (pending_checkpoint < 0 || (!wait && writer.WriteInFlight())) return absl::OkStatus();
    if (absl::Status s = writer.Wait(); !s.ok()) return s;
    summary.last_checkpoint = writer.last_written();
    if (metrics) metrics->RecordCheckpoint(pending_checkpoint);
    event(absl::StrCat("checkpoint ", writer.last_written()));
    pending_checkpoint = -1;
    return absl::OkStatus();
  };

  const int64_t end = options.stop_after_step > 0 ? std::min(config.total_steps(), options.stop_after_step)
                                                  : config.total_steps();
  const int micro_batches = config.accumulation_steps();
  const auto run_start = Clock::now();
  std::deque<double> first_accuracies, last_accuracies;
  while (step < end) {
    const auto step_start = Clock::now();
    model.ZeroGradients();
    StepRecord record;
    double loss = 0, mlm_loss = 0, sentence_loss = 0;
    int64_t mlm_correct = 0, mlm_count = 0, sentence_correct = 0, sentence_count = 0;
    for (int micro = 0; micro < micro_batches; ++micro) {
      absl::StatusOr<Batch> batch = (*source)->Next();
      if (!batch.ok()) return batch.status();
      record.tokens += TokensIn(*batch);
      absl::StatusOr<Losses> losses =
          model.Forward(*batch, {.training = true, .dropout_seed = DropoutSeed(config.seed(), step, micro)});
      if (!losses.ok()) return losses.status();
      model.Backward(1.0f / micro_batches);
      loss += losses->total_loss;
      mlm_loss += losses->mlm_loss;
      sentence_loss += losses->sentence_loss;
      mlm_correct += losses->mlm_correct;
      mlm_count += losses->mlm_count;
      sentence_correct += losses->sentence_correct;
      sentence_count += losses->sentence_count;
    }
    record.loss = loss / micro_batches;
    record.mlm_loss = mlm_loss / micro_batches;
    record.sentence_loss = sentence_loss / micro_batches;
    record.mlm_accuracy = mlm_count > 0 ? static_cast<double>(mlm_correct) / mlm_count : 0;
    record.sentence_accuracy = sentence_count > 0 ? static_cast<double>(sentence_correct) / sentence_count : 0;
    if (std::find(options.nonfinite_loss_steps.begin(), options.nonfinite_loss_steps.end(), step + 1) !=
        options.nonfinite_loss_steps.end()) {
      record.loss = std::numeric_limits<double>::quiet_NaN();
    }

    // max_grad_norm 0 disables the scaling; the norm is still computed (clip.h).
    const ClipResult clip = ClipGradientsByGlobalNorm(model.gradients(), config.optimizer().max_grad_norm());
    record.grad_norm = clip.norm;
    const GuardDecision decision = guard.Check(record.loss, clip.norm);
    const float learning_rate =
        LearningRateAt(config.schedule(), config.optimizer().learning_rate(), config.total_steps(), step) *
        guard.learning_rate_scale();
    record.learning_rate = learning_rate;
    if (decision == GuardDecision::kAccept) {
      optimizer.Step(model.parameters(), model.gradients(), learning_rate);
    } else {
      record.skipped = true;
      event(absl::StrCat("step ", step + 1, " skipped: ", guard.reason()));
    }
    ++step;
    record.step = step;
    state.set_tokens_seen(state.tokens_seen() + static_cast<double>(record.tokens));

    if (decision == GuardDecision::kRollback) {
      // Parameters and moments go back to the last checkpoint; the step count, the data
      // and the guard move on, so the batches that kept failing are not replayed.
      if (absl::Status s = note_finished_checkpoint(/*wait=*/true); !s.ok()) return s;
      absl::StatusOr<LoadedCheckpoint> back = LoadLatestValidCheckpoint(options.run_dir, layout, checkpoint_options);
      if (back.ok()) {
        std::copy(back->contents.parameters.begin(), back->contents.parameters.end(), model.parameters().begin());
        if (absl::Status s = optimizer.Restore(back->contents.exp_avg, back->contents.exp_avg_sq,
                                               back->contents.optimizer_step);
            !s.ok()) {
          return s;
        }
        event(absl::StrFormat("rolled back to %s after repeated skips; learning rate scale now %g", back->path,
                              guard.learning_rate_scale()));
      } else {
        event(absl::StrFormat("repeated skips but no checkpoint to roll back to (%s); learning rate scale now %g",
                              back.status().message(), guard.learning_rate_scale()));
      }
      if (metrics) metrics->RecordRollback();
    }

    std::optional<EvalRecord> eval;
    if (eval_source && step % config.eval_every_steps() == 0) {
      absl::StatusOr<EvalRecord> evaluated = Evaluate(model, *eval_source, config, step);
      if (!evaluated.ok()) return evaluated.status();
      eval = *evaluated;
      if (metrics) metrics->RecordEval(*eval);
      event(absl::StrFormat("eval at step %d: loss %.4f, MLM accuracy %.4f, sentence accuracy %.4f", step, eval->loss,
                            eval->mlm_accuracy, eval->sentence_accuracy));
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - step_start).count();
    record.tokens_per_second = record.tokens / std::max(seconds, 1e-9);
    if (absl::Status s = (*log)->Append(record, seconds, eval); !s.ok()) return s;
    if (metrics) metrics->RecordStep(record);
    if (options.on_step) {
      options.on_step(record, end, std::chrono::duration<double>(Clock::now() - run_start).count());
    }
    if (step == summary.start_step + 1) summary.first = record;
    summary.last = record;
    if (first_accuracies.size() < 20) first_accuracies.push_back(record.mlm_accuracy);
    last_accuracies.push_back(record.mlm_accuracy);
    if (last_accuracies.size() > 20) last_accuracies.pop_front();

    if (config.checkpoint().every_steps() > 0 && step % config.checkpoint().every_steps() == 0) {
      if (absl::Status s = schedule_checkpoint(); !s.ok()) return s;
    }
    if (absl::Status s = note_finished_checkpoint(/*wait=*/false); !s.ok()) return s;
    if (options.stop_requested != nullptr && options.stop_requested->load()) {
      summary.interrupted = true;
      event(absl::StrCat("stopping at step ", step, " as asked"));
      break;
    }
  }

  if (last_checkpoint_step != step) {
    if (absl::Status s = schedule_checkpoint(); !s.ok()) return s;
  }
  if (absl::Status s = note_finished_checkpoint(/*wait=*/true); !s.ok()) return s;
  summary.end_step = step;
  summary.skipped_steps = guard.skipped_steps();
  guard.Save(&state);
  summary.rollbacks = state.rollbacks();
  summary.first_window_mlm_accuracy = Mean(first_accuracies);
  summary.last_window_mlm_accuracy = Mean(last_accuracies);
  summary.seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
  return summary;
}

}  // namespace cloze
