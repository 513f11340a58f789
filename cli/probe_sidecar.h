// The prober a training job runs beside it when its config has a `probe {}` block
// (proto/train_config.proto, ProbeConfig): `cloze probe --follow=RUN_DIR` as a child process
// on this machine, so that training never waits for it. Its output is appended to
// <run_dir>/logs/probe.log. It is restarted when it fails (a bad setting, exit 2, is not),
// at most kMaxRestarts times; whatever it does, the job goes on and its outcome is the
// job's own. When the job ends the prober is given final_wait_seconds to probe the last
// checkpoint and exit by itself (a finished job), or is stopped at once (SIGTERM, then
// SIGKILL after a grace).
#ifndef CLOZE_CLI_PROBE_SIDECAR_H_
#define CLOZE_CLI_PROBE_SIDECAR_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/train_config.pb.h"
#include "server/child_process.h"

namespace cloze::cli {

class ProbeSidecar {
 public:
  static constexpr int kMaxRestarts = 3;

  // Starts `binary probe --follow=run_dir` with config.probe()'s settings. The error of a
  // process that cannot be started (the caller logs it and trains on).
  static absl::StatusOr<std::unique_ptr<ProbeSidecar>> Start(const std::string& binary, const TrainConfig& config,
                                                             const std::string& run_dir,
                                                             std::function<void(const std::string&)> log);

  // Restarts the prober if it has exited with a failure; cheap (a non-blocking wait), for
  // a job's periodic callbacks.
  void Check();

  // The job has ended: `job_finished` (it reached total_steps) waits up to the config's
  // final_wait_seconds for the prober to probe the last checkpoint and exit; otherwise, or
  // after that, it is stopped. Reaped either way.
  void Finish(bool job_finished);

  ~ProbeSidecar();  // Finish(false) unless called

 private:
  ProbeSidecar(std::vector<std::string> argv, std::string log_file, int final_wait_seconds,
               std::function<void(const std::string&)> log)
      : argv_(std::move(argv)), log_file_(std::move(log_file)), final_wait_seconds_(final_wait_seconds),
        log_(std::move(log)) {}
  absl::Status Spawn();
  // Says how the prober ended (status), and whether it may be started again.
  bool MayRestart(int status);

  const std::vector<std::string> argv_;
  const std::string log_file_;
  const int final_wait_seconds_;
  const std::function<void(const std::string&)> log_;
  std::optional<ChildProcess> child_;
  int restarts_ = 0;
  bool done_ = false;  // exited for good, given up, or finished
};

// The prober of `config` (this program, `cloze probe --follow`) for run_dir when config has
// a probe block; null without one, or when it cannot be started (said through `log`: the
// job trains on without it).
std::unique_ptr<ProbeSidecar> StartProberIfConfigured(const TrainConfig& config, const std::string& run_dir,
                                                      std::function<void(const std::string&)> log);

// The command line of the prober for config.probe() (exposed for tests and messages).
std::vector<std::string> ProberArgv(const std::string& binary, const TrainConfig& config, const std::string& run_dir);

}  // namespace cloze::cli

#endif  // CLOZE_CLI_PROBE_SIDECAR_H_
