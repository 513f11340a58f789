// SentencePiece models (ALBERT's spiece.model and those TrainSentencePiece writes) through
// libsentencepiece (reached through sentencepiece_api.h).
#ifndef CLOZE_DATA_SENTENCEPIECE_TOKENIZER_H_
#define CLOZE_DATA_SENTENCEPIECE_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "data/sentencepiece_api.h"
#include "data/tokenizer.h"

namespace cloze::data {

enum class SentencePieceNormalization {
  // The text goes to the model as it is; the model applies its own normaliser (nmt_nfkc for
  // ALBERT). Ids equal Python's sentencepiece `encode(text)`.
  kPlain,
  // AlbertNormalize first (lower-case, no accents, ...); ids equal Hugging Face's
  // AlbertTokenizer. The official ALBERT models were trained on such text: its vocabulary
  // has no capital letters, so plain English text is full of <unk>.
  kAlbert,
};

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // Loads a model from the bytes of a .model file (a serialized ModelProto). `source` names
  // it in errors ("spm:/path/x.model"). DataLoss when the bytes are not a model;
  // InvalidArgument when the model lacks <pad>, <unk>, [CLS], [SEP] or [MASK].
  static absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>> Create(
      const std::string& model_bytes, SentencePieceNormalization normalization,
      const std::string& source);
  ~SentencePieceTokenizer() override;

  std::vector<int32_t> Encode(std::string_view text) const override;
  std::vector<TokenSpan> EncodeWithOffsets(std::string_view text) const override;
  std::string Decode(const std::vector<int32_t>& ids) const override;
  std::string IdToPiece(int32_t id) const override;
  int32_t vocab_size() const override;
  int32_t pad_id() const override { return pad_id_; }
  int32_t unk_id() const override { return unk_id_; }
  int32_t cls_id() const override { return cls_id_; }
  int32_t sep_id() const override { return sep_id_; }
  int32_t mask_id() const override { return mask_id_; }
  bool IsWordStart(int32_t id) const override;
  std::string Fingerprint() const override { return fingerprint_; }

 private:
  SentencePieceTokenizer(const SentencePieceApi* api, void* processor, SentencePieceNormalization normalization);
  bool InRange(int32_t id) const { return id >= 0 && id < vocab_size(); }
  bool IsSpecial(int32_t id) const;
  // True when the model reads the character at text[pos] as nothing or as a word boundary
  // (whitespace, control characters): it is trimmed from the ends of a piece's span.
  bool IsBlankAt(std::string_view text, size_t pos) const;

  // Immutable after Create; SentencePieceProcessor's const methods are thread-safe.
  const SentencePieceApi* api_;
  void* processor_;  // owned: api_->release in the destructor
  SentencePieceNormalization normalization_;
  int32_t boundary_id_ = -1;  // the piece "▁" alone; -1 when the model has none
  int32_t pad_id_ = -1, unk_id_ = -1, cls_id_ = -1, sep_id_ = -1, mask_id_ = -1;
  std::vector<bool> word_start_;  // by id
  std::string fingerprint_;
};

}  // namespace cloze::data

#endif  // CLOZE_DATA_SENTENCEPIECE_TOKENIZER_H_
