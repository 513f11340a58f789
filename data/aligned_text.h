// Normalised text that remembers where each of its bytes came from in the original text: the
// one alignment helper behind both tokenizers' EncodeWithOffsets.
#ifndef CLOZE_DATA_ALIGNED_TEXT_H_
#define CLOZE_DATA_ALIGNED_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cloze::data {

// Bytes [begin, end) of a text.
struct ByteSpan {
  size_t begin = 0;
  size_t end = 0;
  bool operator==(const ByteSpan&) const = default;
};

// A code point of a normalisation step and the original bytes it stands for.
struct AlignedChar {
  char32_t c;
  ByteSpan origin;
};

// The code points of `text` with their own byte spans (invalid bytes become U+FFFD, covering
// the bytes NextCodePoint consumed).
std::vector<AlignedChar> AlignedCodePoints(std::string_view text);

// A normalised UTF-8 string built character by character; every byte keeps the original
// span of the character it belongs to. Characters that a normaliser drops are never added,
// and one that replaces several (``'s '"') carries their union.
class AlignedText {
 public:
  // Without origins, only the text is kept (OriginOf must not be called): Encode's
  // normalisation runs the same code as EncodeWithOffsets' without paying for alignment.
  explicit AlignedText(bool track_origins = true) : track_origins_(track_origins) {}

  // Appends the UTF-8 encoding of `c` (a valid scalar value).
  void Append(char32_t c, ByteSpan origin);
  void Clear();

  const std::string& text() const { return text_; }
  bool empty() const { return text_.empty(); }
  size_t size() const { return text_.size(); }

  // The original bytes behind normalised bytes [begin, end): the smallest span covering
  // all their origins. For an empty range, the empty span at the origin of byte
  // `begin`, or at `end_of_original` when begin == size(). Requires begin <= end <= size().
  ByteSpan OriginOf(size_t begin, size_t end, size_t end_of_original) const;

 private:
  bool track_origins_;
  std::string text_;
  std::vector<ByteSpan> origins_;  // by byte of text_; empty without track_origins_
};

}  // namespace cloze::data

#endif  // CLOZE_DATA_ALIGNED_TEXT_H_
