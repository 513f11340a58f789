// Dense-layer weights converted to bf16 once, in the layout oneDNN's matmul reads fastest
// (its blocked "packed" format), and reused by every product that reads them until Clear().
// ALBERT's layers share one set of weights, so without this a step converts each shared
// weight (and oneDNN re-packs it) once per layer and product; BERT's weights are read twice a
// step (forward, and backward for the input gradient), each in its own layout.
//
// The products are matmul_forward's and matmul_backward's input gradient at
// Precision::kBf16 (matmul.h): bf16 operands, fp32 accumulation and output, the forward's
// bias added in the product. Without CpuHasBf16 they fall back to gemm_bf16 (bf16_gemm.h),
// which is then the fp32 gemm.
//
// Clear() whenever the fp32 weights may have changed (an optimizer step, a load): entries
// are keyed by the weight's address, not its contents. The encoder clears at every Forward,
// which covers both, and its Backward reads the weights of its last Forward.
//
// Not thread-safe: one per owner, called from one thread (the products use OpenMP inside).
#ifndef CLOZE_KERNELS_CPU_BF16_WEIGHTS_H_
#define CLOZE_KERNELS_CPU_BF16_WEIGHTS_H_

#include <cstdint>
#include <memory>

namespace cloze::cpu {

class Bf16Weights {
 public:
  Bf16Weights();
  ~Bf16Weights();
  Bf16Weights(Bf16Weights&&) noexcept;
  Bf16Weights& operator=(Bf16Weights&&) noexcept;

  // Forgets every packed weight (the primitives, which depend on shapes only, are kept).
  void Clear();

  // out (n, oc) = inp (n, c) · weightᵀ + bias, weight (oc, c) row-major, bias (oc) or null.
  // Overwrites out.
  void Forward(float* out, const float* inp, const float* weight, const float* bias, int64_t n, int64_t c,
               int64_t oc);
  // dinp (n, c) += dout (n, oc) · weight (oc, c).
  void BackwardInput(float* dinp, const float* dout, const float* weight, int64_t n, int64_t c, int64_t oc);

  // How many weights were packed since construction (for tests: ALBERT packs each shared
  // weight once per role and Clear).
  int64_t packs() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_BF16_WEIGHTS_H_
