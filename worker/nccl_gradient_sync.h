// GradientSync over NCCL: DEVICE buffers, one rank per GPU, no MPI needed.
//
// Every span passed to the returned GradientSync (floats, doubles and Broadcast's bytes)
// must point to DEVICE memory of the GPU that was current when MakeNcclSync was called;
// host pointers are refused by NCCL (an Internal error). Each call enqueues its buckets
// with ncclAllReduce / ncclBroadcast on the sync's own stream and returns when they are
// done, so callers need not synchronise afterwards. Kernels the caller queued on the legacy
// default stream run first (the sync's stream is a blocking one); work on other streams of
// the caller's (or with --default-stream per-thread) must be synchronised before the call.
//
// Determinism: NCCL's ring and tree all-reduce compute each element once and copy it, so
// all ranks hold the same bits; the algorithm depends on world size, topology, bucket size
// and NCCL_ALGO/NCCL_PROTO, so a fixed job repeats bit for bit. Unlike the MPI backend there
// is no cross-rank contract check (it would cost a device round trip per call): ranks that
// disagree on sizes get undefined results or a NCCL error.
#ifndef CLOZE_WORKER_NCCL_GRADIENT_SYNC_H_
#define CLOZE_WORKER_NCCL_GRADIENT_SYNC_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "worker/gradient_sync.h"

namespace cloze {

// On rank 0: a fresh NCCL unique id (128 raw bytes, binary) for the others to receive
// through the caller's rendezvous (the coordinator); "" when NCCL is unavailable (built
// without CUDA, or NCCL failed). The calling process hosts NCCL's bootstrap and must stay
// up until every rank has called MakeNcclSync.
std::string NewNcclUniqueId();

// Joins the NCCL job named by nccl_unique_id as `rank` of `world_size`, on the calling
// thread's current CUDA device (cudaSetDevice first; one rank per device). Blocks until all
// ranks have joined. bucket_bytes as for MakeMpiSync (0: kDefaultBucketBytes).
// Errors: Unimplemented when built without CUDA or no GPU is visible; InvalidArgument for a
// bad rank, world size, bucket_bytes or an id that is not 128 bytes; Internal with
// ncclGetErrorString's text and the rank otherwise.
absl::StatusOr<std::unique_ptr<GradientSync>> MakeNcclSync(int rank, int world_size,
                                                           const std::string& nccl_unique_id,
                                                           int64_t bucket_bytes);

}  // namespace cloze

#endif  // CLOZE_WORKER_NCCL_GRADIENT_SYNC_H_
