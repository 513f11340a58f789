#include "worker/nccl_gradient_sync.h"

#include "absl/strings/string_view.h"

#include "absl/strings/str_cat.h"
#include "worker/bucket.h"
#include "worker/nccl_ops.h"

namespace cloze {
namespace {

class NcclSync final : public GradientSync {
 public:
  NcclSync(nccl::Communicator* communicator, int rank, int world_size, int64_t bucket_bytes)
      : communicator_(communicator), rank_(rank), world_size_(world_size),
        bucket_bytes_(bucket_bytes) {}
  ~NcclSync() override { nccl::DestroyCommunicator(communicator_); }

  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }

  absl::Status AllReduceSum(std::span<float> values) override {
    return Reduce(values.data(), values.size(), sizeof(float), nccl::ElementType::kFloat32);
  }
  absl::Status AllReduceSum(std::span<double> values) override {
    return Reduce(values.data(), values.size(), sizeof(double), nccl::ElementType::kFloat64);
  }

  absl::Status Broadcast(std::span<char> bytes, int root) override {
    if (root < 0 || root >= world_size_) {
      return absl::InvalidArgumentError(absl::StrCat("rank ", rank_, ": Broadcast from root ",
                                                     root, ", not a rank of ", world_size_));
    }
    absl::Status queued = ForEachBucket(
        bytes.size(), ElementsPerBucket(bucket_bytes_, 1), [&](size_t offset, size_t count) {
          return Failed(nccl::EnqueueBroadcast(*communicator_, bytes.data() + offset, count, root));
        });
    return Finish(queued);
  }

  absl::Status Barrier() override { return Finish(Failed(nccl::EnqueueBarrier(*communicator_))); }

 private:
  absl::Status Reduce(void* data, size_t size, size_t element_size, nccl::ElementType type) {
    char* bytes = static_cast<char*>(data);
    absl::Status queued = ForEachBucket(
        size, ElementsPerBucket(bucket_bytes_, element_size), [&](size_t offset, size_t count) {
          return Failed(nccl::EnqueueAllReduceSum(*communicator_, bytes + offset * element_size,
                                                  count, type));
        });
    return Finish(queued);
  }

  // Waits for what was queued even after a failed enqueue, so no collective still touches
  // the caller's buffer once this returns.
  absl::Status Finish(absl::Status queued) {
    absl::Status done = Failed(nccl::Synchronize(*communicator_));
    return queued.ok() ? done : queued;
  }

  absl::Status Failed(const nccl::NcclStatus& s) const {
    if (s.ok()) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("NCCL on rank ", rank_, ": ", s.error));
  }

  nccl::Communicator* communicator_;  // owned
  const int rank_;
  const int world_size_;
  const int64_t bucket_bytes_;
};

}  // namespace

std::string NewNcclUniqueId() { return nccl::NewUniqueId(); }

absl::StatusOr<std::unique_ptr<GradientSync>> MakeNcclSync(int rank, int world_size,
                                                           const std::string& nccl_unique_id,
                                                           int64_t bucket_bytes) {
  if (!nccl::NcclBuilt()) {
    return absl::UnimplementedError(
        "NCCL gradient sync: this binary was built without CUDA (--config=cpu, or no toolkit)");
  }
  if (nccl::VisibleDeviceCount() == 0) {
    return absl::UnimplementedError(
        absl::StrCat("NCCL gradient sync on rank ", rank, ": no CUDA device is visible"));
  }
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("NCCL gradient sync: rank ", rank, " of world size ", world_size));
  }
  if (bucket_bytes < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NCCL gradient sync: bucket_bytes is ", bucket_bytes, "; it must be positive (or 0)"));
  }
  if (nccl_unique_id.size() != nccl::kUniqueIdBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NCCL gradient sync on rank ", rank, ": the unique id has ", nccl_unique_id.size(),
        " bytes, not ", nccl::kUniqueIdBytes, " (did rank 0's NewNcclUniqueId fail?)"));
  }
  nccl::Communicator* communicator = nullptr;
  if (nccl::NcclStatus s =
          nccl::CreateCommunicator(rank, world_size, nccl_unique_id, &communicator);
      !s.ok()) {
    return absl::InternalError(absl::StrCat("NCCL on rank ", rank, " of ", world_size, ": ", s.error));
  }
  return std::make_unique<NcclSync>(communicator, rank, world_size,
                                    bucket_bytes == 0 ? kDefaultBucketBytes : bucket_bytes);
}

}  // namespace cloze
