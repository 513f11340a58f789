#include "worker/mpi_gradient_sync.h"

#include <mpi.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "worker/bucket.h"

namespace cloze {
namespace {

// What a rank is doing at a collective; compared across ranks before any data moves.
enum class Collective : int64_t { kAllReduceFloat = 1, kAllReduceDouble, kBroadcast, kBarrier };

absl::string_view CollectiveName(int64_t op) {
  switch (static_cast<Collective>(op)) {
    case Collective::kAllReduceFloat: return "AllReduceSum(float)";
    case Collective::kAllReduceDouble: return "AllReduceSum(double)";
    case Collective::kBroadcast: return "Broadcast";
    case Collective::kBarrier: return "Barrier";
  }
  return "an unknown collective";
}

std::string MpiErrorText(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return absl::StrCat("MPI error ", code);
  return std::string(text, length);
}

absl::Status MpiError(int code, absl::string_view call, absl::string_view rank) {
  return absl::InternalError(absl::StrCat(call, " failed on rank ", rank, ": ", MpiErrorText(code)));
}

// The rank for error messages before MPI can tell it.
std::string RankFromEnvironmentText() {
  auto env = MpiRankFromEnvironment();
  return env ? absl::StrCat(env->first) : "? (not started by mpirun)";
}

void FinalizeMpiAtExit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

// Initialises MPI once per process; MPI_Finalize then runs at exit.
absl::Status EnsureMpiInitialised() {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) {
    return absl::FailedPreconditionError(
        "MPI was already finalised in this process and cannot be initialised again");
  }
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised) return absl::OkStatus();
  int provided = 0;
  // SERIALIZED: the trainer may call from whichever thread runs the step, never two at once.
  if (int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
      rc != MPI_SUCCESS) {
    return MpiError(rc, "MPI_Init_thread", RankFromEnvironmentText());
  }
  std::atexit(FinalizeMpiAtExit);
  return absl::OkStatus();
}

class MpiSync final : public GradientSync {
 public:
  MpiSync(MPI_Comm comm, int rank, int world_size, int64_t bucket_bytes)
      : comm_(comm), rank_(rank), world_size_(world_size), bucket_bytes_(bucket_bytes) {}

  ~MpiSync() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }

  absl::Status AllReduceSum(std::span<float> values) override {
    return Reduce(values, MPI_FLOAT, Collective::kAllReduceFloat);
  }
  absl::Status AllReduceSum(std::span<double> values) override {
    return Reduce(values, MPI_DOUBLE, Collective::kAllReduceDouble);
  }

  absl::Status Broadcast(std::span<char> bytes, int root) override {
    if (absl::Status s = CheckAgreement(Collective::kBroadcast, bytes.size(), root); !s.ok()) {
      return s;
    }
    if (root < 0 || root >= world_size_) {
      return absl::InvalidArgumentError(absl::StrCat("rank ", rank_, ": Broadcast from root ",
                                                     root, ", not a rank of ", world_size_));
    }
    return ForEachBucket(bytes.size(), ElementsPerBucket(bucket_bytes_, 1),
                         [&](size_t offset, size_t count) {
                           int rc = MPI_Bcast(bytes.data() + offset, static_cast<int>(count),
                                              MPI_BYTE, root, comm_);
                           if (rc == MPI_SUCCESS) return absl::OkStatus();
                           return MpiError(rc, "MPI_Bcast", absl::StrCat(rank_));
                         });
  }

  // The agreement check is an all-reduce, which no rank leaves before every rank has
  // entered: a barrier already.
  absl::Status Barrier() override { return CheckAgreement(Collective::kBarrier, 0, 0); }

 private:
  template <typename T>
  absl::Status Reduce(std::span<T> values, MPI_Datatype type, Collective op) {
    if (absl::Status s = CheckAgreement(op, values.size(), 0); !s.ok()) return s;
    return ForEachBucket(
        values.size(), ElementsPerBucket(bucket_bytes_, sizeof(T)),
        [&](size_t offset, size_t count) {
          int rc = MPI_Allreduce(MPI_IN_PLACE, values.data() + offset, static_cast<int>(count),
                                 type, MPI_SUM, comm_);
          if (rc == MPI_SUCCESS) return absl::OkStatus();
          return MpiError(rc,
                          absl::StrCat("MPI_Allreduce of ", CollectiveName(int64_t(op)),
                                       " at element ", offset),
                          absl::StrCat(rank_));
        });
  }

  // One MPI_Allreduce(MAX) of each field and of its negation yields every field's maximum
  // and minimum over the ranks; they are equal on all fields exactly when all ranks agree.
  absl::Status CheckAgreement(Collective op, size_t size, int root) {
    const int64_t call = ++calls_;
    int64_t mine[4] = {call, static_cast<int64_t>(op), static_cast<int64_t>(size), root};
    int64_t extremes[8];
    for (int i = 0; i < 4; ++i) extremes[i] = mine[i], extremes[4 + i] = -mine[i];
    if (int rc = MPI_Allreduce(MPI_IN_PLACE, extremes, 8, MPI_INT64_T, MPI_MAX, comm_);
        rc != MPI_SUCCESS) {
      return MpiError(rc, absl::StrCat("MPI_Allreduce checking call ", call, " (",
                                       CollectiveName(int64_t(op)), ")"),
                      absl::StrCat(rank_));
    }
    bool agree = true;
    for (int i = 0; i < 4; ++i) agree = agree && extremes[i] == -extremes[4 + i];
    if (agree) return absl::OkStatus();
    auto range = [&](int i, absl::string_view what) {
      return absl::StrCat(what, " ", -extremes[4 + i], "..", extremes[i]);
    };
    return absl::FailedPreconditionError(absl::StrCat(
        "ranks disagree on a collective: rank ", rank_, " made call ", call, ", ",
        CollectiveName(int64_t(op)), " of ", size, " elements (root ", root,
        "); across the ", world_size_, " ranks: ", range(0, "call"), ", ",
        range(1, "method"), " (1 AllReduceSum(float), 2 AllReduceSum(double), 3 Broadcast, "
        "4 Barrier), ", range(2, "elements"), ", ", range(3, "root")));
  }

  MPI_Comm comm_;
  const int rank_;
  const int world_size_;
  const int64_t bucket_bytes_;
  int64_t calls_ = 0;  // collectives made on this instance, to catch a rank that skipped one
};

// A positive int from the environment, or nullopt.
std::optional<int> IntFromEnvironment(const char* name) {
  const char* text = std::getenv(name);
  int value = 0;
  if (text == nullptr || !absl::SimpleAtoi(text, &value)) return std::nullopt;
  return value;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GradientSync>> MakeMpiSync(int64_t bucket_bytes) {
  if (bucket_bytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bucket_bytes is ", bucket_bytes, "; it must be positive (or 0: default)"));
  }
  if (bucket_bytes == 0) bucket_bytes = kDefaultBucketBytes;
  if (absl::Status s = EnsureMpiInitialised(); !s.ok()) return s;
  std::string rank_text = RankFromEnvironmentText();
  MPI_Comm comm;
  if (int rc = MPI_Comm_dup(MPI_COMM_WORLD, &comm); rc != MPI_SUCCESS) {
    return MpiError(rc, "MPI_Comm_dup(MPI_COMM_WORLD)", rank_text);
  }
  // Set before any call on comm can fail, so no error aborts the process.
  if (int rc = MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN); rc != MPI_SUCCESS) {
    return MpiError(rc, "MPI_Comm_set_errhandler", rank_text);
  }
  int rank = 0, world_size = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &world_size);
  return std::make_unique<MpiSync>(comm, rank, world_size, bucket_bytes);
}

std::optional<std::pair<int, int>> MpiRankFromEnvironment() {
  for (auto [rank_name, size_name] : {std::pair{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
                                      std::pair{"PMI_RANK", "PMI_SIZE"}}) {
    std::optional<int> rank = IntFromEnvironment(rank_name);
    std::optional<int> size = IntFromEnvironment(size_name);
    if (!rank && !size) continue;
    if (!rank || !size || *size < 1 || *rank < 0 || *rank >= *size) return std::nullopt;
    return std::pair{*rank, *size};
  }
  return std::nullopt;
}

}  // namespace cloze
