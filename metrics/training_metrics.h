// The trainer's Prometheus endpoint: the figures of metrics.jsonl as gauges and counters,
// plus the timestamps that checkpoint-age and no-progress alerts are computed from.
//
// Every metric carries a constant `run` label (TrainingMetricsOptions::run). There is no
// `job` label of our own: Prometheus attaches `job` (and `instance`) from its scrape
// configuration, and a target's own `job` would be renamed `exported_job`.
//
// Metrics (deploy/README.md has the queries built on them):
//   gauges, from the first RecordStep (before it there is nothing to show, rather than 0s):
//     cloze_train_step, cloze_train_loss, cloze_train_learning_rate,
//     cloze_train_grad_norm, cloze_train_tokens_per_second; and the head's terms:
//     pretraining  cloze_train_mlm_loss, cloze_train_sentence_loss,
//                  cloze_train_mlm_accuracy, cloze_train_sentence_accuracy
//     fine-tuning  cloze_train_task_accuracy (classifying heads; regression has none)
//   gauges, from the start:
//     cloze_train_last_step_timestamp_seconds        Unix time of the last accepted step
//     cloze_train_last_checkpoint_timestamp_seconds  Unix time of the last checkpoint
//     (both hold the time the endpoint started until the first such event, so that a run
//     that never gets going still ages; ages are `time() - x` in PromQL, which keeps
//     growing when the process hangs but still answers scrapes)
//   gauge, from the first RecordCheckpoint: cloze_train_last_checkpoint_step
//   counters, from the start: cloze_train_skipped_steps_total,
//     cloze_train_nonfinite_losses_total, cloze_train_rollbacks_total,
//     cloze_train_tokens_total, cloze_train_checkpoints_total
//   gauges, from the first RecordEval: cloze_eval_step, cloze_eval_loss, and
//     pretraining  cloze_eval_mlm_accuracy, cloze_eval_sentence_accuracy
//     fine-tuning  cloze_eval_task_metric{metric="accuracy"|"f1"|"pearson"|...}
#ifndef CLOZE_METRICS_TRAINING_METRICS_H_
#define CLOZE_METRICS_TRAINING_METRICS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "metrics/locked_registry.h"
#include "metrics/metrics_endpoint.h"
#include "metrics/step_record.h"

namespace prometheus {
class Counter;
class Gauge;
template <typename T>
class Family;
class Registry;
}  // namespace prometheus

namespace cloze {

struct TrainingMetricsOptions {
  // Where /metrics is served, "HOST:PORT" as civetweb takes it ("127.0.0.1:9400",
  // "0.0.0.0:9400", "[::1]:9400"); port 0 lets the system pick a free one (see port()).
  // Empty: no endpoint, the figures are only kept (ExpositionText() still shows them).
  std::string listen_address = "127.0.0.1:9400";
  // The `run` label on every metric; must not be empty.
  std::string run = "default";
  // The clock behind the timestamps; tests replace it.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// Owns the registry and the HTTP endpoint (two civetweb threads serving scrapes).
//
// Thread safety: every method may be called from any thread, concurrently. Record* calls
// and scrapes take one mutex, so a scrape shows all the figures of a record or none of
// them; a Record* call holds it only for a few dozen atomic stores.
class TrainingMetrics {
 public:
  // Starts serving; InvalidArgument for an empty run label, Unavailable when the address
  // cannot be bound (in use, malformed, not local).
  static absl::StatusOr<std::unique_ptr<TrainingMetrics>> Start(TrainingMetricsOptions options);

  ~TrainingMetrics();  // stops the endpoint
  TrainingMetrics(const TrainingMetrics&) = delete;
  TrainingMetrics& operator=(const TrainingMetrics&) = delete;

  // The port actually listened on (the chosen one when options asked for 0); 0 without
  // an endpoint.
  int port() const { return port_; }

  // What a scrape of /metrics would return now (Prometheus text format 0.0.4).
  std::string ExpositionText() const;

  // Exports the record's figures as they are (NaN and infinities included). A skipped
  // record counts in cloze_train_skipped_steps_total and does not move
  // cloze_train_last_step_timestamp_seconds, so a run that skips every step shows no
  // progress. Its tokens count in cloze_train_tokens_total either way (they were read).
  // A non-finite loss also counts in cloze_train_nonfinite_losses_total, so an alert can
  // see it even after the next step has replaced the gauge's value.
  void RecordStep(const StepRecord& record);
  // A checkpoint of `step` was written (durably) just now.
  void RecordCheckpoint(int64_t step);
  void RecordEval(const EvalRecord& record);
  // The guard rolled the run back to its last checkpoint.
  void RecordRollback();

 private:
  struct StepGauges;
  struct PretrainingGauges;
  struct EvalGauges;

  explicit TrainingMetrics(TrainingMetricsOptions options);
  double NowSeconds() const;

  const TrainingMetricsOptions options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<prometheus::Registry> registry_;  // families are created in the constructor
  std::shared_ptr<LockedRegistry> collectable_;     // what the endpoint scrapes
  std::unique_ptr<MetricsEndpoint> endpoint_;
  int port_ = 0;

  // Created on first use (see the header comment), then never removed.
  std::unique_ptr<StepGauges> step_gauges_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<PretrainingGauges> pretraining_gauges_ ABSL_GUARDED_BY(mu_);
  prometheus::Gauge* task_accuracy_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::unique_ptr<EvalGauges> eval_gauges_ ABSL_GUARDED_BY(mu_);
  prometheus::Gauge* last_checkpoint_step_ ABSL_GUARDED_BY(mu_) = nullptr;

  // Created in the constructor; the pointees live as long as registry_.
  prometheus::Gauge* last_step_timestamp_ = nullptr;
  prometheus::Gauge* last_checkpoint_timestamp_ = nullptr;
  prometheus::Counter* skipped_steps_ = nullptr;
  prometheus::Counter* nonfinite_losses_ = nullptr;
  prometheus::Counter* rollbacks_ = nullptr;
  prometheus::Counter* tokens_ = nullptr;
  prometheus::Counter* checkpoints_ = nullptr;
};

}  // namespace cloze

#endif  // CLOZE_METRICS_TRAINING_METRICS_H_
