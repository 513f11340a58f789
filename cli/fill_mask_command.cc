// cloze fill-mask: a pretraining checkpoint's masked-language-model head asked for the
// likeliest tokens at each [MASK] of a text.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/command_error.h"
#include "cli/checkpoint_model.h"
#include "cli/commands.h"
#include "data/tokenizer.h"
#include "model/batch.h"

ABSL_DECLARE_FLAG(std::string, init);
ABSL_DECLARE_FLAG(std::string, tokenizer);

ABSL_FLAG(int, top_k, 5, "cloze fill-mask: tokens shown per [MASK]");

namespace cloze::cli {
namespace {

constexpr char kUsage[] =
    "usage: cloze fill-mask --init=CHECKPOINT|RUN_DIR --tokenizer=SPEC [--top_k=5] [\"text with [MASK] ...\"...]\n"
    "  (without text arguments: one text per line on stdin)\n";
constexpr char kMask[] = "[MASK]";

constexpr char kCommand[] = "cloze fill-mask";

// [CLS] piece [MASK] piece ... [SEP]: the pieces between the literal "[MASK]"s are encoded
// separately, so that the tokenizer never sees (and never splits) the marker itself.
struct MaskedText {
  std::vector<int32_t> ids;
  std::vector<int32_t> mask_positions;
};

absl::StatusOr<MaskedText> EncodeMaskedText(const std::string& text, const data::Tokenizer& tokenizer,
                                            int max_tokens) {
  MaskedText out;
  out.ids.push_back(tokenizer.cls_id());
  bool first = true;
  for (absl::string_view piece : absl::StrSplit(text, kMask)) {
    if (!first) {
      out.mask_positions.push_back(static_cast<int32_t>(out.ids.size()));
      out.ids.push_back(tokenizer.mask_id());
    }
    first = false;
    for (int32_t id : tokenizer.Encode(std::string_view(piece.data(), piece.size()))) out.ids.push_back(id);
  }
  out.ids.push_back(tokenizer.sep_id());
  if (out.mask_positions.empty()) return absl::InvalidArgumentError(absl::StrCat("no ", kMask, " in \"", text, "\""));
  if (static_cast<int>(out.ids.size()) > max_tokens) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is ", out.ids.size(),
                                                   " tokens with [CLS] and [SEP]; the model takes at most ", max_tokens));
  }
  return out;
}

// Prints the top_k tokens at each mask of `text` with their softmax probabilities.
absl::Status FillMasks(const std::string& text, Model& model, const data::Tokenizer& tokenizer, int top_k) {
  absl::StatusOr<MaskedText> encoded = EncodeMaskedText(text, tokenizer, model.config().max_position_embeddings());
  if (!encoded.ok()) return encoded.status();
  const int tokens = static_cast<int>(encoded->ids.size());
  Batch batch;
  batch.batch_size = 1;
  batch.seq_len = tokens;
  batch.input_ids = encoded->ids;
  batch.token_type_ids.assign(tokens, 0);
  batch.attention_mask.assign(tokens, 1);
  batch.masked_positions = encoded->mask_positions;
  batch.masked_labels.assign(encoded->mask_positions.size(), -1);  // no targets: the loss is not wanted
  batch.sentence_labels = {-1};
  absl::StatusOr<Losses> losses = model.Forward(batch, StepOptions{});
  if (!losses.ok()) return losses.status();
  const std::span<const float> logits = model.logits(0);  // (M, V)
  const int vocab = model.config().vocab_size();
  std::printf("%s\n", text.c_str());
  for (size_t m = 0; m < encoded->mask_positions.size(); ++m) {
    const std::span<const float> row = logits.subspan(m * vocab, vocab);
    const float max_logit = *std::max_element(row.begin(), row.end());
    double total = 0;
    for (float v : row) total += std::exp(static_cast<double>(v) - max_logit);
    std::vector<int32_t> order(vocab);
    std::iota(order.begin(), order.end(), 0);
    const int k = std::min(top_k, vocab);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int32_t a, int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
    std::printf("[MASK] %zu of %zu (token %d):\n", m + 1, encoded->mask_positions.size(),
                encoded->mask_positions[m]);
    for (int i = 0; i < k; ++i) {
      const int32_t id = order[i];
      const double probability = std::exp(static_cast<double>(row[id]) - max_logit) / total;
      std::printf("  %.6f\t%d\t%s\t%s\n", probability, id, tokenizer.IdToPiece(id).c_str(),
                  tokenizer.Decode({id}).c_str());
    }
  }
  return absl::OkStatus();
}

}  // namespace

int RunFillMaskCommand(const std::vector<std::string>& args) {
  const std::string init = absl::GetFlag(FLAGS_init);
  const std::string tokenizer_spec = absl::GetFlag(FLAGS_tokenizer);
  const int top_k = absl::GetFlag(FLAGS_top_k);
  if (init.empty() || tokenizer_spec.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (top_k < 1) {
    return Fail(kCommand, 2, absl::InvalidArgumentError(absl::StrCat("--top_k: must be positive, got ", top_k)));
  }
  for (const std::string& text : args) {
    if (text.find(kMask) == std::string::npos) {
      return Fail(kCommand, 2, absl::InvalidArgumentError(absl::StrCat("no ", kMask, " in \"", text, "\"")));
    }
  }
  absl::StatusOr<std::unique_ptr<data::Tokenizer>> tokenizer = data::LoadTokenizer(tokenizer_spec);
  if (!tokenizer.ok()) return Fail(kCommand, 2, tokenizer.status());
  absl::StatusOr<CheckpointModel> loaded = LoadCheckpointModel(init);
  if (!loaded.ok()) {
    return Fail(kCommand, loaded.status().code() == absl::StatusCode::kDataLoss ? 1 : 2, loaded.status());
  }
  const TrainConfig& train_config = loaded->manifest.train_config();
  if (train_config.has_finetune()) {
    return Fail(kCommand, 2, absl::FailedPreconditionError(absl::StrCat(
                       loaded->checkpoint_dir, " is a fine-tuning checkpoint (task ", train_config.finetune().task(),
                       "), without the masked-language-model head: use cloze predict")));
  }
  if ((*tokenizer)->vocab_size() != loaded->model.config().vocab_size()) {
    return Fail(kCommand, 2, absl::FailedPreconditionError(absl::StrCat(
                       "--tokenizer=", tokenizer_spec, " has ", (*tokenizer)->vocab_size(), " ids but the checkpoint ",
                       loaded->checkpoint_dir, " has vocab_size ", loaded->model.config().vocab_size())));
  }
  const std::string& trained_with = loaded->manifest.tokenizer_fingerprint();
  if (!trained_with.empty() && trained_with != (*tokenizer)->Fingerprint()) {
    std::fprintf(stderr, "cloze fill-mask: warning: %s was trained with tokenizer %s, not --tokenizer=%s (%s)\n",
                 loaded->checkpoint_dir.c_str(), trained_with.c_str(), tokenizer_spec.c_str(),
                 (*tokenizer)->Fingerprint().c_str());
  }
  std::fprintf(stderr, "cloze fill-mask: %s\n", loaded->checkpoint_dir.c_str());

  std::vector<std::string> texts = args;
  const bool from_stdin = texts.empty();
  if (from_stdin) {
    for (std::string line; std::getline(std::cin, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      texts.push_back(line);
    }
  }
  int printed = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (from_stdin && texts[i].find_first_not_of(" \t") == std::string::npos) continue;  // blank lines
    if (printed++ > 0) std::printf("\n");
    if (absl::Status s = FillMasks(texts[i], loaded->model, **tokenizer, top_k); !s.ok()) {
      std::fflush(stdout);
      const std::string where = from_stdin ? absl::StrCat("stdin line ", i + 1, ": ") : "";
      return Fail(kCommand, s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1,
          absl::Status(s.code(), where + std::string(s.message())));
    }
  }
  if (printed == 0) return Fail(kCommand, 2, absl::InvalidArgumentError("no text: give it as an argument or on stdin"));
  return 0;
}

}  // namespace cloze::cli
