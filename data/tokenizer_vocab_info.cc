#include "data/tokenizer_vocab_info.h"

namespace cloze::data {

VocabInfo VocabInfoOf(const Tokenizer& tokenizer) {
  VocabInfo vocab;
  vocab.vocab_size = tokenizer.vocab_size();
  vocab.pad_id = tokenizer.pad_id();
  vocab.unk_id = tokenizer.unk_id();
  vocab.cls_id = tokenizer.cls_id();
  vocab.sep_id = tokenizer.sep_id();
  vocab.mask_id = tokenizer.mask_id();
  vocab.word_start.resize(vocab.vocab_size);
  for (int32_t id = 0; id < vocab.vocab_size; ++id) vocab.word_start[id] = tokenizer.IsWordStart(id) ? 1 : 0;
  return vocab;
}

}  // namespace cloze::data
