// The shapes and dropout settings both residual-layernorm tests run (the host emulation's
// and the GPU's), so the emulation is checked on every case the GPU is.
#ifndef CLOZE_KERNELS_CUDA_TESTING_RESIDUAL_LAYERNORM_CASES_H_
#define CLOZE_KERNELS_CUDA_TESTING_RESIDUAL_LAYERNORM_CASES_H_

#include <cstdint>
#include <string>

#include "gtest/gtest.h"
#include "kernels/cpu/dropout.h"

namespace cloze::cuda::testing {

struct ResidualLayernormCase {
  int64_t n, c;
  float p;
  uint64_t first_index;  // not a multiple of 4 where set: the mask starts mid Philox block

  cpu::DropoutSpec Dropout() const {
    return {.p = p, .seed = 0x5eed0000u + static_cast<uint64_t>(n * 31 + c), .stream = 23,
            .first_index = first_index};
  }
};

// c: ALBERT/BERT widths (128 = tiny, 768 = base, 1024 = large), 1029 (odd, past the block
// of 256 threads, so threads stride unevenly), 5 (under one warp). n: odd, not a multiple
// of the column kernel's or a warp's width; 70001 passes the 65535-block row grid, so
// blocks take a second row.
inline const ResidualLayernormCase kResidualLayernormCases[] = {
    {37, 128, 0.1f, 5},  {37, 128, 0.0f, 0},   {9, 768, 0.1f, 1234567}, {9, 768, 0.0f, 3},
    {5, 1024, 0.1f, 0},  {3, 1029, 0.1f, 77},  {3, 1029, 0.0f, 0},      {70001, 5, 0.1f, 9},
};

inline std::string ResidualLayernormCaseName(
    const ::testing::TestParamInfo<ResidualLayernormCase>& info) {
  const ResidualLayernormCase& c = info.param;
  return std::to_string(c.n) + "x" + std::to_string(c.c) + "_p" +
         std::to_string(static_cast<int>(c.p * 100)) + "_first" + std::to_string(c.first_index);
}

}  // namespace cloze::cuda::testing

#endif  // CLOZE_KERNELS_CUDA_TESTING_RESIDUAL_LAYERNORM_CASES_H_
