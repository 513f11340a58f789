#include "cli/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_format.h"

namespace cloze::cli {

std::string Duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  return s >= 3600 ? absl::StrFormat("%ldh%02ldm", s / 3600, s / 60 % 60) : absl::StrFormat("%ldm%02lds", s / 60, s % 60);
}

namespace {

// The head's terms as the log line names them (metrics.jsonl's names).
std::string TermFields(const StepRecord& r) {
  switch (r.head) {
    case StepHead::kPretraining:
      return absl::StrFormat(" mlm_loss %.4f sop_loss %.4f mlm_acc %.4f sop_acc %.4f", r.mlm_loss, r.sentence_loss,
                             r.mlm_accuracy, r.sentence_accuracy);
    case StepHead::kClassification:
      return absl::StrFormat(" acc %.4f", r.mlm_accuracy);
    case StepHead::kRegression:
      return "";
  }
  return "";
}

// The one accuracy the terminal's progress bar has room for.
std::string ShortAccuracy(const StepRecord& r) {
  switch (r.head) {
    case StepHead::kPretraining:
      return absl::StrFormat(" mlm acc %.3f", r.mlm_accuracy);
    case StepHead::kClassification:
      return absl::StrFormat(" acc %.3f", r.mlm_accuracy);
    case StepHead::kRegression:
      return "";
  }
  return "";
}

}  // namespace

std::function<void(const StepRecord&, int64_t, double)> StepPrinter(bool terminal, int64_t log_every,
                                                                   std::string prefix) {
  return [terminal, log_every, prefix, first_step = int64_t{-1}](const StepRecord& r, int64_t total,
                                                                double elapsed) mutable {
    if (first_step < 0) first_step = r.step - 1;
    const double per_step = elapsed / std::max<int64_t>(1, r.step - first_step);
    const std::string eta = Duration(per_step * static_cast<double>(total - r.step));
    if (terminal) {
      const int width = 30, done = static_cast<int>(width * r.step / std::max<int64_t>(1, total));
      std::fprintf(stderr, "\r\033[K%s[%s%s] step %lld/%lld loss %.4f%s lr %.2e %.0f tok/s ETA %s", prefix.c_str(),
                   std::string(done, '#').c_str(), std::string(width - done, '.').c_str(), static_cast<long long>(r.step),
                   static_cast<long long>(total), r.loss, ShortAccuracy(r).c_str(), r.learning_rate,
                   r.tokens_per_second, eta.c_str());
      std::fflush(stderr);
    } else if (r.step % log_every == 0 || r.step == total) {
      std::fprintf(stderr, "%sstep %lld/%lld loss %.4f%s lr %.3e grad_norm %.3f tokens/s %.0f%s ETA %s\n",
                   prefix.c_str(), static_cast<long long>(r.step), static_cast<long long>(total), r.loss,
                   TermFields(r).c_str(), r.learning_rate, r.grad_norm, r.tokens_per_second,
                   r.skipped ? " SKIPPED" : "", eta.c_str());
    }
  };
}

std::function<void(const std::string&)> EventPrinter(bool terminal, std::string prefix) {
  return [terminal, prefix](const std::string& message) {
    std::fprintf(stderr, "%s[cloze] %s%s\n", terminal ? "\r\033[K" : "", prefix.c_str(), message.c_str());
  };
}

}  // namespace cloze::cli
