#include "cli/finetune_run.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/command_error.h"
#include "cli/common_flags.h"
#include "cli/finetune_recipe.h"
#include "cli/launch_job.h"
#include "cli/progress.h"
#include "cli/stop_signal.h"
#include "data/read_file.h"
#include "data/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "model/head_spec.h"
#include "model/model_config.h"
#include "trainer/finetune_init.h"
#include "trainer/finetune_task.h"
#include "trainer/train_config.h"
#include "trainer/trainer.h"
#include "util/atomic_file.h"
#include "util/exit_status.h"

ABSL_DECLARE_FLAG(std::string, tokenizer);
ABSL_DECLARE_FLAG(int64_t, stop_after_step);

ABSL_FLAG(std::string, task, "",
          "cloze finetune: a GLUE task (SST-2, MRPC, ...), \"generic\", \"pos\" (CoNLL-U), \"squad\" (v1.1) or "
          "\"squad_v2\"");
ABSL_FLAG(std::string, data_dir, "", "cloze finetune: the task's folder, or the folder holding it (PATH/GLUE); cloze evaluate: the GLUE folder");
ABSL_FLAG(std::string, init, "", "cloze finetune, evaluate: scratch, a cloze checkpoint or run directory, or a Hugging Face folder");
ABSL_FLAG(std::string, model_config, "", "cloze finetune, evaluate: the model config for --init=scratch (evaluate --with_scratch: of the "
          "scratch runs; default: the init's own)");
ABSL_FLAG(double, learning_rate, 2e-5, "cloze finetune, evaluate: peak learning rate (AdamW)");
ABSL_FLAG(double, weight_decay, 0.0, "cloze finetune, evaluate: AdamW weight decay");
ABSL_FLAG(double, epochs, 3, "cloze finetune, evaluate: passes over the train split");
ABSL_FLAG(bool, skip_bad_lines, false,
          "cloze finetune: skip and count bad records of the task's files (wrong columns, unknown labels, broken "
          "CoNLL-U lines, SQuAD answers not at their offsets) instead of failing");
ABSL_FLAG(bool, group_by_length, false,
          "cloze finetune: batch inputs of similar lengths (groups of 50 steps sorted by length), to pad less");
ABSL_FLAG(bool, padded_tokens, false,
          "cloze finetune: run the CPU encoder on every position, pads included, instead of the real tokens only "
          "(classification and tagging; the same results to fp32 rounding, slower): for comparisons");
ABSL_FLAG(double, warmup_ratio, 0.1, "cloze finetune, evaluate: share of the steps spent warming up (Hugging Face's linear schedule)");
ABSL_FLAG(int64_t, eval_every_steps, 0, "cloze finetune, evaluate: dev evaluation every N steps (and always at the end)");
ABSL_FLAG(int64_t, checkpoint_every_steps, 0, "cloze finetune, evaluate: checkpoint every N steps; 0: once per epoch");
ABSL_FLAG(std::string, text_a_column, "", "cloze finetune --task=generic: the first sentence's column/field");
ABSL_FLAG(std::string, text_b_column, "", "cloze finetune --task=generic: the second sentence's column/field");
ABSL_FLAG(std::string, label_column, "", "cloze finetune --task=generic: the label's column/field");
ABSL_FLAG(std::string, train_file, "",
          "cloze finetune: the train file under --data_dir (generic: train.tsv; pos: *-ud-train.conllu[.xz]; squad: "
          "train-v1.1.json[.xz], squad_v2: train-v2.0.json[.xz])");
ABSL_FLAG(std::string, dev_file, "",
          "cloze finetune: the dev file under --data_dir (generic: dev.tsv; pos: *-ud-dev.conllu[.xz]; squad: "
          "dev-v1.1.json[.xz], squad_v2: dev-v2.0.json[.xz])");
ABSL_FLAG(std::string, tag_set, "upos", "cloze finetune --task=pos: upos (universal tags) or xpos (the train split's)");
ABSL_FLAG(int, doc_stride, 128, "cloze finetune --task=squad*: tokens between the starts of a context's windows");
ABSL_FLAG(int, max_query_length, 64, "cloze finetune --task=squad*: question tokens kept");
ABSL_FLAG(int, n_best_size, 20, "cloze finetune --task=squad*: start/end candidates and n-best answers kept");
ABSL_FLAG(int, max_answer_length, 30, "cloze finetune --task=squad*: the longest answer, in tokens");
ABSL_FLAG(double, null_score_diff_threshold, 0.0,
          "cloze finetune --task=squad_v2: predict no answer when the null score beats the best span by more");
ABSL_FLAG(bool, regression, false, "cloze finetune --task=generic: labels are real-valued scores");
ABSL_FLAG(int, seeds, 1,
          "cloze finetune: runs with seeds --seed, --seed+1, ... in RUN_DIR/seed-K, summarised in "
          "RUN_DIR/seeds_summary.json; 1: one run in RUN_DIR itself (cloze evaluate: always RUN_DIR/TASK/seed-K)");

namespace cloze::cli {
namespace {

std::string ConfigText(const TrainConfig& config) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(config, &text);
  return text;
}

// A run directory belongs to the run whose config it holds: refuse to mix another into it
// (resuming the same run is fine).
absl::Status CheckRunDirIsOurs(const std::string& run_dir, const TrainConfig& config) {
  const std::string path = run_dir + "/train_config.pb.txt";
  if (!std::filesystem::exists(path)) return absl::OkStatus();
  absl::StatusOr<std::string> text = data::ReadFile(path);
  if (!text.ok()) return text.status();
  TrainConfig theirs;
  if (!google::protobuf::TextFormat::ParseFromString(*text, &theirs) || ConfigText(theirs) != ConfigText(config)) {
    return absl::FailedPreconditionError(absl::StrCat(run_dir, " holds another run (its ", path,
                                                      " differs from this one's): choose another --run_dir"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FinetuneSetup> BuildFinetune(const FinetuneTarget& target) {
  TrainConfig config = DefaultTrainConfig();
  FinetuneConfig& f = *config.mutable_finetune();
  f.set_task(target.task);
  f.set_data_dir(target.data_dir);
  f.set_init(target.init);
  f.set_tokenizer(absl::GetFlag(FLAGS_tokenizer));
  const bool squad = f.task() == "squad" || f.task() == "squad_v2";
  absl::StatusOr<FinetuneHyperparameters> hyper =
      ResolveFinetuneHyperparameters(f.task(), std::max(1, absl::GetFlag(FLAGS_workers)));
  if (!hyper.ok()) return hyper.status();
  f.set_max_seq_length(hyper->max_seq_length);
  f.set_group_by_length(absl::GetFlag(FLAGS_group_by_length));
  f.set_skip_bad_lines(absl::GetFlag(FLAGS_skip_bad_lines));
  f.set_padded_tokens(absl::GetFlag(FLAGS_padded_tokens));
  f.set_text_a_column(absl::GetFlag(FLAGS_text_a_column));
  f.set_text_b_column(absl::GetFlag(FLAGS_text_b_column));
  f.set_label_column(absl::GetFlag(FLAGS_label_column));
  f.set_regression(absl::GetFlag(FLAGS_regression));
  f.set_train_file(absl::GetFlag(FLAGS_train_file));
  f.set_dev_file(absl::GetFlag(FLAGS_dev_file));
  if (f.task() == "pos") f.set_tag_set(absl::GetFlag(FLAGS_tag_set));
  if (squad) {
    for (const auto& [name, value] : {std::pair{"doc_stride", absl::GetFlag(FLAGS_doc_stride)},
                                      std::pair{"max_query_length", absl::GetFlag(FLAGS_max_query_length)},
                                      std::pair{"n_best_size", absl::GetFlag(FLAGS_n_best_size)},
                                      std::pair{"max_answer_length", absl::GetFlag(FLAGS_max_answer_length)}}) {
      if (value < 1) return absl::InvalidArgumentError(absl::StrCat("--", name, ": must be positive, got ", value));
    }
    f.set_doc_stride(absl::GetFlag(FLAGS_doc_stride));
    f.set_max_query_length(absl::GetFlag(FLAGS_max_query_length));
    f.set_n_best_size(absl::GetFlag(FLAGS_n_best_size));
    f.set_max_answer_length(absl::GetFlag(FLAGS_max_answer_length));
    if (f.task() == "squad_v2") {
      f.set_null_score_diff_threshold(static_cast<float>(absl::GetFlag(FLAGS_null_score_diff_threshold)));
    }
  }
  for (const auto& [flag, value] : {std::pair{"task", f.task()}, std::pair{"data_dir", f.data_dir()},
                                     std::pair{"init", f.init()}, std::pair{"tokenizer", f.tokenizer()}}) {
    if (value.empty()) return absl::InvalidArgumentError(absl::StrCat("--", flag, " is missing"));
  }
  if (f.task() != "pos" && f.task() != "squad" && f.task() != "squad_v2") {
    // Sentence tasks: an unknown name or missing data fails before the model is looked at.
    if (absl::Status s = FinetuneTaskSpec(f).status(); !s.ok()) return s;
  }

  // The model: the init's own config, or --model_config from scratch.
  absl::StatusOr<FinetuneInit> init = ResolveFinetuneInit(f.init());
  if (!init.ok()) return init.status();
  const std::string& model_config = target.model_config;
  if (init->kind == FinetuneInit::Kind::kScratch && model_config.empty()) {
    return absl::InvalidArgumentError("--init=scratch needs --model_config (e.g. configs/albert-tiny.textproto)");
  }
  if (init->kind != FinetuneInit::Kind::kScratch && !model_config.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--model_config is for --init=scratch; ", f.init(), " has its own"));
  }
  absl::StatusOr<ModelConfig> model =
      init->kind == FinetuneInit::Kind::kScratch ? LoadModelConfig(model_config) : InitModelConfig(*init);
  if (!model.ok()) return model.status();
  *config.mutable_model() = *model;
  ApplyRecipeDropout(*hyper, *config.mutable_model());
  absl::StatusOr<std::unique_ptr<data::Tokenizer>> tokenizer = data::LoadTokenizer(f.tokenizer());
  if (!tokenizer.ok()) return tokenizer.status();
  if ((*tokenizer)->vocab_size() != model->vocab_size()) {
    return absl::FailedPreconditionError(absl::StrCat("--tokenizer=", f.tokenizer(), " has ", (*tokenizer)->vocab_size(),
                                                      " ids but the model (", init->kind == FinetuneInit::Kind::kScratch
                                                                                  ? model_config : init->path,
                                                      ") has vocab_size ", model->vocab_size()));
  }

  // The task: its head, and its train split's size in model inputs (windows for pos and
  // squad, which are featurised here for it, and then handed to the run).
  absl::StatusOr<FinetuneTaskSummary> task = SummarizeFinetuneTask(f, model->vocab_size());
  if (!task.ok()) return task.status();
  std::shared_ptr<FinetuneTask> loaded = std::move(task->task);
  f.set_num_labels(task->head.num_labels);
  if (task->head.kind != HeadKind::kSequenceClassification) f.set_head(HeadKindName(task->head.kind));

  // The run's length and schedule, as Hugging Face's Trainer sizes them.
  config.set_seq_len(f.max_seq_length());
  config.set_batch_size(hyper->batch_size);
  config.set_max_predictions_per_seq(1);  // unused by a task head
  const double epochs = absl::GetFlag(FLAGS_epochs);
  if (!(epochs > 0)) return absl::InvalidArgumentError(absl::StrCat("--epochs: must be positive, got ", epochs));
  // A step takes batch_size inputs on each worker (--workers=N: N × batch_size).
  const int64_t train = task->train_inputs;
  const int64_t step_examples = int64_t{config.batch_size()} * std::max(1, absl::GetFlag(FLAGS_workers));
  const int64_t steps_per_epoch = (train + step_examples - 1) / step_examples;
  config.set_total_steps(hyper->total_steps.value_or(
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(epochs * train / step_examples)))));
  const double warmup_ratio = absl::GetFlag(FLAGS_warmup_ratio);
  if (!(warmup_ratio >= 0 && warmup_ratio < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("--warmup_ratio: must be in [0, 1), got ", warmup_ratio));
  }
  ScheduleConfig& schedule = *config.mutable_schedule();
  schedule.set_decay(ScheduleConfig::LINEAR_FROM_WARMUP);
  schedule.set_warmup_steps(std::min<int64_t>(
      config.total_steps() - 1,
      hyper->warmup_steps.value_or(static_cast<int64_t>(std::ceil(warmup_ratio * config.total_steps())))));
  schedule.clear_power();
  schedule.clear_end_learning_rate();
  OptimizerConfig& o = *config.mutable_optimizer();
  o.set_kind(OptimizerConfig::ADAMW);
  o.set_learning_rate(static_cast<float>(hyper->learning_rate));
  o.set_epsilon(1e-8f);  // Hugging Face's AdamW default
  o.set_weight_decay(static_cast<float>(absl::GetFlag(FLAGS_weight_decay)));
  config.mutable_guard()->set_spike_factor(0);  // non-finite losses only: fine-tuning losses jump early
  const int64_t every = absl::GetFlag(FLAGS_checkpoint_every_steps);
  config.mutable_checkpoint()->set_every_steps(every > 0 ? every : steps_per_epoch);
  config.mutable_checkpoint()->set_keep_last(2);
  config.mutable_checkpoint()->set_keep_every(0);
  config.set_eval_every_steps(absl::GetFlag(FLAGS_eval_every_steps));
  config.set_seed(SeedFlag());
  absl::StatusOr<TrainConfig::Precision> precision = PrecisionFromFlag();
  if (!precision.ok()) return precision.status();
  config.set_precision(*precision);
  if (absl::Status s = ValidateTrainConfig(config); !s.ok()) return s;
  return FinetuneSetup{.config = std::move(config), .task = std::move(loaded)};
}

absl::StatusOr<TrainConfig> BuildFinetuneConfig(const FinetuneTarget& target) {
  absl::StatusOr<FinetuneSetup> setup = BuildFinetune(target);
  if (!setup.ok()) return setup.status();
  return std::move(setup->config);
}

namespace {

// What the run left: its eval_results.json, and where the rest is.
void PrintResults(const TrainConfig& config, const std::string& run_dir) {
  absl::StatusOr<std::string> results = data::ReadFile(run_dir + "/eval_results.json");
  if (results.ok()) std::printf("%s/eval_results.json:\n%s", run_dir.c_str(), results->c_str());
  const bool squad = config.finetune().head() == HeadKindName(HeadKind::kSpanExtraction);
  std::printf("  dev predictions: %s/%s; metrics: %s/metrics.jsonl\n", run_dir.c_str(),
              squad ? "predictions.json, nbest_predictions.json" : "predictions_*.jsonl", run_dir.c_str());
}

int RunLaunched(const std::string& command, const TrainConfig& config, const std::string& run_dir, const TrainingDevice& device, bool* finished) {
  absl::StatusOr<LaunchSummary> summary = LaunchJob(config, run_dir, device, command);
  if (!summary.ok()) {  // a member's permanent failure is the job's (util/exit_status.h)
    const int status = ExitStatusOf(summary.status());
    return Fail(command, IsPermanentExit(status) ? status : kExitFailure, summary.status());
  }
  *finished = summary->finished;
  std::printf("\n%s %s on %s: %d workers, %d process restarts; logs: %s/logs/\n", *finished ? "finished" : "stopped",
              config.finetune().task().c_str(), run_dir.c_str(), config.distributed().workers(), summary->restarts,
              run_dir.c_str());
  return 0;
}

}  // namespace

bool FinetuneLaunched() { return absl::GetFlag(FLAGS_workers) > 0; }

absl::Status ApplyFinetuneJobFlags(TrainConfig& config, const TrainingDevice& device) {
  if (!FinetuneLaunched()) {
    if (absl::GetFlag(FLAGS_ps) >= 0) return absl::InvalidArgumentError("--ps: parameter servers need --workers=N");
    return absl::OkStatus();
  }
  if (absl::GetFlag(FLAGS_stop_after_step) > 0) {
    return absl::InvalidArgumentError("--stop_after_step: not with --workers (stop the job with SIGINT)");
  }
  return ApplyJobFlags(config, device);
}

int RunFinetune(const std::string& command, const TrainConfig& config, std::shared_ptr<FinetuneTask> task,
                const std::string& run_dir, const TrainingDevice& device, bool* finished) {
  if (absl::Status s = CheckRunDirIsOurs(run_dir, config); !s.ok()) return Fail(command, 2, s);
  if (FinetuneLaunched()) {
    task.reset();  // each worker process loads its own
    if (int status = RunLaunched(command, config, run_dir, device, finished); status != 0) return status;
    PrintResults(config, run_dir);
    return 0;
  }
  const bool terminal = isatty(STDERR_FILENO);
  TrainOptions options;
  options.config = config;
  options.run_dir = run_dir;
  options.device = device;
  options.finetune_task = std::move(task);
  options.stop_after_step = absl::GetFlag(FLAGS_stop_after_step);
  options.stop_requested = StopOnSignals();
  options.run_name = std::filesystem::path(run_dir).filename().string();
  options.on_event = EventPrinter(terminal);
  options.on_step = StepPrinter(terminal, config.log_every_steps());
  absl::StatusOr<TrainSummary> summary = Train(options);
  if (terminal) std::fprintf(stderr, "\n");
  if (!summary.ok()) {
    const absl::StatusCode code = summary.status().code();
    const bool bad_input = code == absl::StatusCode::kInvalidArgument || code == absl::StatusCode::kNotFound ||
                           code == absl::StatusCode::kFailedPrecondition;
    const int tagged = ExitStatusOf(summary.status());  // bad data, no usable checkpoint
    return Fail(command, IsPermanentExit(tagged) ? tagged : bad_input ? kExitUsage : kExitFailure, summary.status());
  }
  *finished = summary->end_step >= config.total_steps();
  std::printf("\n%s %s on %s: steps %lld to %lld of %lld\n", *finished ? "finished" : "stopped",
              config.finetune().task().c_str(), run_dir.c_str(), static_cast<long long>(summary->start_step),
              static_cast<long long>(summary->end_step), static_cast<long long>(config.total_steps()));
  PrintResults(config, run_dir);
  return 0;
}

int RunFinetuneSeeds(const std::string& command, const TrainConfig& config, std::shared_ptr<FinetuneTask> task,
                     const std::string& run_dir, int seeds, const TrainingDevice& device, bool* finished,
                     std::vector<SeedRunResult>* runs) {
  *finished = false;
  runs->clear();
  if (std::filesystem::exists(run_dir + "/train_config.pb.txt")) {
    return Fail(command, 2, absl::FailedPreconditionError(absl::StrCat(
                       run_dir, " holds a single run (--seeds=1): choose another --run_dir for --seeds=", seeds)));
  }
  std::vector<SeedRunResult>& results = *runs;
  for (int i = 0; i < seeds; ++i) {
    TrainConfig seeded = config;
    seeded.set_seed(config.seed() + i);
    const std::string seed_dir = SeedRunDir(run_dir, seeded.seed());
    absl::StatusOr<SeedRunResult> done = ReadSeedRunResult(seed_dir, seeded.seed());
    if (done.ok() && done->finished) {
      if (absl::Status s = CheckRunDirIsOurs(seed_dir, seeded); !s.ok()) return Fail(command, 2, s);
      std::printf("seed %llu: already finished in %s\n", static_cast<unsigned long long>(seeded.seed()),
                  seed_dir.c_str());
    } else {
      std::printf("seed %llu (%d of %d) in %s\n", static_cast<unsigned long long>(seeded.seed()), i + 1, seeds,
                  seed_dir.c_str());
      std::fflush(stdout);
      bool seed_finished = false;
      if (int status = RunFinetune(command, seeded, std::move(task), seed_dir, device, &seed_finished); status != 0) {
        return status;
      }
      if (!seed_finished) {
        std::printf("stopped before seed %llu finished: the same command resumes it\n",
                    static_cast<unsigned long long>(seeded.seed()));
        return 0;
      }
      done = ReadSeedRunResult(seed_dir, seeded.seed());
    }
    if (!done.ok()) return Fail(command, 1, done.status());
    results.push_back(*std::move(done));
  }
  absl::StatusOr<std::string> json = SeedsSummaryJson(results);
  if (!json.ok()) return Fail(command, 1, json.status());
  const std::string path = run_dir + "/seeds_summary.json";
  if (absl::Status s = util::WriteTextFileAtomically(path, *json); !s.ok()) return Fail(command, 1, s);
  absl::StatusOr<std::string> table = SeedsSummaryTable(results);
  if (!table.ok()) return Fail(command, 1, table.status());
  std::printf("\n%s  summary: %s\n", table->c_str(), path.c_str());
  *finished = true;
  return 0;
}

}  // namespace cloze::cli
