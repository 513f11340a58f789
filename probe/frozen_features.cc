#include "probe/frozen_features.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "model/batch.h"
#include "model/encoder.h"
#include "trainer/model_input.h"

namespace cloze::probe {
namespace {

// The row that token `token` of input `input` adds to, or -1 for none.
using RowOf = std::function<int64_t(size_t input, int token)>;

// Runs the encoder over `inputs` in batches and returns, for every layer, the mean of the
// hidden states of the tokens mapped to each row.
absl::StatusOr<LayerVectors> PoolTokens(const Model& model, const std::vector<ModelInput>& inputs, const RowOf& row_of,
                                        int64_t num_rows, int32_t pad_id, int batch_size) {
  const ModelConfig& config = model.config();
  LayerVectors out{.dim = config.hidden_size(), .num_rows = num_rows};
  out.by_layer.assign(config.num_hidden_layers() + 1, std::vector<float>(num_rows * out.dim, 0.0f));
  std::vector<int64_t> tokens_of_row(num_rows, 0);
  Encoder encoder(config, model.layout(), model.precision());
  for (size_t begin = 0; begin < inputs.size(); begin += batch_size) {
    const size_t end = std::min(inputs.size(), begin + batch_size);
    std::vector<const ModelInput*> chunk;
    for (size_t i = begin; i < end; ++i) chunk.push_back(&inputs[i]);
    absl::StatusOr<Batch> batch = CollateModelInputs(chunk, pad_id, BatchLayout{.labels = LabelLayout::kPerToken});
    if (!batch.ok()) return batch.status();
    if (absl::Status s = ValidateInputs(*batch, config); !s.ok()) return s;
    encoder.Forward(model.parameters().data(), *batch, StepOptions{}, /*pooled=*/false);
    for (size_t b = 0; b < chunk.size(); ++b) {
      for (int t = 0; t < static_cast<int>(chunk[b]->input_ids.size()); ++t) {
        const int64_t row = row_of(begin + b, t);
        if (row < 0) continue;
        ++tokens_of_row[row];
        const size_t cell = (b * batch->seq_len + t) * static_cast<size_t>(out.dim);
        for (int layer = 0; layer < out.layers(); ++layer) {
          const float* hidden = encoder.hidden_state(layer).data() + cell;
          float* sum = out.by_layer[layer].data() + row * out.dim;
          for (int j = 0; j < out.dim; ++j) sum[j] += hidden[j];
        }
      }
    }
  }
  for (int64_t row = 0; row < num_rows; ++row) {
    if (tokens_of_row[row] == 0) return absl::InvalidArgumentError(absl::StrCat("row ", row, " has no token"));
    const float scale = 1.0f / tokens_of_row[row];
    for (std::vector<float>& layer : out.by_layer) {
      for (int j = 0; j < out.dim; ++j) layer[row * out.dim + j] *= scale;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<LayerVectors> WordVectors(const Model& model, const std::vector<tasks::TaggingFeature>& features,
                                         const std::vector<int64_t>& first_word_row, int64_t num_rows,
                                         int32_t pad_id, int batch_size) {
  for (const tasks::TaggingFeature& f : features) {
    if (f.example_index < 0 || f.example_index >= static_cast<int64_t>(first_word_row.size())) {
      return absl::InvalidArgumentError(absl::StrCat("feature of sentence ", f.example_index, " but ",
                                                     first_word_row.size(), " sentences"));
    }
  }
  const std::vector<ModelInput> inputs = ToModelInputs(features);
  return PoolTokens(
      model, inputs,
      [&](size_t input, int token) -> int64_t {
        const int word = features[input].word_of_token[token];
        return word < 0 ? -1 : first_word_row[features[input].example_index] + word;
      },
      num_rows, pad_id, batch_size);
}

absl::StatusOr<LayerVectors> SentenceVectors(const Model& model, const std::vector<tasks::SequenceFeature>& features,
                                             int32_t pad_id, int batch_size) {
  std::vector<ModelInput> inputs;
  for (const tasks::SequenceFeature& f : features) {
    // Only the encoder's inputs matter here; the per-token layout needs no label.
    inputs.push_back(ModelInput{.example_index = f.example_index, .input_ids = f.input_ids,
                                .token_type_ids = f.token_type_ids, .attention_mask = f.attention_mask,
                                .labels = std::vector<int32_t>(f.input_ids.size(), tasks::kIgnoredLabel)});
  }
  return PoolTokens(
      model, inputs, [](size_t input, int) { return static_cast<int64_t>(input); },
      static_cast<int64_t>(features.size()), pad_id, batch_size);
}

}  // namespace cloze::probe
