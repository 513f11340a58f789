#include "tasks/squad_features.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cloze::tasks {
namespace {

struct Window {
  int start = 0;   // first context token
  int length = 0;  // context tokens
};

// BERT's doc spans: windows of up to `max_tokens` tokens whose starts are `stride` apart.
std::vector<Window> Windows(int num_tokens, int max_tokens, int stride) {
  std::vector<Window> windows;
  int start = 0;
  while (true) {
    const int length = std::min(num_tokens - start, max_tokens);
    windows.push_back({start, length});
    if (start + length >= num_tokens) break;
    start += std::min(length, stride);
  }
  return windows;
}

// BERT's _check_is_max_context: whether `window` is where context token `position` has
// the most context on both sides (the first best window on a tie).
bool IsMaxContext(const std::vector<Window>& windows, size_t window, int position) {
  double best_score = -1;
  size_t best = 0;
  for (size_t i = 0; i < windows.size(); ++i) {
    const int end = windows[i].start + windows[i].length - 1;
    if (position < windows[i].start || position > end) continue;
    const double score =
        std::min(position - windows[i].start, end - position) + 0.01 * windows[i].length;
    if (score > best_score) {
      best_score = score;
      best = i;
    }
  }
  return best == window;
}

// The context tokens of the answer bytes [begin, end): first token ending after `begin`,
// last token beginning before `end`; {-1, -1} when no token lies inside (e.g. an answer of
// whitespace only).
std::pair<int, int> AnswerTokens(const std::vector<data::TokenSpan>& context, size_t begin,
                                 size_t end) {
  int first = -1, last = -1;
  for (size_t i = 0; i < context.size(); ++i) {
    if (first < 0 && context[i].end > begin) first = static_cast<int>(i);
    if (context[i].begin < end) last = static_cast<int>(i);
  }
  if (first < 0 || last < first) return {-1, -1};
  return {first, last};
}

absl::StatusOr<std::vector<SquadFeature>> FeaturesOfEncoded(
    const QaExample& example, int64_t example_index, const std::vector<data::TokenSpan>& context,
    const data::Tokenizer& tokenizer, const SquadFeatureOptions& options) {
  if (options.doc_stride < 1 || options.max_query_length < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("question ", example.id, ": doc_stride ", options.doc_stride,
                     " and max_query_length ", options.max_query_length, " must be >= 1 and >= 0"));
  }
  std::vector<int32_t> question = tokenizer.Encode(example.question);
  if (question.size() > static_cast<size_t>(options.max_query_length)) {
    question.resize(static_cast<size_t>(options.max_query_length));
  }
  const int max_context_tokens = options.max_seq_length - static_cast<int>(question.size()) - 3;
  if (max_context_tokens < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("question ", example.id, ": max_seq_length ", options.max_seq_length,
                     " leaves no room for context after ", question.size(),
                     " question tokens and 3 special tokens"));
  }

  // The labelled answer, in context tokens; answer_first < 0: no answer tokens.
  int answer_first = -1, answer_last = -1;
  const bool has_answer = !example.is_impossible && !example.answers.empty();
  if (has_answer) {
    const QaAnswer& answer = example.answers.front();
    const size_t begin = static_cast<size_t>(answer.byte_start);
    const size_t end = begin + answer.text.size();
    if (answer.byte_start < 0 || end > example.context.size()) {
      return absl::InvalidArgumentError(absl::StrCat("question ", example.id, ": answer bytes [",
                                                     begin, ", ", end, ") outside its context of ",
                                                     example.context.size(), " bytes"));
    }
    std::tie(answer_first, answer_last) = AnswerTokens(context, begin, end);
  }

  const std::vector<Window> windows =
      Windows(static_cast<int>(context.size()), max_context_tokens, options.doc_stride);
  std::vector<SquadFeature> features;
  features.reserve(windows.size());
  for (size_t w = 0; w < windows.size(); ++w) {
    const Window& window = windows[w];
    SquadFeature feature;
    feature.example_index = example_index;
    feature.window_index = static_cast<int>(w);
    feature.input_ids.push_back(tokenizer.cls_id());
    feature.input_ids.insert(feature.input_ids.end(), question.begin(), question.end());
    feature.input_ids.push_back(tokenizer.sep_id());
    const int context_offset = static_cast<int>(feature.input_ids.size());
    feature.token_type_ids.assign(feature.input_ids.size(), 0);
    feature.token_begin.assign(feature.input_ids.size(), -1);
    feature.token_end.assign(feature.input_ids.size(), -1);
    feature.max_context.assign(feature.input_ids.size(), false);
    for (int i = window.start; i < window.start + window.length; ++i) {
      feature.input_ids.push_back(context[static_cast<size_t>(i)].id);
      feature.token_type_ids.push_back(1);
      feature.token_begin.push_back(static_cast<int64_t>(context[static_cast<size_t>(i)].begin));
      feature.token_end.push_back(static_cast<int64_t>(context[static_cast<size_t>(i)].end));
      feature.max_context.push_back(IsMaxContext(windows, w, i));
    }
    feature.input_ids.push_back(tokenizer.sep_id());
    feature.token_type_ids.push_back(1);
    feature.token_begin.push_back(-1);
    feature.token_end.push_back(-1);
    feature.max_context.push_back(false);
    feature.attention_mask.assign(feature.input_ids.size(), 1);

    if (has_answer || example.is_impossible) {
      feature.start_position = feature.end_position = 0;
      if (answer_first >= window.start && answer_first >= 0 &&
          answer_last < window.start + window.length) {
        feature.start_position = answer_first - window.start + context_offset;
        feature.end_position = answer_last - window.start + context_offset;
      }
    }
    features.push_back(std::move(feature));
  }
  return features;
}

}  // namespace

absl::StatusOr<std::vector<SquadFeature>> SquadFeatures(const QaExample& example,
                                                        int64_t example_index,
                                                        const data::Tokenizer& tokenizer,
                                                        const SquadFeatureOptions& options) {
  return FeaturesOfEncoded(example, example_index, tokenizer.EncodeWithOffsets(example.context),
                           tokenizer, options);
}

absl::StatusOr<std::vector<SquadFeature>> SquadFeatures(const std::vector<QaExample>& examples,
                                                        const data::Tokenizer& tokenizer,
                                                        const SquadFeatureOptions& options) {
  std::vector<SquadFeature> all;
  std::vector<data::TokenSpan> context;
  const std::string* encoded = nullptr;  // the context `context` holds
  for (size_t i = 0; i < examples.size(); ++i) {
    if (encoded == nullptr || *encoded != examples[i].context) {
      context = tokenizer.EncodeWithOffsets(examples[i].context);
      encoded = &examples[i].context;
    }
    absl::StatusOr<std::vector<SquadFeature>> features =
        FeaturesOfEncoded(examples[i], static_cast<int64_t>(i), context, tokenizer, options);
    if (!features.ok()) return features.status();
    for (SquadFeature& feature : *features) all.push_back(std::move(feature));
  }
  return all;
}

}  // namespace cloze::tasks
