// GradientSync over MPI: host buffers, every rank of MPI_COMM_WORLD (started by mpirun).
//
// Each instance works on its own duplicate of MPI_COMM_WORLD with errors returned rather
// than fatal, so MPI failures come back as statuses naming MPI's error string and the rank,
// and other users of MPI_COMM_WORLD in the process are not disturbed.
//
// Buckets are reduced one after another with blocking MPI_Allreduce calls: the sync is not
// overlapped with computation, and on shared memory non-blocking calls would only add
// progress overhead; the bucketed path already beats one bare MPI_Allreduce of the whole
// buffer (bench/RESULTS.md).
//
// The contract is checked: before each collective the ranks exchange (call number, method,
// size, root) in one small MPI_Allreduce. If they disagree, for instance rank 1 passes 8
// floats where rank 0 passes 7, or one rank calls Broadcast while another calls Barrier,
// every rank gets the same FailedPrecondition describing the disagreement and no data
// moves; the instance stays usable, the next call is checked afresh. (A rank that never
// calls at all cannot be detected by MPI: the others wait.) The check costs one tiny
// collective per call, about a microsecond on shared memory, next to milliseconds for a
// gradient.
//
// Determinism: one rank's sum of each element is computed once and copied, or the ranks
// compute the same operations on the same operands (Open MPI's algorithms for commutative
// sums), so all ranks hold the same bits; the algorithm depends only on the world size and
// bucket size, so runs repeat bit for bit.
#ifndef CLOZE_WORKER_MPI_GRADIENT_SYNC_H_
#define CLOZE_WORKER_MPI_GRADIENT_SYNC_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "worker/gradient_sync.h"

namespace cloze {

// A GradientSync over MPI_COMM_WORLD. Calls MPI_Init_thread (MPI_THREAD_SERIALIZED) if MPI
// is not yet initialised, and then registers MPI_Finalize to run at exit, so several
// instances may come and go in one process. bucket_bytes: the largest chunk reduced by one
// MPI call (0: kDefaultBucketBytes; rounded down to whole elements, at least one).
// Errors: InvalidArgument for a negative bucket_bytes; FailedPrecondition if MPI was
// already finalised (MPI cannot start twice in a process); Internal with MPI's error string.
// Every rank must call it (it duplicates the communicator, a collective).
absl::StatusOr<std::unique_ptr<GradientSync>> MakeMpiSync(int64_t bucket_bytes);

// Whether this process was started by mpirun: {rank, world size} from the environment
// (OMPI_COMM_WORLD_RANK/OMPI_COMM_WORLD_SIZE from Open MPI, else PMI_RANK/PMI_SIZE from
// MPICH's Hydra or Slurm) without initialising MPI; nullopt when neither pair is set or
// the values are not a rank in [0, size).
std::optional<std::pair<int, int>> MpiRankFromEnvironment();

}  // namespace cloze

#endif  // CLOZE_WORKER_MPI_GRADIENT_SYNC_H_
