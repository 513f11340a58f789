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

// An input's bf16 copy (rows, cols); `current` until Clear().
struct InputCopy {
  std::vector<bf16::Bits> bits;
  int64_t rows = 0, cols = 0;
  bool current = false;
};

struct Bf16Weights::State {
  std::map<Shape, std::optional<Product>> products;
  std::unordered_map<const float*, InputCopy> inputs;
  // Packed weights by (address, shape); what Clear() forgets.
  std::map<std::tuple<const float*, Shape>, dnnl::memory> packed;
  dnnl::stream stream{bf16::Engine()};
  std::vector<bf16::Bits> a, plain, dout, input;
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

  // `inp` (rows, cols) in bf16, converted now (and kept until Clear()).
  const bf16::Bits* KeepInput(const float* inp, int64_t rows, int64_t cols) {
    InputCopy& copy = inputs[inp];
    copy.bits.resize(rows * cols);
    bf16::ConvertRows(copy.bits.data(), inp, rows, cols, cols);
    copy.rows = rows;
    copy.cols = cols;
    copy.current = true;
    return copy.bits.data();
  }

  // `inp` (rows, cols) in bf16: the copy Forward kept, or a conversion into scratch.
  const bf16::Bits* Input(const float* inp, int64_t rows, int64_t cols) {
    auto it = inputs.find(inp);
    if (it != inputs.end() && it->second.current && it->second.rows == rows && it->second.cols == cols) {
      return it->second.bits.data();
    }
    input.resize(rows * cols);
    bf16::ConvertRows(input.data(), inp, rows, cols, cols);
    return input.data();
  }

  // C (m, n) [+]= A (m, k, bf16) · packed weight [+ bias].
  void Run(const Shape& shape, float* c, const bf16::Bits* a_bits, const float* weight, const float* bias) {
    const Product* product = ProductFor(shape);
    const dnnl::memory& b = Packed(weight, shape, *product);
    const dnnl::engine& engine = bf16::Engine();
    dnnl::memory a_mem(product->pd.src_desc(), engine, const_cast<bf16::Bits*>(a_bits));
    dnnl::memory c_mem(product->pd.dst_desc(), engine, c);
    std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c_mem}};
    if (bias != nullptr) {
      args.emplace(DNNL_ARG_BIAS, dnnl::memory(product->pd.bias_desc(), engine, const_cast<float*>(bias)));
    }
    product->matmul.execute(stream, args);
    stream.wait();
  }

  // Run with A converted from fp32 into scratch.
  void Run(const Shape& shape, float* c, const float* a_fp32, const float* weight, const float* bias) {
    a.resize(shape.m * shape.k);
    bf16::ConvertRows(a.data(), a_fp32, shape.m, shape.k, shape.k);
    Run(shape, c, a.data(), weight, bias);
  }
};

Bf16Weights::Bf16Weights() : state_(std::make_unique<State>()) {}
Bf16Weights::~Bf16Weights() = default;
Bf16Weights::Bf16Weights(Bf16Weights&&) noexcept = default;
Bf16Weights& Bf16Weights::operator=(Bf16Weights&&) noexcept = default;

void Bf16Weights::Clear() {
  state_->packed.clear();
  for (auto& [address, copy] : state_->inputs) copy.current = false;
}

int64_t Bf16Weights::packs() const { return state_->packs; }

void Bf16Weights::Forward(float* out, const float* inp, const float* weight, const float* bias, int64_t n,
                          int64_t c, int64_t oc) {
  const Shape shape{Role::kForward, bias != nullptr, n, oc, c};
  if (n == 0 || c == 0 || oc == 0 || !CpuHasBf16() || state_->ProductFor(shape) == nullptr) {
    gemm_bf16(false, true, n, oc, c, 1.0f, inp, c, weight, c, 0.0f, out, oc);
    if (bias != nullptr) bias_forward(out, bias, n, oc);
    return;
  }
  state_->Run(shape, out, state_->KeepInput(inp, n, c), weight, bias);
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

void Bf16Weights::Backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                           const float* weight, int64_t n, int64_t c, int64_t oc) {
  const Shape input_shape{Role::kBackwardInput, false, n, c, oc};
  if (n == 0 || c == 0 || oc == 0 || !CpuHasBf16() || state_->ProductFor(input_shape) == nullptr) {
    if (dinp != nullptr) gemm_bf16(false, false, n, c, oc, 1.0f, dout, oc, weight, c, 1.0f, dinp, c);
    if (dweight != nullptr) gemm_bf16(true, false, oc, c, n, 1.0f, dout, oc, inp, c, 1.0f, dweight, c);
    if (dbias != nullptr) bias_backward(dbias, dout, n, oc);
    return;
  }
  // dout to bf16 once, for both products, with the bias gradient in the same pass.
  std::vector<bf16::Bits>& dout_bits = state_->dout;
  dout_bits.resize(n * oc);
  if (dbias != nullptr) {
    bf16::ConvertRowsWithColumnSums(dout_bits.data(), dbias, dout, n, oc);
  } else {
    bf16::ConvertRows(dout_bits.data(), dout, n, oc, oc);
  }
  if (dinp != nullptr) state_->Run(input_shape, dinp, dout_bits.data(), weight, nullptr);
  // dweight (oc, c) += doutᵀ (oc, n) · inp (n, c): oneDNN reads the bf16 dout transposed.
  if (dweight != nullptr &&
      !gemm_bf16_converted(true, false, oc, c, n, 1.0f, dout_bits.data(), oc, state_->Input(inp, n, c), c, 1.0f,
                           dweight, c)) {
    gemm_bf16(true, false, oc, c, n, 1.0f, dout, oc, inp, c, 1.0f, dweight, c);
  }
}

}  // namespace cloze::cpu
