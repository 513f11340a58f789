// Extractive QA on SQuAD-format files ("squad": v1.1, "squad_v2"): one model input per
// window of a context, the span-extraction head, the official F1 and exact match per
// question after post-processing every window (trainer/finetune_task.h).
#include <algorithm>
#include <filesystem>
#include <limits>

#include "absl/strings/str_cat.h"
#include "eval/squad_metrics.h"
#include "nlohmann/json.hpp"
#include "tasks/squad.h"
#include "trainer/finetune/dev_forward.h"
#include "trainer/finetune/task_families.h"

namespace cloze::finetune {
namespace {

using OrderedJson = nlohmann::ordered_json;

// data_dir/name, or data_dir/name.xz when only that exists (shared data ships SQuAD as .xz).
std::string SquadFile(const FinetuneConfig& c, const std::string& named, const std::string& fallback) {
  const std::string path = absl::StrCat(c.data_dir(), "/", named.empty() ? fallback : named);
  if (!std::filesystem::exists(path) && std::filesystem::exists(path + ".xz")) return path + ".xz";
  return path;
}

int OrDefault(int value, int fallback) { return value > 0 ? value : fallback; }

// Questions as the model reads them: their windows.
struct SpanSplit {
  std::string name;  // the split's, or the file's path: what errors name
  std::vector<tasks::QaExample> questions;
  std::vector<tasks::SquadFeature> windows;
  std::vector<ModelInput> inputs;  // inputs[i] is windows[i]
};

class SpanTask final : public FinetuneTask {
 public:
  SpanTask(std::string name, std::unique_ptr<data::Tokenizer> tokenizer, std::string eval_split,
           const tasks::SquadFeatureOptions& features, const tasks::SquadPostprocessOptions& postprocess);

  // The train split's windows, and the eval split's (v1.1: every question answered).
  absl::Status AddSplits(const std::vector<tasks::QaExample>& train, std::vector<tasks::QaExample> dev);
  absl::StatusOr<TaskEvaluation> Evaluate(TrainingBackend& model, int batch_size, int64_t step) const override;
  absl::StatusOr<FilePredictions> PredictFile(TrainingBackend& model, const std::string& path,
                                              int batch_size) const override;

 private:
  absl::StatusOr<SpanSplit> Featurise(std::string name, std::vector<tasks::QaExample> questions) const;
  // Each question's prediction from its windows' logits; *loss: the mean loss.
  absl::StatusOr<std::vector<tasks::SquadPrediction>> Predict(TrainingBackend& model, const SpanSplit& split,
                                                              int batch_size, double* loss) const;
  // F1 then exact match, percentages, with the official script of the task's version.
  absl::StatusOr<std::vector<std::pair<std::string, double>>> Score(
      const std::vector<tasks::SquadPrediction>& predictions) const;
  std::vector<std::pair<std::string, std::string>> RenderFiles(
      const std::vector<tasks::SquadPrediction>& predictions) const;
  std::string PredictionsJsonl(const SpanSplit& split, const std::vector<tasks::SquadPrediction>& predictions) const;

  tasks::SquadFeatureOptions features_;
  tasks::SquadPostprocessOptions postprocess_;
  SpanSplit dev_;
};

SpanTask::SpanTask(std::string name, std::unique_ptr<data::Tokenizer> tokenizer, std::string eval_split,
                   const tasks::SquadFeatureOptions& features, const tasks::SquadPostprocessOptions& postprocess)
    : features_(features), postprocess_(postprocess) {
  spec_ = tasks::SquadTaskSpec(name);
  spec_.metrics = {"f1", "exact_match"};  // F1 first: "best on dev" maximises it
  head_ = {.kind = HeadKind::kSpanExtraction, .num_labels = 2};
  eval_split_ = std::move(eval_split);
  tokenizer_ = std::move(tokenizer);
  batch_layout_ = {.labels = LabelLayout::kSpan};
}

absl::Status SpanTask::AddSplits(const std::vector<tasks::QaExample>& train, std::vector<tasks::QaExample> dev) {
  if (!postprocess_.version_2_with_negative) {
    for (const tasks::QaExample& x : dev) {
      if (x.answers.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("question ", x.id, " of the ", eval_split_,
                                                       " split has no answer, which SQuAD v1.1 cannot score "
                                                       "(a SQuAD 2.0 file? --task=squad_v2)"));
      }
    }
  }
  absl::StatusOr<std::vector<tasks::SquadFeature>> train_windows = tasks::SquadFeatures(train, *tokenizer_, features_);
  if (!train_windows.ok()) return train_windows.status();
  train_ = ToModelInputs(*train_windows);
  train_size_ = static_cast<int64_t>(train_.size());
  absl::StatusOr<SpanSplit> featurised = Featurise(eval_split_, std::move(dev));
  if (!featurised.ok()) return featurised.status();
  dev_ = *std::move(featurised);
  return absl::OkStatus();
}

absl::StatusOr<SpanSplit> SpanTask::Featurise(std::string name, std::vector<tasks::QaExample> questions) const {
  absl::StatusOr<std::vector<tasks::SquadFeature>> windows = tasks::SquadFeatures(questions, *tokenizer_, features_);
  if (!windows.ok()) return windows.status();
  SpanSplit out{.name = std::move(name), .questions = std::move(questions), .windows = *std::move(windows)};
  out.inputs = ToModelInputs(out.windows);
  return out;
}

absl::StatusOr<std::vector<tasks::SquadPrediction>> SpanTask::Predict(TrainingBackend& model, const SpanSplit& split,
                                                                      int batch_size, double* loss) const {
  absl::StatusOr<DevOutputs> outputs =
      ForwardDev(model, split.inputs, batch_layout_, tokenizer_->pad_id(), batch_size, 2, split.name);
  if (!outputs.ok()) return outputs.status();
  *loss = outputs->loss;
  std::vector<tasks::SpanLogits> logits(split.inputs.size());
  for (size_t i = 0; i < split.inputs.size(); ++i) {
    logits[i].start = std::move(outputs->logits[0][i]);
    logits[i].end = std::move(outputs->logits[1][i]);
  }
  return tasks::PostprocessSquad(split.questions, split.windows, logits, postprocess_);
}

absl::StatusOr<TaskEvaluation> SpanTask::Evaluate(TrainingBackend& model, int batch_size, int64_t step) const {
  TaskEvaluation out;
  out.step = step;
  absl::StatusOr<std::vector<tasks::SquadPrediction>> predictions = Predict(model, dev_, batch_size, &out.loss);
  if (!predictions.ok()) return predictions.status();
  absl::StatusOr<std::vector<std::pair<std::string, double>>> metrics = Score(*predictions);
  if (!metrics.ok()) return absl::InvalidArgumentError(absl::StrCat(spec_.name, ": ", metrics.status().message()));
  out.metrics = *std::move(metrics);
  out.degenerate = std::all_of(predictions->begin(), predictions->end(), [&](const tasks::SquadPrediction& p) {
    return p.text == predictions->front().text;
  });
  out.prediction_files = RenderFiles(*predictions);
  return out;
}

absl::StatusOr<FilePredictions> SpanTask::PredictFile(TrainingBackend& model, const std::string& path,
                                                      int batch_size) const {
  tasks::ReadStats stats;
  absl::StatusOr<std::vector<tasks::QaExample>> questions = tasks::ReadSquad(path, {}, &stats);
  if (!questions.ok()) return questions.status();
  absl::StatusOr<SpanSplit> split = Featurise(path, *std::move(questions));
  if (!split.ok()) return absl::Status(split.status().code(), absl::StrCat(path, ": ", split.status().message()));
  double loss = 0;  // answers are not read here: nothing counted
  absl::StatusOr<std::vector<tasks::SquadPrediction>> predictions = Predict(model, *split, batch_size, &loss);
  if (!predictions.ok()) return predictions.status();
  return FilePredictions{.examples = static_cast<int64_t>(split->questions.size()),
                         .jsonl = PredictionsJsonl(*split, *predictions),
                         .files = RenderFiles(*predictions)};
}

absl::StatusOr<std::vector<std::pair<std::string, double>>> SpanTask::Score(
    const std::vector<tasks::SquadPrediction>& predictions) const {
  std::vector<eval::SquadQuestion> questions;
  eval::SquadPredictions texts;
  for (size_t i = 0; i < dev_.questions.size(); ++i) {
    eval::SquadQuestion q{.id = dev_.questions[i].id};
    for (const tasks::QaAnswer& a : dev_.questions[i].answers) q.answers.push_back(a.text);
    questions.push_back(std::move(q));
    texts[predictions[i].id] = predictions[i].text;
  }
  if (!postprocess_.version_2_with_negative) {
    absl::StatusOr<eval::SquadV1Result> v1 = eval::EvaluateSquadV1(questions, texts);
    if (!v1.ok()) return v1.status();
    return std::vector<std::pair<std::string, double>>{{"f1", v1->f1}, {"exact_match", v1->exact_match}};
  }
  absl::StatusOr<eval::SquadV2Result> v2 = eval::EvaluateSquadV2(questions, texts);
  if (!v2.ok()) return v2.status();
  return std::vector<std::pair<std::string, double>>{{"f1", v2->all.f1}, {"exact_match", v2->all.exact}};
}

// JSON has no infinity: the largest float stands for "no non-null answer".
float FiniteNullScoreDiff(const tasks::SquadPrediction& p) {
  return std::min(p.null_score_diff, std::numeric_limits<float>::max());
}

// predictions.json ({id: text}) and nbest_predictions.json ({id: [{text, probability,
// start_logit, end_logit}]}) in the original BERT's format, in question order; v2:
// null_odds.json ({id: null score - best non-null score}).
std::vector<std::pair<std::string, std::string>> SpanTask::RenderFiles(
    const std::vector<tasks::SquadPrediction>& predictions) const {
  OrderedJson answers = OrderedJson::object(), nbest = OrderedJson::object(), null_odds = OrderedJson::object();
  for (const tasks::SquadPrediction& p : predictions) {
    answers[p.id] = p.text;
    OrderedJson entries = OrderedJson::array();
    for (const tasks::SquadNbestEntry& e : p.nbest) {
      entries.push_back(OrderedJson{{"text", e.text},
                                    {"probability", e.probability},
                                    {"start_logit", e.start_logit},
                                    {"end_logit", e.end_logit}});
    }
    nbest[p.id] = std::move(entries);
    null_odds[p.id] = FiniteNullScoreDiff(p);
  }
  std::vector<std::pair<std::string, std::string>> files = {{"predictions.json", answers.dump(2) + "\n"},
                                                            {"nbest_predictions.json", nbest.dump(2) + "\n"}};
  if (postprocess_.version_2_with_negative) files.emplace_back("null_odds.json", null_odds.dump(2) + "\n");
  return files;
}

// One line per question: id, question, the gold answers' texts when it has any, the
// prediction, and (v2) its null_score_diff.
std::string SpanTask::PredictionsJsonl(const SpanSplit& split,
                                       const std::vector<tasks::SquadPrediction>& predictions) const {
  std::string text;
  for (size_t i = 0; i < split.questions.size(); ++i) {
    const tasks::QaExample& x = split.questions[i];
    OrderedJson j = {{"id", x.id}, {"question", x.question}};
    if (!x.answers.empty()) {
      OrderedJson answers = OrderedJson::array();
      for (const tasks::QaAnswer& a : x.answers) answers.push_back(a.text);
      j["answers"] = std::move(answers);
    }
    j["prediction"] = predictions[i].text;
    if (postprocess_.version_2_with_negative) j["null_score_diff"] = FiniteNullScoreDiff(predictions[i]);
    absl::StrAppend(&text, j.dump(), "\n");
  }
  return text;
}

}  // namespace

bool IsSpanTask(const std::string& task) { return task == "squad" || task == "squad_v2"; }

absl::StatusOr<std::unique_ptr<FinetuneTask>> MakeSpanTask(std::string name, std::unique_ptr<data::Tokenizer> tokenizer,
                                                           std::string eval_split,
                                                           const std::vector<tasks::QaExample>& train,
                                                           std::vector<tasks::QaExample> dev,
                                                           const tasks::SquadFeatureOptions& features,
                                                           const tasks::SquadPostprocessOptions& postprocess) {
  auto task = std::make_unique<SpanTask>(std::move(name), std::move(tokenizer), std::move(eval_split), features,
                                         postprocess);
  if (absl::Status s = task->AddSplits(train, std::move(dev)); !s.ok()) return s;
  return task;
}

absl::StatusOr<std::unique_ptr<FinetuneTask>> LoadSpanTask(const FinetuneConfig& c,
                                                           std::unique_ptr<data::Tokenizer> tokenizer,
                                                           TaskSplits splits) {
  const bool v2 = c.task() == "squad_v2";
  const tasks::SquadFeatureOptions features{.max_seq_length = c.max_seq_length(),
                                            .doc_stride = OrDefault(c.doc_stride(), 128),
                                            .max_query_length = OrDefault(c.max_query_length(), 64)};
  const tasks::SquadPostprocessOptions postprocess{.n_best_size = OrDefault(c.n_best_size(), 20),
                                                   .max_answer_length = OrDefault(c.max_answer_length(), 30),
                                                   .version_2_with_negative = v2,
                                                   .null_score_diff_threshold = c.null_score_diff_threshold()};
  const std::string eval_split = c.eval_split().empty() ? "dev" : c.eval_split();
  if (splits == TaskSplits::kNone) {
    return std::make_unique<SpanTask>(c.task(), std::move(tokenizer), eval_split, features, postprocess);
  }
  const std::string train_path = SquadFile(c, c.train_file(), v2 ? "train-v2.0.json" : "train-v1.1.json");
  const std::string dev_path = SquadFile(c, c.dev_file(), v2 ? "dev-v2.0.json" : "dev-v1.1.json");
  tasks::ReadStats stats;
  absl::StatusOr<std::vector<tasks::QaExample>> train = tasks::ReadSquad(train_path, ReadOptionsOf(c), &stats);
  if (!train.ok()) return train.status();
  absl::StatusOr<std::vector<tasks::QaExample>> dev = tasks::ReadSquad(dev_path, ReadOptionsOf(c), &stats);
  if (!dev.ok()) return dev.status();
  absl::StatusOr<std::unique_ptr<FinetuneTask>> task = MakeSpanTask(
      c.task(), std::move(tokenizer), eval_split, *train, *std::move(dev), features, postprocess);
  if (!task.ok()) {
    return absl::Status(task.status().code(), absl::StrCat(train_path, " / ", dev_path, ": ", task.status().message()));
  }
  (*task)->AddReadStats(stats);
  return task;
}

}  // namespace cloze::finetune
