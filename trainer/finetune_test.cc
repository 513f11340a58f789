// The fine-tuning pieces of the loop that the CLI test cannot pin down: the dev metrics and
// the degenerate flag on scripted logits, initialisation by tensor name from a checkpoint
// and a Hugging Face folder (missing, unexpected, vocabulary checks), and the task head on both backends.
#include <filesystem>
#include <sstream>

#include "absl/strings/str_format.h"
#include "checkpoint/safetensors.h"
#include "data/read_file.h"
#include "data/testing/shared_data.h"
#include "gtest/gtest.h"
#include "model/model.h"
#include "model/model_config.h"
#include "nlohmann/json.hpp"
#include "trainer/finetune/task_families.h"
#include "trainer/finetune_init.h"
#include "trainer/finetune_task.h"
#include "trainer/testing/eval_only_backend.h"
#include "trainer/training_backend.h"

namespace cloze {
namespace {

// A backend whose logits are scripted per example, in the order the dev split is read.
class ScriptedBackend final : public testing::EvalOnlyBackend {
 public:
  explicit ScriptedBackend(std::vector<std::vector<float>> logits) : logits_(std::move(logits)) {}

  std::vector<float> LogitsFor(const Batch& batch, int output) override {
    EXPECT_EQ(output, 0);
    std::vector<float> out;
    for (int r = 0; r < batch.batch_size; ++r, ++next_) out.insert(out.end(), logits_[next_].begin(), logits_[next_].end());
    return out;
  }

 private:
  std::vector<std::vector<float>> logits_;
  size_t next_ = 0;
};

std::unique_ptr<data::Tokenizer> AlbertTokenizer() {
  absl::StatusOr<std::string> path = data::testing::SharedDataPath("vocab/albert-base-v2-spiece.model");
  EXPECT_TRUE(path.ok()) << path.status();
  absl::StatusOr<std::unique_ptr<data::Tokenizer>> t = data::LoadTokenizer("spm-albert:" + *path);
  EXPECT_TRUE(t.ok()) << t.status();
  return *std::move(t);
}

// A task of `labels.size()` dev examples (one token each) with those gold labels (or, for
// regression, those scores).
std::unique_ptr<FinetuneTask> ClassificationTask(std::vector<std::string> metrics, const std::vector<int>& labels,
                                                 const std::vector<float>& scores = {}) {
  tasks::TaskSpec spec;
  spec.name = "test";
  spec.kind = scores.empty() ? tasks::TaskKind::kPair : tasks::TaskKind::kRegression;
  if (scores.empty()) spec.labels = {"no", "yes"};
  spec.metrics = std::move(metrics);
  std::vector<tasks::SequenceFeature> dev;
  std::vector<tasks::SentenceExample> dev_examples;
  for (size_t i = 0; i < labels.size(); ++i) {
    tasks::SequenceFeature f;
    f.example_index = i;
    f.input_ids = {2, 100 + static_cast<int>(i), 3};
    f.token_type_ids = {0, 0, 0};
    f.attention_mask = {1, 1, 1};
    dev_examples.push_back({.guid = "dev-" + std::to_string(i), .line = static_cast<int64_t>(i + 2)});
    if (scores.empty()) {
      f.label = labels[i];
      dev_examples.back().label = labels[i];
    } else {
      f.score = scores[i];
      dev_examples.back().score = scores[i];
    }
    dev.push_back(f);
  }
  return finetune::MakeSentenceTask(FinetuneConfig(), std::move(spec), AlbertTokenizer(), "dev", dev, dev,
                                    std::move(dev_examples));
}

// The evaluation's predictions file, one JSON object per line.
std::vector<nlohmann::json> PredictionLines(const TaskEvaluation& e, const std::string& name) {
  std::vector<nlohmann::json> lines;
  for (const auto& [file, text] : e.prediction_files) {
    if (file != name) continue;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

TEST(EvaluateTask, ScoresTheTaskMetricsOnArgmaxPredictions) {
  // gold 1 1 0 0 1; predicted 1 0 0 1 1 (argmax of each row): TP 2, FN 1, FP 1, TN 1.
  const std::unique_ptr<FinetuneTask> task = ClassificationTask({"f1", "accuracy", "matthews_corrcoef"}, {1, 1, 0, 0, 1});
  ScriptedBackend model({{0, 1}, {2, 1}, {3, -1}, {0, 0.5}, {-1, 1}});
  absl::StatusOr<TaskEvaluation> e = task->Evaluate(model, /*batch_size=*/2, /*step=*/7);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->step, 7);
  std::vector<std::string> predicted;
  for (const nlohmann::json& line : PredictionLines(*e, "predictions_dev.jsonl")) predicted.push_back(line["prediction"]);
  EXPECT_EQ(predicted, (std::vector<std::string>{"yes", "no", "no", "yes", "yes"}));
  ASSERT_EQ(e->metrics.size(), 3u);
  EXPECT_EQ(e->metrics[0].first, "f1");
  EXPECT_DOUBLE_EQ(e->metrics[0].second, 2.0 * 2 / (2 * 2 + 1 + 1));
  EXPECT_DOUBLE_EQ(e->metrics[1].second, 3.0 / 5);
  EXPECT_DOUBLE_EQ(e->metrics[2].second, (2.0 * 1 - 1.0 * 1) / std::sqrt(3.0 * 3 * 2 * 2));
  EXPECT_DOUBLE_EQ(e->primary(), e->metrics[0].second);
  EXPECT_DOUBLE_EQ(e->loss, 0.5);
  EXPECT_FALSE(e->degenerate);
  EXPECT_EQ(TaskEvaluationJson(*e), absl::StrFormat("{\"step\": 7, \"loss\": 0.5, \"f1\": %.17g, \"accuracy\": 0.59999999999999998, "
                                                    "\"matthews_corrcoef\": %.17g, \"degenerate\": false}",
                                                    e->metrics[0].second, e->metrics[2].second));

  const std::string dir = ::testing::TempDir() + "/predictions";
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(WriteTaskPredictions(dir, e->prediction_files).ok());
  absl::StatusOr<std::string> text = data::ReadFile(dir + "/predictions_dev.jsonl");
  ASSERT_TRUE(text.ok());
  // Each line: the example's index in its split and, for classification, the softmax.
  EXPECT_NE(text->find("{\"guid\":\"dev-1\",\"index\":1,\"label\":\"yes\",\"line\":3,\"logits\":[2.0,1.0],"
                       "\"prediction\":\"no\",\"probabilities\":{\"no\":0.7310585786300049,\"yes\":0.2689414213699951}}"),
            std::string::npos)
      << *text;
}

TEST(EvaluateTask, FlagsOneClassForEveryExampleAsDegenerate) {
  const std::unique_ptr<FinetuneTask> task = ClassificationTask({"accuracy", "matthews_corrcoef"}, {1, 0, 0, 1});
  ScriptedBackend model({{0, 1}, {0, 2}, {-1, 1}, {0, 3}});
  absl::StatusOr<TaskEvaluation> e = task->Evaluate(model, 3, 1);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->degenerate);
  EXPECT_DOUBLE_EQ(e->metrics[0].second, 0.5);
  EXPECT_DOUBLE_EQ(e->metrics[1].second, 0.0);  // sklearn's value for a constant prediction
  EXPECT_NE(TaskEvaluationJson(*e).find("\"degenerate\": true"), std::string::npos);
}

TEST(EvaluateTask, RegressionReportsPearsonAndSpearman) {
  const std::unique_ptr<FinetuneTask> task =
      ClassificationTask({"pearson", "spearman"}, {0, 0, 0, 0}, {1.0f, 2.0f, 3.0f, 5.0f});
  EXPECT_EQ(task->head().num_labels, 1);
  ScriptedBackend model({{1.0f}, {3.0f}, {2.0f}, {4.0f}});
  absl::StatusOr<TaskEvaluation> e = task->Evaluate(model, 4, 1);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->metrics[0].first, "pearson");
  EXPECT_NEAR(e->metrics[0].second, 0.8315218406, 1e-9);  // scipy.stats.pearsonr
  EXPECT_DOUBLE_EQ(e->metrics[1].second, 0.8);             // ranks 1 3 2 4 against 1 2 3 4
  EXPECT_FALSE(e->degenerate);
  ScriptedBackend constant({{2.0f}, {2.0f}, {2.0f}, {2.0f}});
  e = task->Evaluate(constant, 4, 1);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->degenerate);
  EXPECT_EQ(e->metrics[0].second, 0.0);  // undefined (scipy: NaN): reported as 0
}

constexpr char kHfFolder[] = "interop/testdata/albert_for_pretraining";

TEST(FinetuneInit, ResolvesScratchAHuggingFaceFolderAndRefusesAnythingElse) {
  EXPECT_EQ(ResolveFinetuneInit("scratch")->kind, FinetuneInit::Kind::kScratch);
  absl::StatusOr<FinetuneInit> hf = ResolveFinetuneInit(kHfFolder);
  ASSERT_TRUE(hf.ok()) << hf.status();
  EXPECT_EQ(hf->kind, FinetuneInit::Kind::kHuggingFace);
  absl::StatusOr<ModelConfig> config = InitModelConfig(*hf);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->vocab_size(), 120);
  const absl::Status missing = ResolveFinetuneInit("/no/such/init").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("/no/such/init"), std::string::npos) << missing;
}

TEST(FinetuneInit, HuggingFaceFolderLoadsTheEncoderAndChecksTheVocabulary) {
  const FinetuneInit hf = *ResolveFinetuneInit(kHfFolder);
  const ModelConfig config = *InitModelConfig(hf);
  const HeadSpec head{.kind = HeadKind::kSequenceClassification, .num_labels = 3};
  absl::StatusOr<Model> model = Model::Create(config, head);
  ASSERT_TRUE(model.ok()) << model.status();
  model->InitializeParameters(4);
  std::vector<std::string> events;
  auto event = [&](const std::string& m) { events.push_back(m); };
  const absl::Status vocab = LoadInitialParameters(hf, config, model->layout(), head, 4, 30000, model->parameters(), event);
  EXPECT_EQ(vocab.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(vocab.message().find("120"), std::string::npos) << vocab;
  EXPECT_NE(vocab.message().find("30000"), std::string::npos) << vocab;
  ASSERT_TRUE(LoadInitialParameters(hf, config, model->layout(), head, 4, 120, model->parameters(), event).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].find("missing (from the seed): classifier.weight, classifier.bias"), std::string::npos) << events[0];
  EXPECT_NE(events[0].find("predictions."), std::string::npos) << events[0];
}

// A pretraining checkpoint's model.safetensors into a classifier's layout, by name.
TEST(FinetuneInit, CheckpointTensorsLoadByNameIntoTheTaskLayout) {
  const ModelConfig config = *InitModelConfig(*ResolveFinetuneInit(kHfFolder));
  Model pretrained(config);
  pretrained.InitializeParameters(1);
  const std::string dir = ::testing::TempDir() + "/checkpoint";
  std::filesystem::create_directories(dir);
  SafetensorsWriter writer;
  for (const NamedTensor& t : pretrained.layout().tensors) {
    writer.AddFloat32(t.name, t.shape, pretrained.parameters().subspan(t.offset, t.size));
  }
  ASSERT_TRUE(writer.WriteFile(dir + "/model.safetensors").ok());
  const FinetuneInit init{.kind = FinetuneInit::Kind::kCheckpoint, .path = dir};

  const HeadSpec head{.kind = HeadKind::kSequenceClassification, .num_labels = 2};
  Model task = *Model::Create(config, head);
  task.InitializeParameters(9);
  Model seed_only = *Model::Create(config, head);
  seed_only.InitializeParameters(9);
  std::vector<std::string> events;
  ASSERT_TRUE(LoadInitialParameters(init, config, task.layout(), head, 9, 120, task.parameters(),
                                    [&](const std::string& m) { events.push_back(m); })
                  .ok());
  for (const NamedTensor& t : task.layout().tensors) {
    const bool classifier = t.name.rfind("classifier.", 0) == 0;
    const std::span<const float> got = task.parameters().subspan(t.offset, t.size);
    std::span<const float> want = seed_only.parameters().subspan(t.offset, t.size);
    if (!classifier) {
      const NamedTensor* source = nullptr;
      for (const NamedTensor& s : pretrained.layout().tensors) {
        if (s.name == t.name) source = &s;
      }
      ASSERT_NE(source, nullptr) << t.name;
      want = std::span<const float>(pretrained.parameters()).subspan(source->offset, source->size);
    }
    EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin())) << t.name;
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].find("missing (from the seed): classifier.weight, classifier.bias;"), std::string::npos) << events[0];
  EXPECT_NE(events[0].find("unexpected (ignored): predictions."), std::string::npos) << events[0];

  const absl::Status vocab = LoadInitialParameters(init, config, task.layout(), head, 9, 30000, task.parameters(),
                                                   [](const std::string&) {});
  EXPECT_EQ(vocab.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(vocab.message().find("vocabulary of 120 ids but the tokenizer has 30000"), std::string::npos) << vocab;
}

// The task's head on both backends; without a usable GPU the CUDA one fails cleanly, naming
// the device (the GPU heads themselves are checked against the CPU in model:gpu_heads_test).
TEST(MakeTrainingBackend, BuildsTheTaskHead) {
  TrainConfig config;
  *config.mutable_model() = *InitModelConfig(*ResolveFinetuneInit(kHfFolder));
  config.mutable_finetune()->set_num_labels(2);
  absl::StatusOr<std::unique_ptr<TrainingBackend>> gpu =
      MakeTrainingBackend({.kind = TrainingDevice::Kind::kCuda}, config, true);
  if (!gpu.ok()) {
    EXPECT_EQ(gpu.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(gpu.status().message().find("--device=cuda"), std::string::npos) << gpu.status();
  } else {
    EXPECT_EQ((*gpu)->head().spec().kind, HeadKind::kSequenceClassification);
  }
  absl::StatusOr<std::unique_ptr<TrainingBackend>> cpu =
      MakeTrainingBackend({.kind = TrainingDevice::Kind::kCpu}, config, /*with_optimizer=*/false);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_EQ((*cpu)->head().spec().kind, HeadKind::kSequenceClassification);
  EXPECT_EQ((*cpu)->head().spec().num_labels, 2);
}

}  // namespace
}  // namespace cloze
