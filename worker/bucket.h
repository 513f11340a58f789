// Splitting a flat buffer into the buckets one collective call reduces (shared by the
// MPI and NCCL backends, so both bucket the same way).
#ifndef CLOZE_WORKER_BUCKET_H_
#define CLOZE_WORKER_BUCKET_H_

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"

namespace cloze {

// Elements of `element_size` bytes per bucket of `bucket_bytes`: at least one, at most
// INT_MAX (MPI's counts are ints).
inline int64_t ElementsPerBucket(int64_t bucket_bytes, size_t element_size) {
  return std::clamp<int64_t>(bucket_bytes / static_cast<int64_t>(element_size), 1, INT_MAX);
}

// Calls reduce(offset, count) for consecutive buckets covering [0, size) (none when size is
// 0); stops at and returns the first error.
template <typename Reduce>
absl::Status ForEachBucket(size_t size, int64_t per_bucket, Reduce reduce) {
  for (size_t offset = 0; offset < size; offset += per_bucket) {
    const size_t count = std::min<size_t>(per_bucket, size - offset);
    if (absl::Status s = reduce(offset, count); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace cloze

#endif  // CLOZE_WORKER_BUCKET_H_
