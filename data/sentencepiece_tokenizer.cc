#include "data/sentencepiece_tokenizer.h"

#include <cstdio>
#include <cstdlib>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "data/albert_normalizer.h"
#include "data/sentencepiece_headers.h"
#include "data/sha256.h"

namespace cloze::data {
namespace {

static_assert(std::is_same_v<int, int32_t>, "SentencePiece ids are int");

constexpr std::string_view kWordBoundary = "\xE2\x96\x81";  // U+2581 "▁"

const char* Name(SentencePieceNormalization normalization) {
  return normalization == SentencePieceNormalization::kAlbert ? "albert" : "plain";
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(
    std::unique_ptr<sentencepiece::SentencePieceProcessor> processor,
    SentencePieceNormalization normalization)
    : processor_(std::move(processor)), normalization_(normalization) {}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>> SentencePieceTokenizer::Create(
    const std::string& model_bytes, SentencePieceNormalization normalization,
    const std::string& source) {
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  if (const auto status = processor->LoadFromSerializedProto(model_bytes); !status.ok()) {
    return absl::DataLossError(
        absl::StrCat(source, ": not a valid SentencePiece model: ", status.ToString()));
  }
  std::unique_ptr<SentencePieceTokenizer> tokenizer(
      new SentencePieceTokenizer(std::move(processor), normalization));
  const sentencepiece::SentencePieceProcessor& p = *tokenizer->processor_;

  auto missing = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": the model has no ", what,
        " piece; cloze needs <pad>, <unk>, [CLS], [SEP] and [MASK] (ALBERT's models and those "
        "TrainSentencePiece writes have them)"));
  };
  tokenizer->pad_id_ = p.pad_id();
  tokenizer->unk_id_ = p.unk_id();
  if (tokenizer->pad_id_ < 0) return missing("padding");
  if (tokenizer->unk_id_ < 0) return missing("unknown");
  for (auto [piece, id] :
       {std::pair{"[CLS]", &tokenizer->cls_id_}, std::pair{"[SEP]", &tokenizer->sep_id_},
        std::pair{"[MASK]", &tokenizer->mask_id_}}) {
    *id = p.PieceToId(piece);  // the unknown id when absent
    if (p.IdToPiece(*id) != piece) return missing(piece);
  }

  tokenizer->word_start_.resize(p.GetPieceSize());
  for (int id = 0; id < p.GetPieceSize(); ++id) {
    tokenizer->word_start_[id] =
        tokenizer->IsSpecial(id) || p.IdToPiece(id).starts_with(kWordBoundary);
  }
  tokenizer->fingerprint_ =
      absl::StrCat("spm:", Name(normalization), ":sha256:", Sha256Hex(model_bytes));
  return tokenizer;
}

std::vector<int32_t> SentencePieceTokenizer::Encode(std::string_view text) const {
  std::vector<int> ids;
  const auto status = normalization_ == SentencePieceNormalization::kAlbert
                          ? processor_->Encode(AlbertNormalize(text), &ids)
                          : processor_->Encode(text, &ids);
  if (!status.ok()) {  // Only an unloaded model fails, and Create never returns one.
    std::fprintf(stderr, "SentencePiece Encode failed: %s\n", status.ToString().c_str());
    std::abort();
  }
  return ids;
}

std::string SentencePieceTokenizer::Decode(const std::vector<int32_t>& ids) const {
  // SentencePiece decodes control pieces to nothing and refuses unknown ids; `cloze inspect`
  // wants to see both, so ordinary runs are decoded and the rest shown as pieces.
  std::vector<std::string> parts;
  std::vector<int> run;
  auto flush = [&] {
    if (run.empty()) return;
    std::string text;
    processor_->Decode(run, &text).IgnoreError();  // every id of the run is in range
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
  return processor_->IdToPiece(id);
}

int32_t SentencePieceTokenizer::vocab_size() const { return processor_->GetPieceSize(); }

bool SentencePieceTokenizer::IsSpecial(int32_t id) const {
  return id == pad_id_ || id == unk_id_ || id == cls_id_ || id == sep_id_ || id == mask_id_ ||
         processor_->IsControl(id);
}

bool SentencePieceTokenizer::IsWordStart(int32_t id) const {
  return !InRange(id) || word_start_[id];
}

}  // namespace cloze::data
