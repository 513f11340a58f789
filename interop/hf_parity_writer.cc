// Writes the cases hf_parity_test.py checks with transformers: for ALBERT and BERT and each
// fine-tuning head, a cloze model (tiny golden config with the real vocabulary's size,
// perturbed seeded parameters; the pretraining head too, whose MLM decoder HF must re-tie)
// exported with ExportHuggingFace, and the model's logits on a
// batch that cloze's tokenizer made from fixed sentence pairs.
//
//   hf_parity_writer OUT_DIR ALBERT_SPIECE_MODEL BERT_VOCAB_TXT
//
// OUT_DIR/<family>_<head>/model/           the exported HF folder (with tokenizer)
// OUT_DIR/<family>_<head>/cloze.safetensors input.{input_ids,token_type_ids,attention_mask},
//     text.<i>.ids (cloze's Encode of each sentence, no specials), output.logits.<k>;
//     metadata: head, num_labels, sentences (JSON list), auto_class.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "data/tokenizer.h"
#include "interop/hf_export.h"
#include "nlohmann/json.hpp"
#include "model/model.h"
#include "model/model_config.h"
#include "checkpoint/safetensors.h"

namespace cloze::interop {
namespace {

constexpr int kSeqLen = 16;  // the golden configs' max_position_embeddings
const std::vector<std::pair<std::string, std::string>> kPairs = {
    {"The cat sat on the mat.", "It was happy."},
    {"Héllo WORLD, again!", "Short."},
    {"Nothing here", ""},
};

// One padded row per pair: [CLS] a [SEP] b [SEP], segment 1 from b on.
Batch Tokenize(const data::Tokenizer& tokenizer, std::vector<std::vector<int32_t>>& texts) {
  Batch batch;
  batch.batch_size = static_cast<int>(kPairs.size());
  batch.seq_len = kSeqLen;
  for (const auto& [a, b] : kPairs) {
    const std::vector<int32_t> ids_a = tokenizer.Encode(a), ids_b = tokenizer.Encode(b);
    texts.push_back(ids_a);
    texts.push_back(ids_b);
    std::vector<int32_t> ids = {tokenizer.cls_id()}, types = {0};
    for (int32_t id : ids_a) ids.push_back(id), types.push_back(0);
    ids.push_back(tokenizer.sep_id()), types.push_back(0);
    if (!ids_b.empty()) {
      for (int32_t id : ids_b) ids.push_back(id), types.push_back(1);
      ids.push_back(tokenizer.sep_id()), types.push_back(1);
    }
    if (ids.size() > kSeqLen) {
      std::cerr << "sentence pair too long for " << kSeqLen << " tokens\n";
      std::exit(1);
    }
    const size_t used = ids.size();
    ids.resize(kSeqLen, tokenizer.pad_id());
    types.resize(kSeqLen, 0);
    batch.input_ids.insert(batch.input_ids.end(), ids.begin(), ids.end());
    batch.token_type_ids.insert(batch.token_type_ids.end(), types.begin(), types.end());
    for (int t = 0; t < kSeqLen; ++t) batch.attention_mask.push_back(t < static_cast<int>(used) ? 1 : 0);
  }
  return batch;
}

void AddLabels(const HeadSpec& head, Batch& batch) {
  switch (head.kind) {
    case HeadKind::kSequenceClassification:
      if (head.is_regression()) {
        batch.targets.assign(batch.batch_size, 0.5f);
      } else {
        batch.labels.assign(batch.batch_size, 0);
      }
      break;
    case HeadKind::kTokenClassification: batch.labels.assign(batch.batch_size * batch.seq_len, 0); break;
    case HeadKind::kSpanExtraction: batch.labels.assign(2 * batch.batch_size, 1); break;
    case HeadKind::kPretraining:
      // Predict the first two tokens after [CLS] of every row (flat b·T + t).
      for (int b = 0; b < batch.batch_size; ++b) {
        for (int t : {1, 2}) {
          batch.masked_positions.push_back(b * batch.seq_len + t);
          batch.masked_labels.push_back(batch.input_ids[b * batch.seq_len + t]);
        }
      }
      batch.sentence_labels.assign(batch.batch_size, 0);
      break;
  }
}

const char* AutoClass(const HeadSpec& head) {
  switch (head.kind) {
    case HeadKind::kSequenceClassification: return "AutoModelForSequenceClassification";
    case HeadKind::kTokenClassification: return "AutoModelForTokenClassification";
    case HeadKind::kSpanExtraction: return "AutoModelForQuestionAnswering";
    case HeadKind::kPretraining: return "AutoModelForPreTraining";
  }
  return "";
}

absl::Status WriteCase(const std::string& out_dir, const std::string& family, const std::string& tokenizer_spec,
                       const HeadSpec& head) {
  absl::StatusOr<ModelConfig> config = LoadModelConfig("tests/golden/" + family + "_golden.textproto");
  if (!config.ok()) return config.status();
  absl::StatusOr<std::unique_ptr<data::Tokenizer>> tokenizer = data::LoadTokenizer(tokenizer_spec);
  if (!tokenizer.ok()) return tokenizer.status();
  config->set_vocab_size((*tokenizer)->vocab_size());

  absl::StatusOr<Model> model = Model::Create(*config, head);
  if (!model.ok()) return model.status();
  model->InitializeParameters(17);
  // Layer-norm scales of exactly 1 and zero biases would hide mix-ups of those tensors.
  std::span<float> p = model->parameters();
  for (size_t i = 0; i < p.size(); ++i) p[i] += 0.2f * std::sin(0.37f * static_cast<float>(i));

  const std::string name = absl::StrCat(family, "_", HeadKindName(head.kind), head.num_labels);
  const std::string folder = out_dir + "/" + name;
  std::vector<std::string> labels;
  for (int i = 0; head.kind == HeadKind::kTokenClassification && i < head.num_labels; ++i)
    labels.push_back(absl::StrCat("tag", i));
  if (absl::Status s = ExportHuggingFace(*config, head, labels, model->parameters(), tokenizer_spec, folder + "/model");
      !s.ok()) {
    return s;
  }

  std::vector<std::vector<int32_t>> texts;
  Batch batch = Tokenize(**tokenizer, texts);
  AddLabels(head, batch);
  if (absl::StatusOr<Losses> losses = model->Forward(batch, StepOptions{}); !losses.ok()) return losses.status();

  SafetensorsWriter out;
  const std::vector<int64_t> shape = {batch.batch_size, batch.seq_len};
  out.AddInt32("input.input_ids", shape, batch.input_ids);
  out.AddInt32("input.token_type_ids", shape, batch.token_type_ids);
  out.AddInt32("input.attention_mask", shape, batch.attention_mask);
  nlohmann::json sentences = nlohmann::json::array();
  for (size_t i = 0; i < texts.size(); ++i) {
    sentences.push_back(i % 2 == 0 ? kPairs[i / 2].first : kPairs[i / 2].second);
    out.AddInt32(absl::StrCat("text.", i, ".ids"), {static_cast<int64_t>(texts[i].size())}, texts[i]);
  }
  if (!batch.masked_positions.empty()) {
    out.AddInt32("input.masked_positions", {static_cast<int64_t>(batch.masked_positions.size())},
                 batch.masked_positions);
  }
  const int outputs = head.kind == HeadKind::kSpanExtraction || head.kind == HeadKind::kPretraining ? 2 : 1;
  for (int k = 0; k < outputs; ++k) {
    const std::span<const float> logits = model->logits(k);
    out.AddFloat32(absl::StrCat("output.logits.", k), {static_cast<int64_t>(logits.size())}, logits);
  }
  out.SetMetadata("head", HeadKindName(head.kind));
  out.SetMetadata("num_labels", absl::StrCat(head.num_labels));
  out.SetMetadata("auto_class", AutoClass(head));
  out.SetMetadata("sentences", sentences.dump());
  return out.WriteFile(folder + "/cloze.safetensors");
}

}  // namespace
}  // namespace cloze::interop

int main(int argc, char** argv) {
  using namespace cloze;
  if (argc != 4) {
    std::cerr << "usage: hf_parity_writer OUT_DIR ALBERT_SPIECE_MODEL BERT_VOCAB_TXT\n";
    return 2;
  }
  const std::vector<HeadSpec> heads = {{HeadKind::kPretraining},
                                       {HeadKind::kSequenceClassification, 3},
                                       {HeadKind::kSequenceClassification, 1},
                                       {HeadKind::kTokenClassification, 4},
                                       {HeadKind::kSpanExtraction}};
  for (const auto& [family, spec] :
       {std::pair<std::string, std::string>{"albert", std::string("spm-albert:") + argv[2]},
        {"bert", std::string("wordpiece:") + argv[3]}}) {
    for (const HeadSpec& head : heads) {
      if (absl::Status s = interop::WriteCase(argv[1], family, spec, head); !s.ok()) {
        std::cerr << family << " " << HeadKindName(head.kind) << ": " << s << "\n";
        return 1;
      }
    }
  }
  return 0;
}
