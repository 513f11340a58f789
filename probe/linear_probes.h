// The layer-wise linear probes: for every layer, a softmax regression
// (probe/softmax_regression.h) on the frozen vectors of probe/frozen_features.h, fitted on
// train, early-stopped on dev, scored on test, with accuracy per gold class.
//
// What an item is decides the probe:
//   UPOS     one word; its UPOS tag (part of speech).
//   deprel   a dependent and its head (the two words' vectors concatenated, dependent
//            first); the dependent's universal relation, DEPREL without its subtype
//            ("obl:tmod" -> "obl"). The root (HEAD 0) and unannotated words are left out.
//   SST-2    one sentence (its mean vector); its sentiment.
//
// Features are standardised per layer with the train rows' statistics before the fit.
#ifndef CLOZE_PROBE_LINEAR_PROBES_H_
#define CLOZE_PROBE_LINEAR_PROBES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "probe/class_accuracy.h"
#include "probe/frozen_features.h"
#include "probe/softmax_regression.h"
#include "tasks/task_example.h"

namespace cloze::probe {

// The items of one split: item i is the concatenation of the vectors of rows
// rows[i·rows_per_item ...], with class labels[i] (an index into the probe's classes).
struct ProbeItems {
  int rows_per_item = 1;
  std::vector<int64_t> rows;
  std::vector<int32_t> labels;
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

// Where each sentence's words start among the word rows (WordVectors' first_word_row), and
// the total.
std::vector<int64_t> FirstWordRows(const std::vector<tasks::TaggedSentence>& sentences, int64_t* num_rows);

// One item per word, its tag's index in `tags`; InvalidArgument naming the sentence for a
// tag not in `tags`.
absl::StatusOr<ProbeItems> UposItems(const std::vector<tasks::TaggedSentence>& sentences,
                                     const std::vector<std::string>& tags);

// "obl:tmod" -> "obl".
std::string UniversalRelation(const std::string& deprel);

// The sorted universal relations of `sentences`' non-root words: the deprel probe's classes
// (from its train split).
std::vector<std::string> CollectRelations(const std::vector<tasks::TaggedSentence>& sentences);

// One item per non-root word with an annotated head: (dependent row, head row), its
// universal relation's index in `relations`. Words whose relation is not in `relations` (not
// seen in train) are left out and counted in *unseen.
ProbeItems DeprelItems(const std::vector<tasks::TaggedSentence>& sentences, const std::vector<std::string>& relations,
                       int64_t* unseen);

// One split's vectors and items.
struct ProbeSplit {
  const LayerVectors* vectors = nullptr;
  ProbeItems items;
};

// The items' features at `layer`: rows_per_item vectors concatenated per item.
LabelledFeatures ItemFeatures(const LayerVectors& vectors, int layer, const ProbeItems& items);

// For each layer (0 .. vectors' layers - 1): the probe fitted on train, early-stopped on
// dev, and its accuracy on test by gold class (named by `classes`). InvalidArgument when the
// splits' vectors have different layers or dims, or a fit refuses its input.
absl::StatusOr<std::vector<ClassAccuracy>> ProbeEveryLayer(const ProbeSplit& train, const ProbeSplit& dev,
                                                           const ProbeSplit& test,
                                                           const std::vector<std::string>& classes,
                                                           const SoftmaxRegressionOptions& options);

}  // namespace cloze::probe

#endif  // CLOZE_PROBE_LINEAR_PROBES_H_
