// The NCCL side of nccl_ops.h. Host code only (no kernels); nvcc compiles it because the
// CUDA rule (third_party/cuda) is what links NCCL and the CUDA runtime.
#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "worker/nccl_ops.h"

namespace cloze::nccl {

static_assert(sizeof(ncclUniqueId) == kUniqueIdBytes, "nccl_ops.h: kUniqueIdBytes");

class Communicator {
 public:
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  int device = 0;
  float* scratch = nullptr;  // one float on the device, for EnqueueBarrier
  bool aborted = false;
};

namespace {

NcclStatus Check(cudaError_t code, const char* call) {
  if (code == cudaSuccess) return {};
  return {std::string(call) + ": " + cudaGetErrorName(code) + " (" + cudaGetErrorString(code) +
          ")"};
}

NcclStatus Check(ncclResult_t code, const char* call) {
  if (code == ncclSuccess) return {};
  std::string text = std::string(call) + ": " + ncclGetErrorString(code);
  // ncclGetLastError adds the cause NCCL logged (peer, transport) where it has one.
  if (const char* last = ncclGetLastError(nullptr); last != nullptr && *last != '\0') {
    text += std::string(" (") + last + ")";
  }
  return {text};
}

ncclDataType_t NcclType(ElementType type) {
  switch (type) {
    case ElementType::kFloat32: return ncclFloat32;
    case ElementType::kFloat64: return ncclFloat64;
    case ElementType::kBytes: return ncclUint8;
  }
  return ncclUint8;
}

}  // namespace

bool NcclBuilt() { return true; }

std::string NewUniqueId() {
  ncclUniqueId id;
  if (ncclGetUniqueId(&id) != ncclSuccess) return "";
  return std::string(id.internal, sizeof(id.internal));
}

int VisibleDeviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" so later calls report their own
    return 0;
  }
  return count;
}

NcclStatus SetCurrentDevice(int device) { return Check(cudaSetDevice(device), "cudaSetDevice"); }

NcclStatus CreateCommunicator(int rank, int world_size, const std::string& unique_id,
                              Communicator** out) {
  *out = nullptr;
  if (unique_id.size() != sizeof(ncclUniqueId)) return {"the NCCL unique id has the wrong size"};
  auto* c = new Communicator;
  auto fail = [c](NcclStatus s) {
    DestroyCommunicator(c);
    return s;
  };
  if (NcclStatus s = Check(cudaGetDevice(&c->device), "cudaGetDevice"); !s.ok()) return fail(s);
  // A blocking stream: collectives start only after the kernels the caller queued on the
  // legacy default stream (the backward pass) have finished, without a device-wide sync.
  if (NcclStatus s = Check(cudaStreamCreate(&c->stream), "cudaStreamCreate"); !s.ok()) {
    return fail(s);
  }
  if (NcclStatus s = Check(cudaMalloc(&c->scratch, sizeof(float)), "cudaMalloc"); !s.ok()) {
    return fail(s);
  }
  ncclUniqueId id;
  std::memcpy(id.internal, unique_id.data(), sizeof(id.internal));
  if (NcclStatus s = Check(ncclCommInitRank(&c->comm, world_size, id, rank), "ncclCommInitRank");
      !s.ok()) {
    c->comm = nullptr;
    return fail(s);
  }
  *out = c;
  return {};
}

void DestroyCommunicator(Communicator* c) {
  if (c == nullptr) return;
  cudaSetDevice(c->device);
  // After ncclCommAbort the communicator is already freed.
  if (c->comm != nullptr && !c->aborted) ncclCommDestroy(c->comm);
  if (c->scratch != nullptr) cudaFree(c->scratch);
  if (c->stream != nullptr) cudaStreamDestroy(c->stream);
  delete c;
}

NcclStatus EnqueueAllReduceSum(Communicator& c, void* device_data, size_t count,
                               ElementType type) {
  if (c.aborted) return {"the NCCL communicator was aborted after an earlier error"};
  if (NcclStatus s = SetCurrentDevice(c.device); !s.ok()) return s;
  return Check(ncclAllReduce(device_data, device_data, count, NcclType(type), ncclSum, c.comm,
                             c.stream),
               "ncclAllReduce");
}

NcclStatus EnqueueBroadcast(Communicator& c, void* device_data, size_t bytes, int root) {
  if (c.aborted) return {"the NCCL communicator was aborted after an earlier error"};
  if (NcclStatus s = SetCurrentDevice(c.device); !s.ok()) return s;
  return Check(ncclBroadcast(device_data, device_data, bytes, ncclUint8, root, c.comm, c.stream),
               "ncclBroadcast");
}

NcclStatus EnqueueBarrier(Communicator& c) {
  return EnqueueAllReduceSum(c, c.scratch, 1, ElementType::kFloat32);
}

NcclStatus Synchronize(Communicator& c) {
  if (c.aborted) return {"the NCCL communicator was aborted after an earlier error"};
  if (NcclStatus s = SetCurrentDevice(c.device); !s.ok()) return s;
  while (true) {
    cudaError_t state = cudaStreamQuery(c.stream);
    if (state == cudaSuccess) return {};
    if (state != cudaErrorNotReady) return Check(state, "cudaStreamQuery");
    ncclResult_t async_error = ncclSuccess;
    if (NcclStatus s = Check(ncclCommGetAsyncError(c.comm, &async_error), "ncclCommGetAsyncError");
        !s.ok()) {
      return s;
    }
    if (async_error != ncclSuccess && async_error != ncclInProgress) {
      NcclStatus failed = Check(async_error, "NCCL collective (asynchronous error)");
      ncclCommAbort(c.comm);
      c.aborted = true;
      return failed;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

}  // namespace cloze::nccl
