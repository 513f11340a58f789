// probes.jsonl: what the probes found, one JSON object per line, one line per
// checkpoint × probe × layer × class:
//
//   {"step": 2000, "checkpoint": "/runs/a/checkpoints/step-000002000", "probe": "upos",
//    "layer": 3, "class": "NOUN", "accuracy": 0.91, "count": 812, "seconds": 4.2}
//
// probe: "fill", "reconstruction" (layer null: read from the MLM head), "upos", "deprel",
// "sst2" (layer 0 = embeddings .. num_hidden_layers); class: the gold class, and "overall"
// for all items; count: the items of that class scored; seconds: the wall time of the whole
// probe of that checkpoint (the same on all its lines).
//
// The records of one checkpoint × probe are written together, atomically (the whole file is
// rewritten into PATH.tmp and renamed), so a reader, or a prober killed at any point, never
// sees part of them; a restarted prober skips the checkpoint × probe pairs already present.
// Only one writer per file (the prober of the run).
#ifndef CLOZE_PROBE_PROBE_LOG_H_
#define CLOZE_PROBE_PROBE_LOG_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "probe/class_accuracy.h"

namespace cloze::probe {

inline constexpr char kProbesFileName[] = "probes.jsonl";

struct ProbeRecord {
  int64_t step = 0;
  std::string checkpoint;  // the checkpoint folder
  std::string probe;
  std::optional<int> layer;  // none for fill and reconstruction
  std::string class_name;
  double accuracy = 0;
  int64_t count = 0;
  double seconds = 0;
};

// The lines of one probe's result: one per class of `accuracy`, then "overall".
std::vector<ProbeRecord> RecordsOf(const ClassAccuracy& accuracy, const ProbeRecord& common);

// The file's (checkpoint, probe) pairs. A missing file has none. DataLoss naming file and
// line for a line that is not such a record.
absl::StatusOr<std::set<std::pair<std::string, std::string>>> ReadDoneProbes(const std::string& path);

// Every record of the file, in file order. A missing file has none. DataLoss naming file
// and line for a line that is not a whole record.
absl::StatusOr<std::vector<ProbeRecord>> ReadProbeRecords(const std::string& path);

// Adds `records` at the end of the file (creating it), all or none. The file system's error
// naming the path otherwise.
absl::Status AppendRecords(const std::string& path, const std::vector<ProbeRecord>& records);

}  // namespace cloze::probe

#endif  // CLOZE_PROBE_PROBE_LOG_H_
