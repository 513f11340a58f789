// cloze evaluate: every task of a suite fine-tuned over seeds from one checkpoint (and, with
// --with_scratch, from scratch with the same tasks, seeds, data and hyperparameters), each a
// cloze finetune --seeds run folder run from this process (cli/finetune_run.h; with --workers=N
// each run is a job of N worker processes, as cloze finetune --workers runs it), then the table
// (eval/evaluation_table.h) in RUN_DIR/evaluation.json and evaluation.md.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "checkpoint/checkpoint.h"
#include "cli/command_error.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "cli/evaluate_suite.h"
#include "cli/finetune_run.h"
#include "data/read_file.h"
#include "eval/evaluation_report.h"
#include "eval/evaluation_table.h"
#include "google/protobuf/text_format.h"
#include "nlohmann/json.hpp"
#include "trainer/finetune_init.h"
#include "util/atomic_file.h"
#include "util/exit_status.h"
#include "util/run_dir_lock.h"

ABSL_FLAG(std::string, suite, "glue", "cloze evaluate: glue, pos, squad or all");
ABSL_FLAG(std::vector<std::string>, tasks, {},
          "cloze evaluate: only these tasks of the suite, comma-separated (e.g. CoLA,SST-2,STS-B)");
ABSL_FLAG(std::string, ud_dir, "", "cloze evaluate --suite=pos|all: the UD treebank folder");
ABSL_FLAG(std::string, squad_dir, "", "cloze evaluate --suite=squad|all: the SQuAD v1.1 folder");
ABSL_FLAG(bool, with_scratch, false,
          "cloze evaluate: fine-tune every task from scratch too (same seeds, data and hyperparameters; the model of "
          "--model_config, default the init's own) in RUN_DIR/scratch/TASK, and compare");

namespace cloze::cli {
namespace {

namespace fs = std::filesystem;

constexpr char kCommand[] = "cloze evaluate";

constexpr char kUsage[] =
    "usage: cloze evaluate --init=CHECKPOINT|RUN_DIR|HF_FOLDER|scratch --tokenizer=SPEC --run_dir=DIR "
    "[--suite=glue|pos|squad|all --data_dir=GLUE --ud_dir=UD --squad_dir=SQUAD --tasks=CoLA,RTE,... --seeds=1 "
    "--with_scratch --model_config=FILE] [cloze finetune's hyperparameters: --learning_rate --epochs --batch_size "
    "--recipe=albert --max_seq_length --warmup_ratio --weight_decay --seed --eval_every_steps --checkpoint_every_steps ...] "
    "[--workers=N --ps=M --max_restarts=K: every fine-tune a distributed job, as cloze finetune --workers runs it; "
    "--batch_size is per worker]\n"
    "  each task of the suite whose files are present is fine-tuned over the seeds in DIR/TASK/seed-K "
    "(with --with_scratch also in DIR/scratch/TASK/seed-K); the table goes to DIR/evaluation.json and "
    "DIR/evaluation.md; the same command after an interruption redoes nothing that finished\n";

// `error` with what it is about in front ("RTE: ..."), its code kept.
absl::Status Prefixed(const absl::Status& error, const std::string& about) {
  return absl::Status(error.code(), absl::StrCat(about, ": ", error.message()));
}

// A task's fine-tunes: from the init, and from scratch (--with_scratch).
struct PlannedTask {
  std::string task;
  std::string data_dir;
  TrainConfig init_config;
  std::string init_dir;
  std::optional<TrainConfig> scratch_config;
  std::string scratch_dir;
};

// The checkpoint every task starts from, fixed once: a run folder's newest checkpoint at the
// start, so that a pretraining still running cannot hand later tasks another one. A checkpoint
// is verified (sizes, SHA-256) here, so that a damaged one is refused before any fine-tune.
absl::StatusOr<std::string> PinnedInit(const std::string& init) {
  absl::StatusOr<FinetuneInit> resolved = ResolveFinetuneInit(init);
  if (!resolved.ok()) return resolved.status();
  if (resolved->kind == FinetuneInit::Kind::kScratch) return std::string("scratch");
  if (resolved->kind == FinetuneInit::Kind::kCheckpoint) {
    if (absl::Status s = VerifyCheckpoint(resolved->path); !s.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("--init=", init, ": ", s.message()));
    }
  }
  return resolved->path;
}

bool FilesFoundByTheTask(const std::string& task) { return task == "pos" || task == "squad"; }

// Every task's config from the init, built and so checked (data, tokenizer, model, job flags)
// before any fine-tune starts. pos and squad are skipped, not failed, when no files are found.
absl::StatusOr<std::vector<PlannedTask>> PlanInitRuns(const Suite& suite, const std::string& init,
                                                      const std::string& run_dir, const TrainingDevice& device,
                                                      std::vector<SkippedTask>& skipped) {
  std::vector<PlannedTask> plan;
  const std::string model_config = init == "scratch" ? absl::GetFlag(FLAGS_model_config) : "";
  for (const SuiteTask& t : suite.tasks) {
    absl::StatusOr<TrainConfig> config =
        BuildFinetuneConfig({.task = t.task, .data_dir = t.data_dir, .init = init, .model_config = model_config});
    if (!config.ok() && FilesFoundByTheTask(t.task) && absl::IsNotFound(config.status())) {
      skipped.push_back({.task = t.task, .reason = std::string(config.status().message())});
      continue;
    }
    if (!config.ok()) return Prefixed(config.status(), t.task);
    if (absl::Status s = ApplyFinetuneJobFlags(*config, device); !s.ok()) return Prefixed(s, t.task);
    plan.push_back({.task = t.task,
                    .data_dir = t.data_dir,
                    .init_config = *std::move(config),
                    .init_dir = absl::StrCat(run_dir, "/", t.task)});
  }
  if (plan.empty()) return absl::NotFoundError("no task of the suite has its files (see the skipped tasks above)");
  return plan;
}

// --with_scratch: the scratch runs' model config file, --model_config or the init's own
// (written to RUN_DIR/scratch/model_config.textproto, so the runs and the reader see it).
absl::StatusOr<std::string> ScratchModelConfig(const std::string& init, const std::string& run_dir) {
  if (!absl::GetFlag(FLAGS_model_config).empty()) return absl::GetFlag(FLAGS_model_config);
  absl::StatusOr<FinetuneInit> resolved = ResolveFinetuneInit(init);
  if (!resolved.ok()) return resolved.status();
  absl::StatusOr<ModelConfig> model = InitModelConfig(*resolved);
  if (!model.ok()) return model.status();
  std::string text;
  google::protobuf::TextFormat::PrintToString(*model, &text);
  const std::string path = run_dir + "/scratch/model_config.textproto";
  std::error_code error;
  fs::create_directories(run_dir + "/scratch", error);
  if (absl::Status s = util::WriteTextFileAtomically(
          path,
          absl::StrCat("# The model of ", init, ", trained from scratch by cloze evaluate --with_scratch\n", text));
      !s.ok()) {
    return s;
  }
  return path;
}

// Adds the scratch runs to every task; returns their model config file.
absl::StatusOr<std::string> PlanScratchRuns(const std::string& init, const std::string& run_dir,
                                            const TrainingDevice& device, std::vector<PlannedTask>& plan) {
  absl::StatusOr<std::string> model_config = ScratchModelConfig(init, run_dir);
  if (!model_config.ok()) return model_config.status();
  for (PlannedTask& t : plan) {
    absl::StatusOr<TrainConfig> config =
        BuildFinetuneConfig({.task = t.task, .data_dir = t.data_dir, .init = "scratch", .model_config = *model_config});
    if (!config.ok()) return Prefixed(config.status(), absl::StrCat(t.task, " from scratch"));
    if (absl::Status s = ApplyFinetuneJobFlags(*config, device); !s.ok()) {
      return Prefixed(s, absl::StrCat(t.task, " from scratch"));
    }
    t.scratch_config = *std::move(config);
    t.scratch_dir = absl::StrCat(run_dir, "/scratch/", t.task);
  }
  return model_config;
}

eval::TaskRuns ToTaskRuns(const std::string& task, const std::vector<SeedRunResult>& runs) {
  eval::TaskRuns out{.task = task};
  for (const SeedRunResult& r : runs) {
    out.final_evals.push_back({.seed = r.seed, .metrics = r.final_eval.metrics, .degenerate = r.final_eval.degenerate});
    out.best_evals.push_back({.seed = r.seed, .metrics = r.best_eval.metrics, .degenerate = r.best_eval.degenerate});
  }
  return out;
}

// Runs (or finds finished) one task's seeds in `dir`. Sets *stopped when a run was interrupted.
int RunTask(const std::string& task, const char* from, const TrainConfig& config, const std::string& dir,
            const TrainingDevice& device, std::vector<eval::TaskRuns>& results, bool* stopped) {
  std::printf("\n== %s from %s: %s ==\n", task.c_str(), from, dir.c_str());
  std::fflush(stdout);
  bool finished = false;
  std::vector<SeedRunResult> runs;
  const int status =
      RunFinetuneSeeds(kCommand, config, /*task=*/nullptr, dir, absl::GetFlag(FLAGS_seeds), device, &finished, &runs);
  if (status != 0) return status;
  *stopped = !finished;
  if (finished) results.push_back(ToTaskRuns(task, runs));
  return 0;
}

// GLUE's test-set predictions of each task's top seed on dev (the final evaluation, from the
// init) into RUN_DIR/glue_submission/, one set ready to zip for the GLUE server.
absl::StatusOr<nlohmann::json> CollectSubmissions(const eval::EvaluationTable& table, const std::string& run_dir) {
  nlohmann::json collected = nlohmann::json::array();
  for (const eval::TaskRow& row : table.rows) {
    const std::string from =
        SeedRunDir(absl::StrCat(run_dir, "/", row.task), row.model.final_eval.top_seed) + "/glue_submission";
    if (!row.glue_task.has_value() || !fs::is_directory(from)) continue;
    std::vector<std::string> files;
    std::error_code error;
    fs::create_directories(run_dir + "/glue_submission", error);
    for (const fs::directory_entry& entry : fs::directory_iterator(from, error)) {
      const std::string to = absl::StrCat(run_dir, "/glue_submission/", entry.path().filename().string());
      absl::StatusOr<std::string> text = data::ReadFile(entry.path().string());
      if (!text.ok()) return text.status();
      if (absl::Status s = util::WriteTextFileAtomically(to, *text); !s.ok()) return s;
      files.push_back(to);
    }
    if (error) return absl::InternalError(absl::StrCat(from, ": ", error.message()));
    collected.push_back({{"task", row.task}, {"seed", row.model.final_eval.top_seed}, {"files", files}});
  }
  return collected;
}

std::string Header(const std::string& init, const std::string& pinned, const std::vector<SkippedTask>& skipped,
                   const std::optional<std::string>& scratch_model) {
  std::string out =
      absl::StrCat("# Evaluation of ", init, "\n\n--suite=", absl::GetFlag(FLAGS_suite), ", ",
                   absl::GetFlag(FLAGS_seeds), " seed(s) per task from --seed=", SeedFlag());
  if (pinned != init) absl::StrAppend(&out, "; the init's checkpoint: ", pinned);
  if (scratch_model.has_value()) absl::StrAppend(&out, "; scratch runs with the model of ", *scratch_model);
  absl::StrAppend(&out, ".\n\n");
  if (!skipped.empty()) {
    absl::StrAppend(&out, "Skipped (files not present):\n\n");
    for (const SkippedTask& s : skipped) absl::StrAppend(&out, "- ", s.task, ": ", s.reason, "\n");
    absl::StrAppend(&out, "\n");
  }
  return out;
}

int WriteEvaluation(const std::string& run_dir, const std::string& init, const std::string& pinned,
                    const std::vector<SkippedTask>& skipped, const std::optional<std::string>& scratch_model,
                    const std::vector<eval::TaskRuns>& init_runs, const std::vector<eval::TaskRuns>& scratch_runs) {
  absl::StatusOr<eval::EvaluationTable> table = eval::BuildEvaluationTable(init_runs, scratch_runs);
  if (!table.ok()) return Fail(kCommand, 1, table.status());
  absl::StatusOr<nlohmann::json> submissions = CollectSubmissions(*table, run_dir);
  if (!submissions.ok()) return Fail(kCommand, 1, submissions.status());
  nlohmann::json j = eval::EvaluationTableJson(*table);
  j["init"] = init;
  j["init_resolved"] = pinned;
  if (scratch_model.has_value()) j["scratch_model_config"] = *scratch_model;
  j["suite"] = absl::GetFlag(FLAGS_suite);
  nlohmann::json skipped_json = nlohmann::json::array();
  for (const SkippedTask& s : skipped) skipped_json.push_back({{"task", s.task}, {"reason", s.reason}});
  j["skipped"] = skipped_json;
  j["glue_submission"] = *submissions;
  const std::string markdown = Header(init, pinned, skipped, scratch_model) + eval::EvaluationTableMarkdown(*table);
  for (const auto& [name, text] :
       {std::pair{"evaluation.json", j.dump(2) + "\n"}, std::pair{"evaluation.md", markdown}}) {
    if (absl::Status s = util::WriteTextFileAtomically(absl::StrCat(run_dir, "/", name), text); !s.ok()) {
      return Fail(kCommand, 1, s);
    }
  }
  std::printf("\n%s\nwritten: %s/evaluation.json, %s/evaluation.md%s\n", markdown.c_str(), run_dir.c_str(),
              run_dir.c_str(), submissions->empty() ? "" : absl::StrCat(", ", run_dir, "/glue_submission/").c_str());
  return 0;
}

// Flags that do not fit a suite, refused rather than ignored.
absl::Status CheckFlags(const std::string& init) {
  if (!absl::GetFlag(FLAGS_task).empty()) {
    return absl::InvalidArgumentError("--task is cloze finetune's: cloze evaluate takes --suite and --tasks");
  }
  if (absl::GetFlag(FLAGS_seeds) < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--seeds: must be at least 1, got ", absl::GetFlag(FLAGS_seeds)));
  }
  if (init.empty()) return absl::InvalidArgumentError("--init is missing");
  if (absl::GetFlag(FLAGS_with_scratch) && init == "scratch") {
    return absl::InvalidArgumentError(
        "--with_scratch compares an --init with scratch: --init=scratch is scratch already");
  }
  if (init != "scratch" && !absl::GetFlag(FLAGS_model_config).empty() && !absl::GetFlag(FLAGS_with_scratch)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--model_config is for --init=scratch or --with_scratch; ", init, " has its own"));
  }
  return absl::OkStatus();
}

}  // namespace

int RunEvaluateCommand(const std::vector<std::string>& args) {
  const std::string run_dir = absl::GetFlag(FLAGS_run_dir);
  const std::string init = absl::GetFlag(FLAGS_init);
  if (!args.empty() || run_dir.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (absl::Status s = CheckFlags(init); !s.ok()) return Fail(kCommand, 2, s);
  absl::StatusOr<TrainingDevice> device = TrainingDeviceFromFlags();
  if (!device.ok()) return Fail(kCommand, 2, device.status());
  absl::StatusOr<Suite> suite = ResolveSuite(absl::GetFlag(FLAGS_suite), absl::GetFlag(FLAGS_tasks),
                                             {.glue = absl::GetFlag(FLAGS_data_dir),
                                              .ud = absl::GetFlag(FLAGS_ud_dir),
                                              .squad = absl::GetFlag(FLAGS_squad_dir)});
  if (!suite.ok()) return Fail(kCommand, 2, suite.status());
  absl::StatusOr<std::string> pinned = PinnedInit(init);
  if (!pinned.ok()) return Fail(kCommand, 2, pinned.status());
  std::vector<SkippedTask> skipped = suite->skipped;
  absl::StatusOr<std::vector<PlannedTask>> plan = PlanInitRuns(*suite, *pinned, run_dir, *device, skipped);
  for (const SkippedTask& s : skipped) std::printf("skipped %s: %s\n", s.task.c_str(), s.reason.c_str());
  if (!plan.ok()) return Fail(kCommand, 2, plan.status());

  // One evaluation per folder: two would train the same seeds' folders at once.
  absl::StatusOr<RunDirLock> lock = RunDirLock::Acquire(run_dir, kCommand);
  if (!lock.ok()) return Fail(kCommand, ExitStatusOf(lock.status()), lock.status());  // 1 (in use), 73 (read-only)
  std::optional<std::string> scratch_model;
  if (absl::GetFlag(FLAGS_with_scratch)) {
    absl::StatusOr<std::string> model_config = PlanScratchRuns(*pinned, run_dir, *device, *plan);
    if (!model_config.ok()) return Fail(kCommand, 2, model_config.status());
    scratch_model = *model_config;
  }

  std::vector<eval::TaskRuns> init_runs, scratch_runs;
  for (const PlannedTask& t : *plan) {
    bool stopped = false;
    if (int status = RunTask(t.task, "the init", t.init_config, t.init_dir, *device, init_runs, &stopped);
        status != 0 || stopped) {
      if (stopped) std::printf("\nstopped in %s: the same command resumes the evaluation there\n", t.init_dir.c_str());
      return status;
    }
    if (!t.scratch_config.has_value()) continue;
    if (int status = RunTask(t.task, "scratch", *t.scratch_config, t.scratch_dir, *device, scratch_runs, &stopped);
        status != 0 || stopped) {
      if (stopped)
        std::printf("\nstopped in %s: the same command resumes the evaluation there\n", t.scratch_dir.c_str());
      return status;
    }
  }
  return WriteEvaluation(run_dir, init, *pinned, skipped, scratch_model, init_runs, scratch_runs);
}

}  // namespace cloze::cli
