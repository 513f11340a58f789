// Test-only access to testdata/metric_fixtures.json, the reference values that
// generate_metric_fixtures.py computed with scikit-learn, scipy, numpy and the official SQuAD
// scripts' logic.
#ifndef CLOZE_EVAL_METRIC_FIXTURE_TESTING_H_
#define CLOZE_EVAL_METRIC_FIXTURE_TESTING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace cloze::eval::testing {

// Every comparison with the Python references uses this absolute tolerance.
inline constexpr double kReferenceTolerance = 1e-9;

// The parsed fixture (read once). An error names the file when it is missing or malformed.
absl::StatusOr<const nlohmann::json*> MetricFixture();

// The fixture for tests: on error, records a gtest failure with the status and returns an
// empty object (whose .at() then throws, ending the test).
const nlohmann::json& MetricFixtureOrFail();

// A reference number: the fixture writes NaN (which JSON cannot hold) as null.
double ReferenceValue(const nlohmann::json& value);

// EXPECT_NEAR within kReferenceTolerance, or EXPECT_TRUE(isnan) when the reference is null.
void ExpectMatchesReference(double actual, const nlohmann::json& reference,
                            const std::string& what);

}  // namespace cloze::eval::testing

#endif  // CLOZE_EVAL_METRIC_FIXTURE_TESTING_H_
