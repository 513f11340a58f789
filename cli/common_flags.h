// Flags shared by several subcommands.
#ifndef CLOZE_CLI_COMMON_FLAGS_H_
#define CLOZE_CLI_COMMON_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "trainer/training_backend.h"

ABSL_DECLARE_FLAG(std::optional<uint64_t>, seed);  // read through SeedFlag, SeedFromCommandLine
ABSL_DECLARE_FLAG(int, threads);

// Runs and jobs (train, coordinator, worker, ps, launch).
ABSL_DECLARE_FLAG(std::string, config);
ABSL_DECLARE_FLAG(std::string, run_dir);
ABSL_DECLARE_FLAG(std::string, run_name);
ABSL_DECLARE_FLAG(std::string, metrics_address);
ABSL_DECLARE_FLAG(std::string, metrics_port_file);

// The job's gRPC services (coordinator, worker, ps, launch).
ABSL_DECLARE_FLAG(std::string, coordinator);
ABSL_DECLARE_FLAG(std::string, listen);
ABSL_DECLARE_FLAG(std::string, port_file);
ABSL_DECLARE_FLAG(std::string, job_token_file);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(int, rank);

// Where training runs (train, worker, launch).
ABSL_DECLARE_FLAG(std::string, device);
ABSL_DECLARE_FLAG(int, gpu);
ABSL_DECLARE_FLAG(std::string, gpu_precision);
ABSL_DECLARE_FLAG(std::string, gpu_attention);

// The CPU matrix products' precision (finetune, evaluate, probe).
ABSL_DECLARE_FLAG(std::string, precision);

// Tests only (train, worker, launch): fault injection, the loss guard's input.
ABSL_DECLARE_FLAG(std::vector<std::string>, testing_nonfinite_loss_steps);

namespace cloze::cli {

// --device, --gpu, --gpu_precision and --gpu_attention; InvalidArgument naming the flag for a bad value.
absl::StatusOr<TrainingDevice> TrainingDeviceFromFlags();

// --precision as TrainConfig's; InvalidArgument naming the flag for a bad value.
absl::StatusOr<TrainConfig::Precision> PrecisionFromFlag();

// --testing_nonfinite_loss_steps as steps; InvalidArgument naming the value that is not one.
absl::StatusOr<std::vector<int64_t>> NonfiniteLossStepsFromFlag();

// A flag shared by several subcommands whose default differs between them (--batch_size,
// --max_seq_length) defaults to 0: each command reads it through this, with its own default.
inline int OrCommandDefault(int flag_value, int command_default) {
  return flag_value == 0 ? command_default : flag_value;
}

// --seed when given on the command line, else nullopt: `cloze train` and `cloze launch`
// then replace the config's seed with it (the run's saved config records it), as the
// flag's help promises; without it the config's seed stands (the flag's default is no
// choice of the user's).
std::optional<uint64_t> SeedFromCommandLine();

// --seed, or kDefaultSeed when not given: the seed of prepare, finetune, evaluate and step.
inline constexpr uint64_t kDefaultSeed = 12345;
uint64_t SeedFlag();

// --threads, or every hardware thread when it is 0.
int CommandThreads();

// --threads > 0: the CPU ops and matrix products of this process use that many threads
// (kernels/cpu/threads.h); 0 leaves OpenMP's default (OMP_NUM_THREADS, or every core).
void ApplyThreadsFlagToCpuOps();

}  // namespace cloze::cli

#endif  // CLOZE_CLI_COMMON_FLAGS_H_
