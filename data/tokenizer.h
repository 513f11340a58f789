// The tokenizer interface of the data pipeline: text in, vocabulary ids out.
//
// Two implementations: SentencePiece (ALBERT; sentencepiece_tokenizer.h) and BERT's
// WordPiece (wordpiece_tokenizer.h). LoadTokenizer picks one from a DataConfig.tokenizer
// spec string.
#ifndef CLOZE_DATA_TOKENIZER_H_
#define CLOZE_DATA_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cloze::data {

// One id of EncodeWithOffsets and the bytes [begin, end) of the original text it came from.
struct TokenSpan {
  int32_t id;
  size_t begin;
  size_t end;
  bool operator==(const TokenSpan&) const = default;
};

// A loaded, immutable vocabulary and segmentation algorithm.
//
// Thread safety: every method is const and may be called concurrently from any number of
// threads once the tokenizer is loaded (the pipeline encodes documents on a thread pool).
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Ids of `text`, one sentence or paragraph of valid UTF-8 (invalid bytes are treated as
  // U+FFFD). No special tokens are added, and text that looks like one ("[MASK]", "<pad>")
  // is tokenized as text: a corpus never injects control ids. Empty or whitespace-only
  // text gives no ids.
  virtual std::vector<int32_t> Encode(std::string_view text) const = 0;

  // Encode's ids (always exactly those), each with the span of `text`'s bytes it came from,
  // for extractive QA and tagging: cut an answer from the original text, map a character
  // offset to tokens. The conventions are Hugging Face's fast tokenizers'
  // return_offsets_mapping (AlbertTokenizerFast, BertTokenizerFast), in bytes:
  //   - a span covers whole original characters, including those normalisation changed or
  //     expanded: an accented letter whose accent was stripped, an upper-case letter, "ﬁ"
  //     (both "f" and "i" of it have the ligature's span), a CJK character of its own;
  //   - characters that normalisation removed (control characters, stripped combining marks
  //     after their base, surplus whitespace) belong to no span, except inside one;
  //   - spans never begin or end with whitespace: SentencePiece's "▁" marker is not a span
  //     of the space before the word ("▁the" covers "the");
  //   - a piece that is only the "▁" marker (SentencePiece emits it alone before "(" or "中",
  //     which start pieces of their own) has the EMPTY span [b, b) at the start of the word's
  //     first character. Hugging Face gives it that character's span, overlapping the next
  //     token; cloze does not, as the marker stands for no text;
  //   - "``" and "''", which ALBERT's normaliser turns into one '"', give it both characters
  //     (Hugging Face: the second only);
  //   - a WordPiece [UNK] covers the whole word it replaces.
  // Spans are in order (begin never decreases) and within [0, text.size()].
  virtual std::vector<TokenSpan> EncodeWithOffsets(std::string_view text) const = 0;

  // Readable text of `ids`, for `cloze inspect`: pieces joined back into words. Not an
  // exact inverse of Encode (normalisation loses case, accents, spacing). Special ids are
  // shown by their piece ("[MASK]"); out-of-range ids as "<id N?>".
  virtual std::string Decode(const std::vector<int32_t>& ids) const = 0;

  // The vocabulary entry of `id`, e.g. "▁the" or "##ing"; "<id N?>" when out of range.
  virtual std::string IdToPiece(int32_t id) const = 0;

  // Ids are 0 .. vocab_size() - 1.
  virtual int32_t vocab_size() const = 0;

  // Special ids. Both implementations refuse to load a vocabulary that lacks any of them.
  virtual int32_t pad_id() const = 0;
  virtual int32_t unk_id() const = 0;
  virtual int32_t cls_id() const = 0;
  virtual int32_t sep_id() const = 0;
  virtual int32_t mask_id() const = 0;

  // True when the piece `id` begins a new word, for whole-word masking: SentencePiece
  // pieces that start with U+2581 "▁" or with a Chinese character or CJK punctuation
  // (unspaced text: each such piece is a word), WordPiece pieces that do not start with "##".
  // Special ids (pad, unk, cls, sep, mask) count as word starts; out-of-range ids too.
  virtual bool IsWordStart(int32_t id) const = 0;

  // Identifies the tokenizer exactly, for shard metadata: the kind with its normalisation
  // options and the SHA-256 of the model/vocab file, e.g. "spm:plain:sha256:<64 hex>".
  // Equal fingerprints mean equal Encode results for every input (with the same build of
  // cloze: the code and ICU's Unicode tables are not part of it).
  virtual std::string Fingerprint() const = 0;
};

// Loads the tokenizer named by a DataConfig.tokenizer spec:
//   "spm:PATH"         SentencePiece model, text as it is (the model's own normaliser only);
//   "spm-albert:PATH"  SentencePiece model after ALBERT's preprocessing (lower-cased, accents
//                      stripped, `` and '' as ", whitespace collapsed; see albert_normalizer.h)
//                      — what the official ALBERT models were trained on;
//   "wordpiece:PATH"   BERT uncased WordPiece from a vocab.txt.
// "spm-train:N" is not loadable: `cloze prepare` trains a model first (train_sentencepiece.h)
// and loads it as "spm:". Errors (InvalidArgument for a bad spec, NotFound for a missing
// file, DataLoss for a corrupt one) name the spec and the file.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& spec);

}  // namespace cloze::data

#endif  // CLOZE_DATA_TOKENIZER_H_
