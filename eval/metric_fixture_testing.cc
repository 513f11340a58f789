#include "eval/metric_fixture_testing.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace cloze::eval::testing {
namespace {

constexpr char kFixturePath[] = "eval/testdata/metric_fixtures.json";

absl::StatusOr<nlohmann::json> Load() {
  std::ifstream file(kFixturePath);
  if (!file) {
    return absl::NotFoundError(absl::StrCat(kFixturePath, " not found (run under bazel test; ",
                                            "regenerate with eval/generate_metric_fixtures.py)"));
  }
  std::stringstream text;
  text << file.rdbuf();
  nlohmann::json parsed = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return absl::DataLossError(absl::StrCat(kFixturePath, " is not valid JSON"));
  }
  return parsed;
}

}  // namespace

absl::StatusOr<const nlohmann::json*> MetricFixture() {
  static const absl::StatusOr<nlohmann::json>* fixture =
      new absl::StatusOr<nlohmann::json>(Load());
  if (!fixture->ok()) return fixture->status();
  return &**fixture;
}

const nlohmann::json& MetricFixtureOrFail() {
  absl::StatusOr<const nlohmann::json*> fixture = MetricFixture();
  if (fixture.ok()) return **fixture;
  ADD_FAILURE() << fixture.status();
  static const nlohmann::json* empty = new nlohmann::json(nlohmann::json::object());
  return *empty;
}

double ReferenceValue(const nlohmann::json& value) {
  return value.is_null() ? std::numeric_limits<double>::quiet_NaN() : value.get<double>();
}

void ExpectMatchesReference(double actual, const nlohmann::json& reference,
                            const std::string& what) {
  const double expected = ReferenceValue(reference);
  if (std::isnan(expected)) {
    EXPECT_TRUE(std::isnan(actual)) << what << ": expected NaN, got " << actual;
  } else {
    EXPECT_NEAR(actual, expected, kReferenceTolerance) << what;
  }
}

}  // namespace cloze::eval::testing
