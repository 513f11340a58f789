#include "data/data_health.h"

#include <algorithm>

#include "absl/strings/str_format.h"

namespace cloze::data {
namespace {

double Ratio(double part, double whole) { return whole > 0 ? part / whole : 0; }

const char* LabelName(DataConfig::SentenceTask task) {
  return task == DataConfig::NEXT_SENTENCE ? "random next" : "swapped";
}

// Why the fill is low: documents shorter than an example, or many short targets.
std::string LowFillCause(const CorpusHealth& h) {
  const CorpusCounts& c = h.corpus;
  if (c.documents() > 0) {
    const double tokens_per_document = h.tokens_per_document();
    if (tokens_per_document < 2.0 * h.max_seq_length) {
      return absl::StrFormat(
          "documents are short (%.0f tokens each, %.1f sentences): every document's last example is cut short. "
          "If a document is a paragraph or a line here, read the files in a format that joins them (see the "
          "format lines, --input_format) or lower --max_seq_length",
          tokens_per_document, Ratio(c.sentences(), c.documents()));
    }
  }
  return "examples end early: check --short_seq_prob (ALBERT: 0.1)";
}

// Why the sentence task is unbalanced.
std::string ImbalanceCause(const CorpusHealth& h) {
  const CorpusCounts& c = h.corpus;
  const double one_sentence = h.one_sentence_share();
  if (c.documents() > 0 && one_sentence > 0.1) {
    return absl::StrFormat(
        "%.0f%% of examples come from a chunk of one sentence, which always takes segment B from another document "
        "(label 1): documents hold few sentences (%.1f each) or lines are not split into sentences. Read the files "
        "in a format that keeps a document's sentences together (see the format lines, --input_format)",
        100 * one_sentence, Ratio(c.sentences(), c.documents()));
  }
  if (h.examples < 200) return absl::StrFormat("only %d examples: too few for a stable share", h.examples);
  return "check --short_seq_prob and --sentence_task";
}

}  // namespace

double CorpusHealth::fill() const { return Ratio(Ratio(tokens, examples), max_seq_length); }
double CorpusHealth::label_1_share() const { return Ratio(sentence_label_1, examples); }

namespace {
double AllExamples(const CorpusHealth& h) { return h.dataset_examples > 0 ? h.dataset_examples : h.examples; }
}  // namespace

double CorpusHealth::tokens_per_document() const {
  return Ratio(Ratio(tokens, examples) * AllExamples(*this), corpus.documents());
}

double CorpusHealth::one_sentence_share() const { return Ratio(corpus.one_sentence_chunks(), AllExamples(*this)); }

std::vector<std::string> HealthLines(const CorpusHealth& h) {
  std::vector<std::string> lines;
  const CorpusCounts& c = h.corpus;
  if (c.documents() > 0) {
    lines.push_back(absl::StrFormat("documents: %d, %.1f sentences and %.0f example tokens per document",
                                    c.documents(), Ratio(c.sentences(), c.documents()), h.tokens_per_document()));
  } else {
    lines.push_back("documents: not recorded (prepared before cloze recorded them)");
  }
  lines.push_back(absl::StrFormat("fill: %.1f%% (%.1f tokens per example of %d)", 100 * h.fill(),
                                  Ratio(h.tokens, h.examples), h.max_seq_length));
  std::string balance = absl::StrFormat("sentence labels: %.1f%% %s", 100 * h.label_1_share(),
                                        LabelName(h.sentence_task));
  if (c.documents() > 0) {
    absl::StrAppendFormat(&balance, " (%.1f%% of examples from one-sentence chunks)",
                          100 * h.one_sentence_share());
  }
  lines.push_back(balance);
  return lines;
}

std::vector<std::string> HealthWarnings(const CorpusHealth& h) {
  std::vector<std::string> warnings;
  if (h.examples == 0) return {"no examples: the input held no usable text"};
  if (h.fill() < kMinFill) {
    warnings.push_back(absl::StrFormat("fill %.1f%% is below %.0f%%: %s", 100 * h.fill(), 100 * kMinFill,
                                       LowFillCause(h)));
  }
  const double share = h.label_1_share();
  if (share < kMinLabelShare || share > kMaxLabelShare) {
    warnings.push_back(absl::StrFormat("sentence labels %.1f%% %s, outside %.0f-%.0f%%: %s", 100 * share,
                                       LabelName(h.sentence_task), 100 * kMinLabelShare, 100 * kMaxLabelShare,
                                       ImbalanceCause(h)));
  }
  return warnings;
}

}  // namespace cloze::data
