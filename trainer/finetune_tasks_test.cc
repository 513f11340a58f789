// The task families' evaluation on hand-made sentences and questions and on GLUE files, with
// the real ALBERT tokenizer and logits made from the batch itself: an oracle that puts the
// highest logit on the gold label (and a wrong tag on every token the loss ignores, so a word
// read anywhere but at its first sub-token would count as wrong), and constant models.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "data/testing/shared_data.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tasks/conllu.h"
#include "trainer/finetune/task_families.h"
#include "trainer/testing/eval_only_backend.h"

namespace cloze {
namespace {

std::unique_ptr<data::Tokenizer> AlbertTokenizer() {
  absl::StatusOr<std::string> path = data::testing::SharedDataPath("vocab/albert-base-v2-spiece.model");
  EXPECT_TRUE(path.ok()) << path.status();
  absl::StatusOr<std::unique_ptr<data::Tokenizer>> t = data::LoadTokenizer("spm-albert:" + *path);
  EXPECT_TRUE(t.ok()) << t.status();
  return *std::move(t);
}

const std::string* File(const TaskEvaluation& e, const std::string& name) {
  for (const auto& [file, text] : e.prediction_files) {
    if (file == name) return &text;
  }
  return nullptr;
}

// Per-token logits (B·T, tags): +1 on `tag_of(label)`, -1 elsewhere.
class TaggingBackend final : public testing::EvalOnlyBackend {
 public:
  TaggingBackend(int tags, std::function<int(int32_t label)> tag_of) : tags_(tags), tag_of_(std::move(tag_of)) {}
  std::vector<float> LogitsFor(const Batch& batch, int output) override {
    EXPECT_EQ(output, 0);
    EXPECT_EQ(batch.labels.size(), static_cast<size_t>(batch.batch_size) * batch.seq_len);
    std::vector<float> logits(batch.labels.size() * tags_, -1.0f);
    for (size_t cell = 0; cell < batch.labels.size(); ++cell) logits[cell * tags_ + tag_of_(batch.labels[cell])] = 1.0f;
    return logits;
  }

 private:
  int tags_;
  std::function<int(int32_t)> tag_of_;
};

std::unique_ptr<FinetuneTask> PosTask() {
  const std::vector<tasks::TaggedSentence> dev = {
      {.id = "s1", .line = 3, .words = {"The", "unbelievably", "longwinded", "dog"}, .tags = {"DET", "ADV", "ADJ", "NOUN"}},
      {.id = "s2", .line = 9, .words = {"Dogs", "run"}, .tags = {"NOUN", "VERB"}},
  };
  // max_seq_length 5: windows of 3 tokens, so s1 spans several windows.
  absl::StatusOr<std::unique_ptr<FinetuneTask>> task = finetune::MakeTaggingTask(
      tasks::TaggingTaskSpec("test-upos", tasks::UniversalPosTags()), AlbertTokenizer(), "dev", dev, dev, 5,
      tasks::PosTagSet::kUpos);
  EXPECT_TRUE(task.ok()) << task.status();
  return *std::move(task);
}

// Per-sequence logits (B, classes): +1 on the gold class (class 0 when unlabelled), -1
// elsewhere.
class SequenceBackend final : public testing::EvalOnlyBackend {
 public:
  explicit SequenceBackend(int classes) : classes_(classes) {}
  std::vector<float> LogitsFor(const Batch& batch, int output) override {
    EXPECT_EQ(output, 0);
    std::vector<float> logits(static_cast<size_t>(batch.batch_size) * classes_, -1.0f);
    for (int b = 0; b < batch.batch_size; ++b) logits[b * classes_ + std::max(0, batch.labels[b])] = 1.0f;
    return logits;
  }

 private:
  int classes_;
};

size_t Lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

FinetuneConfig GlueConfig(const std::string& task, const std::string& data_dir) {
  FinetuneConfig c;
  c.set_task(task);
  c.set_data_dir(data_dir);
  c.set_tokenizer("spm-albert:" + *data::testing::SharedDataPath("vocab/albert-base-v2-spiece.model"));
  c.set_max_seq_length(32);
  return c;
}

TEST(SentenceTask, MnliIsScoredOnBothDevSplitsAndItsTestSplitsGiveSubmissionFiles) {
  absl::StatusOr<std::unique_ptr<FinetuneTask>> task = LoadFinetuneTask(GlueConfig("MNLI", "tasks/testdata/glue"), 30000);
  ASSERT_TRUE(task.ok()) << task.status();
  SequenceBackend oracle(3);
  absl::StatusOr<TaskEvaluation> e = (*task)->Evaluate(oracle, /*batch_size=*/4, /*step=*/1);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(e->metrics.size(), 2u);
  EXPECT_EQ(e->metrics[0], (std::pair<std::string, double>("accuracy", 1.0)));
  EXPECT_EQ(e->metrics[1], (std::pair<std::string, double>("accuracy_mismatched", 1.0)));
  ASSERT_NE(File(*e, "predictions_dev_matched.jsonl"), nullptr);
  ASSERT_NE(File(*e, "predictions_dev_mismatched.jsonl"), nullptr);

  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> files = (*task)->PredictUnlabelled(oracle, 4);
  ASSERT_TRUE(files.ok()) << files.status();
  std::vector<std::string> names;
  for (const auto& [name, text] : *files) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"predictions_test_matched.jsonl", "glue_submission/MNLI-m.tsv",
                                             "predictions_test_mismatched.jsonl", "glue_submission/MNLI-mm.tsv"}));
  // Unlabelled inputs predict class 0 here, MNLI's "contradiction"; one line per test line.
  const std::string& submission = (*files)[1].second;
  EXPECT_EQ(submission.substr(0, submission.find('\n', submission.find('\n') + 1) + 1),
            "index\tprediction\n0\tcontradiction\n");
  EXPECT_EQ(Lines(submission), Lines((*files)[0].second) + 1);
}

TEST(SentenceTask, NamedEvalSplitAloneAndNoSubmissionWithoutTestFile) {
  FinetuneConfig c = GlueConfig("MNLI", "tasks/testdata/glue");
  c.set_eval_split("dev_mismatched");
  absl::StatusOr<std::unique_ptr<FinetuneTask>> task = LoadFinetuneTask(c, 30000);
  ASSERT_TRUE(task.ok()) << task.status();
  SequenceBackend oracle(3);
  absl::StatusOr<TaskEvaluation> e = (*task)->Evaluate(oracle, 4, 1);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(e->metrics.size(), 1u);
  EXPECT_NE(File(*e, "predictions_dev_mismatched.jsonl"), nullptr);
}

TEST(SentenceTask, RealRteTestSplitGivesItsSubmissionFile) {
  absl::StatusOr<std::string> test_file = data::testing::SharedDataPath("glue/RTE/test.tsv");
  ASSERT_TRUE(test_file.ok()) << test_file.status();
  const std::string rte_dir = test_file->substr(0, test_file->rfind('/'));
  absl::StatusOr<std::unique_ptr<FinetuneTask>> task = LoadFinetuneTask(GlueConfig("RTE", rte_dir), 30000);
  ASSERT_TRUE(task.ok()) << task.status();
  SequenceBackend oracle(2);
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> files = (*task)->PredictUnlabelled(oracle, 64);
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[1].first, "glue_submission/RTE.tsv");
  EXPECT_EQ(Lines((*files)[1].second), 3001u);  // RTE's test.tsv: 3,000 pairs and the header
  EXPECT_EQ((*files)[1].second.substr(0, 30), "index\tprediction\n0\tentailment\n");
}

int TagIndex(const FinetuneTask& task, const std::string& tag) { return *task.spec().LabelIndex(tag); }

TEST(TaggingTask, ScoresWordsAtTheirFirstSubToken) {
  const std::unique_ptr<FinetuneTask> task = PosTask();
  EXPECT_EQ(task->head().kind, HeadKind::kTokenClassification);
  EXPECT_EQ(task->head().num_labels, 17);
  EXPECT_GT(task->train_size(), 2);  // s1 needs more than one window
  const int x = TagIndex(*task, "X");
  TaggingBackend oracle(17, [x](int32_t label) { return label >= 0 ? label : x; });
  absl::StatusOr<TaskEvaluation> e = task->Evaluate(oracle, /*batch_size=*/2, /*step=*/3);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(e->metrics.size(), 1u);
  EXPECT_EQ(e->metrics[0].first, "accuracy");
  EXPECT_DOUBLE_EQ(e->metrics[0].second, 1.0);
  EXPECT_DOUBLE_EQ(e->loss, 0.5);
  EXPECT_FALSE(e->degenerate);
  const std::string* jsonl = File(*e, "predictions_dev.jsonl");
  ASSERT_NE(jsonl, nullptr);
  std::istringstream in(*jsonl);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const nlohmann::json first = nlohmann::json::parse(line);
  EXPECT_EQ(first["id"], "s1");
  EXPECT_EQ(first["line"], 3);
  EXPECT_EQ(first["words"].size(), 4u);
  EXPECT_EQ(first["predictions"], first["tags"]);
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(nlohmann::json::parse(line)["predictions"], nlohmann::json({"NOUN", "VERB"}));
  EXPECT_FALSE(std::getline(in, line));
}

TEST(TaggingTask, OneTagForEveryWordIsDegenerate) {
  const std::unique_ptr<FinetuneTask> task = PosTask();
  const int noun = TagIndex(*task, "NOUN");
  TaggingBackend constant(17, [noun](int32_t) { return noun; });
  absl::StatusOr<TaskEvaluation> e = task->Evaluate(constant, 4, 1);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_DOUBLE_EQ(e->metrics[0].second, 2.0 / 6);
  EXPECT_TRUE(e->degenerate);
}

// Start and end logits (B, T) each: 10 at the position `pick` chooses from the batch's
// gold start/end, 0 elsewhere.
class SpanBackend final : public testing::EvalOnlyBackend {
 public:
  explicit SpanBackend(std::function<int32_t(int32_t gold)> pick) : EvalOnlyBackend(2), pick_(std::move(pick)) {}
  std::vector<float> LogitsFor(const Batch& batch, int output) override {
    const int b_size = batch.batch_size, t_size = batch.seq_len;
    EXPECT_EQ(batch.labels.size(), 2u * b_size);
    std::vector<float> logits(static_cast<size_t>(b_size) * t_size, 0.0f);
    for (int b = 0; b < b_size; ++b) {
      const int32_t position = pick_(batch.labels[output * b_size + b]);
      if (position >= 0 && position < t_size) logits[b * t_size + position] = 10.0f;
    }
    return logits;
  }

 private:
  std::function<int32_t(int32_t)> pick_;
};

tasks::QaExample Question(std::string id, std::string question, std::string context, std::string answer) {
  tasks::QaExample x{.id = std::move(id), .question = std::move(question), .context = std::move(context)};
  if (answer.empty()) {
    x.is_impossible = true;
  } else {
    const int64_t at = static_cast<int64_t>(x.context.find(answer));
    x.answers.push_back({.text = answer, .char_start = at, .byte_start = at});
  }
  return x;
}

std::unique_ptr<FinetuneTask> SquadTask(bool v2) {
  std::vector<tasks::QaExample> dev = {
      Question("q1", "Where did the cat sit?", "The cat sat on the mat near the door.", "on the mat"),
      Question("q2", "What is the capital of France?", "Paris is the capital of France.", "Paris"),
  };
  if (v2) dev.push_back(Question("q3", "Who painted the mat?", "The cat sat on the mat near the door.", ""));
  absl::StatusOr<std::unique_ptr<FinetuneTask>> task = finetune::MakeSpanTask(
      v2 ? "squad_v2" : "squad", AlbertTokenizer(), "dev", dev, dev,
      {.max_seq_length = 64, .doc_stride = 16, .max_query_length = 16},
      {.n_best_size = 5, .max_answer_length = 10, .version_2_with_negative = v2});
  EXPECT_TRUE(task.ok()) << task.status();
  return *std::move(task);
}

TEST(SpanTask, TheGoldSpansScoreFullMarksAndWriteTheOfficialFiles) {
  const std::unique_ptr<FinetuneTask> task = SquadTask(/*v2=*/false);
  EXPECT_EQ(task->head().kind, HeadKind::kSpanExtraction);
  SpanBackend oracle([](int32_t gold) { return gold; });
  absl::StatusOr<TaskEvaluation> e = task->Evaluate(oracle, 1, 5);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(e->metrics.size(), 2u);
  EXPECT_EQ(e->metrics[0].first, "f1");  // the primary metric
  EXPECT_EQ(e->metrics[1].first, "exact_match");
  EXPECT_DOUBLE_EQ(e->metrics[0].second, 100.0);
  EXPECT_DOUBLE_EQ(e->metrics[1].second, 100.0);
  EXPECT_DOUBLE_EQ(e->loss, 0.5);
  EXPECT_FALSE(e->degenerate);
  ASSERT_NE(File(*e, "predictions.json"), nullptr);
  const nlohmann::json answers = nlohmann::json::parse(*File(*e, "predictions.json"));
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_NE(answers["q1"].get<std::string>().find("on the mat"), std::string::npos) << answers;
  EXPECT_NE(answers["q2"].get<std::string>().find("Paris"), std::string::npos) << answers;
  const nlohmann::json nbest = nlohmann::json::parse(*File(*e, "nbest_predictions.json"));
  ASSERT_FALSE(nbest["q1"].empty());
  EXPECT_EQ(nbest["q1"][0]["text"], answers["q1"]);
  EXPECT_TRUE(nbest["q1"][0].contains("probability"));
  EXPECT_EQ(File(*e, "null_odds.json"), nullptr);  // v2 only
}

TEST(SpanTask, V2NullAnswersEverywhereAreDegenerate) {
  const std::unique_ptr<FinetuneTask> task = SquadTask(/*v2=*/true);
  SpanBackend null_everywhere([](int32_t) { return 0; });  // [CLS]
  absl::StatusOr<TaskEvaluation> e = task->Evaluate(null_everywhere, 2, 1);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->degenerate);
  EXPECT_NEAR(e->metrics[0].second, 100.0 / 3, 1e-9);  // only the unanswerable q3 is right
  EXPECT_NEAR(e->metrics[1].second, 100.0 / 3, 1e-9);
  const nlohmann::json answers = nlohmann::json::parse(*File(*e, "predictions.json"));
  EXPECT_EQ(answers, nlohmann::json({{"q1", ""}, {"q2", ""}, {"q3", ""}}));
  ASSERT_NE(File(*e, "null_odds.json"), nullptr);
  EXPECT_EQ(nlohmann::json::parse(*File(*e, "null_odds.json")).size(), 3u);

  SpanBackend oracle([](int32_t gold) { return gold; });
  e = task->Evaluate(oracle, 2, 1);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_DOUBLE_EQ(e->metrics[0].second, 100.0);
  EXPECT_FALSE(e->degenerate);
}

TEST(SpanTask, AV1DevQuestionWithoutAnswerIsRefused) {
  std::vector<tasks::QaExample> dev = {Question("q9", "Who?", "Nobody knows.", "")};
  absl::Status s = finetune::MakeSpanTask("squad", AlbertTokenizer(), "dev", dev, dev, {.max_seq_length = 64}, {})
                       .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("q9"), std::string::npos) << s;
  EXPECT_NE(s.message().find("squad_v2"), std::string::npos) << s;
}

// A file of `text` in the test's temporary folder.
std::string WriteTempFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// Logits from the input ids alone, never the labels, so that a file's predictions can be
// compared with the dev evaluation's on the same text: each token's (or, per_token false,
// each row's first token's) `width` logits, a hash of its id spread over them.
class InputHashBackend final : public testing::EvalOnlyBackend {
 public:
  InputHashBackend(int outputs, int width) : EvalOnlyBackend(outputs), width_(width) {}
  std::vector<float> LogitsFor(const Batch& batch, int output) override {
    std::vector<float> logits(batch.input_ids.size() * width_);
    for (size_t cell = 0; cell < batch.input_ids.size(); ++cell) {
      for (int k = 0; k < width_; ++k) {
        const uint32_t h = static_cast<uint32_t>(batch.input_ids[cell]) * 2654435761u + 40503u * (k + 7 * output);
        logits[cell * width_ + k] = static_cast<float>(h % 1000) / 100.0f;
      }
    }
    return logits;
  }

 private:
  int width_;
};

// PosTask's dev sentences at the lines PosTask names (3 and 9), with `upos` in column 4.
std::string PosConllu(const std::vector<std::string>& upos) {
  const std::vector<std::string> words = {"The", "unbelievably", "longwinded", "dog", "Dogs", "run"};
  std::string text = "# sent_id = s1\n# text = The unbelievably longwinded dog\n";
  for (int w = 0; w < 6; ++w) {
    if (w == 4) text += "\n# sent_id = s2\n";
    const int id = w < 4 ? w + 1 : w - 3;
    text += absl::StrCat(id, "\t", words[w], "\t_\t", upos[w], "\t_\t_\t_\t_\t_\t_\n");
  }
  return text + "\n";
}

TEST(TaggingTask, PredictsAFileAsItsDevPredictionsWithOrWithoutTags) {
  const std::unique_ptr<FinetuneTask> task = PosTask();
  InputHashBackend model(1, 17);
  absl::StatusOr<TaskEvaluation> e = task->Evaluate(model, 2, 1);
  ASSERT_TRUE(e.ok()) << e.status();
  const std::string tagged = WriteTempFile("tagged.conllu", PosConllu({"DET", "ADV", "ADJ", "NOUN", "NOUN", "VERB"}));
  absl::StatusOr<FilePredictions> p = task->PredictFile(model, tagged, 3);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->examples, 2);
  EXPECT_EQ(p->jsonl, *File(*e, "predictions_dev.jsonl"));
  EXPECT_TRUE(p->files.empty());

  // "_" tags: the same predictions, and no "tags" in the lines.
  const std::string untagged = WriteTempFile("untagged.conllu", PosConllu(std::vector<std::string>(6, "_")));
  absl::StatusOr<FilePredictions> bare = task->PredictFile(model, untagged, 3);
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(std::count(bare->jsonl.begin(), bare->jsonl.end(), '\n'), 2);
  std::istringstream theirs(p->jsonl), mine(bare->jsonl);
  std::string a, b;
  while (std::getline(theirs, a) && std::getline(mine, b)) {
    nlohmann::json with_tags = nlohmann::json::parse(a), without = nlohmann::json::parse(b);
    EXPECT_FALSE(without.contains("tags")) << b;
    with_tags.erase("tags");
    EXPECT_EQ(with_tags, without);
  }

  // A broken line: named with its file and line.
  const std::string broken = WriteTempFile("broken.conllu", "1\tThe\t_\tDET\n");
  absl::Status s = task->PredictFile(model, broken, 3).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(broken + ":1:"), std::string::npos) << s;
}

// SquadTask's dev questions as a SQuAD file, answers left out unless `answers`.
std::string SquadJson(bool answers) {
  nlohmann::json q1 = {{"id", "q1"}, {"question", "Where did the cat sit?"}};
  nlohmann::json q2 = {{"id", "q2"}, {"question", "What is the capital of France?"}};
  if (answers) {
    q1["answers"] = {{{"text", "on the mat"}, {"answer_start", 12}}};
    q2["answers"] = {{{"text", "Paris"}, {"answer_start", 0}}};
  }
  const nlohmann::json file = {
      {"data",
       {{{"title", "t"},
         {"paragraphs",
          {{{"context", "The cat sat on the mat near the door."}, {"qas", {q1}}},
           {{"context", "Paris is the capital of France."}, {"qas", {q2}}}}}}}}};
  return file.dump(1);
}

TEST(SpanTask, PredictsAFileAsItsDevPredictionsWithOrWithoutAnswers) {
  const std::unique_ptr<FinetuneTask> task = SquadTask(/*v2=*/false);
  InputHashBackend model(2, 1);
  absl::StatusOr<TaskEvaluation> e = task->Evaluate(model, 2, 1);
  ASSERT_TRUE(e.ok()) << e.status();
  for (bool answers : {true, false}) {
    const std::string path = WriteTempFile(answers ? "answered.json" : "bare.json", SquadJson(answers));
    absl::StatusOr<FilePredictions> p = task->PredictFile(model, path, 3);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->examples, 2);
    ASSERT_EQ(p->files.size(), 2u);
    EXPECT_EQ(p->files[0], e->prediction_files[0]);  // predictions.json
    EXPECT_EQ(p->files[1], e->prediction_files[1]);  // nbest_predictions.json
    const nlohmann::json answers_of_q1 = nlohmann::json::parse(*File(*e, "predictions.json"))["q1"];
    std::istringstream lines(p->jsonl);
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));
    const nlohmann::json first = nlohmann::json::parse(line);
    EXPECT_EQ(first["id"], "q1");
    EXPECT_EQ(first["question"], "Where did the cat sit?");
    EXPECT_EQ(first["prediction"], answers_of_q1);
    EXPECT_EQ(first.contains("answers"), answers) << line;
    if (answers) EXPECT_EQ(first["answers"], nlohmann::json({"on the mat"}));
  }
  const std::string not_json = WriteTempFile("not_squad.json", "{\"data\": [\n oops\n");
  absl::Status s = task->PredictFile(model, not_json, 3).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(not_json + ":2: not valid JSON"), std::string::npos) << s;
}

TEST(LoadFinetuneTaskForPrediction, ReadsOnlyWhatTheSpecNeeds) {
  FinetuneConfig c = GlueConfig("squad", "/no/such/folder");
  absl::StatusOr<std::unique_ptr<FinetuneTask>> squad = LoadFinetuneTaskForPrediction(c, 30000);
  ASSERT_TRUE(squad.ok()) << squad.status();
  EXPECT_EQ((*squad)->head().kind, HeadKind::kSpanExtraction);
  EXPECT_EQ((*squad)->train_size(), 0);
  c.set_task("pos");  // UPOS: the universal tags, no file needed
  absl::StatusOr<std::unique_ptr<FinetuneTask>> pos = LoadFinetuneTaskForPrediction(c, 30000);
  ASSERT_TRUE(pos.ok()) << pos.status();
  EXPECT_EQ((*pos)->spec().name, "pos-upos");
  EXPECT_EQ((*pos)->head().num_labels, 17);
  c.set_tag_set("xpos");  // the splits' own tags: their files are needed
  EXPECT_EQ(LoadFinetuneTaskForPrediction(c, 30000).status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<std::unique_ptr<FinetuneTask>> rte =
      LoadFinetuneTaskForPrediction(GlueConfig("RTE", "/no/such"), 30000);
  ASSERT_TRUE(rte.ok()) << rte.status();
  EXPECT_EQ((*rte)->head().num_labels, 2);
  EXPECT_EQ(LoadFinetuneTaskForPrediction(GlueConfig("RTE", "/no/such"), 1000).status().code(),
            absl::StatusCode::kFailedPrecondition);  // the tokenizer's vocabulary is the model's
}

}  // namespace
}  // namespace cloze
