// cloze probe: what pretraining checkpoints know (issue 13, "BERT embryology"), as
// probes.jsonl records: fill-in by word class, and linear probes of every layer.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "cli/probe_run.h"
#include "data/tokenizer.h"

ABSL_DECLARE_FLAG(std::string, init);
ABSL_DECLARE_FLAG(std::string, tokenizer);
ABSL_DECLARE_FLAG(std::string, ud_dir);
ABSL_DECLARE_FLAG(int, batch_size);
ABSL_DECLARE_FLAG(int, max_seq_length);
ABSL_DECLARE_FLAG(bool, skip_bad_lines);

ABSL_FLAG(int, every, 1, "cloze probe: of a run folder's checkpoints, every K-th (the 1st, K+1-th, ...)");
ABSL_FLAG(std::vector<std::string>, probes, cloze::probe::ProbeNames(),
          "cloze probe: fill, reconstruction, upos, deprel, sst2 (comma-separated)");
ABSL_FLAG(std::string, glue_dir, "", "cloze probe: the GLUE folder (SST-2 inside), for --probes=sst2");
ABSL_FLAG(int, max_sentences, 500, "cloze probe: sentences of UD dev and test and of SST-2 dev at most (0: all)");
ABSL_FLAG(int, max_train_sentences, 2000, "cloze probe: sentences of UD train and SST-2 train at most (0: all)");
ABSL_FLAG(int64_t, testing_delete_before_load, -1,
          "tests only: cloze probe deletes the checkpoint of this step just before reading it (a prune racing it)");

namespace cloze::cli {
namespace {

constexpr char kUsage[] =
    "usage: cloze probe --init=CHECKPOINT|RUN_DIR[,...] --tokenizer=SPEC --ud_dir=UD_EWT [--glue_dir=GLUE]\n"
    "       [--run_dir=OUT (default: the run folder)] [--every=K] [--probes=fill,reconstruction,upos,deprel,sst2]\n"
    "       [--max_sentences=500 --max_train_sentences=2000 --max_seq_length=128 --batch_size=32 --skip_bad_lines]\n";

int Fail(int status, const absl::Status& error) {
  std::fprintf(stderr, "cloze probe: %s\n", std::string(error.message()).c_str());
  return status;
}

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
  options.max_sentences = absl::GetFlag(FLAGS_max_sentences);
  options.max_train_sentences = absl::GetFlag(FLAGS_max_train_sentences);
  options.max_seq_length = OrCommandDefault(absl::GetFlag(FLAGS_max_seq_length), 128);
  options.batch_size = OrCommandDefault(absl::GetFlag(FLAGS_batch_size), 32);
  options.read.skip_bad_lines = absl::GetFlag(FLAGS_skip_bad_lines);
  const bool wants_ud = options.probes != std::vector<std::string>{"sst2"};
  const bool wants_glue = std::find(options.probes.begin(), options.probes.end(), "sst2") != options.probes.end();
  if (wants_ud && options.ud_dir.empty()) return absl::InvalidArgumentError("--ud_dir: needed by the UD probes");
  if (wants_glue && options.glue_dir.empty()) return absl::InvalidArgumentError("--glue_dir: needed by --probes=sst2");
  if (options.max_seq_length < 3 || options.batch_size < 1) {
    return absl::InvalidArgumentError("--max_seq_length must be at least 3 and --batch_size positive");
  }
  return options;
}

}  // namespace

int RunProbeCommand(const std::vector<std::string>& args) {
  const std::string init = absl::GetFlag(FLAGS_init);
  const std::string tokenizer_spec = absl::GetFlag(FLAGS_tokenizer);
  if (init.empty() || tokenizer_spec.empty() || !args.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::vector<std::string> inits = absl::StrSplit(init, ',', absl::SkipEmpty());
  const std::string out = OutputFolder(inits);
  if (out.empty()) return Fail(2, absl::InvalidArgumentError("--run_dir: needed unless --init is one run folder"));
  absl::StatusOr<probe::ProbeSuiteOptions> options = OptionsFromFlags();
  if (!options.ok()) return Fail(2, options.status());
  absl::StatusOr<std::vector<CheckpointToProbe>> checkpoints = CheckpointsToProbe(inits, absl::GetFlag(FLAGS_every));
  if (!checkpoints.ok()) return Fail(2, checkpoints.status());
  absl::StatusOr<std::unique_ptr<data::Tokenizer>> tokenizer = data::LoadTokenizer(tokenizer_spec);
  if (!tokenizer.ok()) return Fail(2, tokenizer.status());
  absl::StatusOr<std::unique_ptr<probe::ProbeData>> data = probe::LoadProbeData(*options, **tokenizer, Log);
  if (!data.ok()) return Fail(2, data.status());
  std::error_code error;
  std::filesystem::create_directories(out, error);
  if (error) return Fail(1, absl::InternalError(absl::StrCat(out, ": ", error.message())));

  const int64_t delete_step = absl::GetFlag(FLAGS_testing_delete_before_load);
  auto before_load = [&](const CheckpointToProbe& checkpoint) {
    if (checkpoint.step == delete_step) std::filesystem::remove_all(checkpoint.path);
  };
  const std::string probes_path = absl::StrCat(out, "/", probe::kProbesFileName);
  absl::StatusOr<ProbeRunSummary> summary =
      ProbeCheckpoints(*checkpoints, **tokenizer, **data, *options, probes_path, Log, before_load);
  if (!summary.ok()) return Fail(1, summary.status());
  Log(absl::StrCat(summary->probed, " checkpoint(s) probed, ", summary->already_done, " already in ", probes_path,
                   ", ", summary->skipped, " skipped"));
  return 0;
}

}  // namespace cloze::cli
