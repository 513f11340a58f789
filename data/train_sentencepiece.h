// Training a SentencePiece model on a corpus sample ("spm-train:N" specs of `cloze prepare`).
#ifndef CLOZE_DATA_TRAIN_SENTENCEPIECE_H_
#define CLOZE_DATA_TRAIN_SENTENCEPIECE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace cloze::data {

// Trains a unigram model of `vocab_size` pieces on `sentences` (one sentence or paragraph of
// UTF-8 each; those over 4192 bytes are skipped) and writes `model_prefix`.model and
// `model_prefix`.vocab. The layout and options are those of the official ALBERT models:
// <pad> 0, <unk> 1, [CLS] 2, [SEP] 3, [MASK] 4 (control pieces, never produced from text),
// then ALBERT's user-defined pieces ( ) " - . – £ € (always pieces of their own), then the
// learned ones; nmt_nfkc normalisation, character coverage 0.99995, pieces up to 16
// characters. Text is used as given: lower-case it first for an uncased model.
//
// Deterministic: every sentence is used, in order (no sampling), so equal input gives
// byte-identical files. InvalidArgument when vocab_size is not positive or too large for the
// sample; Internal for other trainer failures; the messages name model_prefix.
// Not thread-safe: the trainer has process-wide settings (log level). Uses 2 threads.
absl::Status TrainSentencePiece(const std::vector<std::string>& sentences, int vocab_size,
                                const std::string& model_prefix);

}  // namespace cloze::data

#endif  // CLOZE_DATA_TRAIN_SENTENCEPIECE_H_
