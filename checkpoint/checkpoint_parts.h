// Checkpoints written by several processes of a distributed job and committed by one.
//
// Each member of the job writes its part (safetensors files over a range of whole tensors
// of the model's ParameterLayout) into the step's partial directory,
// <run_dir>/checkpoints/.step-NNNNNNNNN.partial/, and reports the files it wrote (names,
// sizes, SHA-256) to the coordinator. When every part of a step is reported, the
// coordinator calls CommitCheckpoint: the manifest, listing all parts' files, is written
// last and the directory renamed into place, exactly as checkpoint/checkpoint.h publishes a
// single-process checkpoint. A checkpoint is therefore either committed whole or not
// visible at all, whatever process dies when.
//
// Names: the part that holds every tensor writes model.safetensors and
// optimizer.safetensors (the single-process format, loadable by transformers). A part over
// some tensors, named P (e.g. "ps-00001-of-00002"), writes model-P.safetensors and
// optimizer-P.safetensors. LoadCheckpoint reads the union of the tensors of every listed
// model*/optimizer* file, whatever number of parts wrote them, so a job may resume with
// another number of parameter servers.
//
// The run directory must be shared by all members (one machine, or a shared file system).
#ifndef CLOZE_CHECKPOINT_CHECKPOINT_PARTS_H_
#define CLOZE_CHECKPOINT_CHECKPOINT_PARTS_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/checkpoint.pb.h"
#include "checkpoint/checkpoint.h"
#include "model/parameter_layout.h"

namespace cloze {

struct CheckpointPart {
  int64_t step = 0;            // names the partial directory
  int64_t optimizer_step = 0;  // stored in the optimizer file ("step")
  std::string part_name;       // "" for the part holding every tensor, else [a-z0-9-]+
  // Tensors [first_tensor, end_tensor) of the layout; the three spans hold exactly their
  // floats, contiguous, in layout order (layout.tensors[first_tensor].offset is element 0).
  int first_tensor = 0, end_tensor = 0;
  std::span<const float> parameters, exp_avg, exp_avg_sq;
};

// Creates the partial directory when missing (several writers may race to do so), writes
// and fsyncs the part's two files (replacing files of the same names left by an earlier
// attempt), and returns their manifest entries. Errors name the file and the system's
// reason. On failure the part's files are removed (a partial file on a full disk would keep
// it full for every retry); other parts in the directory are left to their writers.
absl::StatusOr<std::vector<CheckpointFile>> WriteCheckpointPart(const std::string& run_dir, const CheckpointPart& part,
                                                                const ParameterLayout& layout,
                                                                const CheckpointOptions& options = {});

// Publishes the checkpoint of manifest.step(): checks that every file the manifest lists
// is in the partial directory with its recorded size, writes the manifest (setting
// format_version and created_at), fsyncs, renames the directory into place and fsyncs the
// parent. Returns the published directory. AlreadyExists when that step is committed
// already; DataLoss naming the file when a listed file is missing or of another size.
absl::StatusOr<std::string> CommitCheckpoint(const std::string& run_dir, CheckpointManifest manifest,
                                             const CheckpointOptions& options = {});

// The tensors [first, end) of `layout` as a layout of their own (offsets from 0), for a
// process that owns only them (a parameter server).
ParameterLayout SubLayout(const ParameterLayout& layout, int first_tensor, int end_tensor);

}  // namespace cloze

#endif  // CLOZE_CHECKPOINT_CHECKPOINT_PARTS_H_
