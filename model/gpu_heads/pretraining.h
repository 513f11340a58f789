// The pretraining head on the GPU: trainer/heads/pretraining.h's MLM + SOP/NSP, op for op
// (moved out of the monolithic GPU model unchanged: the same ops in the same order).
#ifndef CLOZE_MODEL_GPU_HEADS_PRETRAINING_H_
#define CLOZE_MODEL_GPU_HEADS_PRETRAINING_H_

#include <memory>

#include "model/gpu_head.h"

namespace cloze {

std::unique_ptr<GpuHead> MakeGpuPretrainingHead(GpuOps* ops, const ParameterLayout& encoder_layout);

}  // namespace cloze

#endif  // CLOZE_MODEL_GPU_HEADS_PRETRAINING_H_
