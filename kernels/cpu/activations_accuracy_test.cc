// The float activations (vectorised, fast_math.h) against the double-precision
// reference (library functions), over the whole range a model can see.
#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/activations.h"
#include "kernels/cpu/fast_math.h"

namespace cloze::cpu {
namespace {

// Inputs on a fine grid over [-20, 20], plus the extremes.
std::vector<double> Grid() {
  std::vector<double> x;
  for (int i = -200000; i <= 200000; ++i) x.push_back(i * 1e-4);
  for (double v : {-1e4, -100.0, -50.0, 50.0, 100.0, 1e4}) x.push_back(v);
  return x;
}

// max over the grid of |float − double| / max(1, |double|).
template <typename F, typename D>
double WorstError(F float_op, D double_op) {
  const std::vector<double> xd = Grid();
  const std::vector<float> xf(xd.begin(), xd.end());
  std::vector<double> yd(xd.size());
  std::vector<float> yf(xd.size());
  // Evaluate the double reference at the float-rounded inputs: only the op's error counts.
  const std::vector<double> xr(xf.begin(), xf.end());
  double_op(yd.data(), xr.data(), static_cast<int64_t>(xd.size()));
  float_op(yf.data(), xf.data(), static_cast<int64_t>(xd.size()));
  double worst = 0;
  for (size_t i = 0; i < xd.size(); ++i) {
    worst = std::max(worst, std::fabs(double(yf[i]) - yd[i]) / std::max(1.0, std::fabs(yd[i])));
  }
  return worst;
}

template <typename T>
void ForwardOf(void (*op)(T*, const T*, int64_t), T* y, const T* x, int64_t n) {
  op(y, x, n);
}

// Backward with dout = 1 and dinp starting at zero: the derivative itself.
template <typename T>
auto Derivative(void (*op)(T*, const T*, const T*, int64_t)) {
  return [op](T* y, const T* x, int64_t n) {
    std::vector<T> ones(n, T(1));
    std::fill(y, y + n, T(0));
    op(y, x, ones.data(), n);
  };
}

TEST(ActivationsAccuracy, FastExp) {
  double worst = 0;
  for (double x = -87.0; x <= 88.0; x += 1e-3) {
    const float xf = static_cast<float>(x);
    worst = std::max(worst, std::fabs(fast_expf(xf) / std::exp(double(xf)) - 1.0));
  }
  EXPECT_LT(worst, 3e-7);
  EXPECT_GT(fast_expf(-1000.0f), 0.0f);
  EXPECT_TRUE(std::isfinite(fast_expf(1000.0f)));
}

TEST(ActivationsAccuracy, FastErfc) {
  double worst_near = 0, worst_tail = 0, worst_absolute = 0;
  for (double z = -10.0; z <= 10.0; z += 1e-4) {
    const float zf = static_cast<float>(z);
    const double exact = std::erfc(double(zf));
    const double relative = std::fabs(fast_erfcf(zf) / exact - 1.0);
    if (std::fabs(z) <= 3.0) worst_near = std::max(worst_near, relative);
    if (std::fabs(z) <= 9.0) worst_tail = std::max(worst_tail, relative);
    worst_absolute = std::max(worst_absolute, std::fabs(fast_erfcf(zf) - exact));
  }
  // See fast_math.h: the rounding of −z² in float dominates, growing with z².
  EXPECT_LT(worst_near, 2e-6);
  EXPECT_LT(worst_tail, 1e-5);
  EXPECT_LT(worst_absolute, 4e-7);  // below 2 ulp of erfc's largest value, 2
}

TEST(ActivationsAccuracy, GeluErf) {
  EXPECT_LT(WorstError([](float* y, const float* x, int64_t n) { gelu_erf_forward(y, x, n); },
                       [](double* y, const double* x, int64_t n) { gelu_erf_forward(y, x, n); }),
            5e-7);
  EXPECT_LT(WorstError(Derivative<float>(gelu_erf_backward), Derivative<double>(gelu_erf_backward)), 1e-6);
}

TEST(ActivationsAccuracy, GeluTanh) {
  EXPECT_LT(WorstError([](float* y, const float* x, int64_t n) { gelu_tanh_forward(y, x, n); },
                       [](double* y, const double* x, int64_t n) { gelu_tanh_forward(y, x, n); }),
            5e-7);
  EXPECT_LT(WorstError(Derivative<float>(gelu_tanh_backward), Derivative<double>(gelu_tanh_backward)), 1e-6);
}

}  // namespace
}  // namespace cloze::cpu
