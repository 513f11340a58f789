// The parallel, deterministic heart of `cloze prepare`: documents → tokens → examples.
//
// One reader (the caller's thread) cuts the document stream into blocks of consecutive
// documents; worker threads tokenize a block and build its examples (instance_builder.h,
// then masking.h unless masking is dynamic); the caller's thread hands finished blocks
// to the sink strictly in block order. Every random draw of a document comes from
// util::Rng(util::MixKey(seed, block key, pass, document)), and block boundaries depend only on
// the input, so the examples and their order are identical for any thread count.
//
// Input units (data/input_units.h): a block never spans two units, and the b-th block of
// unit u has the key (u << 32) | b. A unit's examples therefore depend on its own files
// only, which lets `cloze prepare --part` build units on different machines. Unit 0's keys
// are plain block indices: an input of one unit gives the examples it always gave.
//
// Memory is bounded: at most 2 × threads + 2 blocks exist at once, whatever the corpus.
#ifndef CLOZE_DATA_EXAMPLE_PIPELINE_H_
#define CLOZE_DATA_EXAMPLE_PIPELINE_H_

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "data/document_source.h"
#include "data/instance_builder.h"
#include "data/masking.h"
#include "data/vocab_info.h"
#include "proto/data.pb.h"

namespace cloze::data {

// Token ids of one sentence; called from several threads at once.
using EncodeFunction = std::function<std::vector<int32_t>(std::string_view sentence)>;

// Receives examples in their final order, from one thread.
class ExampleSink {
 public:
  virtual ~ExampleSink() = default;
  virtual absl::Status Add(const Example& example) = 0;
};

struct PipelineOptions {
  InstanceOptions instance;
  MaskingOptions masking;
  bool dynamic_masking = false;  // store unmasked examples
  int dupe_factor = 1;           // passes over each block with fresh randomness
  uint64_t seed = 12345;
  int threads = 1;
  // A block closes once it holds this many documents or bytes of text; both depend
  // only on the input, which is what makes the output thread-count independent.
  int block_documents = 256;
  int64_t block_bytes = 1 << 20;
  // The unit of each file of the source, by index in DocumentSource::files(); nondecreasing.
  // Empty: every file is in unit 0.
  std::vector<int64_t> file_units;
};

struct PipelineStats {
  int64_t blocks = 0;
  int64_t examples = 0;
  int64_t tokens = 0;          // in examples, [CLS]/[SEP] included
  int64_t masked = 0;          // positions chosen for prediction
  int64_t masked_as_mask = 0;  // ... replaced by [MASK]
  int64_t masked_kept = 0;     // ... left as they were
  int64_t masked_random = 0;   // ... replaced by a random token
  std::vector<int64_t> ngram_spans;  // [n-1]: spans of n candidates chosen
  int64_t sentence_label_1 = 0;      // swapped (SOP) or random next (NSP)
  int64_t one_sentence_chunks = 0;   // examples whose chunk held one sentence (label 1, B from elsewhere)
  std::vector<int64_t> length_histogram;  // examples by length, buckets of 16 tokens

  void Merge(const PipelineStats& other);
};

// Runs the pipeline over everything `source` yields. Stops at the first error of the
// source or the sink and returns it; examples handed to the sink before stay valid.
absl::StatusOr<PipelineStats> RunExamplePipeline(DocumentSource& source, const EncodeFunction& encode,
                                                 const VocabInfo& vocab, const PipelineOptions& options,
                                                 ExampleSink& sink);

}  // namespace cloze::data

#endif  // CLOZE_DATA_EXAMPLE_PIPELINE_H_
