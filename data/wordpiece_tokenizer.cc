#include "data/wordpiece_tokenizer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "data/bert_basic_tokenizer.h"
#include "util/sha256.h"

namespace cloze::data {
namespace {

constexpr std::string_view kContinuation = "##";

size_t CountCodePoints(std::string_view text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

bool IsCodePointStart(std::string_view text, size_t pos) {
  return pos == text.size() || (static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80;
}

}  // namespace

absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::Create(
    const std::string& vocab_bytes, const std::string& source) {
  std::unique_ptr<WordPieceTokenizer> tokenizer(new WordPieceTokenizer());
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < vocab_bytes.size();) {  // a last "\n" starts no line
    const size_t end = std::min(vocab_bytes.find('\n', start), vocab_bytes.size());
    lines.emplace_back(vocab_bytes.data() + start, end - start);
    start = end + 1;
  }
  for (size_t line = 0; line < lines.size(); ++line) {
    std::string_view piece = lines[line];
    if (piece.ends_with('\r')) piece.remove_suffix(1);
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat(source, ":", line + 1, ": ", what));
    };
    if (piece.empty()) return error("empty line in a vocabulary");
    const int32_t id = static_cast<int32_t>(tokenizer->pieces_.size());
    tokenizer->pieces_.emplace_back(piece);
    const bool is_continuation =
        piece.starts_with(kContinuation) && piece.size() > kContinuation.size();
    const std::string_view continued = is_continuation ? piece.substr(kContinuation.size()) : piece;
    auto& map = is_continuation ? tokenizer->continuation_ : tokenizer->initial_;
    auto& longest =
        is_continuation ? tokenizer->longest_continuation_ : tokenizer->longest_initial_;
    if (!map.emplace(std::string(continued), id).second) {
      return error(absl::StrCat("\"", std::string(piece), "\" repeats an earlier line"));
    }
    longest = std::max(longest, continued.size());
  }
  for (auto [piece, id] :
       {std::pair{"[PAD]", &tokenizer->pad_id_}, std::pair{"[UNK]", &tokenizer->unk_id_},
        std::pair{"[CLS]", &tokenizer->cls_id_}, std::pair{"[SEP]", &tokenizer->sep_id_},
        std::pair{"[MASK]", &tokenizer->mask_id_}}) {
    const auto it = tokenizer->initial_.find(piece);
    if (it == tokenizer->initial_.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": the vocabulary has no ", piece,
          " line; cloze needs [PAD], [UNK], [CLS], [SEP] and [MASK] (as BERT's vocab.txt)"));
    }
    *id = it->second;
  }
  tokenizer->fingerprint_ = absl::StrCat("wordpiece:uncased:sha256:", util::Sha256Hex(vocab_bytes));
  return tokenizer;
}

void WordPieceTokenizer::EncodeWord(std::string_view word, std::vector<int32_t>* ids,
                                    std::vector<ByteSpan>* pieces) const {
  const size_t first = ids->size();
  const size_t first_piece = pieces == nullptr ? 0 : pieces->size();
  auto unknown = [&] {
    ids->resize(first);
    ids->push_back(unk_id_);
    if (pieces != nullptr) {
      pieces->resize(first_piece);
      pieces->push_back({0, word.size()});
    }
  };
  if (CountCodePoints(word) > kMaxCharsPerWord) return unknown();
  for (size_t start = 0; start < word.size();) {
    const auto& map = start == 0 ? initial_ : continuation_;
    const size_t longest = start == 0 ? longest_initial_ : longest_continuation_;
    size_t end = std::min(word.size(), start + longest);
    for (; end > start; --end) {
      if (!IsCodePointStart(word, end)) continue;
      // (Debian's Abseil has its own string_view type.)
      if (const auto it = map.find(absl::string_view(word.data() + start, end - start));
          it != map.end()) {
        ids->push_back(it->second);
        if (pieces != nullptr) pieces->push_back({start, end});
        break;
      }
    }
    if (end == start) return unknown();  // no piece fits: the whole word is unknown
    start = end;
  }
}

std::vector<int32_t> WordPieceTokenizer::Encode(std::string_view text) const {
  std::vector<int32_t> ids;
  BertBasicTokenize(text, [&](const AlignedText& word) { EncodeWord(word.text(), &ids, nullptr); });
  return ids;
}

std::vector<TokenSpan> WordPieceTokenizer::EncodeWithOffsets(std::string_view text) const {
  std::vector<int32_t> ids;
  std::vector<ByteSpan> pieces;  // in the current word
  std::vector<TokenSpan> tokens;
  BertBasicTokenize(text, [&](const AlignedText& word) {
    ids.clear();
    pieces.clear();
    EncodeWord(word.text(), &ids, &pieces);
    for (size_t i = 0; i < ids.size(); ++i) {
      const ByteSpan span = word.OriginOf(pieces[i].begin, pieces[i].end, text.size());
      tokens.push_back({ids[i], span.begin, span.end});
    }
  });
  return tokens;
}

std::string WordPieceTokenizer::Decode(const std::vector<int32_t>& ids) const {
  // As Hugging Face's convert_tokens_to_string: pieces joined by spaces, " ##" removed.
  std::string text;
  for (int32_t id : ids) {
    const std::string shown = IdToPiece(id);
    std::string_view piece = shown;
    if (InRange(id) && !IsWordStart(id)) {
      piece.remove_prefix(kContinuation.size());
    } else if (!text.empty()) {
      text.push_back(' ');
    }
    text.append(piece);
  }
  return text;
}

std::string WordPieceTokenizer::IdToPiece(int32_t id) const {
  if (!InRange(id)) return absl::StrCat("<id ", id, "?>");
  return pieces_[id];
}

bool WordPieceTokenizer::IsWordStart(int32_t id) const {
  if (!InRange(id)) return true;
  const std::string& piece = pieces_[id];
  return !piece.starts_with(kContinuation) || piece.size() == kContinuation.size();
}

}  // namespace cloze::data
