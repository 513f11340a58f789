#include "trainer/trainer.h"

#include <chrono>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <deque>
#include <filesystem>
#include <memory>
#include <numeric>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/strings/str_format.h"
#include "data/random.h"
#include "google/protobuf/text_format.h"
#include "trainer/batch_source.h"
#include "trainer/checkpoint.h"
#include "trainer/checkpoint_writer.h"
#include "trainer/clip.h"
#include "trainer/batch.h"
#include "trainer/loss_guard.h"
#include "trainer/metrics_log.h"
#include "trainer/model.h"
#include "trainer/schedule.h"
#include "trainer/training_backend.h"
#include "trainer/training_metrics.h"

namespace cloze {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Dropout masks of step `step`: a function of the run's seed only (examples within the step
// are told apart by StepOptions.first_example).
uint64_t DropoutSeed(uint64_t seed, int64_t step) {
  return data::MixKey(seed, 0x64726F706F7574ull /* "dropout" */, static_cast<uint64_t>(step));
}

// What the workers sum after their backward passes.
enum Statistic { kMlmLossSum, kSentenceLossSum, kMlmCorrect, kSentenceCorrect, kTokens, kStopRequested, kStatistics };

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
absl::StatusOr<EvalRecord> Evaluate(TrainingBackend& model, BatchSource& source, const TrainConfig& config, int64_t step) {
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
    mlm_correct += losses->terms[0].correct;
    mlm_count += losses->terms[0].count;
    sentence_correct += losses->terms[1].correct;
    sentence_count += losses->terms[1].count;
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

  SingleProcessExchange single_process;
  StepExchange& exchange = options.exchange != nullptr ? *options.exchange : single_process;
  const bool chief = exchange.rank() == 0;
  const bool local_optimizer = !exchange.applies_remotely();
  // With parameter servers the optimizer and its moments live on the servers.
  absl::StatusOr<std::unique_ptr<TrainingBackend>> made = MakeTrainingBackend(options.device, config, local_optimizer);
  if (!made.ok()) return made.status();
  TrainingBackend& model = **made;
  const ParameterLayout& layout = model.layout();
  std::error_code error;
  fs::create_directories(options.run_dir, error);
  if (error) return absl::PermissionDeniedError(absl::StrCat(options.run_dir, ": ", error.message()));
  const CheckpointOptions checkpoint_options{.warn = event};
  auto restore = [&](const CheckpointContents& c) -> absl::Status { return model.RestoreState(c); };
  // Host copies of device buffers, for exchanges that take host memory (gradients) and
  // parameter servers (parameters); empty on the CPU, whose buffers are host memory.
  std::vector<float> host_gradients, host_parameters;
  if (model.on_device()) host_parameters.resize(layout.total_size);
  auto parameters_on_host = [&]() -> absl::StatusOr<std::span<float>> {
    if (!model.on_device()) return model.parameters();
    if (absl::Status s = model.DownloadParameters(host_parameters); !s.ok()) return s;
    return std::span<float>(host_parameters);
  };

  TrainSummary summary;
  TrainerState state = DefaultTrainerState();
  int64_t step = 0;
  DataCursor cursor;
  std::string expected_fingerprint;
  absl::StatusOr<LoadedCheckpoint> loaded = absl::NotFoundError("start fresh");
  if (!options.resume_from.has_value()) {
    loaded = LoadLatestValidCheckpoint(options.run_dir, layout, checkpoint_options);
  } else if (!options.resume_from->empty()) {
    absl::StatusOr<CheckpointContents> contents = LoadCheckpoint(*options.resume_from, layout, checkpoint_options);
    if (!contents.ok()) return contents.status();  // the coordinator's choice: never skipped
    loaded = LoadedCheckpoint{*options.resume_from, *std::move(contents)};
  }
  if (loaded.ok()) {
    CheckpointContents& c = loaded->contents;
    if (absl::Status s = restore(c); !s.ok()) return s;
    step = c.step;
    state = c.manifest.trainer_state();
    cursor = c.manifest.data_cursor();
    expected_fingerprint = c.manifest.tokenizer_fingerprint();
    summary.resumed = true;
    summary.last_checkpoint = loaded->path;
    event(absl::StrCat("resuming from ", loaded->path, " (step ", step, ")"));
  } else if (absl::IsNotFound(loaded.status())) {
    if (absl::Status s = model.InitializeParameters(config.seed()); !s.ok()) return s;
  } else {
    return loaded.status();
  }
  summary.start_step = step;
  // Checkpoints newer than the one resumed from were skipped as damaged. Moving them aside
  // (not deleting: an operator may want them) lets this run write those steps again.
  absl::StatusOr<std::vector<int64_t>> steps = ListCheckpointSteps(options.run_dir, checkpoint_options);
  if (!steps.ok()) return steps.status();
  if (options.resume_from.has_value()) steps->clear();  // the coordinator's business
  for (int64_t damaged : *steps) {
    if (summary.resumed && damaged <= step) continue;
    const std::string from = absl::StrCat(options.run_dir, "/checkpoints/", CheckpointDirName(damaged));
    const std::string to = absl::StrCat(from, ".damaged-", absl::ToUnixSeconds(absl::Now()));
    fs::rename(from, to, error);
    if (error) return absl::DataLossError(absl::StrCat(from, ": cannot move the damaged checkpoint aside: ", error.message()));
    event(absl::StrCat("moved the damaged checkpoint ", from, " aside to ", to));
  }

  absl::StatusOr<std::unique_ptr<BatchSource>> source =
      BatchSource::Open(config.dataset(), config, exchange.rank(), exchange.world_size(), expected_fingerprint);
  if (!source.ok()) return source.status();
  if (summary.resumed) {
    if (absl::Status s = (*source)->Seek(cursor); !s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(config.dataset(), ": cannot continue the checkpoint's data order (",
                                                        s.message(), "); was the dataset replaced?"));
    }
  }
  std::unique_ptr<BatchSource> eval_source;
  if (chief && config.eval_every_steps() > 0) {
    absl::StatusOr<std::unique_ptr<BatchSource>> opened = BatchSource::Open(config.eval_dataset(), config, 0, 1);
    if (!opened.ok()) return opened.status();
    eval_source = *std::move(opened);
  }

  // The run's files are the chief's to write (the run directory is shared by the job).
  std::unique_ptr<MetricsLog> log;
  if (chief) {
    std::string config_text;
    google::protobuf::TextFormat::PrintToString(config, &config_text);
    if (absl::Status s = WriteTextFileAtomically(options.run_dir + "/train_config.pb.txt", config_text); !s.ok()) {
      return s;
    }
    absl::StatusOr<std::unique_ptr<MetricsLog>> opened = MetricsLog::Open(options.run_dir, step);
    if (!opened.ok()) return opened.status();
    log = *std::move(opened);
  }
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
  std::optional<AsyncCheckpointWriter> local_writer;
  if (options.checkpoint_sink == nullptr) local_writer.emplace(options.run_dir, layout, config.checkpoint(), checkpoint_options);
  CheckpointSink& writer = options.checkpoint_sink != nullptr ? *options.checkpoint_sink : *local_writer;
  {
    absl::StatusOr<std::span<float>> parameters = parameters_on_host();
    if (!parameters.ok()) return parameters.status();
    if (absl::Status s = exchange.Begin(step, *parameters); !s.ok()) return s;
  }
  int64_t pending_checkpoint = -1;  // step of a scheduled write not yet seen finished
  int64_t last_checkpoint_step = summary.resumed ? step : -1;
  auto snapshot = [&]() -> absl::StatusOr<CheckpointContents> {
    CheckpointContents c;
    c.step = step;
    if (local_optimizer) {  // else the parameter servers save parameters and moments
      if (absl::Status s = model.SaveState(c); !s.ok()) return s;
    }
    *c.manifest.mutable_train_config() = config;
    *c.manifest.mutable_data_cursor() = (*source)->cursor();
    guard.Save(&state);
    *c.manifest.mutable_trainer_state() = state;
    c.manifest.set_tokenizer_fingerprint((*source)->tokenizer_fingerprint());
    return c;
  };
  auto schedule_checkpoint = [&]() -> absl::Status {
    absl::StatusOr<CheckpointContents> contents = snapshot();
    if (!contents.ok()) return contents.status();
    if (absl::Status s = writer.Schedule(*std::move(contents)); !s.ok()) return s;
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

  // The step's gradients summed over the workers, and the norm of the sum (step_exchange.h).
  auto reduce_gradients = [&](int64_t step) -> absl::StatusOr<double> {
    if (!model.on_device()) return exchange.ReduceGradients(step, model.gradients());
    if (exchange.reduces_device_gradients()) {
      if (absl::Status s = exchange.SumDeviceGradients(step, model.gradients()); !s.ok()) return s;
      return model.GradientNorm();
    }
    host_gradients.resize(layout.total_size);
    if (absl::Status s = model.DownloadGradients(host_gradients); !s.ok()) return s;
    absl::StatusOr<double> norm = exchange.ReduceGradients(step, host_gradients);
    if (!norm.ok() || !local_optimizer) return norm;  // parameter servers hold the sum
    if (absl::Status s = model.UploadGradients(host_gradients); !s.ok()) return s;
    return norm;
  };

  const int64_t end = options.stop_after_step > 0 ? std::min(config.total_steps(), options.stop_after_step)
                                                  : config.total_steps();
  const int micro_batches = config.accumulation_steps();
  const auto run_start = Clock::now();
  std::deque<double> first_accuracies, last_accuracies;
  while (step < end) {
    const auto step_start = Clock::now();
    if (absl::Status s = model.ZeroGradients(); !s.ok()) return s;
    StepRecord record;
    // This worker's micro-batches, read first: the step's loss normaliser counts the
    // predictions of every micro-batch of every worker before any backward pass.
    std::vector<Batch> batches;
    double counts[2] = {0, 0};
    for (int micro = 0; micro < micro_batches; ++micro) {
      absl::StatusOr<Batch> batch = (*source)->Next();
      if (!batch.ok()) return batch.status();
      const PredictionCounts c = model.head().CountPredictions(*batch);
      counts[0] += static_cast<double>(c.terms[0]);
      counts[1] += static_cast<double>(c.terms[1]);
      batches.push_back(*std::move(batch));
    }
    if (absl::Status s = exchange.SumStatistics(counts); !s.ok()) return s;
    const LossNormalizer normalizer{{static_cast<int64_t>(counts[0]), static_cast<int64_t>(counts[1])}};
    double stats[kStatistics] = {};
    for (int micro = 0; micro < micro_batches; ++micro) {
      const Batch& batch = batches[micro];
      stats[kTokens] += static_cast<double>(TokensIn(batch));
      // Examples of a step are numbered micro-batch-major, then by rank: the order the
      // dataset reader hands them out (data/dataset_reader.h).
      const int64_t first_example =
          (int64_t{micro} * exchange.world_size() + exchange.rank()) * int64_t{config.batch_size()};
      absl::StatusOr<Losses> losses = model.Forward(
          batch, {.training = true, .dropout_seed = DropoutSeed(config.seed(), step), .first_example = first_example});
      if (!losses.ok()) return losses.status();
      if (absl::Status s = model.Backward(normalizer); !s.ok()) return s;
      stats[kMlmLossSum] += losses->terms[0].sum;
      stats[kSentenceLossSum] += losses->terms[1].sum;
      stats[kMlmCorrect] += static_cast<double>(losses->terms[0].correct);
      stats[kSentenceCorrect] += static_cast<double>(losses->terms[1].correct);
    }
    stats[kStopRequested] = options.stop_requested != nullptr && options.stop_requested->load() ? 1 : 0;
    if (absl::Status s = exchange.SumStatistics(stats); !s.ok()) return s;
    record.tokens = static_cast<int64_t>(stats[kTokens]);
    // Term 0 and 1 are the pretraining head's MLM and sentence terms (metrics.jsonl's names).
    const int64_t term0 = normalizer.terms[0], term1 = normalizer.terms[1];
    const std::array<double, kMaxLossTerms> weights = model.head().term_weights();
    record.mlm_loss = term0 > 0 ? stats[kMlmLossSum] / term0 : 0;
    record.sentence_loss = term1 > 0 ? stats[kSentenceLossSum] / term1 : 0;
    record.loss = weights[0] * record.mlm_loss + weights[1] * record.sentence_loss;
    record.mlm_accuracy = term0 > 0 ? stats[kMlmCorrect] / term0 : 0;
    record.sentence_accuracy = term1 > 0 ? stats[kSentenceCorrect] / term1 : 0;
    if (std::find(options.nonfinite_loss_steps.begin(), options.nonfinite_loss_steps.end(), step + 1) !=
        options.nonfinite_loss_steps.end()) {
      record.loss = std::numeric_limits<double>::quiet_NaN();
    }

    // max_grad_norm 0 disables the scaling; the norm is still computed (clip.h).
    absl::StatusOr<double> norm = reduce_gradients(step);
    if (!norm.ok()) return norm.status();
    record.grad_norm = *norm;
    const float clip_scale = ClipScale(*norm, config.optimizer().max_grad_norm());
    GuardDecision decision = guard.Check(record.loss, *norm);
    const float learning_rate =
        LearningRateAt(config.schedule(), config.optimizer().learning_rate(), config.total_steps(), step) *
        guard.learning_rate_scale();
    record.learning_rate = learning_rate;
    if (decision != GuardDecision::kAccept) {
      record.skipped = true;
      event(absl::StrCat("step ", step + 1, " skipped: ", guard.reason()));
    }
    if (decision == GuardDecision::kRollback && !local_optimizer && !exchange.rolls_back_remotely()) {
      event(absl::StrFormat("step %d: no rollback with bounded-staleness parameter servers (the workers' updates are "
                            "not in step there): the step is only skipped, the parameters and moments stay; "
                            "learning rate scale now %g",
                            step + 1, guard.learning_rate_scale()));
      decision = GuardDecision::kSkip;
    }
    // A rollback goes back to the last committed checkpoint: the one this run wrote last,
    // once its commit is seen. Parameter servers restore it themselves (ApplyRemotely).
    absl::StatusOr<LoadedCheckpoint> rollback_target = absl::NotFoundError("no rollback");
    if (decision == GuardDecision::kRollback) {
      if (absl::Status s = note_finished_checkpoint(/*wait=*/true); !s.ok()) return s;
      rollback_target = LoadLatestValidCheckpoint(options.run_dir, layout, checkpoint_options);
    }
    if (!local_optimizer) {
      std::span<float> parameters = model.on_device() ? std::span<float>(host_parameters) : model.parameters();
      const int64_t rollback_to =
          decision == GuardDecision::kRollback && rollback_target.ok() ? rollback_target->contents.step : -1;
      if (absl::Status s = exchange.ApplyRemotely(step, learning_rate, clip_scale,
                                                  decision == GuardDecision::kAccept, parameters, rollback_to);
          !s.ok()) {
        return s;
      }
      if (model.on_device()) {
        if (absl::Status s = model.UploadParameters(host_parameters); !s.ok()) return s;
      }
    } else if (decision == GuardDecision::kAccept) {
      if (absl::Status s = model.ApplyUpdate(clip_scale, learning_rate); !s.ok()) return s;
    }
    ++step;
    record.step = step;
    state.set_tokens_seen(state.tokens_seen() + static_cast<double>(record.tokens));

    if (decision == GuardDecision::kRollback) {
      // Parameters and moments go back to the last checkpoint; the step count, the data
      // and the guard move on, so the batches that kept failing are not replayed.
      if (rollback_target.ok()) {
        if (local_optimizer) {
          if (absl::Status s = restore(rollback_target->contents); !s.ok()) return s;
        }
        event(absl::StrFormat("rolled back to %s after repeated skips; learning rate scale now %g%s",
                              rollback_target->path, guard.learning_rate_scale(),
                              local_optimizer ? "" : " (parameter servers restored it)"));
      } else {
        event(absl::StrFormat("repeated skips but no checkpoint to roll back to (%s); learning rate scale now %g",
                              rollback_target.status().message(), guard.learning_rate_scale()));
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
    if (log) {
      if (absl::Status s = log->Append(record, seconds, eval); !s.ok()) return s;
    }
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
    if (stats[kStopRequested] > 0) {  // any worker asked: all stop after the same step
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
