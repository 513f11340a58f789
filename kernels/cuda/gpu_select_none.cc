// SelectGpu where no CUDA code is built (--config=cpu, no toolkit).
#include "kernels/cuda/gpu_select.h"

namespace cloze {

std::string SelectGpu(int index) {
  return "GPU " + std::to_string(index) + ": this binary was built without CUDA (--config=cpu or no CUDA toolkit)";
}

}  // namespace cloze
