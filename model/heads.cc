// The one place that maps a HeadSpec to its head: a new head adds its line here.
#include <memory>

#include "absl/strings/str_cat.h"
#include "model/head.h"
#include "model/head_spec.h"
#include "model/heads/classification.h"
#include "model/heads/pretraining.h"
#include "model/heads/span_extraction.h"

namespace cloze {
namespace {

constexpr HeadKind kKinds[] = {HeadKind::kPretraining, HeadKind::kSequenceClassification,
                               HeadKind::kTokenClassification, HeadKind::kSpanExtraction};

absl::Status CheckSpec(const HeadSpec& spec) {
  const bool classifies =
      spec.kind == HeadKind::kSequenceClassification || spec.kind == HeadKind::kTokenClassification;
  if (!classifies) return absl::OkStatus();
  const int least = spec.kind == HeadKind::kSequenceClassification ? 1 : 2;
  if (spec.num_labels >= least) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("head ", HeadKindName(spec.kind), ": num_labels = ",
                                                 spec.num_labels, ", must be at least ", least));
}

}  // namespace

const char* HeadKindName(HeadKind kind) {
  switch (kind) {
    case HeadKind::kPretraining: return "pretraining";
    case HeadKind::kSequenceClassification: return "sequence_classification";
    case HeadKind::kTokenClassification: return "token_classification";
    case HeadKind::kSpanExtraction: return "span_extraction";
  }
  return "unknown";
}

absl::StatusOr<HeadKind> ParseHeadKind(const std::string& name) {
  std::string known;
  for (HeadKind kind : kKinds) {
    if (name == HeadKindName(kind)) return kind;
    absl::StrAppend(&known, known.empty() ? "" : ", ", HeadKindName(kind));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown head \"", name, "\"; known: ", known));
}

absl::StatusOr<std::unique_ptr<HeadDefinition>> MakeHeadDefinition(const HeadSpec& spec, const ModelConfig& config,
                                                                   const ParameterLayout& encoder_layout) {
  if (absl::Status s = CheckSpec(spec); !s.ok()) return s;
  switch (spec.kind) {
    case HeadKind::kPretraining: return std::make_unique<PretrainingDefinition>(config, encoder_layout);
    case HeadKind::kSequenceClassification:
    case HeadKind::kTokenClassification: return std::make_unique<ClassificationDefinition>(spec, config);
    case HeadKind::kSpanExtraction: return std::make_unique<SpanExtractionDefinition>(config);
  }
  return absl::InvalidArgumentError("unknown head kind");
}

absl::StatusOr<std::unique_ptr<Head>> MakeCpuHead(const HeadSpec& spec, const ModelConfig& config,
                                                  const ParameterLayout& encoder_layout) {
  if (absl::Status s = CheckSpec(spec); !s.ok()) return s;
  switch (spec.kind) {
    case HeadKind::kPretraining: return MakeCpuPretrainingHead(config, encoder_layout);
    case HeadKind::kSequenceClassification:
    case HeadKind::kTokenClassification: return MakeCpuClassificationHead(spec, config);
    case HeadKind::kSpanExtraction: return MakeCpuSpanExtractionHead(config);
  }
  return absl::InvalidArgumentError("unknown head kind");
}

ParameterLayout LayoutWithHead(const ModelConfig& config, HeadDefinition& head) {
  ParameterLayout layout = BuildEncoderLayout(config, head.uses_pooled_output());
  LayoutBuilder builder(layout);
  head.AddParameters(builder);
  return layout;
}

ParameterLayout BuildParameterLayout(const ModelConfig& config, const HeadSpec& head) {
  absl::StatusOr<std::unique_ptr<HeadDefinition>> definition =
      MakeHeadDefinition(head, config, BuildEncoderLayout(config));
  if (!definition.ok()) return BuildEncoderLayout(config);  // callers validate the spec through MakeHeadDefinition
  return LayoutWithHead(config, **definition);
}

}  // namespace cloze
