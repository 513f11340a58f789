#include "kernels/cpu/bf16_gemm.h"

#include <cpuid.h>
#include <immintrin.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <unordered_map>
#include <vector>

namespace cloze::cpu {
namespace {

using Bf16Bits = uint16_t;

// As vcvtneps2bf16 (ConvertContiguous) rounds, so both paths agree bit for bit.
Bf16Bits ToBf16Bits(float x) {
  uint32_t bits = std::bit_cast<uint32_t>(x);
  if ((bits & 0x7f800000u) == 0) return static_cast<Bf16Bits>((bits >> 16) & 0x8000u);  // denormal: signed zero
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<Bf16Bits>((bits >> 16) | 0x40u);  // quiet NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<Bf16Bits>(bits >> 16);
}

// n floats to bf16 with the CPU's own conversion (vcvtneps2bf16: nearest even, NaN quiet,
// denormal inputs as zero), 16 at a time; only called where CpuHasBf16. The build targets
// plain x86-64, so the instructions are enabled for this function alone.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))  //
void ConvertContiguous(Bf16Bits* dst, const float* src, int64_t n) {
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

// Conversions of at least this many elements are spread over OpenMP threads (inside a
// parallel region the pragma runs on the calling thread alone).
constexpr int64_t kParallelConversion = int64_t{1} << 16;

// dst (rows, cols) dense = src (rows, cols) with leading dimension ld, rounded to bf16.
void ConvertRows(Bf16Bits* dst, const float* src, int64_t rows, int64_t cols, int64_t ld) {
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelConversion)
  for (int64_t r = 0; r < rows; ++r) {
    ConvertContiguous(dst + r * cols, src + r * ld, cols);
  }
}

// dst (rows, cols) dense = transpose of src (cols, rows) with leading dimension ld, rounded
// to bf16; in tiles so both sides are read and written in cache lines.
void ConvertTransposed(Bf16Bits* dst, const float* src, int64_t rows, int64_t cols, int64_t ld) {
  constexpr int64_t kTile = 32;
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelConversion)
  for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
    const int64_t r1 = std::min(rows, r0 + kTile);
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t c1 = std::min(cols, c0 + kTile);
      for (int64_t c = c0; c < c1; ++c) {
        for (int64_t r = r0; r < r1; ++r) dst[r * cols + c] = ToBf16Bits(src[c * ld + r]);
      }
    }
  }
}

bool DetectBf16() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) == 0) return false;
  if ((eax & (1u << 5)) == 0) return false;  // AVX512_BF16
  // oneDNN must agree (it also checks that the OS saves the AVX-512 state).
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

dnnl::engine& CpuEngine() {
  static dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

// What a primitive depends on: operands are converted into dense buffers, so A's and B's
// leading dimensions do not enter.
struct ProductKey {
  bool trans_b;
  int64_t m, n, k, ldc;
  uint32_t alpha, beta;  // bit patterns
  bool operator==(const ProductKey&) const = default;
};

struct ProductKeyHash {
  size_t operator()(const ProductKey& key) const {
    size_t h = key.trans_b;
    for (int64_t v : {key.m, key.n, key.k, key.ldc, int64_t{key.alpha}, int64_t{key.beta}}) {
      h = h * 1000003u ^ static_cast<size_t>(v);
    }
    return h;
  }
};

struct Product {
  dnnl::memory::desc a, b, c;
  dnnl::matmul matmul;
};

// A: (m, k) dense row-major. B: (k, n) dense row-major, or stored (n, k) when trans_b.
// alpha is the output scale, beta a sum post-op (C = alpha · A·B + beta · C).
std::optional<Product> MakeProduct(const ProductKey& key) {
  using dims = dnnl::memory::dims;
  using dt = dnnl::memory::data_type;
  const float alpha = std::bit_cast<float>(key.alpha), beta = std::bit_cast<float>(key.beta);
  try {
    dnnl::memory::desc a({key.m, key.k}, dt::bf16, dims{key.k, 1});
    dnnl::memory::desc b({key.k, key.n}, dt::bf16, key.trans_b ? dims{1, key.k} : dims{key.n, 1});
    dnnl::memory::desc c({key.m, key.n}, dt::f32, dims{key.ldc, 1});
    dnnl::primitive_attr attr;
    if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
    if (beta != 0.0f) {
      dnnl::post_ops sum;
      sum.append_sum(beta);
      attr.set_post_ops(sum);
    }
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, CpuEngine());
    return Product{a, b, c, dnnl::matmul(pd)};
  } catch (const dnnl::error& e) {
    static std::once_flag reported;
    std::call_once(reported, [&] {
      std::fprintf(stderr, "cloze: oneDNN has no bf16 matmul for m=%lld n=%lld k=%lld (%s); using fp32 there\n",
                   static_cast<long long>(key.m), static_cast<long long>(key.n), static_cast<long long>(key.k),
                   e.what());
    });
    return std::nullopt;
  }
}

// Each thread's primitives, stream and bf16 scratch: nothing is shared between threads, so
// products inside an OpenMP region run side by side without locks.
struct ThreadState {
  std::unordered_map<ProductKey, std::optional<Product>, ProductKeyHash> products;
  dnnl::stream stream{CpuEngine()};
  std::vector<Bf16Bits> a, b;
};

ThreadState& State() {
  thread_local ThreadState state;
  return state;
}

}  // namespace

bool CpuHasBf16() {
  static const bool has = DetectBf16();
  return has;
}

float RoundToBf16(float x) { return std::bit_cast<float>(uint32_t{ToBf16Bits(x)} << 16); }

void gemm_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
               int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (!CpuHasBf16() || m == 0 || n == 0 || k == 0) {
    gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  ThreadState& state = State();
  const ProductKey key{trans_b, m, n, k, ldc, std::bit_cast<uint32_t>(alpha), std::bit_cast<uint32_t>(beta)};
  auto [it, inserted] = state.products.try_emplace(key);
  if (inserted) it->second = MakeProduct(key);
  if (!it->second.has_value()) {
    gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const Product& product = *it->second;
  state.a.resize(m * k);
  state.b.resize(k * n);
  if (trans_a) {
    ConvertTransposed(state.a.data(), a, m, k, lda);
  } else {
    ConvertRows(state.a.data(), a, m, k, lda);
  }
  if (trans_b) {
    ConvertRows(state.b.data(), b, n, k, ldb);
  } else {
    ConvertRows(state.b.data(), b, k, n, ldb);
  }
  dnnl::memory a_mem(product.a, CpuEngine(), state.a.data());
  dnnl::memory b_mem(product.b, CpuEngine(), state.b.data());
  dnnl::memory c_mem(product.c, CpuEngine(), c);
  product.matmul.execute(state.stream, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
  state.stream.wait();
}

}  // namespace cloze::cpu
