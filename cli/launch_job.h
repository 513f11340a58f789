// What `cloze launch` and `cloze finetune --workers=N` share: a TrainConfig run as a job on
// this machine by server/launcher.h (a coordinator, the workers, the parameter servers),
// sized by --workers/--ps and started with the job's flags (--device and --gpu_*,
// --threads, --metrics_address, --max_restarts).
#ifndef CLOZE_CLI_LAUNCH_JOB_H_
#define CLOZE_CLI_LAUNCH_JOB_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "proto/train_config.pb.h"
#include "server/launcher.h"
#include "trainer/training_backend.h"

ABSL_DECLARE_FLAG(int, workers);
ABSL_DECLARE_FLAG(int, ps);
ABSL_DECLARE_FLAG(int, max_restarts);

namespace cloze::cli {

// Sets config.distributed from --workers and --ps where given (at least one worker), the
// seed from --seed where given (SeedFromCommandLine), and validates the result for `device`; InvalidArgument naming the field, or the flags GPU
// workers cannot run with (parameter servers).
absl::Status ApplyJobFlags(TrainConfig& config, const TrainingDevice& device);

// Runs `config` (ApplyJobFlags's) as a job in run_dir to its end or until SIGINT/SIGTERM
// (the workers checkpoint, then everything exits), with the launcher's events and a
// progress line from the coordinator's job status on stderr. The run folder is locked for
// the job by `command` (util/run_dir_lock.h; every process of the job holds the lock):
// FailedPrecondition naming the holder when another job has it. The launcher's errors.
absl::StatusOr<LaunchSummary> LaunchJob(const TrainConfig& config, const std::string& run_dir,
                                        const TrainingDevice& device, const std::string& command = "cloze launch");

}  // namespace cloze::cli

#endif  // CLOZE_CLI_LAUNCH_JOB_H_
