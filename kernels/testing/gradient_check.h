// Finite-difference checking of backward passes, in double precision.
//
// An op is checked through the scalar L = Σ projection ⊙ forward(inputs), where the
// projection is fixed random data: backward(projection) must give dL/dinput for every
// input, and central differences of L give the same numerically.
#ifndef CLOZE_KERNELS_TESTING_GRADIENT_CHECK_H_
#define CLOZE_KERNELS_TESTING_GRADIENT_CHECK_H_

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace cloze::testing {

using Vector = std::vector<double>;

// Fills a vector of n values uniform in [lo, hi) from `rng`.
Vector RandomVector(std::mt19937_64& rng, int64_t n, double lo = -1.0, double hi = 1.0);

struct CheckedInput {
  std::string name;
  Vector* value;     // perturbed in place by the check, restored afterwards
  Vector* gradient;  // filled by backward
};

struct GradientCheck {
  std::vector<CheckedInput> inputs;
  // Runs the op forward on the current input values and returns its output.
  std::function<Vector()> forward;
  // Zeroes every input gradient, then runs backward with the given output gradient.
  std::function<void(const Vector& dout)> backward;
};

// Runs the check; returns a description of every mismatch (empty when all agree).
// At most `max_elements` elements of each input are perturbed, spread over the tensor.
std::vector<std::string> RunGradientCheck(const GradientCheck& check, uint64_t seed,
                                          int64_t max_elements = 64, double step = 1e-6,
                                          double tolerance = 1e-6);

}  // namespace cloze::testing

#endif  // CLOZE_KERNELS_TESTING_GRADIENT_CHECK_H_
