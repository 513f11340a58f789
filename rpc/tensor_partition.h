// How the parameter servers split the model: contiguous ranges of WHOLE tensors of the
// flat parameter buffer, so that every per-tensor computation of the optimizer (LAMB's
// trust ratio) stays on one server, balanced by size.
#ifndef CLOZE_RPC_TENSOR_PARTITION_H_
#define CLOZE_RPC_TENSOR_PARTITION_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "model/parameter_layout.h"

namespace cloze {

// InvalidArgument unless 1 <= servers <= the layout's number of tensors.
absl::Status ValidateServerCount(const ParameterLayout& layout, int servers);

// Tensor index ranges [first, end) of `layout.tensors`, one per server in server order:
// contiguous, covering every tensor, none empty. Each boundary is the tensor boundary
// nearest to s/servers of the floats (leaving at least one tensor to every later
// server), so a server's share is within one tensor of the ideal. Deterministic: every
// process computes the same partition. `servers` must pass ValidateServerCount (else
// aborts: a programmer error).
std::vector<std::pair<int, int>> PartitionTensors(const ParameterLayout& layout, int servers);

// The floats [begin, begin + size) of the buffer that tensors [first, end) occupy.
struct FloatRange {
  int64_t begin = 0;
  int64_t size = 0;
};
FloatRange FloatRangeOf(const ParameterLayout& layout, std::pair<int, int> tensors);

}  // namespace cloze

#endif  // CLOZE_RPC_TENSOR_PARTITION_H_
