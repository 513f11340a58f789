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

class SpanTask final : public FinetuneTask {
 public:
  SpanTask() = default;

  absl::Status Init(std::string name, std::unique_ptr<data::Tokenizer> tokenizer, std::string eval_split,
                    const std::vector<tasks::QaExample>& train, std::vector<tasks::QaExample> dev,
                    const tasks::SquadFeatureOptions& features, const tasks::SquadPostprocessOptions& postprocess);
  absl::StatusOr<TaskEvaluation> Evaluate(TrainingBackend& model, int batch_size, int64_t step) const override;

 private:
  // F1 then exact match, percentages, with the official script of the task's version.
  absl::StatusOr<std::vector<std::pair<std::string, double>>> Score(
      const std::vector<tasks::SquadPrediction>& predictions) const;
  void RenderFiles(const std::vector<tasks::SquadPrediction>& predictions, TaskEvaluation& out) const;

  tasks::SquadPostprocessOptions postprocess_;
  std::vector<tasks::QaExample> dev_examples_;
  std::vector<tasks::SquadFeature> dev_features_;
  std::vector<ModelInput> dev_;  // dev_[i] is dev_features_[i]
};

absl::Status SpanTask::Init(std::string name, std::unique_ptr<data::Tokenizer> tokenizer, std::string eval_split,
                            const std::vector<tasks::QaExample>& train, std::vector<tasks::QaExample> dev,
                            const tasks::SquadFeatureOptions& features,
                            const tasks::SquadPostprocessOptions& postprocess) {
  spec_ = tasks::SquadTaskSpec(name);
  spec_.metrics = {"f1", "exact_match"};  // F1 first: "best on dev" maximises it
  head_ = {.kind = HeadKind::kSpanExtraction, .num_labels = 2};
  eval_split_ = std::move(eval_split);
  tokenizer_ = std::move(tokenizer);
  batch_layout_ = {.labels = LabelLayout::kSpan};
  postprocess_ = postprocess;
  if (!postprocess_.version_2_with_negative) {
    for (const tasks::QaExample& x : dev) {
      if (x.answers.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("question ", x.id, " of the ", eval_split_,
                                                       " split has no answer, which SQuAD v1.1 cannot score "
                                                       "(a SQuAD 2.0 file? --task=squad_v2)"));
      }
    }
  }
  absl::StatusOr<std::vector<tasks::SquadFeature>> train_windows = tasks::SquadFeatures(train, *tokenizer_, features);
  if (!train_windows.ok()) return train_windows.status();
  train_ = ToModelInputs(*train_windows);
  train_size_ = static_cast<int64_t>(train_.size());
  absl::StatusOr<std::vector<tasks::SquadFeature>> dev_windows = tasks::SquadFeatures(dev, *tokenizer_, features);
  if (!dev_windows.ok()) return dev_windows.status();
  dev_features_ = *std::move(dev_windows);
  dev_ = ToModelInputs(dev_features_);
  dev_examples_ = std::move(dev);
  return absl::OkStatus();
}

absl::StatusOr<TaskEvaluation> SpanTask::Evaluate(TrainingBackend& model, int batch_size, int64_t step) const {
  absl::StatusOr<DevOutputs> outputs =
      ForwardDev(model, dev_, batch_layout_, tokenizer_->pad_id(), batch_size, 2, eval_split_);
  if (!outputs.ok()) return outputs.status();
  std::vector<tasks::SpanLogits> logits(dev_.size());
  for (size_t i = 0; i < dev_.size(); ++i) {
    logits[i].start = std::move(outputs->logits[0][i]);
    logits[i].end = std::move(outputs->logits[1][i]);
  }
  absl::StatusOr<std::vector<tasks::SquadPrediction>> predictions =
      tasks::PostprocessSquad(dev_examples_, dev_features_, logits, postprocess_);
  if (!predictions.ok()) return predictions.status();
  TaskEvaluation out;
  out.step = step;
  out.loss = outputs->loss;
  absl::StatusOr<std::vector<std::pair<std::string, double>>> metrics = Score(*predictions);
  if (!metrics.ok()) return absl::InvalidArgumentError(absl::StrCat(spec_.name, ": ", metrics.status().message()));
  out.metrics = *std::move(metrics);
  out.degenerate = std::all_of(predictions->begin(), predictions->end(), [&](const tasks::SquadPrediction& p) {
    return p.text == predictions->front().text;
  });
  RenderFiles(*predictions, out);
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, double>>> SpanTask::Score(
    const std::vector<tasks::SquadPrediction>& predictions) const {
  std::vector<eval::SquadQuestion> questions;
  eval::SquadPredictions texts;
  for (size_t i = 0; i < dev_examples_.size(); ++i) {
    eval::SquadQuestion q{.id = dev_examples_[i].id};
    for (const tasks::QaAnswer& a : dev_examples_[i].answers) q.answers.push_back(a.text);
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

// predictions.json ({id: text}) and nbest_predictions.json ({id: [{text, probability,
// start_logit, end_logit}]}) in the original BERT's format, in question order; v2:
// null_odds.json ({id: null score - best non-null score}; no non-null answer, an infinite
// difference, is written as the largest float: JSON has no infinity).
void SpanTask::RenderFiles(const std::vector<tasks::SquadPrediction>& predictions, TaskEvaluation& out) const {
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
    null_odds[p.id] = std::min(p.null_score_diff, std::numeric_limits<float>::max());
  }
  out.prediction_files.emplace_back("predictions.json", answers.dump(2) + "\n");
  out.prediction_files.emplace_back("nbest_predictions.json", nbest.dump(2) + "\n");
  if (postprocess_.version_2_with_negative) out.prediction_files.emplace_back("null_odds.json", null_odds.dump(2) + "\n");
}

}  // namespace

bool IsSpanTask(const std::string& task) { return task == "squad" || task == "squad_v2"; }

absl::StatusOr<std::unique_ptr<FinetuneTask>> MakeSpanTask(std::string name, std::unique_ptr<data::Tokenizer> tokenizer,
                                                           std::string eval_split,
                                                           const std::vector<tasks::QaExample>& train,
                                                           std::vector<tasks::QaExample> dev,
                                                           const tasks::SquadFeatureOptions& features,
                                                           const tasks::SquadPostprocessOptions& postprocess) {
  auto task = std::make_unique<SpanTask>();
  if (absl::Status s = task->Init(std::move(name), std::move(tokenizer), std::move(eval_split), train, std::move(dev),
                                  features, postprocess);
      !s.ok()) {
    return s;
  }
  return task;
}

absl::StatusOr<std::unique_ptr<FinetuneTask>> LoadSpanTask(const FinetuneConfig& c,
                                                           std::unique_ptr<data::Tokenizer> tokenizer) {
  const bool v2 = c.task() == "squad_v2";
  const std::string train_path = SquadFile(c, c.train_file(), v2 ? "train-v2.0.json" : "train-v1.1.json");
  const std::string dev_path = SquadFile(c, c.dev_file(), v2 ? "dev-v2.0.json" : "dev-v1.1.json");
  tasks::ReadStats stats;
  absl::StatusOr<std::vector<tasks::QaExample>> train = tasks::ReadSquad(train_path, ReadOptionsOf(c), &stats);
  if (!train.ok()) return train.status();
  absl::StatusOr<std::vector<tasks::QaExample>> dev = tasks::ReadSquad(dev_path, ReadOptionsOf(c), &stats);
  if (!dev.ok()) return dev.status();
  const tasks::SquadFeatureOptions features{.max_seq_length = c.max_seq_length(),
                                            .doc_stride = OrDefault(c.doc_stride(), 128),
                                            .max_query_length = OrDefault(c.max_query_length(), 64)};
  const tasks::SquadPostprocessOptions postprocess{.n_best_size = OrDefault(c.n_best_size(), 20),
                                                   .max_answer_length = OrDefault(c.max_answer_length(), 30),
                                                   .version_2_with_negative = v2,
                                                   .null_score_diff_threshold = c.null_score_diff_threshold()};
  const std::string eval_split = c.eval_split().empty() ? "dev" : c.eval_split();
  absl::StatusOr<std::unique_ptr<FinetuneTask>> task = MakeSpanTask(
      c.task(), std::move(tokenizer), eval_split, *train, *std::move(dev), features, postprocess);
  if (!task.ok()) {
    return absl::Status(task.status().code(), absl::StrCat(train_path, " / ", dev_path, ": ", task.status().message()));
  }
  (*task)->AddReadStats(stats);
  return task;
}

}  // namespace cloze::finetune
