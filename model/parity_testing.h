// What the model's parity tests share (a backend or precision against the fp32 CPU
// reference): the error measures, and the step tests' optimizer and dropout settings.
#ifndef CLOZE_MODEL_PARITY_TESTING_H_
#define CLOZE_MODEL_PARITY_TESTING_H_

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <string_view>

#include "model/model_config.h"
#include "proto/train_config.pb.h"

namespace cloze::parity {

// ‖a − b‖ / ‖b‖ in double (0 when both are zero; infinite for a size mismatch).
inline double RelativeDifference(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size()) return INFINITY;
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - double(b[i]);
    diff += d * d;
    norm += double(b[i]) * b[i];
  }
  if (norm == 0) return diff == 0 ? 0 : INFINITY;
  return std::sqrt(diff / norm);
}

// ‖a‖ and ‖a − b‖ in double (sizes must match): per-tensor differences with a floor.
inline double Norm(std::span<const float> a) {
  double norm = 0;
  for (float x : a) norm += double(x) * x;
  return std::sqrt(norm);
}
inline double Distance(std::span<const float> a, std::span<const float> b) {
  double diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return std::sqrt(diff);
}

// A config file's stem as part of a gtest case name: "configs/albert-tiny.textproto" →
// "albert_tiny".
inline std::string ConfigCaseName(std::string_view path) {
  std::string name(path.substr(path.rfind('/') + 1));
  name = name.substr(0, name.find('.'));
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

inline double RelativeError(double got, double want) { return std::fabs(got - want) / std::max(std::fabs(want), 1e-12); }

// Dropout on at every site, whatever the released config says: the step tests compare the
// dropout masks too.
inline ModelConfig WithDropoutEverywhere(ModelConfig config) {
  config.set_hidden_dropout_prob(0.1f);
  config.set_attention_probs_dropout_prob(0.1f);
  config.set_classifier_dropout_prob(0.1f);
  return config;
}

// The step tests' optimizer: `kind` with ALBERT's moments, weight decay and clipping.
inline OptimizerConfig StepTestOptimizer(OptimizerConfig::Kind kind) {
  OptimizerConfig config;
  config.set_kind(kind);
  config.set_learning_rate(1e-3f);
  config.set_beta1(0.9f);
  config.set_beta2(0.999f);
  config.set_epsilon(1e-6f);
  config.set_weight_decay(0.01f);
  config.set_max_grad_norm(1.0f);
  return config;
}

}  // namespace cloze::parity

#endif  // CLOZE_MODEL_PARITY_TESTING_H_
