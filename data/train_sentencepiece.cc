#include "data/train_sentencepiece.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "data/sentencepiece_library.h"

namespace cloze::data {

absl::Status TrainSentencePiece(const std::vector<std::string>& sentences, int vocab_size,
                                const std::string& model_prefix) {
  auto error = [&](absl::StatusCode code, absl::string_view why) {
    return absl::Status(code,
                        absl::StrCat("training SentencePiece model ", model_prefix, ": ", why));
  };
  if (vocab_size <= 0) {
    return error(absl::StatusCode::kInvalidArgument,
                 absl::StrCat("vocab_size must be positive, got ", vocab_size));
  }
  // The official albert-base-v2 trainer_spec, less what depends on its corpus and machine.
  const std::vector<std::pair<std::string, std::string>> options = {
      {"model_prefix", model_prefix},
      {"model_type", "unigram"},
      {"vocab_size", std::to_string(vocab_size)},
      {"pad_id", "0"},
      {"unk_id", "1"},
      {"bos_id", "-1"},
      {"eos_id", "-1"},
      {"control_symbols", "[CLS],[SEP],[MASK]"},
      // A CSV list: the quote is written as the quoted field """".
      {"user_defined_symbols", "(,),\"\"\"\",-,.,–,£,€"},
      {"normalization_rule_name", "nmt_nfkc"},
      {"character_coverage", "0.99995"},
      {"max_sentencepiece_length", "16"},
      {"max_sentence_length", "4192"},
      {"split_by_unicode_script", "true"},
      {"split_by_whitespace", "true"},
      {"split_by_number", "true"},
      {"shrinking_factor", "0.75"},
      {"num_sub_iterations", "2"},
      {"seed_sentencepiece_size", "1000000"},
      {"hard_vocab_limit", "true"},
      // Determinism: no sampling or shuffling of the sentences.
      {"input_sentence_size", "0"},
      {"shuffle_input_sentence", "false"},
      {"num_threads", "2"},
      {"minloglevel", "1"},  // no per-iteration INFO lines
  };
  absl::StatusOr<const SentencePieceApi*> api = SentencePieceLibrary();
  if (!api.ok()) return api.status();
  std::string message;
  if ((*api)->train(options, sentences, &message)) return absl::OkStatus();
  // The trainer reports a too-large vocabulary as an internal error; it is the caller's.
  const bool caller_error = absl::StrContains(message, "Vocabulary size");
  return error(caller_error ? absl::StatusCode::kInvalidArgument : absl::StatusCode::kInternal, message);
}

}  // namespace cloze::data
