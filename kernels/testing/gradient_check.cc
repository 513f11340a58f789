#include "kernels/testing/gradient_check.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace cloze::testing {

Vector RandomVector(std::mt19937_64& rng, int64_t n, double lo, double hi) {
  std::uniform_real_distribution<double> dist(lo, hi);
  Vector v(n);
  for (double& x : v) x = dist(rng);
  return v;
}

namespace {

double Dot(const Vector& a, const Vector& b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace

std::vector<std::string> RunGradientCheck(const GradientCheck& check, uint64_t seed,
                                          int64_t max_elements, double step, double tolerance) {
  std::mt19937_64 rng(seed);
  const Vector projection = RandomVector(rng, static_cast<int64_t>(check.forward().size()));
  check.backward(projection);

  std::vector<std::string> failures;
  for (const CheckedInput& input : check.inputs) {
    Vector& x = *input.value;
    const int64_t n = static_cast<int64_t>(x.size());
    const int64_t stride = std::max<int64_t>(1, n / max_elements);
    for (int64_t i = 0; i < n; i += stride) {
      const double saved = x[i];
      x[i] = saved + step;
      const double plus = Dot(projection, check.forward());
      x[i] = saved - step;
      const double minus = Dot(projection, check.forward());
      x[i] = saved;
      const double numeric = (plus - minus) / (2 * step);
      const double analytic = (*input.gradient)[i];
      const double scale = std::max({1.0, std::fabs(numeric), std::fabs(analytic)});
      if (!(std::fabs(numeric - analytic) <= tolerance * scale)) {
        std::ostringstream message;
        message << input.name << "[" << i << "]: backward " << analytic << ", finite difference "
                << numeric;
        failures.push_back(message.str());
      }
    }
  }
  return failures;
}

}  // namespace cloze::testing
