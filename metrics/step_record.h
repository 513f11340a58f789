// What the training loop reports after each optimizer step and each evaluation: plain
// values, filled by the trainer and read by the metrics log (metrics.jsonl) and the
// Prometheus endpoint (training_metrics.h) alike.
#ifndef CLOZE_METRICS_STEP_RECORD_H_
#define CLOZE_METRICS_STEP_RECORD_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cloze {

// Which head's terms a StepRecord holds, which decides the names they are reported under.
enum class StepHead {
  kPretraining,     // mlm_* and sop_* (the sentence task's): two terms
  kClassification,  // a fine-tuning head's one term: "loss" and "acc" (train accuracy)
  kRegression,      // a fine-tuning head's one term: "loss" only (MSE has no accuracy)
};

// One optimizer step. Losses and norms are reported as computed, non-finite ones included:
// a NaN here is what the guard and the alerts look for, so it must not be cleaned up.
// A fine-tuning step (head != kPretraining) keeps its one term in mlm_loss/mlm_accuracy;
// the sentence fields are then 0 and are not reported.
struct StepRecord {
  StepHead head = StepHead::kPretraining;
  int64_t step = 0;              // the optimizer step this record is for
  double loss = 0;               // mlm_loss + sentence_loss
  double mlm_loss = 0;           // masked-LM cross-entropy, mean over masked positions
  double sentence_loss = 0;      // SOP (ALBERT) or NSP (BERT) cross-entropy
  double mlm_accuracy = 0;       // fraction of masked positions predicted right, in [0, 1]
  double sentence_accuracy = 0;  // fraction of sentence-task labels predicted right
  double learning_rate = 0;      // the rate this step applied (after warmup, decay, rollbacks)
  double grad_norm = 0;          // global L2 norm of the gradient, before clipping
  double tokens_per_second = 0;  // over this step (or the trainer's logging window)
  int64_t tokens = 0;            // tokens of the step's batch, padding excluded
  bool skipped = false;          // the guard refused the update (non-finite or spiking loss)
  std::string precision;         // what the matrix products ran at ("fp32", "bf16"); "": not said
};

// One evaluation on the held-out dataset.
struct EvalRecord {
  int64_t step = 0;  // the optimizer step the evaluated parameters come from
  double loss = 0;
  double mlm_accuracy = 0;
  double sentence_accuracy = 0;
  // A fine-tuning run's dev metrics by name (trainer/finetune_task.h), written instead of
  // the MLM and sentence accuracies when present; degenerate: one class predicted for all.
  std::vector<std::pair<std::string, double>> task_metrics;
  bool degenerate = false;
};

}  // namespace cloze

#endif  // CLOZE_METRICS_STEP_RECORD_H_
