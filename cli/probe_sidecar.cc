#include "cli/probe_sidecar.h"

#include <signal.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "util/exit_status.h"

namespace cloze::cli {
namespace {

constexpr int kDefaultFinalWaitSeconds = 600;
constexpr absl::Duration kStopGrace = absl::Seconds(30);  // the probe under way, on a big model

}  // namespace

std::vector<std::string> ProberArgv(const std::string& binary, const TrainConfig& config, const std::string& run_dir) {
  const ProbeConfig& p = config.probe();
  std::vector<std::string> argv = {binary, "probe", absl::StrCat("--follow=", run_dir),
                                   absl::StrCat("--tokenizer=", p.tokenizer())};
  auto add = [&argv](const std::string& flag, const auto& value, bool given) {
    if (given) argv.push_back(absl::StrCat("--", flag, "=", value));
  };
  add("ud_dir", p.ud_dir(), !p.ud_dir().empty());
  add("glue_dir", p.glue_dir(), !p.glue_dir().empty());
  add("zh_text", p.zh_text(), !p.zh_text().empty());
  add("zh_skip_lines", p.zh_skip_lines(), p.zh_skip_lines() > 0);
  add("probes", absl::StrJoin(p.probes(), ","), !p.probes().empty());
  add("every_checkpoints", p.every_checkpoints(), p.every_checkpoints() > 0);
  add("max_sentences", p.max_sentences(), p.max_sentences() > 0);
  add("max_train_sentences", p.max_train_sentences(), p.max_train_sentences() > 0);
  add("max_seq_length", p.max_seq_length() > 0 ? p.max_seq_length() : config.seq_len(), true);
  add("batch_size", p.batch_size(), p.batch_size() > 0);
  add("poll_seconds", p.poll_seconds(), p.poll_seconds() > 0);
  add("metrics_address", p.metrics_address(), !p.metrics_address().empty());
  add("threads", p.threads() > 0 ? p.threads() : 1, true);
  return argv;
}

absl::StatusOr<std::unique_ptr<ProbeSidecar>> ProbeSidecar::Start(const std::string& binary,
                                                                  const TrainConfig& config,
                                                                  const std::string& run_dir,
                                                                  std::function<void(const std::string&)> log) {
  std::error_code error;
  std::filesystem::create_directories(run_dir + "/logs", error);
  if (error) return absl::PermissionDeniedError(absl::StrCat(run_dir, "/logs: ", error.message()));
  const int final_wait = config.probe().final_wait_seconds() > 0 ? config.probe().final_wait_seconds()
                                                                  : kDefaultFinalWaitSeconds;
  std::unique_ptr<ProbeSidecar> sidecar(
      new ProbeSidecar(ProberArgv(binary, config, run_dir), run_dir + "/logs/probe.log", final_wait, std::move(log)));
  if (absl::Status s = sidecar->Spawn(); !s.ok()) return s;
  sidecar->log_(absl::StrCat("prober: cloze probe --follow (log ", sidecar->log_file_, ")"));
  return sidecar;
}

absl::Status ProbeSidecar::Spawn() {
  // Without the supervisor's descriptors: `cloze launch` holds run.lock through one that its
  // coordinator and workers inherit, and the prober is no part of the job to keep it locked.
  absl::StatusOr<ChildProcess> child = ChildProcess::Start(argv_, log_file_, {}, ChildDescriptors::kStandardOnly);
  if (!child.ok()) return child.status();
  child_.emplace(*std::move(child));
  return absl::OkStatus();
}

bool ProbeSidecar::MayRestart(int status) {
  if (status == kExitOk) {
    log_("prober: finished (the run's last checkpoint is probed)");
    return false;
  }
  const std::string cause = child_->OwnErrorLines(3);
  if (status == kExitUsage || IsPermanentExit(status)) {
    log_(absl::StrCat("prober: exited with status ", status, ", a setting to mend; not restarted: ", cause));
    return false;
  }
  if (restarts_ >= kMaxRestarts) {
    log_(absl::StrCat("prober: exited with status ", status, " after ", restarts_, " restarts; given up: ", cause));
    return false;
  }
  ++restarts_;
  log_(absl::StrCat("prober: exited with status ", status, "; restarting (", restarts_, " of ", kMaxRestarts,
                    "): ", cause));
  return true;
}

void ProbeSidecar::Check() {
  if (done_ || !child_.has_value()) return;
  const std::optional<int> status = child_->Poll();
  if (!status.has_value()) return;
  if (!MayRestart(*status)) {
    done_ = true;
    return;
  }
  if (absl::Status s = Spawn(); !s.ok()) {
    log_(absl::StrCat("prober: cannot be restarted: ", s.message()));
    done_ = true;
  }
}

void ProbeSidecar::Finish(bool job_finished) {
  if (!child_.has_value()) return;
  if (job_finished && !done_) {
    log_(absl::StrCat("prober: probing the last checkpoint (waiting up to ", final_wait_seconds_, " s)"));
    const absl::Time deadline = absl::Now() + absl::Seconds(final_wait_seconds_);
    while (absl::Now() < deadline) {
      Check();  // restarts a failure: the last checkpoint is still to probe
      if (done_) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  if (child_->running() && !child_->Poll().has_value()) {
    const int status = child_->Stop(SIGTERM, kStopGrace);
    log_(absl::StrCat("prober: stopped (status ", status, ")"));
  }
  done_ = true;
  child_.reset();
}

ProbeSidecar::~ProbeSidecar() { Finish(false); }

std::unique_ptr<ProbeSidecar> StartProberIfConfigured(const TrainConfig& config, const std::string& run_dir,
                                                      std::function<void(const std::string&)> log) {
  if (!config.has_probe()) return nullptr;
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  absl::StatusOr<std::unique_ptr<ProbeSidecar>> sidecar =
      ProbeSidecar::Start(error ? "cloze" : self.string(), config, std::filesystem::absolute(run_dir).string(), log);
  if (!sidecar.ok()) {
    log(absl::StrCat("prober: cannot be started, training goes on without it: ", sidecar.status().message()));
    return nullptr;
  }
  return *std::move(sidecar);
}

}  // namespace cloze::cli
