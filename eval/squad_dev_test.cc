// SQuAD metrics on the whole real SQuAD v1.1 dev set (10,570 questions, shared/data) against
// the official evaluate-v1.1.py / evaluate-v2.0.py logic, as generate_metric_fixtures.py ran it:
// the normalised text of every context paragraph, and exact match / F1 totals for rule-made
// predictions (the first gold answer, with an article and a full stop added, truncated, the
// first sentence of the context, empty, half missing), plus a v2.0 variant of the set in which
// every third question is unanswerable.
#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "data/testing/shared_data.h"
#include "eval/metric_fixture_testing.h"
#include "eval/squad_metrics.h"
#include "eval/squad_normalize.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cloze::eval {
namespace {

using testing::ExpectMatchesReference;

struct DevQuestion {
  SquadQuestion question;
  std::string context;
};

struct DevSet {
  std::vector<std::string> contexts;  // one per paragraph, in file order
  std::vector<DevQuestion> questions;  // in file order
};

// The dev set as shipped (.xz), unpacked by xz(1) (deploy/setup.sh installs xz-utils).
absl::StatusOr<std::string> ReadXz(const std::string& path) {
  FILE* pipe = popen(absl::StrCat("xz -dc '", path, "'").c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("cannot run xz -dc");
  std::string text;
  char buffer[1 << 16];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) text.append(buffer, n);
  if (const int status = pclose(pipe); status != 0) {
    return absl::InternalError(absl::StrCat("xz -dc ", path, " failed with status ", status,
                                            " (is xz-utils installed?)"));
  }
  return text;
}

absl::StatusOr<DevSet> LoadDevSet() {
  absl::StatusOr<std::string> path =
      data::testing::SharedDataPath("squad-v1.1/dev-v1.1.json.xz");
  if (!path.ok()) return path.status();
  absl::StatusOr<std::string> text = ReadXz(*path);
  if (!text.ok()) return text.status();
  const nlohmann::json dev = nlohmann::json::parse(*text, nullptr, false);
  if (dev.is_discarded()) return absl::DataLossError(absl::StrCat(*path, ": not valid JSON"));
  DevSet set;
  for (const nlohmann::json& article : dev.at("data")) {
    for (const nlohmann::json& paragraph : article.at("paragraphs")) {
      set.contexts.push_back(paragraph.at("context").get<std::string>());
      for (const nlohmann::json& qa : paragraph.at("qas")) {
        DevQuestion q;
        q.question.id = qa.at("id").get<std::string>();
        for (const nlohmann::json& answer : qa.at("answers")) {
          q.question.answers.push_back(answer.at("text").get<std::string>());
        }
        q.context = set.contexts.back();
        set.questions.push_back(std::move(q));
      }
    }
  }
  return set;
}

const DevSet& Dev() {
  static const DevSet* dev = [] {
    absl::StatusOr<DevSet> loaded = LoadDevSet();
    if (!loaded.ok()) ADD_FAILURE() << loaded.status();
    return new DevSet(loaded.ok() ? *std::move(loaded) : DevSet{});
  }();
  return *dev;
}

const nlohmann::json& SquadFixture() { return testing::MetricFixtureOrFail().at("squad"); }

std::string Fnv1a64Hex(const std::string& text) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (unsigned char byte : text) {
    hash ^= byte;
    hash *= 0x100000001B3ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

// squad_prediction() of generate_metric_fixtures.py; nullopt: no prediction for the question.
// Only ASCII delimiters are searched, so byte offsets here equal Python's character offsets.
std::optional<std::string> SquadPrediction(const std::string& rule, size_t index,
                                           const SquadQuestion& q, const std::string& context) {
  const auto truncated = [](const std::string& answer) {
    const size_t cut = answer.rfind(' ');
    return cut == std::string::npos ? std::string() : answer.substr(0, cut);
  };
  if (rule == "first_gold") return q.answers.at(0);
  if (rule == "article_punctuation") return "The " + q.answers.at(0) + ".";
  if (rule == "truncated") return q.answers.empty() ? "" : truncated(q.answers[0]);
  if (rule == "first_sentence") {
    const size_t end = context.find(". ");
    return end == std::string::npos ? context : context.substr(0, end + 1);
  }
  if (rule == "empty") return "";
  if (rule == "odd_missing") {
    if (index % 2 == 1) return std::nullopt;
    return q.answers.at(0);
  }
  if (rule == "oracle") return q.answers.empty() ? "" : q.answers[0];
  ADD_FAILURE() << "unknown rule " << rule;
  return std::nullopt;
}

TEST(SquadDevTest, NormalisesEveryContextAsTheOfficialScript) {
  const DevSet& dev = Dev();
  const nlohmann::json& hashes = SquadFixture().at("normalized_context_fnv1a64");
  ASSERT_EQ(dev.contexts.size(), hashes.size());
  ASSERT_EQ(dev.contexts.size(), 2067u);
  int mismatches = 0;
  for (size_t i = 0; i < dev.contexts.size(); ++i) {
    if (Fnv1a64Hex(NormalizeAnswer(dev.contexts[i])) != hashes[i].get<std::string>()) {
      if (++mismatches <= 3) {
        ADD_FAILURE() << "paragraph " << i << " normalises differently: "
                      << NormalizeAnswer(dev.contexts[i]).substr(0, 300);
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(SquadDevTest, V1TotalsMatchTheOfficialScript) {
  const DevSet& dev = Dev();
  const nlohmann::json& fixture = SquadFixture();
  ASSERT_EQ(dev.questions.size(), fixture.at("questions").get<size_t>());
  std::vector<SquadQuestion> questions;
  for (const DevQuestion& q : dev.questions) questions.push_back(q.question);
  ASSERT_EQ(fixture.at("v1").size(), 6u);
  for (const nlohmann::json& set : fixture.at("v1")) {
    const std::string rule = set.at("rule").get<std::string>();
    SquadPredictions predictions;
    for (size_t i = 0; i < dev.questions.size(); ++i) {
      std::optional<std::string> p =
          SquadPrediction(rule, i, questions[i], dev.questions[i].context);
      if (p.has_value()) predictions[questions[i].id] = *std::move(p);
    }
    EXPECT_EQ(static_cast<int64_t>(predictions.size()), set.at("answered").get<int64_t>()) << rule;
    for (const nlohmann::json& sample : set.at("sample")) {
      const size_t i = sample.at("index").get<size_t>();
      const SquadQuestion& q = questions.at(i);
      ASSERT_EQ(q.id, sample.at("id").get<std::string>());
      auto p = predictions.find(q.id);
      const std::string what = absl::StrCat(rule, " question ", i);
      if (sample.at("prediction").is_null()) {
        EXPECT_EQ(p, predictions.end()) << what;
        continue;
      }
      ASSERT_NE(p, predictions.end()) << what;
      ASSERT_EQ(p->second, sample.at("prediction").get<std::string>()) << what;
      double exact = 0, f1 = 0;
      for (const std::string& gold : q.answers) {
        exact = std::max(exact, SquadExactMatch(p->second, gold));
        f1 = std::max(f1, SquadV1F1(p->second, gold));
      }
      ExpectMatchesReference(exact, sample.at("exact_match"), what + " exact match");
      ExpectMatchesReference(f1, sample.at("f1"), what + " F1");
    }
    const SquadV1Result result = EvaluateSquadV1(questions, predictions).value();
    EXPECT_EQ(result.total, 10570);
    EXPECT_EQ(result.unanswered, result.total - static_cast<int64_t>(predictions.size()));
    ExpectMatchesReference(result.exact_match, set.at("exact_match"), rule + " exact match");
    ExpectMatchesReference(result.f1, set.at("f1"), rule + " F1");
  }
}

TEST(SquadDevTest, V2TotalsAndHasAnsNoAnsSplitMatchTheOfficialScript) {
  const DevSet& dev = Dev();
  const nlohmann::json& fixture = SquadFixture();
  const size_t stride = fixture.at("v2_unanswerable_stride").get<size_t>();
  std::vector<SquadQuestion> questions;
  for (size_t i = 0; i < dev.questions.size(); ++i) {
    questions.push_back(dev.questions[i].question);
    if (i % stride == 2) questions.back().answers.clear();
  }
  ASSERT_EQ(fixture.at("v2").size(), 4u);
  for (const nlohmann::json& set : fixture.at("v2")) {
    const std::string rule = set.at("rule").get<std::string>();
    SquadPredictions predictions;
    for (size_t i = 0; i < questions.size(); ++i) {
      predictions[questions[i].id] =
          SquadPrediction(rule, i, questions[i], dev.questions[i].context).value();
    }
    for (const nlohmann::json& sample : set.at("sample")) {
      const size_t i = sample.at("index").get<size_t>();
      const std::string what = absl::StrCat(rule, " question ", i);
      ASSERT_EQ(predictions.at(questions.at(i).id), sample.at("prediction").get<std::string>())
          << what;
      const SquadV2Result one = EvaluateSquadV2({questions[i]}, predictions).value();
      ExpectMatchesReference(one.all.exact / 100, sample.at("exact"), what + " exact");
      ExpectMatchesReference(one.all.f1 / 100, sample.at("f1"), what + " F1");
    }
    const SquadV2Result result = EvaluateSquadV2(questions, predictions).value();
    EXPECT_EQ(result.all.total, set.at("total").get<int64_t>()) << rule;
    ExpectMatchesReference(result.all.exact, set.at("exact"), rule + " exact");
    ExpectMatchesReference(result.all.f1, set.at("f1"), rule + " F1");
    ASSERT_TRUE(result.has_answer.has_value() && result.no_answer.has_value()) << rule;
    EXPECT_EQ(result.has_answer->total, set.at("HasAns_total").get<int64_t>()) << rule;
    ExpectMatchesReference(result.has_answer->exact, set.at("HasAns_exact"),
                           rule + " HasAns exact");
    ExpectMatchesReference(result.has_answer->f1, set.at("HasAns_f1"), rule + " HasAns F1");
    EXPECT_EQ(result.no_answer->total, set.at("NoAns_total").get<int64_t>()) << rule;
    ExpectMatchesReference(result.no_answer->exact, set.at("NoAns_exact"), rule + " NoAns exact");
    ExpectMatchesReference(result.no_answer->f1, set.at("NoAns_f1"), rule + " NoAns F1");
  }
}

}  // namespace
}  // namespace cloze::eval
