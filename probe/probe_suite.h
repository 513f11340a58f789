// The probes of issue 13 on one model, on data read and tokenized once for a whole run:
// what `cloze probe` (and the prober that follows a training run) calls per checkpoint.
//
//   fill, reconstruction   probe/fill_in.h on UD English-EWT test sentences
//   upos, deprel           probe/linear_probes.h on EWT: fitted on train, early-stopped on
//                          dev, scored on test
//   sst2                   probe/linear_probes.h on SST-2: GLUE's train split cut in two (every
//                          fifth sentence is the probe's dev set, the rest its train set),
//                          scored on GLUE's dev split (its test split has no labels)
//   fill_zh                probe/fill_in_zh.h on a Chinese text file, by character class;
//                          only when named, as it needs that file
//
// Splits larger than their bound are sampled at even intervals (not the first sentences: EWT
// and SST-2 files are ordered by source), so every run of a suite sees the same sentences.
#ifndef CLOZE_PROBE_PROBE_SUITE_H_
#define CLOZE_PROBE_PROBE_SUITE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/tokenizer.h"
#include "kernels/cpu/bf16_gemm.h"
#include "model/model.h"
#include "probe/fill_in.h"
#include "probe/fill_in_zh.h"
#include "probe/probe_log.h"
#include "probe/softmax_regression.h"
#include "tasks/features.h"
#include "tasks/read_options.h"
#include "tasks/tagging_features.h"
#include "tasks/task_example.h"

namespace cloze::probe {

// "fill", "reconstruction", "upos", "deprel", "sst2", "fill_zh": every probe, in the order
// they run.
std::vector<std::string> ProbeNames();

// The probes run when none are named: all but fill_zh, whose text has no default.
std::vector<std::string> DefaultProbeNames();

// Whether `probe` reads the masked-language-model head (a fill-in probe), which a
// fine-tuning checkpoint lacks.
bool IsHeadProbe(const std::string& probe);

// InvalidArgument naming an unknown probe (and listing the known ones), or an empty list.
absl::Status CheckProbeNames(const std::vector<std::string>& probes);

struct ProbeSuiteOptions {
  std::vector<std::string> probes = DefaultProbeNames();
  std::string ud_dir;     // a UD treebank folder (*-ud-{train,dev,test}.conllu[.xz])
  std::string glue_dir;   // the GLUE folder, SST-2 inside
  std::string zh_text;    // Chinese text, a passage or sentence per line (fill_zh)
  int zh_skip_lines = 0;  // lines at the start of zh_text left out (text the run trained on)
  int max_sentences = 500;         // UD dev and test, SST-2 dev, zh_text sentences (≤ 0: all)
  int max_train_sentences = 2000;  // UD train, SST-2 train (≤ 0: all)
  int max_seq_length = 128;        // tokens per input, [CLS] and [SEP] included
  int batch_size = 32;             // inputs per forward pass
  tasks::ReadOptions read;         // skip_bad_lines
  SoftmaxRegressionOptions regression;
  // The matrix products of the model probed (cloze probe loads each checkpoint at it).
  cpu::Precision precision = cpu::Precision::kFp32;
};

// The probes' data, tokenized. Not copyable: the fill-in queries point into ud_test.
struct ProbeData {
  struct Treebank {
    std::vector<tasks::TaggedSentence> sentences;
    std::vector<tasks::TaggingFeature> features;
  };
  Treebank ud_train, ud_dev, ud_test;
  std::vector<FillInQuery> fill_queries;  // over ud_test
  std::vector<tasks::SequenceFeature> sst2_train, sst2_dev, sst2_test;
  ChineseFillIn zh;  // fill_zh's queries
  int32_t pad_id = 0, mask_id = 0;

  ProbeData() = default;
  ProbeData(const ProbeData&) = delete;
  ProbeData& operator=(const ProbeData&) = delete;
};

// Reads and tokenizes what options.probes need (UD for fill, reconstruction, upos and deprel;
// SST-2 for sst2; zh_text for fill_zh). The readers' errors name file and line (a bad
// CoNLL-U line, a missing folder); FailedPrecondition when the tokenizer has no Han
// character of zh_text as a token of its own. `report` receives one line per split read
// (its sentences and skipped lines).
absl::StatusOr<std::unique_ptr<ProbeData>> LoadProbeData(const ProbeSuiteOptions& options,
                                                         const data::Tokenizer& tokenizer,
                                                         const std::function<void(const std::string&)>& report);

// Runs `probes` (a subset of options.probes, in ProbeNames' order) on `model` (a pretraining
// model whose vocabulary is the tokenizer's) and passes each probe's records, stamped with
// `step` and `checkpoint`, to `commit` as soon as it is done; an error from commit stops it.
absl::Status RunProbes(Model& model, int64_t step, const std::string& checkpoint,
                       const std::vector<std::string>& probes, const ProbeData& data,
                       const ProbeSuiteOptions& options,
                       const std::function<absl::Status(const std::vector<ProbeRecord>&)>& commit);

}  // namespace cloze::probe

#endif  // CLOZE_PROBE_PROBE_SUITE_H_
