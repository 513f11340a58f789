// The NCCL and CUDA runtime calls worker/nccl_gradient_sync.cc needs, behind a plain C++
// header (the pattern of kernels/cuda/device.h): nccl_ops.cu holds the NCCL side where
// CUDA is built; elsewhere nccl_ops_none.cc stands in and every call reports that NCCL is
// not built, so callers need no #ifdef. Nothing here aborts; failures come back as an
// NcclStatus carrying ncclGetErrorString / cudaGetErrorString text.
#ifndef CLOZE_WORKER_NCCL_OPS_H_
#define CLOZE_WORKER_NCCL_OPS_H_

#include <cstddef>
#include <string>

namespace cloze::nccl {

struct [[nodiscard]] NcclStatus {
  std::string error;  // empty when ok
  bool ok() const { return error.empty(); }
};

// Whether this build carries NCCL (CUDA built, not --config=cpu).
bool NcclBuilt();

// sizeof(ncclUniqueId).
inline constexpr size_t kUniqueIdBytes = 128;

// A fresh ncclUniqueId as kUniqueIdBytes raw bytes, or "" when NCCL is not built or
// ncclGetUniqueId fails. The process that calls this hosts NCCL's bootstrap root, so it
// must live until every rank has created its communicator.
std::string NewUniqueId();

// Number of visible CUDA devices (0 when none, no driver, or CUDA is not built), and the
// calling thread's current device.
int VisibleDeviceCount();
NcclStatus SetCurrentDevice(int device);

enum class ElementType { kFloat32, kFloat64, kBytes };

// One rank's NCCL communicator with the CUDA stream its collectives run on (a blocking
// stream, so ordered after the legacy default stream's work), tied to the device that was
// current when it was created. Not thread-safe.
class Communicator;

// Joins the communicator of `world_size` ranks named by `unique_id` (kUniqueIdBytes) as
// `rank`; blocks until all ranks have joined. On success *out owns the communicator.
NcclStatus CreateCommunicator(int rank, int world_size, const std::string& unique_id,
                              Communicator** out);
void DestroyCommunicator(Communicator* communicator);  // accepts nullptr

// Enqueue on the communicator's stream, in place on DEVICE memory; they return once queued.
NcclStatus EnqueueAllReduceSum(Communicator& communicator, void* device_data, size_t count,
                               ElementType type);
NcclStatus EnqueueBroadcast(Communicator& communicator, void* device_data, size_t bytes,
                            int root);
// An all-reduce of one element of the communicator's own device scratch.
NcclStatus EnqueueBarrier(Communicator& communicator);

// Waits until everything queued has finished. Polls the stream and NCCL's asynchronous
// error, so a failed peer ends the wait with an error (and aborts the communicator, which
// is unusable afterwards) instead of hanging.
NcclStatus Synchronize(Communicator& communicator);

}  // namespace cloze::nccl

#endif  // CLOZE_WORKER_NCCL_OPS_H_
