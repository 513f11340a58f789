// cloze predict: a fine-tuned sentence(-pair) classifier or regressor (a `cloze finetune`
// run folder) on a file in its task's format, one JSON line per example. Tagging and SQuAD
// runs are refused (exit 2): their dev predictions are in their run folder.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/checkpoint_model.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "data/tokenizer.h"
#include "model/head_spec.h"
#include "nlohmann/json.hpp"
#include "tasks/features.h"
#include "trainer/finetune_task.h"
#include "trainer/task_batch_source.h"
#include "util/atomic_file.h"

ABSL_DECLARE_FLAG(std::vector<std::string>, input);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(std::string, tokenizer);
ABSL_DECLARE_FLAG(int, batch_size);

namespace cloze::cli {
namespace {

constexpr char kUsage[] =
    "usage: cloze predict --run_dir=FINETUNE_RUN --input=FILE [--output=FILE.jsonl --batch_size=8 "
    "--tokenizer=SPEC (default: the run's)]\n";

int Fail(int status, const absl::Status& error) {
  std::fprintf(stderr, "cloze predict: %s\n", std::string(error.message()).c_str());
  return status;
}

int ExitStatus(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
      return 2;
    default:
      return 1;
  }
}

std::vector<double> Softmax(const std::vector<float>& logits) {
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double total = 0;
  for (size_t i = 0; i < logits.size(); ++i) total += p[i] = std::exp(static_cast<double>(logits[i]) - max_logit);
  for (double& v : p) v /= total;
  return p;
}

// The JSON lines of `examples` run through `model` in batches of `batch_size`.
absl::StatusOr<std::string> Predict(Model& model, const tasks::TaskSpec& spec,
                                    const std::vector<tasks::SentenceExample>& examples,
                                    const data::Tokenizer& tokenizer, int max_seq_length, int batch_size) {
  const bool regression = spec.kind == tasks::TaskKind::kRegression;
  absl::StatusOr<std::vector<tasks::SequenceFeature>> features =
      tasks::SentenceFeatures(examples, tokenizer, max_seq_length);
  if (!features.ok()) return features.status();
  tasks::SetPlaceholderTargets(&*features, regression);
  std::string out;
  for (size_t first = 0; first < features->size(); first += batch_size) {
    std::vector<const tasks::SequenceFeature*> rows;
    for (size_t i = first; i < std::min(features->size(), first + batch_size); ++i) rows.push_back(&(*features)[i]);
    absl::StatusOr<Batch> batch = CollateTaskFeatures(rows, tokenizer.pad_id(), regression);
    if (!batch.ok()) return batch.status();
    absl::StatusOr<Losses> losses = model.Forward(*batch, StepOptions{});
    if (!losses.ok()) return losses.status();
    const std::span<const float> logits = model.logits(0);
    const size_t width = logits.size() / rows.size();
    for (size_t r = 0; r < rows.size(); ++r) {
      const std::vector<float> row(logits.begin() + r * width, logits.begin() + (r + 1) * width);
      const tasks::SentenceExample& x = examples[first + r];
      nlohmann::json j;
      j["index"] = first + r;
      j["guid"] = x.guid;
      j["line"] = x.line;
      if (!x.id.empty()) j["id"] = x.id;
      if (regression) {
        j["prediction"] = row[0];
        if (x.score) j["score"] = *x.score;
      } else {
        const std::vector<double> p = Softmax(row);
        j["prediction"] = spec.labels[std::max_element(p.begin(), p.end()) - p.begin()];
        nlohmann::json probabilities;
        for (size_t c = 0; c < p.size(); ++c) probabilities[spec.labels[c]] = p[c];
        j["probabilities"] = probabilities;
        if (x.label) j["label"] = spec.labels[*x.label];
      }
      j["logits"] = row;
      absl::StrAppend(&out, j.dump(), "\n");
    }
  }
  return out;
}

}  // namespace

int RunPredictCommand(const std::vector<std::string>& args) {
  const std::string run_dir = absl::GetFlag(FLAGS_run_dir);
  const std::vector<std::string> input = absl::GetFlag(FLAGS_input);
  if (!args.empty() || run_dir.empty() || input.size() != 1) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const int batch_size = OrCommandDefault(absl::GetFlag(FLAGS_batch_size), 8);
  if (batch_size < 1) return Fail(2, absl::InvalidArgumentError(absl::StrCat("--batch_size: must be positive, got ", batch_size)));
  absl::StatusOr<CheckpointModel> loaded = LoadCheckpointModel(run_dir);
  if (!loaded.ok()) return Fail(ExitStatus(loaded.status()), loaded.status());
  const TrainConfig& config = loaded->manifest.train_config();
  if (!config.has_finetune()) {
    return Fail(2, absl::FailedPreconditionError(absl::StrCat(loaded->checkpoint_dir,
                                                              " is a pretraining checkpoint, not a fine-tuned one: "
                                                              "use cloze fill-mask")));
  }
  const FinetuneConfig& finetune = config.finetune();
  if (!finetune.head().empty() && finetune.head() != HeadKindName(HeadKind::kSequenceClassification)) {
    return Fail(2, absl::UnimplementedError(absl::StrCat(
                       "cloze predict runs sentence tasks only; ", loaded->checkpoint_dir, " is a ", finetune.task(),
                       " run (", finetune.head(), " head), whose dev predictions `cloze finetune` wrote into its "
                       "run folder (predictions_dev.jsonl, or predictions.json for squad)")));
  }
  absl::StatusOr<tasks::TaskSpec> spec = FinetuneTaskSpec(finetune);
  if (!spec.ok()) return Fail(ExitStatus(spec.status()), spec.status());
  const std::string tokenizer_spec =
      absl::GetFlag(FLAGS_tokenizer).empty() ? finetune.tokenizer() : absl::GetFlag(FLAGS_tokenizer);
  absl::StatusOr<std::unique_ptr<data::Tokenizer>> tokenizer = data::LoadTokenizer(tokenizer_spec);
  if (!tokenizer.ok()) return Fail(2, tokenizer.status());
  if ((*tokenizer)->vocab_size() != loaded->model.config().vocab_size()) {
    return Fail(2, absl::FailedPreconditionError(absl::StrCat("the tokenizer ", tokenizer_spec, " has ",
                                                              (*tokenizer)->vocab_size(), " ids but the checkpoint ",
                                                              loaded->checkpoint_dir, " has vocab_size ",
                                                              loaded->model.config().vocab_size())));
  }
  absl::StatusOr<std::vector<tasks::SentenceExample>> examples = ReadFinetuneFile(finetune, *spec, input[0]);
  if (!examples.ok()) return Fail(ExitStatus(examples.status()), examples.status());
  std::fprintf(stderr, "cloze predict: %s (%s) on %zu examples of %s\n", loaded->checkpoint_dir.c_str(),
               finetune.task().c_str(), examples->size(), input[0].c_str());
  absl::StatusOr<std::string> lines =
      Predict(loaded->model, *spec, *examples, **tokenizer, finetune.max_seq_length(), batch_size);
  if (!lines.ok()) return Fail(ExitStatus(lines.status()), lines.status());
  const std::string output = absl::GetFlag(FLAGS_output);
  if (output.empty()) {
    std::fputs(lines->c_str(), stdout);
    return 0;
  }
  if (absl::Status s = util::WriteTextFileAtomically(output, *lines); !s.ok()) return Fail(1, s);
  std::fprintf(stderr, "cloze predict: wrote %s\n", output.c_str());
  return 0;
}

}  // namespace cloze::cli
