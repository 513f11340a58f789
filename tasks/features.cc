#include "tasks/features.h"

#include "absl/strings/str_cat.h"

namespace cloze::tasks {

void TruncateLongestFirst(std::vector<int32_t>* a, std::vector<int32_t>* b, size_t max_tokens) {
  if (b == nullptr) {
    if (a->size() > max_tokens) a->resize(max_tokens);
    return;
  }
  while (a->size() + b->size() > max_tokens) {
    if (a->size() > b->size()) {
      a->pop_back();
    } else {
      b->pop_back();
    }
  }
}

absl::StatusOr<SequenceFeature> SentenceFeature(const SentenceExample& example,
                                                const data::Tokenizer& tokenizer,
                                                int max_seq_length) {
  const bool pair = example.text_b.has_value();
  const int specials = pair ? 3 : 2;
  if (max_seq_length <= specials) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_seq_length ", max_seq_length, " leaves no room for text after the ",
                     specials, " special tokens of a ", pair ? "pair" : "single sentence",
                     " (example ", example.guid, ")"));
  }
  std::vector<int32_t> a = tokenizer.Encode(example.text_a);
  std::vector<int32_t> b;
  if (pair) b = tokenizer.Encode(*example.text_b);
  const size_t before = a.size() + b.size();
  TruncateLongestFirst(&a, pair ? &b : nullptr, static_cast<size_t>(max_seq_length - specials));

  SequenceFeature feature;
  feature.truncated_tokens = static_cast<int>(before - a.size() - b.size());
  feature.label = example.label;
  feature.score = example.score;
  feature.input_ids.reserve(a.size() + b.size() + specials);
  feature.input_ids.push_back(tokenizer.cls_id());
  feature.input_ids.insert(feature.input_ids.end(), a.begin(), a.end());
  feature.input_ids.push_back(tokenizer.sep_id());
  feature.token_type_ids.assign(feature.input_ids.size(), 0);
  if (pair) {
    feature.input_ids.insert(feature.input_ids.end(), b.begin(), b.end());
    feature.input_ids.push_back(tokenizer.sep_id());
    feature.token_type_ids.resize(feature.input_ids.size(), 1);
  }
  feature.attention_mask.assign(feature.input_ids.size(), 1);
  return feature;
}

absl::StatusOr<std::vector<SequenceFeature>> SentenceFeatures(
    const std::vector<SentenceExample>& examples, const data::Tokenizer& tokenizer,
    int max_seq_length) {
  std::vector<SequenceFeature> features;
  features.reserve(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    absl::StatusOr<SequenceFeature> feature =
        SentenceFeature(examples[i], tokenizer, max_seq_length);
    if (!feature.ok()) return feature.status();
    feature->example_index = static_cast<int64_t>(i);
    features.push_back(*std::move(feature));
  }
  return features;
}

void SetPlaceholderTargets(std::vector<SequenceFeature>* features, bool regression) {
  for (SequenceFeature& f : *features) {
    if (regression && !f.score) f.score = 0.0f;
    if (!regression && !f.label) f.label = -1;
  }
}

}  // namespace cloze::tasks
