// The coordinator's side of coordinated checkpoints (checkpoint/checkpoint_parts.h): checking
// what members report, merging their parts into one manifest, and retention.
#ifndef CLOZE_SERVER_COORDINATOR_CHECKPOINTS_H_
#define CLOZE_SERVER_COORDINATOR_CHECKPOINTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/checkpoint.pb.h"

namespace cloze {

// InvalidArgument naming the field unless every file is a plain name inside the checkpoint
// directory (no '/', not "." or "..", not the manifest, at most 255 bytes), of a
// non-negative size, with a 64-digit lowercase hex SHA-256, and no name appears twice.
// `field` prefixes the errors ("files").
absl::Status ValidateReportedFiles(const google::protobuf::RepeatedPtrField<CheckpointFile>& files,
                                   const std::string& field);

// Worker rank 0's manifest with `step` and the files of every part, in the order given.
// InvalidArgument naming the file when two parts list the same name.
absl::StatusOr<CheckpointManifest> MergeCheckpointParts(
    int64_t step, const CheckpointManifest& rank0_manifest,
    const std::vector<const google::protobuf::RepeatedPtrField<CheckpointFile>*>& parts);

}  // namespace cloze

#endif  // CLOZE_SERVER_COORDINATOR_CHECKPOINTS_H_
