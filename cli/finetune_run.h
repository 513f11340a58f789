// The fine-tune that `cloze finetune` runs, shared with `cloze evaluate`, which runs it for
// every task of a suite in the same process: the run's TrainConfig built from the fine-tuning
// flags (--learning_rate, --epochs, --batch_size, ... defined in finetune_run.cc) for one
// (task, data, init), and the run itself, once or over seeds, resumable.
//
// The Run* functions print their progress and results on stdout/stderr (errors prefixed with
// `command`, e.g. "cloze evaluate") and return the process exit status the commands use: 0,
// 1 when the work failed, 2 for bad input (an unknown task, missing files, a run folder of
// another run).
#ifndef CLOZE_CLI_FINETUNE_RUN_H_
#define CLOZE_CLI_FINETUNE_RUN_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "proto/train_config.pb.h"
#include "trainer/finetune_task.h"
#include "trainer/seeds_summary.h"
#include "trainer/training_backend.h"

// The fine-tuning flags both commands read.
ABSL_DECLARE_FLAG(std::string, task);
ABSL_DECLARE_FLAG(std::string, data_dir);
ABSL_DECLARE_FLAG(std::string, init);
ABSL_DECLARE_FLAG(std::string, model_config);
ABSL_DECLARE_FLAG(int, seeds);

namespace cloze::cli {

// What differs between the fine-tunes of an evaluation; the rest comes from the flags.
struct FinetuneTarget {
  std::string task;          // a GLUE task, "generic", "pos", "squad", "squad_v2"
  std::string data_dir;      // the task's folder, or the folder holding it
  std::string init;          // scratch, a checkpoint or run folder, a Hugging Face folder
  std::string model_config;  // init=scratch (required there, refused otherwise): the model config file
};

// A fine-tune to run: its config and, when building the config loaded the task (tagging,
// span: their windows are counted), that task, for the run to use rather than read and
// tokenise it again; null otherwise (the run loads it). A task serves one run.
struct FinetuneSetup {
  TrainConfig config;
  std::shared_ptr<FinetuneTask> task;
};

// The fine-tune's config: the task's head and size, the model (the init's own config, or
// model_config from scratch), the schedule as Hugging Face's Trainer sizes it, validated.
// Errors (InvalidArgument, NotFound, FailedPrecondition) name the flag, file or field: a
// missing flag, an unknown task, missing or bad task files, an init that is none of the
// three, a tokenizer whose vocabulary differs from the model's.
absl::StatusOr<FinetuneSetup> BuildFinetune(const FinetuneTarget& target);
// BuildFinetune's config alone, the task dropped: for a caller that builds its configs long
// before it runs them (cloze evaluate checks every task's first).
absl::StatusOr<TrainConfig> BuildFinetuneConfig(const FinetuneTarget& target);

// --workers=N: the fine-tune runs as a job of N worker processes (cli/launch_job.h).
bool FinetuneLaunched();

// The job flags as a fine-tune takes them, for cloze finetune and for every run of cloze
// evaluate alike: without --workers, `config` stays one process (--ps alone is refused); with
// it, ApplyJobFlags sizes its job (--stop_after_step is refused: a job is stopped with SIGINT).
// InvalidArgument naming the flag.
absl::Status ApplyFinetuneJobFlags(TrainConfig& config, const TrainingDevice& device);

// One fine-tune in `run_dir` (a new run, or the resumption of its own; another run's folder
// is refused). `task`: config's task already loaded (FinetuneSetup), or null. `*finished`:
// it reached total_steps (false after SIGINT/SIGTERM or --stop_after_step).
int RunFinetune(const std::string& command, const TrainConfig& config, std::shared_ptr<FinetuneTask> task,
                const std::string& run_dir, const TrainingDevice& device, bool* finished);

// The same fine-tune with seeds config.seed() .. + seeds - 1, each in RUN_DIR/seed-K (a
// normal, resumable run folder), then RUN_DIR/seeds_summary.json and a table. A seed whose
// run finished is not run again, so the same call after an interruption picks up where it
// stopped. `task` (or null) serves the first seed that runs; the others load theirs. On
// status 0, `*runs` holds every seed's results when all finished (`*finished`), those
// before the one that stopped otherwise.
int RunFinetuneSeeds(const std::string& command, const TrainConfig& config, std::shared_ptr<FinetuneTask> task,
                     const std::string& run_dir, int seeds, const TrainingDevice& device, bool* finished,
                     std::vector<SeedRunResult>* runs);

}  // namespace cloze::cli

#endif  // CLOZE_CLI_FINETUNE_RUN_H_
