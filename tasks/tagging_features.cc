#include "tasks/tagging_features.h"

#include <string>
#include <unordered_map>

#include "absl/strings/str_cat.h"

namespace cloze::tasks {
namespace {

std::string Where(const TaggedSentence& sentence) {
  return absl::StrCat("sentence ", sentence.id.empty() ? "(no id)" : sentence.id, " at line ",
                      sentence.line);
}

// An empty window to which words are appended.
TaggingFeature OpenWindow(int64_t example_index, int first_word, const data::Tokenizer& tokenizer) {
  TaggingFeature feature;
  feature.example_index = example_index;
  feature.first_word = first_word;
  feature.input_ids.push_back(tokenizer.cls_id());
  feature.labels.push_back(kIgnoredLabel);
  feature.word_of_token.push_back(-1);
  feature.is_first_subtoken.push_back(false);
  return feature;
}

void CloseWindow(const data::Tokenizer& tokenizer, TaggingFeature* feature) {
  feature->input_ids.push_back(tokenizer.sep_id());
  feature->labels.push_back(kIgnoredLabel);
  feature->word_of_token.push_back(-1);
  feature->is_first_subtoken.push_back(false);
  feature->token_type_ids.assign(feature->input_ids.size(), 0);
  feature->attention_mask.assign(feature->input_ids.size(), 1);
}

}  // namespace

absl::StatusOr<std::vector<TaggingFeature>> TaggingFeatures(const TaggedSentence& sentence,
                                                            int64_t example_index,
                                                            const std::vector<std::string>& tags,
                                                            const data::Tokenizer& tokenizer,
                                                            int max_seq_length) {
  if (max_seq_length < 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_seq_length ", max_seq_length, " leaves no room for a word between [CLS] and [SEP]"));
  }
  const bool labelled = !sentence.tags.empty();
  if (labelled && sentence.tags.size() != sentence.words.size()) {
    return absl::InvalidArgumentError(absl::StrCat(Where(sentence), ": ", sentence.words.size(),
                                                   " words but ", sentence.tags.size(), " tags"));
  }
  std::unordered_map<std::string, int32_t> tag_index;
  for (size_t i = 0; i < tags.size(); ++i) tag_index.emplace(tags[i], static_cast<int32_t>(i));

  const size_t window = static_cast<size_t>(max_seq_length - 2);
  std::vector<TaggingFeature> features;
  if (sentence.words.empty()) return features;
  TaggingFeature current = OpenWindow(example_index, 0, tokenizer);
  for (size_t w = 0; w < sentence.words.size(); ++w) {
    int32_t label = kIgnoredLabel;
    if (labelled) {
      auto it = tag_index.find(sentence.tags[w]);
      if (it == tag_index.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(Where(sentence), ", word ", w + 1, " \"", sentence.words[w], "\": tag \"",
                         sentence.tags[w], "\" is not a label of the task"));
      }
      label = it->second;
    }
    std::vector<int32_t> pieces = tokenizer.Encode(sentence.words[w]);
    if (pieces.empty()) pieces.push_back(tokenizer.unk_id());
    if (pieces.size() > window) pieces.resize(window);
    if (current.num_words > 0 && current.input_ids.size() - 1 + pieces.size() > window) {
      CloseWindow(tokenizer, &current);
      features.push_back(std::move(current));
      current = OpenWindow(example_index, static_cast<int>(w), tokenizer);
    }
    for (size_t p = 0; p < pieces.size(); ++p) {
      current.input_ids.push_back(pieces[p]);
      current.labels.push_back(p == 0 ? label : kIgnoredLabel);
      current.word_of_token.push_back(static_cast<int32_t>(w));
      current.is_first_subtoken.push_back(p == 0);
    }
    ++current.num_words;
  }
  CloseWindow(tokenizer, &current);
  features.push_back(std::move(current));
  return features;
}

absl::StatusOr<std::vector<TaggingFeature>> TaggingFeatures(
    const std::vector<TaggedSentence>& sentences, const std::vector<std::string>& tags,
    const data::Tokenizer& tokenizer, int max_seq_length) {
  std::vector<TaggingFeature> all;
  for (size_t i = 0; i < sentences.size(); ++i) {
    absl::StatusOr<std::vector<TaggingFeature>> features =
        TaggingFeatures(sentences[i], static_cast<int64_t>(i), tags, tokenizer, max_seq_length);
    if (!features.ok()) return features.status();
    for (TaggingFeature& feature : *features) all.push_back(std::move(feature));
  }
  return all;
}

absl::StatusOr<std::vector<int32_t>> WordPredictions(
    const std::vector<TaggingFeature>& features,
    const std::vector<std::vector<int32_t>>& token_predictions, int num_words) {
  if (features.size() != token_predictions.size()) {
    return absl::InvalidArgumentError(absl::StrCat(features.size(), " features but ",
                                                   token_predictions.size(), " prediction lists"));
  }
  std::vector<int32_t> words(static_cast<size_t>(num_words < 0 ? 0 : num_words), -1);
  for (size_t f = 0; f < features.size(); ++f) {
    const TaggingFeature& feature = features[f];
    if (token_predictions[f].size() < feature.input_ids.size()) {
      return absl::InvalidArgumentError(absl::StrCat("feature ", f, " has ",
                                                     feature.input_ids.size(), " tokens but ",
                                                     token_predictions[f].size(), " predictions"));
    }
    for (size_t t = 0; t < feature.input_ids.size(); ++t) {
      if (!feature.is_first_subtoken[t]) continue;
      const int32_t word = feature.word_of_token[t];
      if (word < 0 || word >= num_words) {
        return absl::InvalidArgumentError(absl::StrCat("feature ", f, " token ", t, " is word ",
                                                       word, " of a sentence of ", num_words,
                                                       " words"));
      }
      words[static_cast<size_t>(word)] = token_predictions[f][t];
    }
  }
  return words;
}

}  // namespace cloze::tasks
