// The coordinator's persisted state (CoordinatorState) in <run_dir>/coordinator/state.pb.txt.
#ifndef CLOZE_SERVER_COORDINATOR_STATE_FILE_H_
#define CLOZE_SERVER_COORDINATOR_STATE_FILE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "proto/coordinator.pb.h"

namespace cloze {

// <run_dir>/coordinator/state.pb.txt
std::string CoordinatorStatePath(const std::string& run_dir);

// The state last saved, or nullopt when there is no state file (a fresh job). An unreadable
// or unparsable file is an error naming it: starting over would forget committed
// checkpoints and the generation, so an operator must look (or delete the file).
absl::StatusOr<std::optional<CoordinatorState>> LoadCoordinatorState(const std::string& run_dir);

// Writes the state atomically: a temporary file beside it, fsynced, renamed over the old
// one, the directory fsynced. Creates <run_dir>/coordinator/ when missing. Errors name the
// path. Not thread-safe for one run_dir (the coordinator serialises its calls).
absl::Status SaveCoordinatorState(const std::string& run_dir, const CoordinatorState& state);

}  // namespace cloze

#endif  // CLOZE_SERVER_COORDINATOR_STATE_FILE_H_
