#include "metrics/metrics_log.h"

#include <stdio_ext.h>  // __fpurge
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "util/file_error.h"

namespace cloze {
namespace {

// %.17g round-trips every double; non-finite values are written as JSON null (JSON has no
// NaN) and the line says which in "nonfinite".
std::string Number(double v) { return std::isfinite(v) ? absl::StrFormat("%.17g", v) : "null"; }

// The head's terms under their names: mlm_* and sop_* for pretraining; for a task head its
// one term is "loss" itself, with "acc" when it classifies.
std::string TermFields(const StepRecord& r) {
  switch (r.head) {
    case StepHead::kPretraining:
      return absl::StrCat(", \"mlm_loss\": ", Number(r.mlm_loss), ", \"sop_loss\": ", Number(r.sentence_loss),
                          ", \"mlm_acc\": ", Number(r.mlm_accuracy), ", \"sop_acc\": ", Number(r.sentence_accuracy));
    case StepHead::kClassification:
      return absl::StrCat(", \"acc\": ", Number(r.mlm_accuracy));
    case StepHead::kRegression:
      return "";
  }
  return "";
}

}  // namespace

std::string StepRecordJson(const StepRecord& r, double seconds, const std::optional<EvalRecord>& eval) {
  std::string line = absl::StrCat(
      "{\"step\": ", r.step, ", \"loss\": ", Number(r.loss), TermFields(r), ", \"lr\": ", Number(r.learning_rate),
      ", \"grad_norm\": ", Number(r.grad_norm), ", \"tokens_per_s\": ", Number(r.tokens_per_second),
      ", \"tokens\": ", r.tokens, ", \"skipped\": ", r.skipped ? "true" : "false", ", \"seconds\": ", Number(seconds));
  if (!r.precision.empty()) absl::StrAppend(&line, ", \"precision\": \"", r.precision, "\"");
  if (!std::isfinite(r.loss) || !std::isfinite(r.grad_norm)) {
    absl::StrAppend(&line, ", \"nonfinite\": \"loss ", absl::StrFormat("%g", r.loss), " grad_norm ",
                    absl::StrFormat("%g", r.grad_norm), "\"");
  }
  if (eval && !eval->task_metrics.empty()) {
    absl::StrAppend(&line, ", \"eval_loss\": ", Number(eval->loss));
    for (const auto& [name, value] : eval->task_metrics) absl::StrAppend(&line, ", \"eval_", name, "\": ", Number(value));
    absl::StrAppend(&line, ", \"eval_degenerate\": ", eval->degenerate ? "true" : "false");
  } else if (eval) {
    absl::StrAppend(&line, ", \"eval_loss\": ", Number(eval->loss), ", \"eval_mlm_acc\": ", Number(eval->mlm_accuracy),
                    ", \"eval_sop_acc\": ", Number(eval->sentence_accuracy));
  }
  return line + "}";
}

absl::StatusOr<std::unique_ptr<MetricsLog>> MetricsLog::Open(const std::string& run_dir, int64_t keep_through_step) {
  const std::string path = run_dir + "/metrics.jsonl";
  {
    std::ifstream in(path);
    if (in) {
      const std::string temporary = path + ".tmp";
      std::ofstream out(temporary, std::ios::trunc);
      std::string line;
      while (std::getline(in, line)) {
        const nlohmann::json value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        // A torn last line (the process was killed mid-write) is dropped with the rest.
        if (value.is_discarded() || !value.contains("step") || !value["step"].is_number_integer()) continue;
        if (value["step"].get<int64_t>() <= keep_through_step) out << line << '\n';
      }
      out.close();
      if (!out || std::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        std::remove(temporary.c_str());
        return util::FileError(path, "rewrite", error);
      }
    }
  }
  std::FILE* file = std::fopen(path.c_str(), "a");
  if (file == nullptr) return util::FileError(path, "open for appending", errno);
  return std::unique_ptr<MetricsLog>(new MetricsLog(file, path));
}

MetricsLog::~MetricsLog() { std::fclose(file_); }

absl::Status MetricsLog::Append(const StepRecord& record, double seconds, const std::optional<EvalRecord>& eval) {
  const std::string line = StepRecordJson(record, seconds, eval) + "\n";
  struct stat before;  // every earlier line was flushed: this is where the new one starts
  const bool sized = ::fstat(fileno(file_), &before) == 0;
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    const int error = errno;
    // A line cut by a full disk would be the file's last: take it back where possible.
    // What stdio still buffers is dropped too, or closing the file would write it later.
    __fpurge(file_);
    if (sized) (void)::ftruncate(fileno(file_), before.st_size);
    std::clearerr(file_);
    return util::FileError(path_, "write", error);
  }
  return absl::OkStatus();
}

}  // namespace cloze
