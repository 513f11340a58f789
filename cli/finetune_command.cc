// cloze finetune: a sentence or sentence-pair task (GLUE or the user's TSV/JSONL), POS
// tagging (CoNLL-U) or extractive QA (SQuAD v1.1 / v2.0) on the training loop, with the
// task's head and its dev metrics (trainer/finetune_task.h); the run itself is
// cli/finetune_run.h's, which cloze evaluate shares.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/command_error.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "cli/finetune_run.h"
#include "util/run_dir_lock.h"

namespace cloze::cli {
namespace {

constexpr char kCommand[] = "cloze finetune";

constexpr char kUsage[] =
    "usage: cloze finetune --task=NAME --data_dir=PATH --init=scratch|CHECKPOINT|HF_FOLDER --tokenizer=SPEC "
    "--run_dir=DIR [--model_config=FILE (init=scratch) --max_seq_length=128 (squad: 384) --batch_size=32 "
    "--learning_rate=2e-5 --epochs=3 --warmup_ratio=0.1 --group_by_length --padded_tokens --skip_bad_lines --seed=N --seeds=1 --eval_every_steps=N "
    "--checkpoint_every_steps=N --train_file=F --dev_file=F]\n"
    "  NAME: a GLUE task, generic [--text_a_column --text_b_column --label_column --regression], "
    "pos [--tag_set=upos|xpos], squad or squad_v2 [--doc_stride=128 --max_query_length=64 --n_best_size=20 "
    "--max_answer_length=30 --null_score_diff_threshold=0]\n"
    "  --recipe=albert: the ALBERT paper's settings for the task (learning rate, batch, steps, warm-up, "
    "sequence length, dropout; GLUE and SQuAD); the flags given explicitly win\n"
    "  [--workers=N --ps=M --max_restarts=K: a distributed job on this machine, as cloze launch runs it; "
    "--batch_size is per worker, so N workers × B run the steps of one process × N·B]\n";

// A folder this command created that holds nothing but its lock file: bad input found
// before the run wrote anything leaves no folder behind, as if it had never been locked.
void RemoveIfOnlyLock(const std::string& run_dir) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(run_dir, error)) {
    if (entry.path().filename() != "run.lock") return;
  }
  if (!error) std::filesystem::remove_all(run_dir, error);
}

// `task`: config's task when building the config loaded it, else null (FinetuneSetup).
int RunInFolder(const TrainConfig& config, std::shared_ptr<FinetuneTask> task, const std::string& run_dir, int seeds,
                const TrainingDevice& device) {
  bool finished = false;
  if (seeds > 1) {
    std::vector<SeedRunResult> runs;
    return RunFinetuneSeeds(kCommand, config, std::move(task), run_dir, seeds, device, &finished, &runs);
  }
  return RunFinetune(kCommand, config, std::move(task), run_dir, device, &finished);
}

}  // namespace

int RunFinetuneCommand(const std::vector<std::string>& args) {
  const std::string run_dir = absl::GetFlag(FLAGS_run_dir);
  if (!args.empty() || run_dir.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const int seeds = absl::GetFlag(FLAGS_seeds);
  if (seeds < 1) {
    return Fail(kCommand, 2, absl::InvalidArgumentError(absl::StrCat("--seeds: must be at least 1, got ", seeds)));
  }
  absl::StatusOr<FinetuneSetup> setup =
      BuildFinetune({.task = absl::GetFlag(FLAGS_task), .data_dir = absl::GetFlag(FLAGS_data_dir),
                     .init = absl::GetFlag(FLAGS_init), .model_config = absl::GetFlag(FLAGS_model_config)});
  if (!setup.ok()) return Fail(kCommand, 2, setup.status());
  TrainConfig& config = setup->config;
  absl::StatusOr<TrainingDevice> device = TrainingDeviceFromFlags();
  if (!device.ok()) return Fail(kCommand, 2, device.status());
  if (absl::Status s = ApplyFinetuneJobFlags(config, *device); !s.ok()) return Fail(kCommand, 2, s);
  if (FinetuneLaunched()) return RunInFolder(config, nullptr, run_dir, seeds, *device);  // launch_job locks
  // One job per run folder: a second fine-tune there (a resume started twice) would
  // interleave checkpoints and metrics.
  const bool new_folder = !std::filesystem::exists(run_dir);
  absl::StatusOr<RunDirLock> lock = RunDirLock::Acquire(run_dir, kCommand);
  if (!lock.ok()) return Fail(kCommand, 1, lock.status());
  const int status = RunInFolder(config, std::move(setup->task), run_dir, seeds, *device);
  if (status != 0 && new_folder) RemoveIfOnlyLock(run_dir);
  return status;
}

}  // namespace cloze::cli
