// BERT's uncased WordPiece tokenizer from a vocab.txt, written here: no C++ library in Debian
// implements it.
#ifndef CLOZE_DATA_WORDPIECE_TOKENIZER_H_
#define CLOZE_DATA_WORDPIECE_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "data/aligned_text.h"
#include "data/tokenizer.h"

namespace cloze::data {

// BertBasicTokenize (bert_basic_tokenizer.h), then greedy longest-match-first WordPiece on
// each basic token with "##" marking continuation pieces. A token longer than 100 code
// points, or one that cannot be covered by pieces, becomes a single [UNK]. Ids equal
// Hugging Face's BertTokenizer(vocab, do_lower_case=True) with split_special_tokens=True.
class WordPieceTokenizer final : public Tokenizer {
 public:
  // Parses the bytes of a vocab.txt: one piece per line, the line number (from 0) is its id;
  // "\r\n" line ends are accepted. `source` names the file in errors ("wordpiece:/path").
  // InvalidArgument when it lacks [PAD], [UNK], [CLS], [SEP] or [MASK], repeats a piece,
  // or has an empty line before the last.
  static absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> Create(const std::string& vocab_bytes,
                                                                    const std::string& source);

  std::vector<int32_t> Encode(std::string_view text) const override;
  std::vector<TokenSpan> EncodeWithOffsets(std::string_view text) const override;
  std::string Decode(const std::vector<int32_t>& ids) const override;
  std::string IdToPiece(int32_t id) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(pieces_.size()); }
  int32_t pad_id() const override { return pad_id_; }
  int32_t unk_id() const override { return unk_id_; }
  int32_t cls_id() const override { return cls_id_; }
  int32_t sep_id() const override { return sep_id_; }
  int32_t mask_id() const override { return mask_id_; }
  bool IsWordStart(int32_t id) const override;
  std::string Fingerprint() const override { return fingerprint_; }

  static constexpr int kMaxCharsPerWord = 100;

 private:
  WordPieceTokenizer() = default;
  bool InRange(int32_t id) const { return id >= 0 && id < vocab_size(); }
  // Appends the pieces of one basic token to `ids`, and to `pieces` (when not null) the
  // bytes of `word` each covers: all of it for an [UNK].
  void EncodeWord(std::string_view word, std::vector<int32_t>* ids,
                  std::vector<ByteSpan>* pieces) const;

  // All immutable after Create.
  std::vector<std::string> pieces_;  // by id
  // Word-initial pieces, and continuation pieces without their "##", to their ids.
  absl::flat_hash_map<std::string, int32_t> initial_, continuation_;
  size_t longest_initial_ = 0, longest_continuation_ = 0;  // in bytes
  int32_t pad_id_ = -1, unk_id_ = -1, cls_id_ = -1, sep_id_ = -1, mask_id_ = -1;
  std::string fingerprint_;
};

}  // namespace cloze::data

#endif  // CLOZE_DATA_WORDPIECE_TOKENIZER_H_
