#include "kernels/cpu/bf16_gemm.h"

#include <cpuid.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <unordered_map>
#include <vector>

#include "kernels/cpu/bf16_convert.h"

namespace cloze::cpu {
namespace {

bool DetectBf16() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) == 0) return false;
  if ((eax & (1u << 5)) == 0) return false;  // AVX512_BF16
  // oneDNN must agree (it also checks that the OS saves the AVX-512 state).
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

// What a primitive depends on.
struct ProductKey {
  bool trans_a, trans_b;
  int64_t m, n, k, lda, ldb, ldc;
  uint32_t alpha, beta;  // bit patterns
  bool operator==(const ProductKey&) const = default;
};

struct ProductKeyHash {
  size_t operator()(const ProductKey& key) const {
    size_t h = key.trans_a * 2 + key.trans_b;
    for (int64_t v : {key.m, key.n, key.k, key.lda, key.ldb, key.ldc, int64_t{key.alpha}, int64_t{key.beta}}) {
      h = h * 1000003u ^ static_cast<size_t>(v);
    }
    return h;
  }
};

struct Product {
  dnnl::memory::desc a, b, c;
  dnnl::matmul matmul;
};

// A: (m, k) row-major, or stored (k, m) when trans_a (oneDNN reads it transposed, which
// beats transposing it on the way to bf16). B: (k, n) row-major, or stored (n, k) when trans_b.
// alpha is the output scale, beta a sum post-op (C = alpha · A·B + beta · C).
std::optional<Product> MakeProduct(const ProductKey& key) {
  using dims = dnnl::memory::dims;
  using dt = dnnl::memory::data_type;
  const float alpha = std::bit_cast<float>(key.alpha), beta = std::bit_cast<float>(key.beta);
  try {
    dnnl::memory::desc a({key.m, key.k}, dt::bf16, key.trans_a ? dims{1, key.lda} : dims{key.lda, 1});
    dnnl::memory::desc b({key.k, key.n}, dt::bf16, key.trans_b ? dims{1, key.ldb} : dims{key.ldb, 1});
    dnnl::memory::desc c({key.m, key.n}, dt::f32, dims{key.ldc, 1});
    dnnl::primitive_attr attr;
    if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
    if (beta != 0.0f) {
      dnnl::post_ops sum;
      sum.append_sum(beta);
      attr.set_post_ops(sum);
    }
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, bf16::Engine());
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
  dnnl::stream stream{bf16::Engine()};
  std::vector<bf16::Bits> a, b;
};

ThreadState& State() {
  thread_local ThreadState state;
  return state;
}

// The thread's primitive for the product, made at its first use; null where oneDNN has none.
const Product* ProductFor(ThreadState& state, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                          float alpha, int64_t lda, int64_t ldb, float beta, int64_t ldc) {
  const ProductKey key{trans_a, trans_b, m, n, k, lda, ldb, ldc, std::bit_cast<uint32_t>(alpha),
                       std::bit_cast<uint32_t>(beta)};
  auto [it, inserted] = state.products.try_emplace(key);
  if (inserted) it->second = MakeProduct(key);
  return it->second.has_value() ? &*it->second : nullptr;
}

void Run(ThreadState& state, const Product& product, const bf16::Bits* a, const bf16::Bits* b, float* c) {
  const dnnl::engine& engine = bf16::Engine();
  dnnl::memory a_mem(product.a, engine, const_cast<bf16::Bits*>(a));
  dnnl::memory b_mem(product.b, engine, const_cast<bf16::Bits*>(b));
  dnnl::memory c_mem(product.c, engine, c);
  product.matmul.execute(state.stream, {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
  state.stream.wait();
}

}  // namespace

bool CpuHasBf16() {
  static const bool has = DetectBf16();
  return has;
}

Precision EffectivePrecision(Precision requested) {
  return requested == Precision::kBf16 && CpuHasBf16() ? Precision::kBf16 : Precision::kFp32;
}

const char* PrecisionName(Precision precision) { return precision == Precision::kBf16 ? "bf16" : "fp32"; }

float RoundToBf16(float x) { return std::bit_cast<float>(uint32_t{bf16::ToBits(x)} << 16); }

float AsBf16ProductOperand(float x) { return CpuHasBf16() ? RoundToBf16(x) : x; }

bool gemm_bf16_converted(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                         const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float beta, float* c,
                         int64_t ldc) {
  if (!CpuHasBf16() || m == 0 || n == 0 || k == 0) return false;
  ThreadState& state = State();
  const Product* product = ProductFor(state, trans_a, trans_b, m, n, k, alpha, lda, ldb, beta, ldc);
  if (product == nullptr) return false;
  Run(state, *product, a, b, c);
  return true;
}

void gemm_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
               int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const Product* product = nullptr;
  ThreadState& state = State();
  if (CpuHasBf16() && m != 0 && n != 0 && k != 0) {
    // The operands are converted into dense buffers.
    product = ProductFor(state, trans_a, trans_b, m, n, k, alpha, trans_a ? m : k, trans_b ? k : n, beta, ldc);
  }
  if (product == nullptr) {
    gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  state.a.resize(m * k);
  state.b.resize(k * n);
  if (trans_a) {
    bf16::ConvertRows(state.a.data(), a, k, m, lda);
  } else {
    bf16::ConvertRows(state.a.data(), a, m, k, lda);
  }
  if (trans_b) {
    bf16::ConvertRows(state.b.data(), b, n, k, ldb);
  } else {
    bf16::ConvertRows(state.b.data(), b, k, n, ldb);
  }
  Run(state, *product, state.a.data(), state.b.data(), c);
}

}  // namespace cloze::cpu
