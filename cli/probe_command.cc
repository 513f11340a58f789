// cloze probe: what pretraining checkpoints know (issue 13, "BERT embryology"), as
// probes.jsonl records: fill-in by word class, and linear probes of every layer.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/command_error.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "cli/probe_follow.h"
#include "cli/probe_run.h"
#include "cli/stop_signal.h"
#include "data/tokenizer.h"
#include "probe/probe_metrics.h"
#include "util/atomic_file.h"
#include "util/run_dir_lock.h"

ABSL_DECLARE_FLAG(std::string, init);
ABSL_DECLARE_FLAG(std::string, tokenizer);
ABSL_DECLARE_FLAG(std::string, ud_dir);
ABSL_DECLARE_FLAG(int, batch_size);
ABSL_DECLARE_FLAG(int, max_seq_length);
ABSL_DECLARE_FLAG(bool, skip_bad_lines);

ABSL_FLAG(int, every, 1, "cloze probe: of a run folder's checkpoints, every K-th (the 1st, K+1-th, ...)");
ABSL_FLAG(std::vector<std::string>, probes, cloze::probe::DefaultProbeNames(),
          "cloze probe: fill, reconstruction, upos, deprel, sst2, fill_zh (comma-separated; all but fill_zh by default)");
ABSL_FLAG(std::string, glue_dir, "", "cloze probe: the GLUE folder (SST-2 inside), for --probes=sst2");
ABSL_FLAG(std::string, zh_text, "",
          "cloze probe: Chinese text, a passage or sentence per line, for --probes=fill_zh (e.g. CMRC 2018's contexts)");
ABSL_FLAG(int, zh_skip_lines, 0,
          "cloze probe: lines at the start of --zh_text left out: text the probed run pretrained on (200 of CMRC 2018's "
          "contexts for a run on corpus/demo)");
ABSL_FLAG(int, max_sentences, 500,
          "cloze probe: sentences of UD dev and test, of SST-2 dev and of --zh_text at most (0: all)");
ABSL_FLAG(int, max_train_sentences, 2000, "cloze probe: sentences of UD train and SST-2 train at most (0: all)");
ABSL_FLAG(std::string, follow, "",
          "cloze probe: follow this run folder while it trains: probe each new committed checkpoint, exit once "
          "the run has finished and its last checkpoint is probed");
ABSL_FLAG(int, every_checkpoints, 1,
          "cloze probe --follow: every K-th checkpoint of the run's schedule (steps that are multiples of K x "
          "checkpoint.every_steps), and the last");
ABSL_FLAG(double, poll_seconds, 30, "cloze probe --follow: seconds between looks at the run's checkpoints");
ABSL_FLAG(int, max_attempts, 3, "cloze probe --follow: tries of a checkpoint whose probe fails before it is skipped");
ABSL_FLAG(int64_t, testing_fail_step, -1, "tests only: cloze probe --follow fails every probe of this step");
ABSL_FLAG(int64_t, testing_delete_before_load, -1,
          "tests only: cloze probe deletes the checkpoint of this step just before reading it (a prune racing it)");

namespace cloze::cli {
namespace {

constexpr char kUsage[] =
    "usage: cloze probe --init=CHECKPOINT|RUN_DIR[,...] --tokenizer=SPEC --ud_dir=UD_EWT [--glue_dir=GLUE]\n"
    "       cloze probe --follow=RUN_DIR [--every_checkpoints=K --poll_seconds=30 --max_attempts=3]\n"
    "       [--metrics_address=HOST:PORT --metrics_port_file=FILE] --tokenizer=... (the flags above)\n"
    "       [--run_dir=OUT (default: the run folder)] [--every=K] [--probes=fill,reconstruction,upos,deprel,sst2]\n"
    "       [--probes=...,fill_zh --zh_text=CHINESE_TEXT --zh_skip_lines=N]\n"
    "       [--max_sentences=500 --max_train_sentences=2000 --max_seq_length=128 --batch_size=32 --skip_bad_lines]\n";

constexpr char kCommand[] = "cloze probe";

void Log(const std::string& line) { std::fprintf(stderr, "cloze probe: %s\n", line.c_str()); }

// --run_dir, or the one run folder --init names.
std::string OutputFolder(const std::vector<std::string>& inits) {
  const std::string run_dir = absl::GetFlag(FLAGS_run_dir);
  if (!run_dir.empty()) return run_dir;
  if (inits.size() == 1 && std::filesystem::is_directory(inits[0] + "/checkpoints")) return inits[0];
  return "";
}

absl::StatusOr<probe::ProbeSuiteOptions> OptionsFromFlags() {
  probe::ProbeSuiteOptions options;
  options.probes = absl::GetFlag(FLAGS_probes);
  if (absl::Status s = probe::CheckProbeNames(options.probes); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--probes: ", s.message()));
  }
  options.ud_dir = absl::GetFlag(FLAGS_ud_dir);
  options.glue_dir = absl::GetFlag(FLAGS_glue_dir);
  options.zh_text = absl::GetFlag(FLAGS_zh_text);
  options.zh_skip_lines = absl::GetFlag(FLAGS_zh_skip_lines);
  options.max_sentences = absl::GetFlag(FLAGS_max_sentences);
  options.max_train_sentences = absl::GetFlag(FLAGS_max_train_sentences);
  options.max_seq_length = OrCommandDefault(absl::GetFlag(FLAGS_max_seq_length), 128);
  options.batch_size = OrCommandDefault(absl::GetFlag(FLAGS_batch_size), 32);
  absl::StatusOr<TrainConfig::Precision> precision = PrecisionFromFlag();
  if (!precision.ok()) return precision.status();
  options.precision = *precision == TrainConfig::BF16 ? cpu::Precision::kBf16 : cpu::Precision::kFp32;
  options.read.skip_bad_lines = absl::GetFlag(FLAGS_skip_bad_lines);
  auto wants = [&options](const std::string& probe) {
    return std::find(options.probes.begin(), options.probes.end(), probe) != options.probes.end();
  };
  const bool wants_ud = wants("fill") || wants("reconstruction") || wants("upos") || wants("deprel");
  if (wants_ud && options.ud_dir.empty()) return absl::InvalidArgumentError("--ud_dir: needed by the UD probes");
  if (wants("sst2") && options.glue_dir.empty()) return absl::InvalidArgumentError("--glue_dir: needed by --probes=sst2");
  if (wants("fill_zh") && options.zh_text.empty()) {
    return absl::InvalidArgumentError("--zh_text: needed by --probes=fill_zh");
  }
  if (options.zh_skip_lines < 0) return absl::InvalidArgumentError("--zh_skip_lines must not be negative");
  if (options.max_seq_length < 3 || options.batch_size < 1) {
    return absl::InvalidArgumentError("--max_seq_length must be at least 3 and --batch_size positive");
  }
  return options;
}

// --follow's gauges (probe/probe_metrics.h) on --metrics_address when it is not the default,
// which is the training job's port. Seeded with what probes.jsonl already holds.
absl::StatusOr<std::unique_ptr<probe::ProbeMetrics>> StartProbeMetrics(const std::string& run_dir,
                                                                     const std::string& probes_path) {
  const absl::CommandLineFlag* flag = absl::FindCommandLineFlag("metrics_address");
  const std::string address =
      flag != nullptr && flag->CurrentValue() != flag->DefaultValue() ? absl::GetFlag(FLAGS_metrics_address) : "";
  absl::StatusOr<std::unique_ptr<probe::ProbeMetrics>> metrics =
      probe::ProbeMetrics::Start(address, std::filesystem::path(run_dir).filename().string());
  if (!metrics.ok()) return metrics.status();
  if (const std::string file = absl::GetFlag(FLAGS_metrics_port_file); !file.empty()) {
    if (absl::Status s = util::WriteTextFileAtomically(file, absl::StrCat((*metrics)->port(), "\n")); !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<std::vector<probe::ProbeRecord>> records = probe::ReadProbeRecords(probes_path);
  if (!records.ok()) return records.status();
  (*metrics)->Publish(*records);
  return metrics;
}

// --follow: probes the run's checkpoints as they come (cli/probe_follow.h), holding the
// folder's probe.lock (not the training's run.lock).
int FollowRunCommand(const std::string& run_dir, const data::Tokenizer& tokenizer, const probe::ProbeData& data,
                     const probe::ProbeSuiteOptions& options) {
  absl::StatusOr<RunDirLock> lock =
      RunDirLock::Acquire(run_dir, "cloze probe --follow", /*inherited_by_children=*/false, kProbeLockFileName);
  if (!lock.ok()) return Fail(kCommand, 1, lock.status());
  const std::string probes_path = absl::StrCat(run_dir, "/", probe::kProbesFileName);
  absl::StatusOr<std::unique_ptr<probe::ProbeMetrics>> metrics = StartProbeMetrics(run_dir, probes_path);
  if (!metrics.ok()) return Fail(kCommand, 1, metrics.status());
  const int64_t fail_step = absl::GetFlag(FLAGS_testing_fail_step);
  FollowOptions follow;
  follow.run_dir = run_dir;
  follow.every_checkpoints = absl::GetFlag(FLAGS_every_checkpoints);
  follow.poll = absl::Seconds(absl::GetFlag(FLAGS_poll_seconds));
  follow.max_attempts = std::max(1, absl::GetFlag(FLAGS_max_attempts));
  follow.stop = StopOnSignals();
  follow.log = Log;
  follow.probe = [&](const CheckpointToProbe& checkpoint) -> absl::StatusOr<ProbeRunSummary> {
    if (checkpoint.step == fail_step) return absl::InternalError("failed on purpose (--testing_fail_step)");
    absl::StatusOr<ProbeRunSummary> summary = ProbeCheckpoints({checkpoint}, tokenizer, data, options, probes_path, Log);
    if (summary.ok() && summary->probed > 0) {
      absl::StatusOr<std::vector<probe::ProbeRecord>> records = probe::ReadProbeRecords(probes_path);
      if (!records.ok()) return records.status();
      (*metrics)->Publish(*records);
    }
    return summary;
  };
  absl::StatusOr<FollowSummary> summary = FollowRun(follow);
  if (!summary.ok()) return Fail(kCommand, 1, summary.status());
  Log(absl::StrCat(summary->finished ? "the run has finished: " : "stopped: ", summary->probed,
                   " checkpoint(s) probed, ", summary->already_done, " already in ", probes_path, ", ",
                   summary->skipped, " skipped, ", summary->given_up, " given up"));
  return 0;
}

}  // namespace

int RunProbeCommand(const std::vector<std::string>& args) {
  const std::string init = absl::GetFlag(FLAGS_init);
  const std::string follow = absl::GetFlag(FLAGS_follow);
  const std::string tokenizer_spec = absl::GetFlag(FLAGS_tokenizer);
  if (init.empty() == follow.empty() || tokenizer_spec.empty() || !args.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::vector<std::string> inits = absl::StrSplit(init, ',', absl::SkipEmpty());
  const std::string out = follow.empty() ? OutputFolder(inits) : follow;
  if (out.empty()) {
    return Fail(kCommand, 2, absl::InvalidArgumentError("--run_dir: needed unless --init is one run folder"));
  }
  absl::StatusOr<probe::ProbeSuiteOptions> options = OptionsFromFlags();
  if (!options.ok()) return Fail(kCommand, 2, options.status());
  if (!follow.empty() && !std::filesystem::is_directory(follow)) {
    return Fail(kCommand, 2, absl::NotFoundError(absl::StrCat("--follow: ", follow, ": no such run folder")));
  }
  absl::StatusOr<std::vector<CheckpointToProbe>> checkpoints =
      follow.empty() ? CheckpointsToProbe(inits, absl::GetFlag(FLAGS_every)) : std::vector<CheckpointToProbe>{};
  if (!checkpoints.ok()) return Fail(kCommand, 2, checkpoints.status());
  absl::StatusOr<std::unique_ptr<data::Tokenizer>> tokenizer = data::LoadTokenizer(tokenizer_spec);
  if (!tokenizer.ok()) return Fail(kCommand, 2, tokenizer.status());
  absl::StatusOr<std::unique_ptr<probe::ProbeData>> data = probe::LoadProbeData(*options, **tokenizer, Log);
  if (!data.ok()) return Fail(kCommand, 2, data.status());
  if (!follow.empty()) {
    // The records' checkpoint paths are canonical (CheckpointsToProbe): the same here.
    return FollowRunCommand(std::filesystem::weakly_canonical(std::filesystem::absolute(follow)).string(),
                            **tokenizer, **data, *options);
  }
  std::error_code error;
  std::filesystem::create_directories(out, error);
  if (error) return Fail(kCommand, 1, absl::InternalError(absl::StrCat(out, ": ", error.message())));

  const int64_t delete_step = absl::GetFlag(FLAGS_testing_delete_before_load);
  auto before_load = [&](const CheckpointToProbe& checkpoint) {
    if (checkpoint.step == delete_step) std::filesystem::remove_all(checkpoint.path);
  };
  const std::string probes_path = absl::StrCat(out, "/", probe::kProbesFileName);
  absl::StatusOr<ProbeRunSummary> summary =
      ProbeCheckpoints(*checkpoints, **tokenizer, **data, *options, probes_path, Log, before_load);
  if (!summary.ok()) return Fail(kCommand, 1, summary.status());
  Log(absl::StrCat(summary->probed, " checkpoint(s) probed, ", summary->already_done, " already in ", probes_path,
                   ", ", summary->skipped, " skipped"));
  return 0;
}

}  // namespace cloze::cli
