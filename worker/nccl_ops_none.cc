// nccl_ops.h where no CUDA code is built (--config=cpu, or no toolkit when Bazel looked).
#include "worker/nccl_ops.h"

namespace cloze::nccl {
namespace {

NcclStatus NotBuilt() {
  return {"this binary has no NCCL (built with --config=cpu, or Bazel found no CUDA toolkit)"};
}

}  // namespace

class Communicator {};

bool NcclBuilt() { return false; }
std::string NewUniqueId() { return ""; }
int VisibleDeviceCount() { return 0; }
NcclStatus SetCurrentDevice(int) { return NotBuilt(); }
NcclStatus CreateCommunicator(int, int, const std::string&, Communicator** out) {
  *out = nullptr;
  return NotBuilt();
}
void DestroyCommunicator(Communicator* communicator) { delete communicator; }
NcclStatus EnqueueAllReduceSum(Communicator&, void*, size_t, ElementType) { return NotBuilt(); }
NcclStatus EnqueueBroadcast(Communicator&, void*, size_t, int) { return NotBuilt(); }
NcclStatus EnqueueBarrier(Communicator&) { return NotBuilt(); }
NcclStatus Synchronize(Communicator&) { return NotBuilt(); }

}  // namespace cloze::nccl
