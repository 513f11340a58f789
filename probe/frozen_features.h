// Every layer's hidden states of a frozen encoder, pooled into one vector per word or per
// sentence: the inputs of the layer-wise linear probes.
//
// Layer 0 is the embeddings as the first transformer layer sees them (after ALBERT's E→H
// projection), layer i the output of layer i (Encoder::hidden_state). A word's vector is the
// mean of its sub-tokens' hidden states; a sentence's the mean over all its tokens ([CLS]
// and [SEP] included, padding not). Sentences use the mean rather than [CLS]: at layer 0
// [CLS] is the same vector for every sentence, and a pretraining checkpoint's [CLS] is
// trained by the sentence-order task alone.
//
// Inference only (no dropout), in batches; the model's parameters are read, not changed.
#ifndef CLOZE_PROBE_FROZEN_FEATURES_H_
#define CLOZE_PROBE_FROZEN_FEATURES_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "model/model.h"
#include "tasks/features.h"
#include "tasks/tagging_features.h"

namespace cloze::probe {

// rows() vectors of `dim` floats for each of layers() layers (0 = embeddings).
struct LayerVectors {
  int dim = 0;
  int64_t num_rows = 0;
  std::vector<std::vector<float>> by_layer;  // [layer]: (num_rows, dim)

  int layers() const { return static_cast<int>(by_layer.size()); }
  int64_t rows() const { return num_rows; }
  std::span<const float> vector(int layer, int64_t row) const {
    return {by_layer[layer].data() + row * dim, static_cast<size_t>(dim)};
  }
};

// The word vectors of the sentences `features` come from (TaggingFeatures): row
// first_word_row[example_index] + word for each word. `first_word_row` has one entry per
// sentence (the running total of the earlier sentences' words); `num_rows` is the total.
// InvalidArgument when a feature's tokens do not fit the model or a row gets no token.
absl::StatusOr<LayerVectors> WordVectors(const Model& model, const std::vector<tasks::TaggingFeature>& features,
                                         const std::vector<int64_t>& first_word_row, int64_t num_rows,
                                         int32_t pad_id, int batch_size);

// One vector per feature (row = its position), the mean over its tokens. InvalidArgument
// when a feature does not fit the model.
absl::StatusOr<LayerVectors> SentenceVectors(const Model& model, const std::vector<tasks::SequenceFeature>& features,
                                             int32_t pad_id, int batch_size);

}  // namespace cloze::probe

#endif  // CLOZE_PROBE_FROZEN_FEATURES_H_
