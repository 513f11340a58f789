// The tile-ops layer of the tensor-core attention (fused_attention_tc.h): everything its
// block programs (fused_attention_tc_program.h) do besides per-element work on shared
// memory goes through a tile-ops type `Ops` and an executor `Exec`, so one program runs as
// a CUDA kernel (WmmaTileOps and DeviceExec, tc_tile_ops_wmma.cuh) and on the host
// (HostTileOps and HostExec, here).
//
// Ops: 16×16×16 tiles, bf16 operands, fp32 accumulators, as WMMA's m16n16k16.
//   typename Ops::template MatrixA<kColMajor>, MatrixB<kColMajor>, Accumulator
//   Ops::load(a_or_b, const Bf16* p, int ld)   element (r, c) at p[r·ld + c] (row-major)
//                                              or p[c·ld + r] (kColMajor)
//   Ops::fill(acc, value), Ops::load(acc, const float* p, int ld), Ops::store(p, acc, ld)
//                                              accumulators row-major in memory
//   Ops::mma(acc, a, b)                        acc += a·b
// The programs never touch fragment elements, whose layout WMMA leaves unspecified; so
// the host's plain loops, fp32 sums of exact products of bf16 values, are WMMA's documented
// semantics up to the order (and rounding) of the fp32 additions.
//
// Exec: a block of kThreads threads in kWarps warps.
//   exec.threads(f)  f(t) for every thread t, then a block barrier
//   exec.warps(f)    f(w) for every warp w (all 32 lanes on the GPU: WMMA is warp-wide),
//                    then a block barrier
//   Exec::PerWarp<T> one T per warp (a warp's fragments), indexed by w
// Every phase ends in a barrier, so no program can forget one; a phase must not read what
// another thread writes in the same phase (HostExec can run threads in reverse order to
// catch that on the host).
#ifndef CLOZE_KERNELS_CUDA_TC_TILE_OPS_H_
#define CLOZE_KERNELS_CUDA_TC_TILE_OPS_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kernels/cuda/bf16.h"
#include "kernels/philox.h"

#if defined(__CUDACC__)
#define CLOZE_UNROLL _Pragma("unroll")
#else
#define CLOZE_UNROLL
#endif

namespace cloze::cuda::tc {

constexpr int kFragment = 16;  // WMMA m16n16k16
constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;

// x rounded to bf16, nearest even, NaN kept: to_bf16's bits (bf16.h), and
// __float2bfloat16_rn's, on host and device alike.
CLOZE_HOST_DEVICE Bf16 round_to_bf16(float x) {
#if defined(__CUDA_ARCH__)
  uint32_t u = __float_as_uint(x);
#else
  uint32_t u;
  std::memcpy(&u, &x, sizeof(u));
#endif
  if ((u & 0x7fffffffu) > 0x7f800000u) return {static_cast<uint16_t>((u >> 16) | 0x0040u)};
  u += 0x7fffu + ((u >> 16) & 1u);
  return {static_cast<uint16_t>(u >> 16)};
}

// A bf16 matrix in shared memory, seen row-major (element (r, c) at p[r·ld + c]) or, with
// kColMajor, column-major (at p[c·ld + r]): a row-major buffer's transpose.
template <bool kColMajor>
struct Bf16Matrix {
  const Bf16* p;
  int ld;
  CLOZE_HOST_DEVICE const Bf16* at(int r, int c) const {
    return kColMajor ? p + c * ld + r : p + r * ld + c;
  }
};

// acc += A[m0 : m0+16, 0 : depth] · B[0 : depth, n0 : n0+16], in 16-deep steps.
template <class Ops, bool kAColMajor, bool kBColMajor>
CLOZE_HOST_DEVICE void mma_strip(typename Ops::Accumulator& acc, Bf16Matrix<kAColMajor> a,
                                 Bf16Matrix<kBColMajor> b, int m0, int n0, int depth) {
  for (int k0 = 0; k0 < depth; k0 += kFragment) {
    typename Ops::template MatrixA<kAColMajor> fa;
    typename Ops::template MatrixB<kBColMajor> fb;
    Ops::load(fa, a.at(m0, k0), a.ld);
    Ops::load(fb, b.at(k0, n0), b.ld);
    Ops::mma(acc, fa, fb);
  }
}

// ---- Host side: plain loops, and the block's threads and warps one after another.

// Host tile ops check WMMA's documented requirements on every pointer and stride (they hold
// on the GPU only if the emulated shared memory, like the real one, is 128-byte aligned):
// a 256-bit aligned tile pointer, and ld a multiple of 16 bytes. Breaking them is a
// programmer error in a layout: abort, naming it.
inline void check_wmma_operand(const void* p, int ld, size_t element_bytes) {
  if (reinterpret_cast<uintptr_t>(p) % 32 == 0 && (ld * element_bytes) % 16 == 0) return;
  std::fprintf(stderr, "WMMA operand %p with ld %d (%zu-byte elements) breaks alignment\n", p, ld,
               element_bytes);
  std::abort();
}

struct HostTileOps {
  template <bool kColMajor>
  struct MatrixA {
    float x[kFragment][kFragment];  // (row, k)
  };
  template <bool kColMajor>
  struct MatrixB {
    float x[kFragment][kFragment];  // (k, column)
  };
  struct Accumulator {
    float x[kFragment][kFragment];
  };

  template <bool kColMajor>
  static void load(MatrixA<kColMajor>& a, const Bf16* p, int ld) {
    check_wmma_operand(p, ld, sizeof(Bf16));
    load_values(a.x, Bf16Matrix<kColMajor>{p, ld});
  }
  template <bool kColMajor>
  static void load(MatrixB<kColMajor>& b, const Bf16* p, int ld) {
    check_wmma_operand(p, ld, sizeof(Bf16));
    load_values(b.x, Bf16Matrix<kColMajor>{p, ld});
  }
  static void fill(Accumulator& acc, float value) {
    for (auto& row : acc.x) {
      for (float& v : row) v = value;
    }
  }
  static void load(Accumulator& acc, const float* p, int ld) {
    check_wmma_operand(p, ld, sizeof(float));
    for (int r = 0; r < kFragment; ++r) {
      for (int c = 0; c < kFragment; ++c) acc.x[r][c] = p[r * ld + c];
    }
  }
  static void store(float* p, const Accumulator& acc, int ld) {
    check_wmma_operand(p, ld, sizeof(float));
    for (int r = 0; r < kFragment; ++r) {
      for (int c = 0; c < kFragment; ++c) p[r * ld + c] = acc.x[r][c];
    }
  }
  // Products of bf16 values are exact in fp32; only the sum rounds.
  template <bool kA, bool kB>
  static void mma(Accumulator& acc, const MatrixA<kA>& a, const MatrixB<kB>& b) {
    for (int r = 0; r < kFragment; ++r) {
      for (int c = 0; c < kFragment; ++c) {
        float sum = acc.x[r][c];
        for (int k = 0; k < kFragment; ++k) sum += a.x[r][k] * b.x[k][c];
        acc.x[r][c] = sum;
      }
    }
  }

 private:
  template <bool kColMajor>
  static void load_values(float (&x)[kFragment][kFragment], Bf16Matrix<kColMajor> m) {
    for (int r = 0; r < kFragment; ++r) {
      for (int c = 0; c < kFragment; ++c) x[r][c] = from_bf16(*m.at(r, c));
    }
  }
};

// `reverse` runs threads and warps last to first: a program whose phases are free of
// races gives bitwise the same results either way.
struct HostExec {
  bool reverse = false;

  template <class T>
  struct PerWarp {
    T value[kWarps];
    T& operator[](int w) { return value[w]; }
  };

  template <class F>
  void threads(F&& f) const {
    for (int i = 0; i < kThreads; ++i) f(reverse ? kThreads - 1 - i : i);
  }
  template <class F>
  void warps(F&& f) const {
    for (int i = 0; i < kWarps; ++i) f(reverse ? kWarps - 1 - i : i);
  }
};

}  // namespace cloze::cuda::tc

#endif  // CLOZE_KERNELS_CUDA_TC_TILE_OPS_H_
