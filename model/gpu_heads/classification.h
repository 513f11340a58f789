// The classification heads on the GPU: trainer/heads/classification.h's sequence
// classification (pooled [CLS]; one output: regression with squared error) and token
// classification (every token), op for op.
#ifndef CLOZE_MODEL_GPU_HEADS_CLASSIFICATION_H_
#define CLOZE_MODEL_GPU_HEADS_CLASSIFICATION_H_

#include <memory>

#include "model/gpu_head.h"

namespace cloze {

// spec.kind is kSequenceClassification or kTokenClassification (checked by MakeGpuHead).
std::unique_ptr<GpuHead> MakeGpuClassificationHead(const HeadSpec& spec, GpuOps* ops);

}  // namespace cloze

#endif  // CLOZE_MODEL_GPU_HEADS_CLASSIFICATION_H_
