// The one place that maps a HeadSpec to its GPU head (heads.cc's twin): a new head adds its
// line here.
#include <memory>

#include "model/gpu_head.h"
#include "model/gpu_heads/classification.h"
#include "model/gpu_heads/pretraining.h"
#include "model/gpu_heads/span_extraction.h"

namespace cloze {

absl::StatusOr<std::unique_ptr<GpuHead>> MakeGpuHead(const HeadSpec& spec, GpuOps* ops,
                                                     const ParameterLayout& encoder_layout) {
  // The CPU factory's checks, so both refuse the same specs with the same words.
  if (absl::StatusOr<std::unique_ptr<HeadDefinition>> checked = MakeHeadDefinition(spec, ops->config(), encoder_layout);
      !checked.ok()) {
    return checked.status();
  }
  switch (spec.kind) {
    case HeadKind::kPretraining: return MakeGpuPretrainingHead(ops, encoder_layout);
    case HeadKind::kSequenceClassification:
    case HeadKind::kTokenClassification: return MakeGpuClassificationHead(spec, ops);
    case HeadKind::kSpanExtraction: return MakeGpuSpanExtractionHead(ops);
  }
  return absl::InvalidArgumentError("unknown head kind");
}

}  // namespace cloze
