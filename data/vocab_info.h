// What example building and masking need to know about a vocabulary, independent of
// the tokenizer that produced it (dynamic masking uses it again at read time).
#ifndef CLOZE_DATA_VOCAB_INFO_H_
#define CLOZE_DATA_VOCAB_INFO_H_

#include <cstdint>
#include <vector>

namespace cloze::data {

struct VocabInfo {
  int32_t vocab_size = 0;
  int32_t pad_id = 0, unk_id = 1, cls_id = 2, sep_id = 3, mask_id = 4;
  // word_start[id] != 0 when the piece begins a word (SentencePiece "▁…", WordPiece
  // pieces without "##"); whole-word masking keeps a word's pieces together.
  std::vector<uint8_t> word_start;

  bool IsSpecial(int32_t id) const {
    return id == pad_id || id == unk_id || id == cls_id || id == sep_id || id == mask_id;
  }
};

}  // namespace cloze::data

#endif  // CLOZE_DATA_VOCAB_INFO_H_
