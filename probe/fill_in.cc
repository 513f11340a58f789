#include "probe/fill_in.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace cloze::probe {

absl::StatusOr<std::vector<FillInQuery>> FillInQueries(const std::vector<tasks::TaggingFeature>& features,
                                                       const std::vector<tasks::TaggedSentence>& sentences) {
  std::vector<FillInQuery> queries;
  for (const tasks::TaggingFeature& feature : features) {
    if (feature.example_index < 0 || feature.example_index >= static_cast<int64_t>(sentences.size())) {
      return absl::InvalidArgumentError(absl::StrCat("feature of sentence ", feature.example_index, " but only ",
                                                     sentences.size(), " sentences"));
    }
    const tasks::TaggedSentence& sentence = sentences[feature.example_index];
    const size_t first_query = queries.size();
    for (int w = feature.first_word; w < feature.first_word + feature.num_words; ++w) {
      if (w >= static_cast<int>(sentence.tags.size())) {
        return absl::InvalidArgumentError(
            absl::StrCat("sentence ", sentence.id, " (line ", sentence.line, ") has no tag for word ", w + 1));
      }
      queries.push_back(FillInQuery{.feature = &feature, .word_class = sentence.tags[w]});
    }
    for (size_t t = 0; t < feature.input_ids.size(); ++t) {
      const int w = feature.word_of_token[t];
      if (w < 0) continue;  // [CLS], [SEP]
      FillInQuery& query = queries[first_query + (w - feature.first_word)];
      query.positions.push_back(static_cast<int32_t>(t));
      query.original_ids.push_back(feature.input_ids[t]);
    }
  }
  return queries;
}

bool WordRecovered(std::span<const int32_t> predicted, std::span<const int32_t> original) {
  return !original.empty() && std::equal(predicted.begin(), predicted.end(), original.begin(), original.end());
}

Batch FillInBatch(std::span<const FillInQuery> queries, int32_t pad_id, int32_t mask_id, bool masked) {
  Batch batch;
  batch.batch_size = static_cast<int>(queries.size());
  for (const FillInQuery& q : queries) {
    batch.seq_len = std::max(batch.seq_len, static_cast<int>(q.feature->input_ids.size()));
  }
  const size_t cells = static_cast<size_t>(batch.batch_size) * batch.seq_len;
  batch.input_ids.assign(cells, pad_id);
  batch.token_type_ids.assign(cells, 0);
  batch.attention_mask.assign(cells, 0);
  for (int b = 0; b < batch.batch_size; ++b) {
    const FillInQuery& q = queries[b];
    const size_t row = static_cast<size_t>(b) * batch.seq_len;
    std::copy(q.feature->input_ids.begin(), q.feature->input_ids.end(), batch.input_ids.begin() + row);
    std::copy(q.feature->token_type_ids.begin(), q.feature->token_type_ids.end(), batch.token_type_ids.begin() + row);
    std::copy(q.feature->attention_mask.begin(), q.feature->attention_mask.end(), batch.attention_mask.begin() + row);
    for (int32_t position : q.positions) {
      if (masked) batch.input_ids[row + position] = mask_id;
      batch.masked_positions.push_back(static_cast<int32_t>(row + position));
    }
  }
  batch.masked_labels.assign(batch.masked_positions.size(), -1);
  batch.sentence_labels.assign(batch.batch_size, -1);
  return batch;
}

void ScoreFillIn(std::span<const FillInQuery> queries, std::span<const float> logits, int vocab,
                 ClassAccuracy& accuracy) {
  size_t row = 0;
  for (const FillInQuery& q : queries) {
    std::vector<int32_t> predicted;
    for (size_t i = 0; i < q.positions.size(); ++i, ++row) {
      const std::span<const float> scores = logits.subspan(row * vocab, vocab);
      predicted.push_back(static_cast<int32_t>(std::max_element(scores.begin(), scores.end()) - scores.begin()));
    }
    accuracy.Add(q.word_class, WordRecovered(predicted, q.original_ids));
  }
}

absl::StatusOr<ClassAccuracy> RunFillIn(Model& model, std::span<const FillInQuery> queries, int32_t pad_id,
                                        int32_t mask_id, bool masked, int batch_size) {
  ClassAccuracy accuracy;
  for (size_t begin = 0; begin < queries.size(); begin += batch_size) {
    const std::span<const FillInQuery> chunk = queries.subspan(begin, std::min<size_t>(batch_size, queries.size() - begin));
    const Batch batch = FillInBatch(chunk, pad_id, mask_id, masked);
    absl::StatusOr<Losses> losses = model.Forward(batch, StepOptions{});
    if (!losses.ok()) return losses.status();
    ScoreFillIn(chunk, model.logits(0), model.config().vocab_size(), accuracy);
  }
  return accuracy;
}

}  // namespace cloze::probe
