// The extractive-QA head on the GPU: trainer/heads/span_extraction.h's start and end
// logits over positions, op for op (two products with one row of qa_outputs each).
#ifndef CLOZE_MODEL_GPU_HEADS_SPAN_EXTRACTION_H_
#define CLOZE_MODEL_GPU_HEADS_SPAN_EXTRACTION_H_

#include <memory>

#include "model/gpu_head.h"

namespace cloze {

std::unique_ptr<GpuHead> MakeGpuSpanExtractionHead(GpuOps* ops);

}  // namespace cloze

#endif  // CLOZE_MODEL_GPU_HEADS_SPAN_EXTRACTION_H_
