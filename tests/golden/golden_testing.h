// What the golden tests share: reading a fixture's tensors into a model, and the error
// measures and tolerances every golden comparison uses.
#ifndef CLOZE_TESTS_GOLDEN_GOLDEN_TESTING_H_
#define CLOZE_TESTS_GOLDEN_GOLDEN_TESTING_H_

#include <algorithm>
#include <cmath>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "model/model.h"
#include "checkpoint/safetensors.h"

namespace cloze::golden {

// ‖actual − expected‖ / ‖expected‖ in double.
inline double RelativeError(std::span<const float> actual, std::span<const float> expected) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff += (double(actual[i]) - expected[i]) * (double(actual[i]) - expected[i]);
    norm += double(expected[i]) * expected[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30);
}

inline double Norm(std::span<const float> values) {
  double sum = 0;
  for (float v : values) sum += double(v) * v;
  return std::sqrt(sum);
}

// Below this a reference gradient is rounding noise around an exact zero (a key bias, a
// span head's bias); real gradients in the fixtures are above 1e-4.
inline constexpr double kZeroGradientNorm = 1e-6;
inline constexpr double kLossTolerance = 1e-5;      // relative
inline constexpr double kLogitsTolerance = 1e-5;    // RelativeError
inline constexpr double kGradientTolerance = 1e-4;  // RelativeError per tensor

template <typename T>
T Unwrap(absl::StatusOr<T> value) {
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *std::move(value) : T{};
}

// The layout's tensor names equal the fixture's param.* names: no missing or extra tensor.
inline void ExpectSameTensorNames(const SafetensorsFile& fixture, const ParameterLayout& layout) {
  std::set<std::string> ours, theirs;
  for (const NamedTensor& t : layout.tensors) ours.insert(t.name);
  for (const auto& [name, entry] : fixture.entries()) {
    if (name.rfind("param.", 0) == 0) theirs.insert(name.substr(6));
  }
  EXPECT_EQ(ours, theirs);
}

// Copies `prefix` + name of every layout tensor from the fixture into `buffer`.
inline void LoadTensors(const SafetensorsFile& fixture, const ParameterLayout& layout, const std::string& prefix,
                        std::span<float> buffer) {
  for (const NamedTensor& t : layout.tensors) {
    const std::vector<float> values = Unwrap(fixture.Float32(prefix + t.name));
    ASSERT_EQ(static_cast<int64_t>(values.size()), t.size) << t.name;
    std::copy(values.begin(), values.end(), buffer.begin() + t.offset);
  }
}

// Every gradient of `model` against the fixture's grad.* within kGradientTolerance.
inline void ExpectGradientsMatch(const SafetensorsFile& fixture, const Model& model) {
  for (const NamedTensor& t : model.layout().tensors) {
    const std::vector<float> expected = Unwrap(fixture.Float32("grad." + t.name));
    const std::span<const float> actual = model.gradients().subspan(t.offset, t.size);
    if (Norm(expected) < kZeroGradientNorm) {
      // Exactly zero in theory; both sides hold only rounding noise (~1e-9).
      EXPECT_LT(Norm(actual), kZeroGradientNorm) << "gradient of " << t.name;
      continue;
    }
    EXPECT_LT(RelativeError(actual, expected), kGradientTolerance) << "gradient of " << t.name;
  }
}

}  // namespace cloze::golden

#endif  // CLOZE_TESTS_GOLDEN_GOLDEN_TESTING_H_
