// <run_dir>/metrics.jsonl: one JSON object per optimizer step, floats written so they
// read back to the same bits (the exact-resume test compares them).
#ifndef CLOZE_METRICS_METRICS_LOG_H_
#define CLOZE_METRICS_METRICS_LOG_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "metrics/step_record.h"

namespace cloze {

// The JSON line of a step (no newline): step, loss, mlm_loss, sop_loss, mlm_acc, sop_acc,
// lr, grad_norm, tokens_per_s, tokens, skipped, seconds, precision (when the record has
// one), and eval_loss, eval_mlm_acc, eval_sop_acc when `eval` is given. Non-finite figures are null (JSON has no NaN), and
// a "nonfinite" field then spells them out.
std::string StepRecordJson(const StepRecord& record, double seconds, const std::optional<EvalRecord>& eval);

class MetricsLog {
 public:
  // Opens <run_dir>/metrics.jsonl for appending, first dropping every line whose step is
  // above `keep_through_step` (a resumed run rewrites the steps after its checkpoint, so
  // the file holds one consistent history). The rewrite is atomic (temporary file, rename).
  static absl::StatusOr<std::unique_ptr<MetricsLog>> Open(const std::string& run_dir, int64_t keep_through_step);
  ~MetricsLog();

  // Appends and flushes one line (StepRecordJson).
  absl::Status Append(const StepRecord& record, double seconds, const std::optional<EvalRecord>& eval);

 private:
  explicit MetricsLog(std::FILE* file, std::string path) : file_(file), path_(std::move(path)) {}
  std::FILE* file_;
  std::string path_;
};

}  // namespace cloze

#endif  // CLOZE_METRICS_METRICS_LOG_H_
