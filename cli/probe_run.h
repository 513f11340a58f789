// cloze probe's work, apart from its flags: which checkpoints to probe, and probing them
// one after another into probes.jsonl (probe/probe_log.h), resuming where an earlier run of
// it stopped. The prober that follows a training run (`cloze probe --follow`,
// probe_follow.h) calls ProbeCheckpoints on each new checkpoint.
#ifndef CLOZE_CLI_PROBE_RUN_H_
#define CLOZE_CLI_PROBE_RUN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/tokenizer.h"
#include "probe/probe_suite.h"

namespace cloze::cli {

struct CheckpointToProbe {
  int64_t step = 0;
  std::string path;  // the step folder, as an absolute path: the key of its records
};

// The checkpoints `paths` name, in order: a checkpoint step folder is itself; a run folder
// is its complete checkpoints (ascending step), of which every `every`-th is kept (the 1st,
// the (every+1)-th, ... of the listing; every ≤ 1: all). NotFound naming a path that is
// neither.
absl::StatusOr<std::vector<CheckpointToProbe>> CheckpointsToProbe(const std::vector<std::string>& paths, int every);

struct ProbeRunSummary {
  int probed = 0;        // checkpoints probed now (at least one probe run)
  int already_done = 0;  // checkpoints whose wanted probes were all in probes.jsonl
  int skipped = 0;       // checkpoints gone (deleted, pruned) or damaged when read
};

// For each checkpoint, the probes of options.probes that `probes_path` lacks for it: the
// checkpoint is loaded (a pretraining one; a fine-tuning checkpoint gets the linear probes
// only), `data` (LoadProbeData's) probed, and each probe's records appended as soon as it is
// done. A checkpoint that cannot be read because it is gone or damaged (a training run pruned
// it under us) is skipped with a message to `log`. Errors: a model whose vocabulary differs
// from the tokenizer's, whose positions are fewer than options.max_seq_length, a probe that
// fails, probes.jsonl that cannot be read or written. `before_load` (tests) runs just before
// each checkpoint is read.
absl::StatusOr<ProbeRunSummary> ProbeCheckpoints(const std::vector<CheckpointToProbe>& checkpoints,
                                                 const data::Tokenizer& tokenizer, const probe::ProbeData& data,
                                                 const probe::ProbeSuiteOptions& options,
                                                 const std::string& probes_path,
                                                 const std::function<void(const std::string&)>& log,
                                                 const std::function<void(const CheckpointToProbe&)>& before_load = {});

}  // namespace cloze::cli

#endif  // CLOZE_CLI_PROBE_RUN_H_
