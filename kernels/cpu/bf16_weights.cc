#include "kernels/cpu/bf16_weights.h"

#include <cstdio>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "kernels/cpu/bf16_convert.h"
#include "kernels/cpu/bf16_gemm.h"
#include "kernels/cpu/matmul.h"

namespace cloze::cpu {
namespace {

using dims = dnnl::memory::dims;
using dt = dnnl::memory::data_type;

// The two products a dense layer's weight (oc, c) enters. As matmul B operands (k, n):
// forward reads it transposed (k = c, n = oc), the input gradient as stored (k = oc, n = c).
enum class Role { kForward, kBackwardInput };

// A product's shape: C (m, n) = A (m, k) · B (k, n), all dense.
struct Shape {
  Role role;
  bool bias;
  int64_t m, n, k;
  auto operator<=>(const Shape&) const = default;
};

struct Product {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul matmul;
};

// The weight as it is stored, in bf16: B (k, n) of `shape`.
dnnl::memory::desc PlainWeight(const Shape& shape) {
  return dnnl::memory::desc({shape.k, shape.n}, dt::bf16,
                            shape.role == Role::kForward ? dims{1, shape.k} : dims{shape.n, 1});
}

// The product with the weight in whatever layout oneDNN prefers (format "any"); the input
// gradient accumulates into C (sum post-op). nullopt where oneDNN has no bf16 matmul.
std::optional<Product> MakeProduct(const Shape& shape) {
  try {
    const dnnl::memory::desc a({shape.m, shape.k}, dt::bf16, dims{shape.k, 1});
    const dnnl::memory::desc b({shape.k, shape.n}, dt::bf16, dnnl::memory::format_tag::any);
    const dnnl::memory::desc c({shape.m, shape.n}, dt::f32, dims{shape.n, 1});
    dnnl::primitive_attr attr;
    if (shape.role == Role::kBackwardInput) {
      dnnl::post_ops sum;
      sum.append_sum(1.0f);
      attr.set_post_ops(sum);
    }
    dnnl::matmul::desc desc =
        shape.bias ? dnnl::matmul::desc(a, b, dnnl::memory::desc({1, shape.n}, dt::f32, dims{shape.n, 1}), c)
                   : dnnl::matmul::desc(a, b, c);
    dnnl::matmul::primitive_desc pd(desc, attr, bf16::Engine());
    return Product{pd, dnnl::matmul(pd)};
  } catch (const dnnl::error& e) {
    static std::once_flag reported;
    std::call_once(reported, [&] {
      std::fprintf(
          stderr, "cloze: oneDNN has no packed bf16 matmul for m=%lld n=%lld k=%lld (%s); converting per product\n",
          static_cast<long long>(shape.m), static_cast<long long>(shape.n), static_cast<long long>(shape.k), e.what());
    });
    return std::nullopt;
  }
}

}  // namespace

struct Bf16Weights::State {
  std::map<Shape, std::optional<Product>> products;
  // Packed weights by (address, shape); what Clear() forgets.
  std::map<std::tuple<const float*, Shape>, dnnl::memory> packed;
  dnnl::stream stream{bf16::Engine()};
  std::vector<bf16::Bits> a, plain;
  int64_t packs = 0;

  const Product* ProductFor(const Shape& shape) {
    auto [it, inserted] = products.try_emplace(shape);
    if (inserted) it->second = MakeProduct(shape);
    return it->second.has_value() ? &*it->second : nullptr;
  }

  // `weight` (oc, c) fp32 in the layout `product` reads, converted at the first call after Clear().
  const dnnl::memory& Packed(const float* weight, const Shape& shape, const Product& product) {
    auto [it, inserted] = packed.try_emplace({weight, shape});
    if (!inserted) return it->second;
    ++packs;
    // The stored (oc, c) rows to dense bf16, then oneDNN's reorder into its blocked layout.
    const int64_t oc = shape.role == Role::kForward ? shape.n : shape.k;
    const int64_t c = shape.role == Role::kForward ? shape.k : shape.n;
    plain.resize(oc * c);
    bf16::ConvertRows(plain.data(), weight, oc, c, c);
    dnnl::memory source(PlainWeight(shape), bf16::Engine(), plain.data());
    it->second = dnnl::memory(product.pd.weights_desc(), bf16::Engine());
    dnnl::reorder(source, it->second).execute(stream, source, it->second);
    stream.wait();
    return it->second;
  }

  // C (m, n) [+]= A (m, k) · packed weight [+ bias].
  void Run(const Shape& shape, float* c, const float* a_fp32, const float* weight, const float* bias) {
    const Product* product = ProductFor(shape);
    const dnnl::memory& b = Packed(weight, shape, *product);
    a.resize(shape.m * shape.k);
    bf16::ConvertRows(a.data(), a_fp32, shape.m, shape.k, shape.k);
    const dnnl::engine& engine = bf16::Engine();
    dnnl::memory a_mem(product->pd.src_desc(), engine, a.data());
    dnnl::memory c_mem(product->pd.dst_desc(), engine, c);
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c_mem}};
    if (bias != nullptr) {
      args.emplace(DNNL_ARG_BIAS, dnnl::memory(product->pd.bias_desc(), engine, const_cast<float*>(bias)));
    }
    product->matmul.execute(stream, args);
    stream.wait();
  }
};

Bf16Weights::Bf16Weights() : state_(std::make_unique<State>()) {}
Bf16Weights::~Bf16Weights() = default;
Bf16Weights::Bf16Weights(Bf16Weights&&) noexcept = default;
Bf16Weights& Bf16Weights::operator=(Bf16Weights&&) noexcept = default;

void Bf16Weights::Clear() { state_->packed.clear(); }

int64_t Bf16Weights::packs() const { return state_->packs; }

void Bf16Weights::Forward(float* out, const float* inp, const float* weight, const float* bias, int64_t n,
                          int64_t c, int64_t oc) {
  const Shape shape{Role::kForward, bias != nullptr, n, oc, c};
  if (n == 0 || c == 0 || oc == 0 || !CpuHasBf16() || state_->ProductFor(shape) == nullptr) {
    gemm_bf16(false, true, n, oc, c, 1.0f, inp, c, weight, c, 0.0f, out, oc);
    if (bias != nullptr) bias_forward(out, bias, n, oc);
    return;
  }
  state_->Run(shape, out, inp, weight, bias);
}

void Bf16Weights::BackwardInput(float* dinp, const float* dout, const float* weight, int64_t n, int64_t c,
                                int64_t oc) {
  const Shape shape{Role::kBackwardInput, false, n, c, oc};
  if (n == 0 || c == 0 || oc == 0 || !CpuHasBf16() || state_->ProductFor(shape) == nullptr) {
    gemm_bf16(false, false, n, c, oc, 1.0f, dout, oc, weight, c, 1.0f, dinp, c);
    return;
  }
  state_->Run(shape, dinp, dout, weight, nullptr);
}

}  // namespace cloze::cpu
