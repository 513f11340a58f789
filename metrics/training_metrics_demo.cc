// A stand-in metrics source for the monitoring test (deploy/monitoring_test.sh) and for
// trying the dashboards without training anything: it serves TrainingMetrics and records a
// plausible short run, with warmup and decay, one skipped step with a NaN loss, one
// checkpoint and one evaluation. After the last step it keeps serving for --hold_s
// seconds (or until killed), so Prometheus can scrape the final state, then exits.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "metrics/training_metrics.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "HOST:PORT to serve /metrics on; port 0 picks a free one");
ABSL_FLAG(std::string, port_file, "", "if set, the chosen port is written here (atomically) once serving");
ABSL_FLAG(std::string, run, "demo", "the run label");
ABSL_FLAG(int, steps, 30, "optimizer steps to record");
ABSL_FLAG(int, step_ms, 500, "milliseconds between steps");
ABSL_FLAG(int, skip_step, 8, "this step is first skipped with a NaN loss, then retried; 0: none");
ABSL_FLAG(int, skip_hold_ms, 2000, "how long the NaN record stays current (so a 1 s scrape sees it)");
ABSL_FLAG(int, checkpoint_step, 10, "a checkpoint is recorded after this step; 0: none");
ABSL_FLAG(int, eval_step, 12, "an evaluation is recorded after this step; 0: none");
ABSL_FLAG(std::string, start_file, "",
          "if set, the first step waits (at most 60 s) until this file exists, so that a test can have "
          "Prometheus scrape the initial state first");
ABSL_FLAG(int, hold_s, 60, "seconds to keep serving after the last step");

namespace {

bool WritePortFile(const std::string& path, int port) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    out << port << "\n";
    if (!out.flush()) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// ALBERT-tiny-like figures at `step` of `steps`: losses falling from ln(30000) and ln(2),
// accuracies rising, linear warmup over the first third then linear decay.
cloze::StepRecord Figures(int step, int steps, std::mt19937& rng) {
  std::normal_distribution<double> noise(0.0, 1.0);
  const double progress = static_cast<double>(step) / steps;
  cloze::StepRecord r;
  r.step = step;
  r.mlm_loss = 6.0 + 4.3 * std::exp(-3.0 * progress) + 0.05 * noise(rng);
  r.sentence_loss = 0.69 - 0.12 * progress + 0.01 * noise(rng);
  r.loss = r.mlm_loss + r.sentence_loss;
  r.mlm_accuracy = 0.12 * progress + 0.005 * std::abs(noise(rng));
  r.sentence_accuracy = 0.5 + 0.2 * progress + 0.02 * noise(rng);
  const int warmup = std::max(1, steps / 3);
  r.learning_rate = 1.76e-3 * (step <= warmup ? static_cast<double>(step) / warmup
                                              : static_cast<double>(steps - step) / (steps - warmup));
  r.grad_norm = 1.2 + 4.0 * std::exp(-4.0 * progress) + 0.1 * noise(rng);
  r.tokens = 920 + static_cast<int>(20 * noise(rng));
  r.tokens_per_second = 4000 * (1.0 + 0.03 * noise(rng));
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("serves cloze training metrics of a made-up short run (see deploy/monitoring_test.sh)");
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<std::unique_ptr<cloze::TrainingMetrics>> started =
      cloze::TrainingMetrics::Start({.listen_address = absl::GetFlag(FLAGS_listen), .run = absl::GetFlag(FLAGS_run)});
  if (!started.ok()) {
    std::fprintf(stderr, "training_metrics_demo: %s\n", std::string(started.status().message()).c_str());
    return 1;
  }
  cloze::TrainingMetrics& metrics = **started;
  std::printf("training_metrics_demo: serving run \"%s\" on port %d\n", absl::GetFlag(FLAGS_run).c_str(),
              metrics.port());
  std::fflush(stdout);
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty() && !WritePortFile(port_file, metrics.port())) {
    std::fprintf(stderr, "training_metrics_demo: cannot write %s\n", port_file.c_str());
    return 1;
  }

  const std::string start_file = absl::GetFlag(FLAGS_start_file);
  for (int waited_ms = 0; !start_file.empty() && waited_ms < 60'000 && !std::ifstream(start_file); waited_ms += 50) {
    SleepMs(50);
  }

  const int steps = absl::GetFlag(FLAGS_steps);
  std::mt19937 rng(20240601);
  for (int step = 1; step <= steps; ++step) {
    SleepMs(absl::GetFlag(FLAGS_step_ms));
    cloze::StepRecord record = Figures(step, steps, rng);
    if (step == absl::GetFlag(FLAGS_skip_step)) {
      cloze::StepRecord bad = record;
      bad.mlm_loss = bad.loss = std::numeric_limits<double>::quiet_NaN();
      bad.grad_norm = std::numeric_limits<double>::infinity();
      bad.skipped = true;
      metrics.RecordStep(bad);
      SleepMs(absl::GetFlag(FLAGS_skip_hold_ms));
    }
    metrics.RecordStep(record);
    if (step == absl::GetFlag(FLAGS_checkpoint_step)) metrics.RecordCheckpoint(step);
    if (step == absl::GetFlag(FLAGS_eval_step)) {
      metrics.RecordEval({.step = step,
                          .loss = record.loss + 0.15,
                          .mlm_accuracy = record.mlm_accuracy * 0.95,
                          .sentence_accuracy = record.sentence_accuracy - 0.02});
    }
  }
  std::printf("training_metrics_demo: %d steps recorded, serving for %d s more\n", steps, absl::GetFlag(FLAGS_hold_s));
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(absl::GetFlag(FLAGS_hold_s)));
  return 0;
}
