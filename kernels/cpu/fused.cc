#include "kernels/cpu/fused.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/activation_formulas.h"
#include "kernels/cpu/layernorm.h"

namespace cloze::cpu {
namespace {

// Elements per call of an activation kernel, and columns per block of the column sums.
constexpr int64_t kChunk = 4096;
constexpr int64_t kBlock = 64;

// Whether the wide kernels can run: the build targets plain x86-64 (4 lanes, no FMA).
bool Wide() {
  static const bool wide = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  return wide;
}

#define CLOZE_WIDE __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma,prefer-vector-width=512")))

template <Activation A>
[[gnu::always_inline]] inline void ForwardChunk(float* out, const float* inp, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = formulas::Apply<A>(inp[i]);
}

// Rows [0, n) of one block of `width` columns starting at `begin`: dinp += d and
// sums (width) += column sums of d, rows in order.
template <Activation A>
[[gnu::always_inline]] inline void BackwardBlock(float* dinp, float* sums, const float* inp, const float* dout,
                                                 int64_t n, int64_t c, int64_t begin, int64_t width) {
  for (int64_t row = 0; row < n; ++row) {
    const int64_t offset = row * c + begin;
#pragma omp simd
    for (int64_t i = 0; i < width; ++i) {
      const float d = dout[offset + i] * formulas::Slope<A>(inp[offset + i]);
      dinp[offset + i] += d;
      sums[i] += d;
    }
  }
}

// The same kernels compiled twice: for the CPU the build targets and 16 lanes wide.
template <Activation A>
void ForwardChunkNarrow(float* out, const float* inp, int64_t n) {
  ForwardChunk<A>(out, inp, n);
}
template <Activation A>
CLOZE_WIDE void ForwardChunkWide(float* out, const float* inp, int64_t n) {
  ForwardChunk<A>(out, inp, n);
}
template <Activation A>
void BackwardBlockNarrow(float* dinp, float* sums, const float* inp, const float* dout, int64_t n, int64_t c,
                         int64_t begin, int64_t width) {
  BackwardBlock<A>(dinp, sums, inp, dout, n, c, begin, width);
}
template <Activation A>
CLOZE_WIDE void BackwardBlockWide(float* dinp, float* sums, const float* inp, const float* dout, int64_t n,
                                  int64_t c, int64_t begin, int64_t width) {
  BackwardBlock<A>(dinp, sums, inp, dout, n, c, begin, width);
}

template <Activation A>
void Forward(float* out, const float* inp, int64_t n) {
  const bool wide = Wide();
#pragma omp parallel for schedule(static)
  for (int64_t begin = 0; begin < n; begin += kChunk) {
    const int64_t length = std::min(kChunk, n - begin);
    if (wide) {
      ForwardChunkWide<A>(out + begin, inp + begin, length);
    } else {
      ForwardChunkNarrow<A>(out + begin, inp + begin, length);
    }
  }
}

template <Activation A>
void BackwardWithBias(float* dinp, float* dbias, const float* inp, const float* dout, int64_t n, int64_t c) {
  const bool wide = Wide();
#pragma omp parallel for schedule(static)
  for (int64_t begin = 0; begin < c; begin += kBlock) {
    const int64_t width = std::min(kBlock, c - begin);
    alignas(64) float sums[kBlock] = {};
    if (wide) {
      BackwardBlockWide<A>(dinp, sums, inp, dout, n, c, begin, width);
    } else {
      BackwardBlockNarrow<A>(dinp, sums, inp, dout, n, c, begin, width);
    }
    for (int64_t i = 0; i < width; ++i) dbias[begin + i] += sums[i];
  }
}

}  // namespace

void activation_forward_fused(Activation act, float* out, const float* inp, int64_t n) {
  switch (act) {
    case Activation::kGeluErf: return Forward<Activation::kGeluErf>(out, inp, n);
    case Activation::kGeluTanh: return Forward<Activation::kGeluTanh>(out, inp, n);
    case Activation::kRelu: return Forward<Activation::kRelu>(out, inp, n);
  }
}

void activation_bias_backward(Activation act, float* dinp, float* dbias, const float* inp, const float* dout,
                              int64_t n, int64_t c) {
  switch (act) {
    case Activation::kGeluErf: return BackwardWithBias<Activation::kGeluErf>(dinp, dbias, inp, dout, n, c);
    case Activation::kGeluTanh: return BackwardWithBias<Activation::kGeluTanh>(dinp, dbias, inp, dout, n, c);
    case Activation::kRelu: return BackwardWithBias<Activation::kRelu>(dinp, dbias, inp, dout, n, c);
  }
}

void dropout_residual_layernorm_forward(float* out, float* mean, float* rstd, float* sum, const float* x,
                                        const float* residual, const float* weight, const float* bias, int64_t n,
                                        int64_t c, float eps, const DropoutSpec& dropout) {
  const bool active = dropout.active();
  const float scale = active ? dropout_scale(dropout) : 1.0f;
#pragma omp parallel
  {
    std::vector<uint8_t> keep(c);
#pragma omp for schedule(static)
    for (int64_t row = 0; row < n; ++row) {
      dropout_keep_mask(keep.data(), c, static_cast<uint64_t>(row * c), dropout);
      float* s = sum + row * c;
      const float* xr = x + row * c;
      const float* r = residual + row * c;
      for (int64_t i = 0; i < c; ++i) {
        const float dropped = !active ? xr[i] : (keep[i] ? xr[i] * scale : 0.0f);
        s[i] = dropped + r[i];
      }
      layernorm_forward_row(out + row * c, mean + row, rstd + row, s, weight, bias, c, eps);
    }
  }
}

void dropout_residual_layernorm_backward(float* d_x, float* d_residual, float* dweight, float* dbias,
                                         const float* dout, const float* sum, const float* weight, const float* mean,
                                         const float* rstd, int64_t n, int64_t c, const DropoutSpec& dropout) {
  const bool active = dropout.active();
  const float scale = active ? dropout_scale(dropout) : 1.0f;
#pragma omp parallel
  {
    std::vector<uint8_t> keep(c);
#pragma omp for schedule(static)
    for (int64_t row = 0; row < n; ++row) {
      dropout_keep_mask(keep.data(), c, static_cast<uint64_t>(row * c), dropout);
      float* dx = d_x + row * c;
      float* dr = d_residual + row * c;
      layernorm_backward_row(sum + row * c, dout + row * c, weight, mean[row], rstd[row], c,
                             [&](int64_t i, float value) {
                               const float d = 0.0f + value;  // as added into a zeroed d_sum
                               dr[i] += d;
                               if (!active) {
                                 dx[i] += d;
                               } else if (keep[i]) {
                                 dx[i] += d * scale;
                               }
                             });
    }
  }
  layernorm_parameter_gradients(dweight, dbias, dout, sum, mean, rstd, n, c);
}

}  // namespace cloze::cpu
