#include "tasks/testing/test_tokenizers.h"

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "tasks/testing/test_files.h"

namespace cloze::tasks::testing {

std::unique_ptr<data::Tokenizer> SharedTokenizer(const std::string& name) {
  std::string spec;
  if (name == "albert") {
    spec = "spm-albert:" + SharedFile("vocab/albert-base-v2-spiece.model");
  } else if (name == "bert") {
    spec = "wordpiece:" + SharedFile("vocab/bert-base-uncased-vocab.txt");
  } else {
    ADD_FAILURE() << "no test tokenizer named " << name;
    return nullptr;
  }
  absl::StatusOr<std::unique_ptr<data::Tokenizer>> tokenizer = data::LoadTokenizer(spec);
  if (!tokenizer.ok()) {
    ADD_FAILURE() << tokenizer.status();
    return nullptr;
  }
  return *std::move(tokenizer);
}

}  // namespace cloze::tasks::testing
