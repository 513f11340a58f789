// `cloze prepare` over many machines: each of N parts builds its share of the input's units
// (input_units.h) into a part folder, then one merge writes the dataset from the parts.
//
// Layout: DIR/parts/part-IIIII-of-NNNNN/ holds the part's copy of the tokenizer, its
// examples in order as one shard (shard-00000-of-00001, shard_writer.h) and, written last,
// part.textproto (cloze.PreparedPart). A part is built in a private folder
// DIR/parts/.part-IIIII-of-NNNNN.partial-HOST-PID and renamed into place only when complete:
// a crashed part leaves nothing that looks finished, and running a part again (a requeue, a
// retried array task) replaces its folder with an identical one. Parts may run in any order,
// at once or one after another, on any machines that see DIR and the input by the same paths.
//
// The merge streams the parts' examples, in part order, through the DatasetWriter a
// one-machine PrepareDataset uses, and records the summed corpus counts: the dataset's
// records (every example and every shard's metadata record) and its tokenizer file are
// byte-identical to PrepareDataset's for the same input, tokenizer and DataConfig, whatever
// N. (RocksDB's own files are not: each database has a random identity.)
//
// Parts need a fixed tokenizer: spm-train:N trains on the start of the whole input, which no
// part sees; train it once (one-machine prepare, then its tokenizer.model) and pass spm:.
#ifndef CLOZE_DATA_PREPARE_PART_H_
#define CLOZE_DATA_PREPARE_PART_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/document_source.h"
#include "data/example_pipeline.h"
#include "data/prepare.h"
#include "proto/data.pb.h"

namespace cloze::data {

inline constexpr char kPartsFolder[] = "parts";
inline constexpr char kPartManifest[] = "part.textproto";

// "part-00001-of-00003". Requires 0 <= part < parts <= kMaxShardCount.
std::string PartFolderName(int part, int parts);

struct PartResult {
  PreparedPart manifest;
  std::string folder;            // the finished part folder
  InputStats input;              // of this part's files
  std::vector<FileFormat> formats;
  PipelineStats examples;
};

// Builds part `part` of `parts` of options.output. The output folder may be new, empty or
// hold other parts (only DIR/parts); anything else is refused, as is spm-train:, a part
// outside [0, parts) and every error PrepareDataset refuses. A part may hold no units (more
// parts than units) and no examples; only the merge requires examples.
absl::StatusOr<PartResult> PreparePart(const PrepareOptions& options, int part, int parts);

struct MergeResult {
  std::vector<ShardMetadata> shards;
  DataConfig config;      // as recorded
  CorpusCounts corpus;    // the whole input's
  int64_t examples = 0;
  int64_t tokens = 0;
  int64_t sentence_label_1 = 0;
  int64_t input_files = 0;
  int64_t input_bytes = 0;
};

// Writes the dataset in `output` from its `parts` finished parts, then removes
// output/parts. Refused, naming the part (FailedPrecondition): a part missing, unfinished
// (only a partial folder) or damaged (its shard does not match its manifest), and a foreign
// part (another input, DataConfig, tokenizer or number of parts than the rest). Refused too:
// an output that already holds a shard, parts without a single example. On error no shard
// is published and the parts stay.
absl::StatusOr<MergeResult> MergeParts(const std::string& output, int parts);

}  // namespace cloze::data

#endif  // CLOZE_DATA_PREPARE_PART_H_
