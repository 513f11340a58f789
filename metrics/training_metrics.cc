#include "metrics/training_metrics.h"

#include "metrics/metrics_endpoint.h"

#include <cmath>
#include <exception>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace cloze {
namespace {

prometheus::Gauge& NewGauge(prometheus::Registry& registry, const prometheus::Labels& labels, const std::string& name,
                            const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Labels(labels).Register(registry).Add({});
}

prometheus::Counter& NewCounter(prometheus::Registry& registry, const prometheus::Labels& labels,
                                const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Labels(labels).Register(registry).Add({});
}

prometheus::Labels RunLabels(const std::string& run) { return {{"run", run}}; }

}  // namespace

struct TrainingMetrics::StepGauges {
  StepGauges(prometheus::Registry& r, const prometheus::Labels& l)
      : step(NewGauge(r, l, "cloze_train_step", "Optimizer step of the latest step record.")),
        loss(NewGauge(r, l, "cloze_train_loss",
                      "Training loss of the latest step (pretraining: MLM + sentence task; fine-tuning: the task's).")),
        learning_rate(NewGauge(r, l, "cloze_train_learning_rate", "Learning rate applied at the latest step.")),
        grad_norm(NewGauge(r, l, "cloze_train_grad_norm", "Global gradient L2 norm before clipping.")),
        tokens_per_second(
            NewGauge(r, l, "cloze_train_tokens_per_second", "Training throughput reported by the trainer.")) {}

  prometheus::Gauge &step, &loss, &learning_rate, &grad_norm, &tokens_per_second;
};

// The pretraining head's terms; a fine-tuning run does not export them.
struct TrainingMetrics::PretrainingGauges {
  PretrainingGauges(prometheus::Registry& r, const prometheus::Labels& l)
      : mlm_loss(NewGauge(r, l, "cloze_train_mlm_loss", "Masked-LM loss of the latest step.")),
        sentence_loss(NewGauge(r, l, "cloze_train_sentence_loss", "SOP/NSP loss of the latest step.")),
        mlm_accuracy(NewGauge(r, l, "cloze_train_mlm_accuracy", "Masked-LM accuracy of the latest step, 0 to 1.")),
        sentence_accuracy(
            NewGauge(r, l, "cloze_train_sentence_accuracy", "SOP/NSP accuracy of the latest step, 0 to 1.")) {}

  prometheus::Gauge &mlm_loss, &sentence_loss, &mlm_accuracy, &sentence_accuracy;
};

struct TrainingMetrics::EvalGauges {
  EvalGauges(prometheus::Registry& r, const prometheus::Labels& l)
      : step(NewGauge(r, l, "cloze_eval_step", "Optimizer step of the latest evaluation.")),
        loss(NewGauge(r, l, "cloze_eval_loss", "Held-out loss of the latest evaluation.")) {}

  prometheus::Gauge &step, &loss;
  // Pretraining: created at its first evaluation.
  prometheus::Gauge* mlm_accuracy = nullptr;
  prometheus::Gauge* sentence_accuracy = nullptr;
  // Fine-tuning: cloze_eval_task_metric{metric="accuracy"} etc., one per dev metric.
  prometheus::Family<prometheus::Gauge>* task_metrics = nullptr;
};

absl::StatusOr<std::unique_ptr<TrainingMetrics>> TrainingMetrics::Start(TrainingMetricsOptions options) {
  if (options.run.empty()) return absl::InvalidArgumentError("TrainingMetrics: the run label must not be empty");
  std::unique_ptr<TrainingMetrics> metrics(new TrainingMetrics(std::move(options)));
  const std::string& address = metrics->options_.listen_address;
  if (address.empty()) return metrics;
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint = MetricsEndpoint::Start("TrainingMetrics", address);
  if (!endpoint.ok()) return endpoint.status();
  metrics->endpoint_ = *std::move(endpoint);
  metrics->endpoint_->RegisterCollectable(metrics->collectable_);
  metrics->port_ = metrics->endpoint_->port();
  return metrics;
}

TrainingMetrics::TrainingMetrics(TrainingMetricsOptions options)
    : options_(std::move(options)),
      registry_(std::make_shared<prometheus::Registry>()),
      collectable_(std::make_shared<LockedRegistry>(&mu_, registry_)) {
  prometheus::Registry& r = *registry_;
  const prometheus::Labels l = RunLabels(options_.run);
  last_step_timestamp_ = &NewGauge(r, l, "cloze_train_last_step_timestamp_seconds",
                                   "Unix time of the last accepted step (the start time before the first).");
  last_checkpoint_timestamp_ = &NewGauge(r, l, "cloze_train_last_checkpoint_timestamp_seconds",
                                         "Unix time of the last checkpoint (the start time before the first).");
  skipped_steps_ = &NewCounter(r, l, "cloze_train_skipped_steps_total", "Steps whose update the guard refused.");
  nonfinite_losses_ = &NewCounter(r, l, "cloze_train_nonfinite_losses_total", "Steps with a NaN or infinite loss.");
  rollbacks_ = &NewCounter(r, l, "cloze_train_rollbacks_total", "Rollbacks to the last checkpoint.");
  tokens_ = &NewCounter(r, l, "cloze_train_tokens_total", "Tokens read by training steps, padding excluded.");
  checkpoints_ = &NewCounter(r, l, "cloze_train_checkpoints_total", "Checkpoints written.");
  const double start = NowSeconds();
  last_step_timestamp_->Set(start);
  last_checkpoint_timestamp_->Set(start);
}

TrainingMetrics::~TrainingMetrics() {
  endpoint_.reset();  // no scrape may run while the rest is torn down
}

double TrainingMetrics::NowSeconds() const { return absl::ToDoubleSeconds(options_.now() - absl::UnixEpoch()); }

std::string TrainingMetrics::ExpositionText() const {
  return prometheus::TextSerializer().Serialize(collectable_->Collect());
}

void TrainingMetrics::RecordStep(const StepRecord& record) {
  const double now = NowSeconds();
  absl::MutexLock lock(&mu_);
  const prometheus::Labels labels = RunLabels(options_.run);
  if (step_gauges_ == nullptr) step_gauges_ = std::make_unique<StepGauges>(*registry_, labels);
  StepGauges& g = *step_gauges_;
  g.step.Set(static_cast<double>(record.step));
  g.loss.Set(record.loss);
  g.learning_rate.Set(record.learning_rate);
  g.grad_norm.Set(record.grad_norm);
  g.tokens_per_second.Set(record.tokens_per_second);
  if (record.head == StepHead::kPretraining) {
    if (pretraining_gauges_ == nullptr) pretraining_gauges_ = std::make_unique<PretrainingGauges>(*registry_, labels);
    PretrainingGauges& p = *pretraining_gauges_;
    p.mlm_loss.Set(record.mlm_loss);
    p.sentence_loss.Set(record.sentence_loss);
    p.mlm_accuracy.Set(record.mlm_accuracy);
    p.sentence_accuracy.Set(record.sentence_accuracy);
  } else if (record.head == StepHead::kClassification) {
    if (task_accuracy_ == nullptr) {
      task_accuracy_ = &NewGauge(*registry_, labels, "cloze_train_task_accuracy",
                                 "Fine-tuning: train accuracy of the latest step, 0 to 1.");
    }
    task_accuracy_->Set(record.mlm_accuracy);
  }
  if (record.tokens > 0) tokens_->Increment(static_cast<double>(record.tokens));
  if (!std::isfinite(record.loss) || !std::isfinite(record.mlm_loss) || !std::isfinite(record.sentence_loss)) {
    nonfinite_losses_->Increment();
  }
  if (record.skipped) {
    skipped_steps_->Increment();
  } else {
    last_step_timestamp_->Set(now);
  }
}

void TrainingMetrics::RecordCheckpoint(int64_t step) {
  const double now = NowSeconds();
  absl::MutexLock lock(&mu_);
  if (last_checkpoint_step_ == nullptr) {
    last_checkpoint_step_ = &NewGauge(*registry_, RunLabels(options_.run), "cloze_train_last_checkpoint_step",
                                      "Optimizer step of the last checkpoint.");
  }
  last_checkpoint_step_->Set(static_cast<double>(step));
  last_checkpoint_timestamp_->Set(now);
  checkpoints_->Increment();
}

void TrainingMetrics::RecordEval(const EvalRecord& record) {
  absl::MutexLock lock(&mu_);
  const prometheus::Labels labels = RunLabels(options_.run);
  if (eval_gauges_ == nullptr) eval_gauges_ = std::make_unique<EvalGauges>(*registry_, labels);
  EvalGauges& g = *eval_gauges_;
  g.step.Set(static_cast<double>(record.step));
  g.loss.Set(record.loss);
  if (record.task_metrics.empty()) {
    if (g.mlm_accuracy == nullptr) {
      g.mlm_accuracy = &NewGauge(*registry_, labels, "cloze_eval_mlm_accuracy", "Held-out masked-LM accuracy, 0 to 1.");
      g.sentence_accuracy =
          &NewGauge(*registry_, labels, "cloze_eval_sentence_accuracy", "Held-out SOP/NSP accuracy, 0 to 1.");
    }
    g.mlm_accuracy->Set(record.mlm_accuracy);
    g.sentence_accuracy->Set(record.sentence_accuracy);
    return;
  }
  if (g.task_metrics == nullptr) {
    g.task_metrics = &prometheus::BuildGauge()
                          .Name("cloze_eval_task_metric")
                          .Help("Fine-tuning: the latest dev evaluation's metrics, by name as GLUE reports them.")
                          .Labels(labels)
                          .Register(*registry_);
  }
  for (const auto& [name, value] : record.task_metrics) g.task_metrics->Add({{"metric", name}}).Set(value);
}

void TrainingMetrics::RecordRollback() {
  absl::MutexLock lock(&mu_);
  rollbacks_->Increment();
}

}  // namespace cloze
