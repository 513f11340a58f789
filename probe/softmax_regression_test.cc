// The linear probe against scikit-learn's LogisticRegression on the same rows: four
// overlapping Gaussian classes in six dimensions, fitted by both to convergence; weights,
// biases and test predictions must agree. Then early stopping and bad input.
#include "probe/softmax_regression.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cloze::probe {
namespace {

constexpr int kClasses = 4, kDim = 6;

// `rows` rows of kClasses Gaussian clusters (unit spread 1.5 around fixed random centres).
LabelledFeatures Clusters(int rows, uint32_t seed) {
  std::mt19937 centres_rng(7);
  std::uniform_real_distribution<float> centre(-2, 2);
  std::vector<float> centres(kClasses * kDim);
  for (float& c : centres) c = centre(centres_rng);
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0, 1.5);
  LabelledFeatures data{.dim = kDim};
  for (int i = 0; i < rows; ++i) {
    const int y = i % kClasses;
    data.y.push_back(y);
    for (int j = 0; j < kDim; ++j) data.x.push_back(centres[y * kDim + j] + noise(rng) + (j == 0 ? 3.0f : 0.0f));
  }
  return data;
}

nlohmann::json Rows(const LabelledFeatures& data) {
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t i = 0; i < data.rows(); ++i) {
    std::span<const float> row = data.row(i);
    rows.push_back(std::vector<double>(row.begin(), row.end()));
  }
  return rows;
}

// python3 (or Debian's /usr/bin/python3) with scikit-learn, or empty.
std::string PythonWithSklearn() {
  for (const char* python : {"python3", "/usr/bin/python3"}) {
    if (std::system((std::string(python) + " -c 'import sklearn' 2>/dev/null").c_str()) == 0) return python;
  }
  return "";
}

TEST(SoftmaxRegression, MatchesScikitLearnLogisticRegression) {
  const LabelledFeatures train = Clusters(400, 1), test = Clusters(200, 2);
  const double l2 = 1e-2;
  absl::StatusOr<SoftmaxRegression> fit =
      FitSoftmaxRegression(train, nullptr, kClasses, {.l2 = l2, .max_iterations = 1000, .gradient_tolerance = 1e-9});
  ASSERT_TRUE(fit.ok()) << fit.status();
  std::printf("L-BFGS: %d iterations\n", fit->iterations());

  const std::string python = PythonWithSklearn();
  ASSERT_FALSE(python.empty()) << "no python3 with scikit-learn (Debian: python3-sklearn, as deploy/setup.sh installs)";
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string problem_path = dir + "/problem.json", out_path = dir + "/sklearn.json";
  std::ofstream(problem_path) << nlohmann::json{{"l2", l2}, {"train_x", Rows(train)}, {"train_y", train.y},
                                                {"test_x", Rows(test)}};
  const std::string command =
      python + " probe/testing/sklearn_logistic_regression.py " + problem_path + " " + out_path;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const nlohmann::json reference = nlohmann::json::parse(std::ifstream(out_path));

  // The same optimum: weights and biases (softmax is invariant to a shift of all biases, which
  // the bias-free penalty leaves free, so compare them centred).
  // Our objective is evaluated in float (sgemm), so L-BFGS stops where float can no longer
  // see the loss fall: about 1e-3 of the largest weight from the exact optimum, and where
  // exactly depends on the CPU's rounding (on a Zen 3 without AVX-512 one intercept lands
  // 1.1e-3 away; scikit-learn's lbfgs and newton-cg agree with each other to 2e-5). Hence
  // 2e-3: tight enough to catch a wrong objective, loose enough for float.
  const double tolerance = 2e-3;
  const std::vector<double>& theta = fit->parameters();
  double largest = 0;
  for (int c = 0; c < kClasses; ++c)
    for (int j = 0; j < kDim; ++j) largest = std::max(largest, std::abs(theta[c * kDim + j]));
  for (int c = 0; c < kClasses; ++c) {
    for (int j = 0; j < kDim; ++j) {
      EXPECT_NEAR(theta[c * kDim + j], reference["coef"][c][j].get<double>(), tolerance * largest)
          << "class " << c << " feature " << j << ", scikit-learn " << reference["version"];
    }
  }
  double ours_mean = 0, theirs_mean = 0;
  for (int c = 0; c < kClasses; ++c) {
    ours_mean += theta[kClasses * kDim + c] / kClasses;
    theirs_mean += reference["intercept"][c].get<double>() / kClasses;
  }
  for (int c = 0; c < kClasses; ++c) {
    EXPECT_NEAR(theta[kClasses * kDim + c] - ours_mean, reference["intercept"][c].get<double>() - theirs_mean,
                tolerance * largest);
  }
  const std::vector<int32_t> ours = fit->Predict(test.x);
  const std::vector<int32_t> theirs = reference["test_predictions"].get<std::vector<int32_t>>();
  ASSERT_EQ(ours.size(), theirs.size());
  int agree = 0, right = 0, right_theirs = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    agree += ours[i] == theirs[i];
    right += ours[i] == test.y[i];
    right_theirs += theirs[i] == test.y[i];
  }
  EXPECT_GE(agree, static_cast<int>(ours.size()) - 1);  // a row on the boundary may go either way
  EXPECT_NEAR(right, right_theirs, 1);
  EXPECT_GT(right, 0.5 * ours.size());  // the problem is learnable: far above chance (0.25)
}

TEST(SoftmaxRegression, EarlyStoppingKeepsTheBestDevAccuracy) {
  const LabelledFeatures train = Clusters(200, 3), dev = Clusters(100, 4);
  absl::StatusOr<SoftmaxRegression> converged =
      FitSoftmaxRegression(train, nullptr, kClasses, {.l2 = 1e-6, .max_iterations = 500});
  absl::StatusOr<SoftmaxRegression> stopped =
      FitSoftmaxRegression(train, &dev, kClasses, {.l2 = 1e-6, .max_iterations = 500, .patience = 5});
  ASSERT_TRUE(converged.ok() && stopped.ok());
  EXPECT_GE(stopped->Accuracy(dev), converged->Accuracy(dev));
  EXPECT_LE(stopped->iterations(), converged->iterations());
  // A pure function of its inputs.
  absl::StatusOr<SoftmaxRegression> again =
      FitSoftmaxRegression(train, &dev, kClasses, {.l2 = 1e-6, .max_iterations = 500, .patience = 5});
  EXPECT_EQ(again->parameters(), stopped->parameters());
}

TEST(SoftmaxRegression, StandardizeColumnsUsesTheFitRowsStatistics) {
  LabelledFeatures fit{.dim = 2, .x = {1, 5, 3, 5}, .y = {0, 1}};
  LabelledFeatures other{.dim = 2, .x = {2, 7}, .y = {0}};
  LabelledFeatures* others[] = {&other};
  StandardizeColumns(fit, others);
  EXPECT_THAT(fit.x, ::testing::ElementsAre(-1, 0, 1, 0));
  EXPECT_THAT(other.x, ::testing::ElementsAre(0, 2));  // constant column: only centred
}

TEST(SoftmaxRegression, BadInputIsInvalidArgument) {
  LabelledFeatures data{.dim = 2, .x = {1, 2, 3, 4}, .y = {0, 1}};
  EXPECT_TRUE(FitSoftmaxRegression(data, nullptr, 2, {}).ok());
  EXPECT_EQ(FitSoftmaxRegression(data, nullptr, 1, {}).status().code(), absl::StatusCode::kInvalidArgument);
  LabelledFeatures bad_class = data;
  bad_class.y[1] = 2;
  EXPECT_THAT(std::string(FitSoftmaxRegression(bad_class, nullptr, 2, {}).status().message()),
              ::testing::HasSubstr("train row 1: class 2 outside [0, 2)"));
  LabelledFeatures ragged = data;
  ragged.x.pop_back();
  EXPECT_FALSE(FitSoftmaxRegression(ragged, nullptr, 2, {}).ok());
  LabelledFeatures other_dim{.dim = 1, .x = {1}, .y = {0}};
  EXPECT_FALSE(FitSoftmaxRegression(data, &other_dim, 2, {}).ok());
  EXPECT_FALSE(FitSoftmaxRegression(LabelledFeatures{.dim = 2}, nullptr, 2, {}).ok());
}

}  // namespace
}  // namespace cloze::probe
