// Gradient synchronisation among the ranks of a data-parallel job, behind one interface.
//
// Backends: MakeSingleProcessSync (here: one rank, nothing to do), MakeMpiSync
// (worker/mpi_gradient_sync.h: host buffers, MPI_COMM_WORLD) and MakeNcclSync
// (worker/nccl_gradient_sync.h: device buffers, NCCL). The trainer keeps all gradients in
// one flat buffer, so one AllReduceSum per step covers them; backends split it into buckets.
#ifndef CLOZE_WORKER_GRADIENT_SYNC_H_
#define CLOZE_WORKER_GRADIENT_SYNC_H_

#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/status.h"

namespace cloze {

// The bucket size when a config says 0 (DistributedConfig.bucket_bytes): per-call latency
// is negligible at this size, and with two ranks on shared memory 25 MiB buckets reduce
// ALBERT-base's 45 MiB gradient 1.7x faster than one call (bench/RESULTS.md).
inline constexpr int64_t kDefaultBucketBytes = int64_t{25} << 20;

// Sums buffers over the ranks of a data-parallel job. Every rank calls every method in the
// same order with buffers of the same sizes (a collective); afterwards every rank holds the
// same bits. Deterministic: the same inputs give the same bits on every run (for a fixed
// world size, bucket size and backend configuration).
//
// Errors: a failed call returns a status naming the backend's error and this rank. Backends
// that can detect a broken contract (ranks passing different sizes, or calling different
// methods) report it on every rank as FailedPrecondition, see each backend's header.
// Threading: not thread-safe; calls on one instance must be serialised by the caller (any
// thread may make them).
class GradientSync {
 public:
  virtual ~GradientSync() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // In place: values := Σ over ranks. Bucketed: the flat buffer is reduced in chunks of at
  // most bucket_bytes, so large buffers pipeline and small ones go in one call.
  virtual absl::Status AllReduceSum(std::span<float> values) = 0;
  // Small statistics (loss sums, counts) in double.
  virtual absl::Status AllReduceSum(std::span<double> values) = 0;
  // Rank `root`'s bytes to every rank (size must match); used to agree on start-up state.
  // InvalidArgument when root is not in [0, world_size).
  virtual absl::Status Broadcast(std::span<char> bytes, int root) = 0;
  virtual absl::Status Barrier() = 0;
};

// world_size 1, rank 0: every call is a no-op (Broadcast still checks that root is 0).
std::unique_ptr<GradientSync> MakeSingleProcessSync();

}  // namespace cloze

#endif  // CLOZE_WORKER_GRADIENT_SYNC_H_
