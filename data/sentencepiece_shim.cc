// libcloze_sentencepiece.so: libsentencepiece behind SentencePieceApi (see
// sentencepiece_api.h for why it lives in a library of its own). Links nothing of cloze's
// and no Abseil or protobuf.
#include <unordered_map>

#include "data/sentencepiece_api.h"
#include "data/sentencepiece_headers.h"

namespace cloze::data {
namespace {

using Processor = sentencepiece::SentencePieceProcessor;

const Processor& P(const void* processor) { return *static_cast<const Processor*>(processor); }

class VectorIterator final : public sentencepiece::SentenceIterator {
 public:
  explicit VectorIterator(const std::vector<std::string>& sentences) : sentences_(sentences) {}
  bool done() const override { return next_ >= sentences_.size(); }
  void Next() override { ++next_; }
  const std::string& value() const override { return sentences_[next_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& sentences_;
  size_t next_ = 0;
};

void* Load(std::string_view model, std::string* error) {
  auto* processor = new Processor();
  if (const auto status = processor->LoadFromSerializedProto(model); !status.ok()) {
    *error = status.ToString();
    delete processor;
    return nullptr;
  }
  return processor;
}

void Release(void* processor) { delete static_cast<Processor*>(processor); }

bool Encode(const void* processor, std::string_view text, std::vector<int>* ids, std::string* error) {
  const auto status = P(processor).Encode(text, ids);
  if (!status.ok()) *error = status.ToString();
  return status.ok();
}

bool EncodeWithOffsets(const void* processor, std::string_view text, std::vector<int>* ids,
                       std::vector<size_t>* begins, std::vector<size_t>* ends, std::string* error) {
  // Through the immutable wrapper: sentencepiece.pb.h, the proto's own header, is not installed.
  sentencepiece::ImmutableSentencePieceText proto;
  if (const auto status = P(processor).Encode(text, proto.mutable_proto()); !status.ok()) {
    *error = status.ToString();
    return false;
  }
  ids->clear();
  begins->clear();
  ends->clear();
  for (const auto& piece : proto.pieces()) {
    ids->push_back(static_cast<int>(piece.id()));
    begins->push_back(piece.begin());
    ends->push_back(piece.end());
  }
  return true;
}

bool Decode(const void* processor, const std::vector<int>& ids, std::string* text, std::string* error) {
  const auto status = P(processor).Decode(ids, text);
  if (!status.ok()) *error = status.ToString();
  return status.ok();
}

bool Train(const std::vector<std::pair<std::string, std::string>>& options, const std::vector<std::string>& sentences,
           std::string* error) {
  const std::unordered_map<std::string, std::string> map(options.begin(), options.end());
  VectorIterator iterator(sentences);
  const auto status = sentencepiece::SentencePieceTrainer::Train(map, &iterator);
  if (!status.ok()) *error = status.ToString();
  return status.ok();
}

const SentencePieceApi kApi = {
    .load = Load,
    .release = Release,
    .encode = Encode,
    .encode_with_offsets = EncodeWithOffsets,
    .decode = Decode,
    .piece_size = [](const void* p) { return P(p).GetPieceSize(); },
    .id_to_piece = [](const void* p, int id) { return P(p).IdToPiece(id); },
    .piece_to_id = [](const void* p, std::string_view piece) { return P(p).PieceToId(piece); },
    .pad_id = [](const void* p) { return P(p).pad_id(); },
    .unk_id = [](const void* p) { return P(p).unk_id(); },
    .is_control = [](const void* p, int id) { return P(p).IsControl(id); },
    .train = Train,
};

}  // namespace
}  // namespace cloze::data

extern "C" __attribute__((visibility("default"))) const cloze::data::SentencePieceApi* cloze_sentencepiece_api() {
  return &cloze::data::kApi;
}
