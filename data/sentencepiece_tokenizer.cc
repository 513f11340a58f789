#include "data/sentencepiece_tokenizer.h"

#include <unicode/uchar.h>

#include <cstdio>
#include <cstdlib>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "data/albert_normalizer.h"
#include "data/aligned_text.h"
#include "data/sentencepiece_library.h"
#include "util/sha256.h"
#include "data/utf8.h"

namespace cloze::data {
namespace {

static_assert(std::is_same_v<int, int32_t>, "SentencePiece ids are int");

constexpr std::string_view kWordBoundary = "\xE2\x96\x81";  // U+2581 "▁"

// A piece begins a word after whitespace ("▁…"), and also when it begins with a Chinese
// character or CJK punctuation: such text has no spaces, so without this a whole Chinese
// sentence would be one "word" for whole-word masking. Each such piece counts as a word,
// as BERT's tokenizer makes each Chinese character one.
bool StartsWord(std::string_view piece) {
  if (piece.starts_with(kWordBoundary)) return true;
  if (piece.empty()) return false;
  size_t pos = 0;
  const char32_t c = NextCodePoint(piece, &pos);
  return IsCjkIdeograph(c) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFFEF);
}

const char* Name(SentencePieceNormalization normalization) {
  return normalization == SentencePieceNormalization::kAlbert ? "albert" : "plain";
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const SentencePieceApi* api, void* processor,
                                               SentencePieceNormalization normalization)
    : api_(api), processor_(processor), normalization_(normalization) {}

SentencePieceTokenizer::~SentencePieceTokenizer() { api_->release(processor_); }

absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>> SentencePieceTokenizer::Create(
    const std::string& model_bytes, SentencePieceNormalization normalization,
    const std::string& source) {
  absl::StatusOr<const SentencePieceApi*> api = SentencePieceLibrary();
  if (!api.ok()) return api.status();
  std::string error;
  void* processor = (*api)->load(model_bytes, &error);
  if (processor == nullptr) {
    return absl::DataLossError(absl::StrCat(source, ": not a valid SentencePiece model: ", error));
  }
  std::unique_ptr<SentencePieceTokenizer> tokenizer(new SentencePieceTokenizer(*api, processor, normalization));
  const SentencePieceApi& a = **api;

  auto missing = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": the model has no ", what,
        " piece; cloze needs <pad>, <unk>, [CLS], [SEP] and [MASK] (ALBERT's models and those "
        "TrainSentencePiece writes have them)"));
  };
  tokenizer->pad_id_ = a.pad_id(processor);
  tokenizer->unk_id_ = a.unk_id(processor);
  if (tokenizer->pad_id_ < 0) return missing("padding");
  if (tokenizer->unk_id_ < 0) return missing("unknown");
  for (auto [piece, id] :
       {std::pair{"[CLS]", &tokenizer->cls_id_}, std::pair{"[SEP]", &tokenizer->sep_id_},
        std::pair{"[MASK]", &tokenizer->mask_id_}}) {
    *id = a.piece_to_id(processor, piece);  // the unknown id when absent
    if (a.id_to_piece(processor, *id) != piece) return missing(piece);
  }

  if (const int id = a.piece_to_id(processor, kWordBoundary); a.id_to_piece(processor, id) == kWordBoundary) {
    tokenizer->boundary_id_ = id;
  }
  const int pieces = a.piece_size(processor);
  tokenizer->word_start_.resize(pieces);
  for (int id = 0; id < pieces; ++id) {
    tokenizer->word_start_[id] = tokenizer->IsSpecial(id) || StartsWord(a.id_to_piece(processor, id));
  }
  tokenizer->fingerprint_ =
      absl::StrCat("spm:", Name(normalization), ":sha256:", util::Sha256Hex(model_bytes));
  return tokenizer;
}

std::vector<int32_t> SentencePieceTokenizer::Encode(std::string_view text) const {
  std::vector<int> ids;
  std::string error;
  const bool ok = normalization_ == SentencePieceNormalization::kAlbert
                      ? api_->encode(processor_, AlbertNormalize(text), &ids, &error)
                      : api_->encode(processor_, text, &ids, &error);
  if (!ok) {  // Only an unloaded model fails, and Create never returns one.
    std::fprintf(stderr, "SentencePiece Encode failed: %s\n", error.c_str());
    std::abort();
  }
  return ids;
}

std::vector<TokenSpan> SentencePieceTokenizer::EncodeWithOffsets(std::string_view text) const {
  const bool albert = normalization_ == SentencePieceNormalization::kAlbert;
  const AlignedText normalized = albert ? AlbertNormalizeAligned(text) : AlignedText();
  const std::string_view input = albert ? std::string_view(normalized.text()) : text;
  std::vector<int> ids;
  std::vector<size_t> begins, ends;
  std::string error;
  if (!api_->encode_with_offsets(processor_, input, &ids, &begins, &ends, &error)) {
    std::fprintf(stderr, "SentencePiece EncodeWithOffsets failed: %s\n", error.c_str());
    std::abort();  // as in Encode: only an unloaded model fails
  }
  std::vector<TokenSpan> tokens;
  tokens.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    // SentencePiece's surfaces include the whitespace before a word and characters its
    // normaliser removed; trimmed here, so that spans hold only what the piece stands for.
    size_t begin = begins[i], end = ends[i];
    while (begin < end && IsBlankAt(input, begin)) begin = NextCodePointStart(input, begin);
    while (end > begin) {
      const size_t last = PreviousCodePointStart(input, end);
      if (!IsBlankAt(input, last)) break;
      end = last;
    }
    if (ids[i] == boundary_id_) begin = end;
    const ByteSpan span = albert ? normalized.OriginOf(begin, end, text.size()) : ByteSpan{begin, end};
    tokens.push_back({ids[i], span.begin, span.end});
  }
  // SentencePiece credits a character its normaliser expands to several pieces ("½" to
  // "▁1" "⁄" "2") to the last of them; the others, empty, share that span, as Hugging Face
  // gives every character of an expansion the original's span.
  for (size_t i = tokens.size(); i-- > 1;) {
    TokenSpan& t = tokens[i - 1];
    const TokenSpan& next = tokens[i];
    if (t.begin == t.end && t.id != boundary_id_ && next.begin == t.begin && next.end > next.begin) {
      t.end = next.end;
    }
  }
  return tokens;
}

bool SentencePieceTokenizer::IsBlankAt(std::string_view text, size_t pos) const {
  size_t next = pos;
  const char32_t c = NextCodePoint(text, &next);
  // Letters, digits and marks are never blank; asking the model costs an Encode.
  if (U_GET_GC_MASK(c) & (U_GC_L_MASK | U_GC_N_MASK | U_GC_M_MASK)) return false;
  std::vector<int> ids;
  std::string error;
  api_->encode(processor_, text.substr(pos, next - pos), &ids, &error);
  return ids.empty();
}

std::string SentencePieceTokenizer::Decode(const std::vector<int32_t>& ids) const {
  // SentencePiece decodes control pieces to nothing and refuses unknown ids; `cloze inspect`
  // wants to see both, so ordinary runs are decoded and the rest shown as pieces.
  std::vector<std::string> parts;
  std::vector<int> run;
  auto flush = [&] {
    if (run.empty()) return;
    std::string text, error;
    api_->decode(processor_, run, &text, &error);  // every id of the run is in range
    parts.push_back(std::move(text));
    run.clear();
  };
  for (int32_t id : ids) {
    if (InRange(id) && !IsSpecial(id)) {
      run.push_back(id);
    } else {
      flush();
      parts.push_back(IdToPiece(id));
    }
  }
  flush();
  return absl::StrJoin(parts, " ");
}

std::string SentencePieceTokenizer::IdToPiece(int32_t id) const {
  if (!InRange(id)) return absl::StrCat("<id ", id, "?>");
  return api_->id_to_piece(processor_, id);
}

int32_t SentencePieceTokenizer::vocab_size() const { return api_->piece_size(processor_); }

bool SentencePieceTokenizer::IsSpecial(int32_t id) const {
  return id == pad_id_ || id == unk_id_ || id == cls_id_ || id == sep_id_ || id == mask_id_ ||
         api_->is_control(processor_, id);
}

bool SentencePieceTokenizer::IsWordStart(int32_t id) const {
  return !InRange(id) || word_start_[id];
}

}  // namespace cloze::data
