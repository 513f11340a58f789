// TrainingRun::Step: one optimizer step of the loop (training_run.h).
#include <algorithm>
#include <array>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "util/random.h"
#include "kernels/cpu/clip.h"
#include "trainer/schedule.h"
#include "trainer/training_run.h"

namespace cloze {
namespace {

using Clock = std::chrono::steady_clock;

// Dropout masks of step `step`: a function of the run's seed only (examples within the step
// are told apart by StepOptions.first_example).
uint64_t DropoutSeed(uint64_t seed, int64_t step) {
  return util::MixKey(seed, 0x64726F706F7574ull /* "dropout" */, static_cast<uint64_t>(step));
}

// What the workers sum after their backward passes. The head's loss terms 0 and 1 are
// metrics.jsonl's mlm_* and sentence_* (the pretraining head's names).
enum Statistic { kTerm0LossSum, kTerm1LossSum, kTerm0Correct, kTerm1Correct, kTokens, kStopRequested, kStatistics };

int64_t TokensIn(const Batch& batch) {
  return std::accumulate(batch.attention_mask.begin(), batch.attention_mask.end(), int64_t{0});
}

// The held-out evaluation: the first eval_batches batches of the eval dataset's epoch-0
// order, no dropout; the same batches every time, so evaluations are comparable.
absl::StatusOr<EvalRecord> Evaluate(TrainingBackend& model, BatchSource& source, const TrainConfig& config, int64_t step) {
  if (absl::Status s = source.Seek(DataCursor()); !s.ok()) return s;
  EvalRecord record;
  record.step = step;
  double loss = 0;
  int64_t correct[2] = {0, 0}, count[2] = {0, 0};
  for (int b = 0; b < config.eval_batches(); ++b) {
    absl::StatusOr<Batch> batch = source.Next();
    if (!batch.ok()) return batch.status();
    absl::StatusOr<Losses> losses = model.Forward(*batch, StepOptions{});
    if (!losses.ok()) return losses.status();
    loss += losses->total_loss;
    for (int i = 0; i < 2; ++i) {
      correct[i] += losses->terms[i].correct;
      count[i] += losses->terms[i].count;
    }
  }
  record.loss = loss / config.eval_batches();
  record.mlm_accuracy = count[0] > 0 ? static_cast<double>(correct[0]) / count[0] : 0;
  record.sentence_accuracy = count[1] > 0 ? static_cast<double>(correct[1]) / count[1] : 0;
  return record;
}

}  // namespace

absl::Status TrainingRun::Step() {
  const auto step_start = Clock::now();
  if (absl::Status s = model_->ZeroGradients(); !s.ok()) return s;
  StepRecord record;
  record.precision = matmul_precision_;
  absl::StatusOr<bool> stop_requested = ComputeGradients(record);
  if (!stop_requested.ok()) return stop_requested.status();

  // max_grad_norm 0 disables the scaling; the norm is still computed (clip.h).
  absl::StatusOr<double> norm = ReduceGradients();
  if (!norm.ok()) return norm.status();
  record.grad_norm = *norm;
  const float clip_scale = ClipScale(*norm, config_.optimizer().max_grad_norm());
  GuardDecision decision = guard_->Check(record.loss, *norm);
  const float learning_rate =
      LearningRateAt(config_.schedule(), config_.optimizer().learning_rate(), config_.total_steps(), step_) *
      guard_->learning_rate_scale();
  record.learning_rate = learning_rate;
  if (decision != GuardDecision::kAccept) {
    record.skipped = true;
    Event(absl::StrCat("step ", step_ + 1, " skipped: ", guard_->reason()));
  }
  if (decision == GuardDecision::kRollback && !local_optimizer_ && !exchange_.rolls_back_remotely()) {
    Event(absl::StrFormat("step %d: no rollback with bounded-staleness parameter servers (the workers' updates are "
                          "not in step there): the step is only skipped, the parameters and moments stay; "
                          "learning rate scale now %g",
                          step_ + 1, guard_->learning_rate_scale()));
    decision = GuardDecision::kSkip;
  }
  absl::StatusOr<LoadedCheckpoint> rollback_target = absl::NotFoundError("no rollback");
  if (absl::Status s = ApplyDecision(decision, learning_rate, clip_scale, rollback_target); !s.ok()) return s;
  ++step_;
  record.step = step_;
  state_.set_tokens_seen(state_.tokens_seen() + static_cast<double>(record.tokens));
  if (decision == GuardDecision::kRollback) {
    if (absl::Status s = RollBack(rollback_target); !s.ok()) return s;
  }
  if (absl::Status s = Record(record, step_start); !s.ok()) return s;

  if (config_.checkpoint().every_steps() > 0 && step_ % config_.checkpoint().every_steps() == 0) {
    if (absl::Status s = ScheduleCheckpoint(); !s.ok()) return s;
  }
  if (absl::Status s = NoteFinishedCheckpoint(/*wait=*/false); !s.ok()) return s;
  if (*stop_requested) {  // any worker asked: all stop after the same step
    summary_.interrupted = true;
    Event(absl::StrCat("stopping at step ", step_, " as asked"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> TrainingRun::ComputeGradients(StepRecord& record) {
  // This worker's micro-batches, read first: the step's loss normaliser counts the
  // predictions of every micro-batch of every worker before any backward pass.
  const int micro_batches = config_.accumulation_steps();
  std::vector<Batch> batches;
  double counts[kMaxLossTerms] = {0, 0};
  for (int micro = 0; micro < micro_batches; ++micro) {
    absl::StatusOr<Batch> batch = source_->Next();
    if (!batch.ok()) return batch.status();
    const PredictionCounts c = model_->head().CountPredictions(*batch);
    for (int i = 0; i < kMaxLossTerms; ++i) counts[i] += static_cast<double>(c.terms[i]);
    batches.push_back(*std::move(batch));
  }
  if (absl::Status s = exchange_.SumStatistics(counts); !s.ok()) return s;
  const LossNormalizer normalizer{{static_cast<int64_t>(counts[0]), static_cast<int64_t>(counts[1])}};
  double stats[kStatistics] = {};
  for (int micro = 0; micro < micro_batches; ++micro) {
    const Batch& batch = batches[micro];
    stats[kTokens] += static_cast<double>(TokensIn(batch));
    // Examples of a step are numbered micro-batch-major, then by rank: the order the
    // dataset reader hands them out (data/dataset_reader.h).
    const int64_t first_example =
        (int64_t{micro} * exchange_.world_size() + exchange_.rank()) * int64_t{config_.batch_size()};
    absl::StatusOr<Losses> losses = model_->Forward(
        batch, {.training = true, .dropout_seed = DropoutSeed(config_.seed(), step_), .first_example = first_example});
    if (!losses.ok()) return losses.status();
    if (absl::Status s = model_->Backward(normalizer); !s.ok()) return s;
    stats[kTerm0LossSum] += losses->terms[0].sum;
    stats[kTerm1LossSum] += losses->terms[1].sum;
    stats[kTerm0Correct] += static_cast<double>(losses->terms[0].correct);
    stats[kTerm1Correct] += static_cast<double>(losses->terms[1].correct);
  }
  stats[kStopRequested] = options_.stop_requested != nullptr && options_.stop_requested->load() ? 1 : 0;
  if (absl::Status s = exchange_.SumStatistics(stats); !s.ok()) return s;
  record.tokens = static_cast<int64_t>(stats[kTokens]);
  const int64_t term0 = normalizer.terms[0], term1 = normalizer.terms[1];
  const std::array<double, kMaxLossTerms> weights = model_->head().term_weights();
  record.mlm_loss = term0 > 0 ? stats[kTerm0LossSum] / term0 : 0;
  record.sentence_loss = term1 > 0 ? stats[kTerm1LossSum] / term1 : 0;
  record.loss = weights[0] * record.mlm_loss + weights[1] * record.sentence_loss;
  record.mlm_accuracy = term0 > 0 ? stats[kTerm0Correct] / term0 : 0;
  record.sentence_accuracy = term1 > 0 ? stats[kTerm1Correct] / term1 : 0;
  const HeadSpec head = model_->head().spec();
  record.head = head.kind == HeadKind::kPretraining ? StepHead::kPretraining
                : head.is_regression()              ? StepHead::kRegression
                                                    : StepHead::kClassification;
  if (head.kind == HeadKind::kSpanExtraction && term0 + term1 > 0) {
    // Two terms (start, end) reported as the one a task head has: the step's loss, and the
    // share of boundaries (starts and ends together) predicted right.
    record.mlm_loss = record.loss;
    record.mlm_accuracy = (stats[kTerm0Correct] + stats[kTerm1Correct]) / static_cast<double>(term0 + term1);
  }
  const std::vector<int64_t>& nonfinite = options_.nonfinite_loss_steps;
  if (std::find(nonfinite.begin(), nonfinite.end(), step_ + 1) != nonfinite.end()) {
    record.loss = std::numeric_limits<double>::quiet_NaN();
  }
  return stats[kStopRequested] > 0;
}

// The step's gradients summed over the workers, and the norm of the sum (step_exchange.h).
absl::StatusOr<double> TrainingRun::ReduceGradients() {
  if (!model_->on_device()) return exchange_.ReduceGradients(step_, model_->gradients());
  if (exchange_.reduces_device_gradients()) {
    if (absl::Status s = exchange_.SumDeviceGradients(step_, model_->gradients()); !s.ok()) return s;
    return model_->GradientNorm();
  }
  host_gradients_.resize(model_->layout().total_size);
  if (absl::Status s = model_->DownloadGradients(host_gradients_); !s.ok()) return s;
  absl::StatusOr<double> norm = exchange_.ReduceGradients(step_, host_gradients_);
  if (!norm.ok() || !local_optimizer_) return norm;  // parameter servers hold the sum
  if (absl::Status s = model_->UploadGradients(host_gradients_); !s.ok()) return s;
  return norm;
}

// The update (here or on the parameter servers), or none for a skipped step. A rollback
// goes back to the last committed checkpoint: the one this run wrote last, once its commit
// is seen; parameter servers restore it themselves (ApplyRemotely), the local model in
// RollBack.
absl::Status TrainingRun::ApplyDecision(GuardDecision decision, float learning_rate, float clip_scale,
                                        absl::StatusOr<LoadedCheckpoint>& rollback_target) {
  if (decision == GuardDecision::kRollback) {
    if (absl::Status s = NoteFinishedCheckpoint(/*wait=*/true); !s.ok()) return s;
    rollback_target = LoadLatestValidCheckpoint(options_.run_dir, model_->layout(), checkpoint_options_);
  }
  if (!local_optimizer_) {
    std::span<float> parameters = model_->on_device() ? std::span<float>(host_parameters_) : model_->parameters();
    const int64_t rollback_to =
        decision == GuardDecision::kRollback && rollback_target.ok() ? rollback_target->contents.step : -1;
    if (absl::Status s = exchange_.ApplyRemotely(step_, learning_rate, clip_scale, decision == GuardDecision::kAccept,
                                                 parameters, rollback_to);
        !s.ok()) {
      return s;
    }
    if (model_->on_device()) return model_->UploadParameters(host_parameters_);
    return absl::OkStatus();
  }
  if (decision == GuardDecision::kAccept) return model_->ApplyUpdate(clip_scale, learning_rate);
  return absl::OkStatus();
}

// Parameters and moments go back to the last checkpoint; the step count, the data and the
// guard move on, so the batches that kept failing are not replayed.
absl::Status TrainingRun::RollBack(const absl::StatusOr<LoadedCheckpoint>& target) {
  if (target.ok()) {
    if (local_optimizer_) {
      if (absl::Status s = model_->RestoreState(target->contents); !s.ok()) return s;
    }
    Event(absl::StrFormat("rolled back to %s after repeated skips; learning rate scale now %g%s", target->path,
                          guard_->learning_rate_scale(), local_optimizer_ ? "" : " (parameter servers restored it)"));
  } else {
    Event(absl::StrFormat("repeated skips but no checkpoint to roll back to (%s); learning rate scale now %g",
                          target.status().message(), guard_->learning_rate_scale()));
  }
  if (metrics_) metrics_->RecordRollback();
  return absl::OkStatus();
}

// Evaluation when due, then the step's record to metrics.jsonl, Prometheus, the caller and
// the summary.
absl::Status TrainingRun::Record(StepRecord& record, Clock::time_point step_start) {
  std::optional<EvalRecord> eval;
  const bool task_eval_due =
      (config_.eval_every_steps() > 0 && step_ % config_.eval_every_steps() == 0) || step_ == config_.total_steps();
  if (task_ && chief_ && task_eval_due) {
    absl::StatusOr<TaskEvaluation> evaluated = EvaluateTaskNow();
    if (!evaluated.ok()) return evaluated.status();
    eval.emplace();
    eval->step = step_;
    eval->loss = evaluated->loss;
    eval->task_metrics = evaluated->metrics;
    eval->degenerate = evaluated->degenerate;
  } else if (eval_source_ && step_ % config_.eval_every_steps() == 0) {
    absl::StatusOr<EvalRecord> evaluated = Evaluate(*model_, *eval_source_, config_, step_);
    if (!evaluated.ok()) return evaluated.status();
    eval = *evaluated;
    if (metrics_) metrics_->RecordEval(*eval);
    Event(absl::StrFormat("eval at step %d: loss %.4f, MLM accuracy %.4f, sentence accuracy %.4f", step_, eval->loss,
                          eval->mlm_accuracy, eval->sentence_accuracy));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - step_start).count();
  record.tokens_per_second = record.tokens / std::max(seconds, 1e-9);
  if (log_) {
    if (absl::Status s = log_->Append(record, seconds, eval); !s.ok()) return s;
  }
  if (metrics_) metrics_->RecordStep(record);
  if (options_.on_step) {
    options_.on_step(record, end_, std::chrono::duration<double>(Clock::now() - run_start_).count());
  }
  if (step_ == summary_.start_step + 1) summary_.first = record;
  summary_.last = record;
  if (first_accuracies_.size() < 20) first_accuracies_.push_back(record.mlm_accuracy);
  last_accuracies_.push_back(record.mlm_accuracy);
  if (last_accuracies_.size() > 20) last_accuracies_.pop_front();
  return absl::OkStatus();
}

}  // namespace cloze
