// bfloat16 storage for the mixed-precision path: bf16 activations and matmul inputs, fp32
// accumulation and master weights.
//
// Bf16 is the raw 16 bits (the top half of a float), so plain C++ code can hold and move
// device bf16 buffers without CUDA headers; the .cu files reinterpret it as __nv_bfloat16.
// The host conversions round to nearest even, as __float2bfloat16_rn on the device, so a
// test can form the same bf16 values on both sides.
#ifndef CLOZE_KERNELS_CUDA_BF16_H_
#define CLOZE_KERNELS_CUDA_BF16_H_

#include <cstdint>
#include <cstring>

namespace cloze::cuda {

struct Bf16 {
  uint16_t bits = 0;
};
static_assert(sizeof(Bf16) == 2);

// Round to nearest even; NaN stays a (quiet) NaN, ±inf and overflow go to ±inf.
inline Bf16 to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof(u));
  if ((u & 0x7fffffffu) > 0x7f800000u) return {static_cast<uint16_t>((u >> 16) | 0x0040u)};
  u += 0x7fffu + ((u >> 16) & 1u);
  return {static_cast<uint16_t>(u >> 16)};
}

inline float from_bf16(Bf16 x) {
  const uint32_t u = static_cast<uint32_t>(x.bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

// out (n) = in (n) rounded to bf16 (nearest even), on DEVICE pointers; one thread per
// element, enqueued on the default stream (errors at the next device_synchronize()).
// Linked only where CUDA code is built.
void float_to_bf16(Bf16* out, const float* in, int64_t n);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_BF16_H_
