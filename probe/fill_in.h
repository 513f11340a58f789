// The fill-in probe of "Pretrained Language Model Embryology" (arXiv 2010.02480, §3): how
// well a pretraining checkpoint's masked-language-model head restores a word, by word class.
//
// Every word of every sentence is one query: the sentence as tasks/tagging_features.h lays it
// out ([CLS] words [SEP], each word tokenized alone; a long sentence split into windows of
// whole words), with ALL of the word's sub-tokens replaced by [MASK]. The word counts as
// recovered only when the argmax of the head at every one of its sub-tokens is the original
// sub-token: a word of three sub-tokens with one wrong is wrong. Accuracy is tallied by the
// word's UPOS tag and overall.
//
// The reconstruction variant asks the same at the same positions with nothing masked (the
// paper's "reconstruction": can the model copy its input through).
//
// Queries are batched, many per forward pass; padding does not change a query's answer.
#ifndef CLOZE_PROBE_FILL_IN_H_
#define CLOZE_PROBE_FILL_IN_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/batch.h"
#include "model/model.h"
#include "probe/class_accuracy.h"
#include "tasks/tagging_features.h"
#include "tasks/task_example.h"

namespace cloze::probe {

// One word to restore: where its sub-tokens sit in `feature`, and what they were.
struct FillInQuery {
  const tasks::TaggingFeature* feature = nullptr;  // not owned: the features outlive the queries
  std::vector<int32_t> positions;                   // token positions of the word in the feature
  std::vector<int32_t> original_ids;                // the feature's ids at those positions
  std::string word_class;                           // the word's UPOS tag
};

// One query per word of `features` (as TaggingFeatures made them from `sentences`, whose
// example_index they carry), in order; a word's class is sentences[example_index].tags[word].
// InvalidArgument when a feature names a sentence or word that `sentences` lacks.
absl::StatusOr<std::vector<FillInQuery>> FillInQueries(const std::vector<tasks::TaggingFeature>& features,
                                                       const std::vector<tasks::TaggedSentence>& sentences);

// True when `predicted` (the argmax at each sub-token) equals `original` everywhere; false
// for lists of different lengths, or empty ones.
bool WordRecovered(std::span<const int32_t> predicted, std::span<const int32_t> original);

// The pretraining batch of `queries`: one row each, padded with `pad_id` to the longest, the
// query's positions replaced by `mask_id` when `masked` (left as they are otherwise), listed in
// masked_positions in query order with label -1 (no loss is wanted), sentence labels -1.
Batch FillInBatch(std::span<const FillInQuery> queries, int32_t pad_id, int32_t mask_id, bool masked);

// Adds each query's outcome to `accuracy`: `logits` are the head's (M, vocab) rows in the
// order of FillInBatch's masked_positions (M = the queries' positions in all).
void ScoreFillIn(std::span<const FillInQuery> queries, std::span<const float> logits, int vocab,
                 ClassAccuracy& accuracy);

// Every query through `model` (a pretraining model) in batches of `batch_size`, masked or
// not: the accuracy by word class. The model's errors (a batch it refuses) are returned.
absl::StatusOr<ClassAccuracy> RunFillIn(Model& model, std::span<const FillInQuery> queries, int32_t pad_id,
                                        int32_t mask_id, bool masked, int batch_size);

}  // namespace cloze::probe

#endif  // CLOZE_PROBE_FILL_IN_H_
