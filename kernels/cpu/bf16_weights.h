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
// Forward also keeps its input's bf16 copy, keyed by the input's address, for the Backward
// that reads the same input (the weight-gradient product): the input must stay unchanged in
// between. A dense layer's Backward converts its output gradient to bf16 once for both of its
// products and takes the bias gradient in that pass.
//
// Clear() whenever the fp32 weights may have changed (an optimizer step, a load): entries
// are keyed by the weight's (and input's) address, not contents. The encoder clears at every
// Forward, which covers both, and its Backward reads the weights and the activations of its
// last Forward. The input copies' memory is kept across Clear() for the next step's (same
// addresses); it is half that of the fp32 activations the products read.
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

  // Forgets every packed weight and input copy (the primitives, which depend on shapes only,
  // and the copies' memory are kept).
  void Clear();

  // out (n, oc) = inp (n, c) · weightᵀ + bias, weight (oc, c) row-major, bias (oc) or null.
  // Overwrites out.
  void Forward(float* out, const float* inp, const float* weight, const float* bias, int64_t n, int64_t c,
               int64_t oc);
  // dinp (n, c) += dout (n, oc) · weight (oc, c).
  void BackwardInput(float* dinp, const float* dout, const float* weight, int64_t n, int64_t c, int64_t oc);
  // The whole backward of Forward's layer (matmul_backward's contract): dinp += dout · weight,
  // dweight (oc, c) += doutᵀ · inp, dbias (oc) += column sums of dout; each of the three may be
  // null. inp is Forward's (its bf16 copy is reused when Forward saw it since Clear()).
  void Backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp, const float* weight,
                int64_t n, int64_t c, int64_t oc);

  // How many weights were packed since construction (for tests: ALBERT packs each shared
  // weight once per role and Clear).
  int64_t packs() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_BF16_WEIGHTS_H_
