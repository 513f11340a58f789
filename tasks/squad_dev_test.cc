// SQuAD features and post-processing on ALL 10,570 questions of the v1.1 dev set, with both
// tokenizers (ALBERT's SentencePiece, BERT's WordPiece), at the usual settings
// (max_seq_length 384, doc_stride 128, max_query_length 64):
//   - every feature fits, and every context token is max-context in exactly one window;
//   - in every window that holds the labelled answer, the context cut by the start and end
//     tokens' byte spans contains the gold answer after SQuAD's official normalisation, and
//     equals it for at least the recorded fraction of questions (the rest: answers that
//     start or end inside a token, e.g. "1" of "1990s");
//   - "perfect" logits (a peak at the labelled start and end) make PostprocessSquad return
//     that same cut for every question whose answer fits max_answer_length (30 tokens; 13
//     ALBERT and 9 BERT labelled spans are longer), and for every question without it.
#include <algorithm>
#include <cctype>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tasks/squad.h"
#include "tasks/squad_features.h"
#include "tasks/squad_postprocess.h"
#include "tasks/testing/test_files.h"
#include "tasks/testing/test_tokenizers.h"

namespace cloze::tasks {
namespace {

using testing::SharedFile;
using testing::SharedTokenizer;

// The official SQuAD evaluation's normalize_answer: lower case, no punctuation, no
// articles, whitespace collapsed. ASCII only (case and punctuation of other scripts are
// kept), which is enough to compare two cuts of the same context.
std::string NormalizeAnswer(const std::string& text) {
  std::string kept;
  for (char c : text) {
    if (std::ispunct(static_cast<unsigned char>(c))) continue;
    kept += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::istringstream words(kept);
  std::string word, out;
  while (words >> word) {
    if (word == "a" || word == "an" || word == "the") continue;
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

TEST(NormalizeAnswer, AsTheOfficialScript) {
  EXPECT_EQ(NormalizeAnswer("The  Denver Broncos."), "denver broncos");
  EXPECT_EQ(NormalizeAnswer("an apple, a pear"), "apple pear");
  EXPECT_EQ(NormalizeAnswer("Theory"), "theory");
}

// Recorded floors (of 10,570 questions; Hugging Face's fast tokenizers reach about 99%).
struct DevCase {
  std::string tokenizer;
  size_t min_exact;                  // labelled cut == gold answer after normalisation
  size_t min_predicted_exact_at_30;  // perfect-logit prediction == gold, max_answer_length 30
};

class SquadDevTest : public ::testing::TestWithParam<DevCase> {};

TEST_P(SquadDevTest, LabelledSpansAndPerfectLogitsGiveTheGoldAnswer) {
  const std::string path = SharedFile("squad-v1.1/dev-v1.1.json.xz");
  ASSERT_FALSE(path.empty());
  ReadStats stats;
  absl::StatusOr<std::vector<QaExample>> examples = ReadSquad(path, {}, &stats);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 10570u);
  const auto tokenizer = SharedTokenizer(GetParam().tokenizer);
  ASSERT_NE(tokenizer, nullptr);
  const SquadFeatureOptions options;
  absl::StatusOr<std::vector<SquadFeature>> features =
      SquadFeatures(*examples, *tokenizer, options);
  ASSERT_TRUE(features.ok()) << features.status();

  std::vector<std::vector<const SquadFeature*>> by_example(examples->size());
  for (const SquadFeature& f : *features)
    by_example[static_cast<size_t>(f.example_index)].push_back(&f);

  size_t answered = 0, exact = 0, multi_window = 0, max_context_flags = 0, context_tokens = 0;
  std::vector<std::string> labelled_cut(examples->size());  // the max-context window's cut
  std::vector<int> labelled_tokens(examples->size());       // its length in tokens
  std::vector<SpanLogits> logits;
  logits.reserve(features->size());
  const std::string* counted_context = nullptr;
  size_t tokens_of_context = 0;
  std::vector<std::string> inexact_samples;
  for (size_t e = 0; e < examples->size(); ++e) {
    const QaExample& example = (*examples)[e];
    const std::string gold = NormalizeAnswer(example.answers.front().text);
    ASSERT_FALSE(by_example[e].empty()) << example.id;
    multi_window += by_example[e].size() > 1;
    if (counted_context == nullptr || *counted_context != example.context) {
      counted_context = &example.context;
      tokens_of_context = tokenizer->EncodeWithOffsets(example.context).size();
    }
    context_tokens += tokens_of_context;
    bool holds_answer = false;
    std::string cut;
    for (const SquadFeature* f : by_example[e]) {
      const size_t n = f->input_ids.size();
      ASSERT_LE(n, static_cast<size_t>(options.max_seq_length)) << example.id;
      ASSERT_EQ(f->token_type_ids.size(), n);
      ASSERT_EQ(f->attention_mask.size(), n);
      ASSERT_EQ(f->token_begin.size(), n);
      ASSERT_EQ(f->token_end.size(), n);
      ASSERT_EQ(f->max_context.size(), n);
      max_context_flags += std::count(f->max_context.begin(), f->max_context.end(), true);
      SpanLogits perfect{std::vector<float>(n, 0.0f), std::vector<float>(n, 0.0f)};
      perfect.start[f->start_position] = perfect.end[f->end_position] = 10.0f;
      logits.push_back(std::move(perfect));
      if (f->start_position == 0) continue;
      ASSERT_GT(f->start_position, 0) << example.id;
      ASSERT_LE(f->start_position, f->end_position) << example.id;
      ASSERT_GE(f->token_begin[f->start_position], 0) << example.id;
      ASSERT_GE(f->token_begin[f->end_position], 0) << example.id;
      const int64_t begin = f->token_begin[f->start_position];
      const int64_t end = f->token_end[f->end_position];
      const std::string window_cut = example.context.substr(begin, end - begin);
      EXPECT_NE(NormalizeAnswer(window_cut).find(gold), std::string::npos)
          << GetParam().tokenizer << " " << example.id << ": cut \"" << window_cut << "\" lacks \""
          << example.answers.front().text << "\"";
      if (holds_answer) {
        EXPECT_EQ(window_cut, cut) << example.id;  // every window cuts the same tokens
      }
      holds_answer = true;
      cut = window_cut;
      if (f->max_context[f->start_position]) {
        labelled_cut[e] = window_cut;
        labelled_tokens[e] = f->end_position - f->start_position + 1;
      }
    }
    ASSERT_TRUE(holds_answer) << example.id << ": no window holds the answer";
    ++answered;
    if (NormalizeAnswer(cut) == gold) {
      ++exact;
    } else if (inexact_samples.size() < 8) {
      inexact_samples.push_back("\"" + example.answers.front().text + "\" cut as \"" + cut + "\"");
    }
  }
  // Each context token is judged in exactly one window.
  EXPECT_EQ(max_context_flags, context_tokens);
  EXPECT_GT(multi_window, 0u);  // some contexts need several windows

  // Perfect logits, at the usual max_answer_length of 30 tokens: the prediction is the
  // labelled cut unless the labelled span is longer (those answers cannot be predicted).
  // Without that limit it is the labelled cut for every question.
  for (const int max_answer_length : {30, 100000}) {
    SquadPostprocessOptions postprocess;
    postprocess.max_answer_length = max_answer_length;
    absl::StatusOr<std::vector<SquadPrediction>> predictions =
        PostprocessSquad(*examples, *features, logits, postprocess);
    ASSERT_TRUE(predictions.ok()) << predictions.status();
    size_t predicted_exact = 0, too_long = 0;
    for (size_t e = 0; e < examples->size(); ++e) {
      const SquadPrediction& p = (*predictions)[e];
      ASSERT_EQ(p.id, (*examples)[e].id);
      predicted_exact +=
          NormalizeAnswer(p.text) == NormalizeAnswer((*examples)[e].answers.front().text);
      ASSERT_FALSE(labelled_cut[e].empty())
          << (*examples)[e].id << ": no max-context window labelled";
      if (labelled_tokens[e] > max_answer_length) {
        ++too_long;
        continue;
      }
      EXPECT_EQ(p.text, labelled_cut[e]) << (*examples)[e].id;
    }
    std::cerr << GetParam().tokenizer << ", max_answer_length " << max_answer_length
              << ": perfect-logit predictions == gold (normalised) for " << predicted_exact << " / "
              << examples->size() << "; " << too_long << " labelled spans longer\n";
    if (max_answer_length == 30) {
      EXPECT_GE(predicted_exact, GetParam().min_predicted_exact_at_30);
    } else {
      EXPECT_EQ(too_long, 0u);
      EXPECT_EQ(predicted_exact, exact);
    }
  }

  std::cerr << GetParam().tokenizer << ": " << features->size() << " features, " << multi_window
            << " questions with several windows; labelled cut == gold (normalised) for " << exact
            << " / " << answered << " = " << static_cast<double>(exact) / answered << "; e.g.\n";
  for (const std::string& sample : inexact_samples) std::cerr << "  " << sample << "\n";
  EXPECT_GE(exact, GetParam().min_exact);
}

INSTANTIATE_TEST_SUITE_P(BothTokenizers, SquadDevTest,
                         ::testing::Values(DevCase{"albert", 10540, 10527},  // 99.72%, 99.59%
                                           DevCase{"bert", 10538, 10529}),   // 99.70%, 99.61%
                         [](const ::testing::TestParamInfo<DevCase>& info) {
                           return info.param.tokenizer;
                         });

}  // namespace
}  // namespace cloze::tasks
