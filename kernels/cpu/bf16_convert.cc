#include "kernels/cpu/bf16_convert.h"

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cstdint>

namespace cloze::cpu::bf16 {
namespace {

// n floats to bf16 with vcvtneps2bf16, 16 at a time. The build targets plain x86-64, so
// the instructions are enabled for this function alone.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))  //
void ConvertContiguous(Bits* dst, const float* src, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256bh packed = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), (__m256i)packed);
  }
  if (i < n) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m256bh packed = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(tail, src + i));
    _mm256_mask_storeu_epi16(dst + i, tail, (__m256i)packed);
  }
}

// Rows [0, rows) of the columns [begin, begin + width), width <= 64, of src (rows, cols):
// to bf16 into dst, and their sums (in row order) added into sums.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))  //
void ConvertBlockWithSums(Bits* dst, float* sums, const float* src, int64_t rows, int64_t cols, int64_t begin,
                          int64_t width) {
  __mmask16 masks[4];
  __m512 acc[4];
  for (int q = 0; q < 4; ++q) {
    const int64_t lanes = std::clamp<int64_t>(width - 16 * q, 0, 16);
    masks[q] = static_cast<__mmask16>((uint32_t{1} << lanes) - 1);
    acc[q] = _mm512_setzero_ps();
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* s = src + r * cols + begin;
    Bits* d = dst + r * cols + begin;
    for (int q = 0; q < 4; ++q) {
      if (masks[q] == 0) break;
      const __m512 x = _mm512_maskz_loadu_ps(masks[q], s + 16 * q);
      acc[q] = _mm512_add_ps(acc[q], x);
      _mm256_mask_storeu_epi16(d + 16 * q, masks[q], (__m256i)_mm512_cvtneps_pbh(x));
    }
  }
  for (int q = 0; q < 4; ++q) {
    const __m512 old = _mm512_maskz_loadu_ps(masks[q], sums + begin + 16 * q);
    _mm512_mask_storeu_ps(sums + begin + 16 * q, masks[q], _mm512_add_ps(old, acc[q]));
  }
}

// Conversions of at least this many elements are spread over OpenMP threads (inside a
// parallel region the pragma runs on the calling thread alone).
constexpr int64_t kParallelConversion = int64_t{1} << 16;

}  // namespace

Bits ToBits(float x) {
  uint32_t bits = std::bit_cast<uint32_t>(x);
  if ((bits & 0x7f800000u) == 0) return static_cast<Bits>((bits >> 16) & 0x8000u);  // denormal: signed zero
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<Bits>((bits >> 16) | 0x40u);  // quiet NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<Bits>(bits >> 16);
}

void ConvertRows(Bits* dst, const float* src, int64_t rows, int64_t cols, int64_t ld) {
  if (ld == cols) {  // one contiguous run: split it evenly whatever the row count
    const int64_t n = rows * cols;
    constexpr int64_t kChunk = 1 << 14;
#pragma omp parallel for schedule(static) if (n >= kParallelConversion)
    for (int64_t begin = 0; begin < n; begin += kChunk) {
      ConvertContiguous(dst + begin, src + begin, std::min(kChunk, n - begin));
    }
    return;
  }
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelConversion)
  for (int64_t r = 0; r < rows; ++r) {
    ConvertContiguous(dst + r * cols, src + r * ld, cols);
  }
}

void ConvertRowsWithColumnSums(Bits* dst, float* sums, const float* src, int64_t rows, int64_t cols) {
  constexpr int64_t kBlock = 64;
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelConversion)
  for (int64_t begin = 0; begin < cols; begin += kBlock) {
    ConvertBlockWithSums(dst, sums, src, rows, cols, begin, std::min(kBlock, cols - begin));
  }
}

dnnl::engine& Engine() {
  static dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

}  // namespace cloze::cpu::bf16
