// Cached cuBLASLt plans: for each LtPlanKey (lt_plan_key.h) the matmul descriptor, the
// three matrix layouts and the algorithm the heuristic chose, created once per BlasContext
// and reused, since a training step repeats the same few shapes hundreds of times and
// creating descriptors plus running cublasLtMatmulAlgoGetHeuristic costs tens of
// microseconds per call. Device-side code only: include from .cu files.
//
// Not thread-safe, as the BlasContext that owns the cache is not. The descriptor of a
// cached plan is shared by every product with that key; launch() sets the per-call
// pointers (bias, aux) on it before each cublasLtMatmul, which reads the descriptor on the
// host during the call, so reusing it for the next call is safe while kernels still run.
#ifndef CLOZE_KERNELS_CUDA_LT_PLAN_CACHE_CUH_
#define CLOZE_KERNELS_CUDA_LT_PLAN_CACHE_CUH_

#include <cublasLt.h>

#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "kernels/cuda/device.h"
#include "kernels/cuda/lt_plan_key.h"

namespace cloze::cuda {

// Owns its descriptors. has_algorithm is false when cuBLASLt cannot run the key's product
// (it rejected an attribute, found no algorithm, or failed a launch with it), with the
// reason in `unsupported`: remembered like a plan, so callers with a fallback (the GELU
// epilogues) do not ask again on every call, and callers without one report the reason.
struct LtPlan {
  LtPlan() = default;
  LtPlan(const LtPlan&) = delete;
  LtPlan& operator=(const LtPlan&) = delete;
  ~LtPlan();

  cublasLtMatmulDesc_t operation = nullptr;
  cublasLtMatrixLayout_t a_layout = nullptr, b_layout = nullptr, d_layout = nullptr;
  bool has_algorithm = false;
  cublasLtMatmulAlgo_t algorithm = {};
  std::string unsupported;
};

class LtPlanCache {
 public:
  // The cached plan for p's key, or a new one made with the heuristic limited to
  // `workspace_bytes` (and cached whether or not it found an algorithm). The reference
  // stays valid until clear() or the cache's destruction.
  LtPlan& find_or_create(cublasLtHandle_t lt, size_t workspace_bytes, const LtProduct& p);

  size_t size() const { return plans_.size(); }
  void clear() { plans_.clear(); }

 private:
  std::map<LtPlanKey, std::unique_ptr<LtPlan>> plans_;
};

// Enqueues p on the default stream with `plan` (find_or_create's for p), alpha = 1 and
// p.beta, C = D. Fails, naming the reason, when the plan has no algorithm.
DeviceStatus launch(cublasLtHandle_t lt, void* workspace, size_t workspace_bytes,
                    const LtPlan& plan, const LtProduct& p);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_LT_PLAN_CACHE_CUH_
