#include "rpc/tensor_partition.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace cloze {

absl::Status ValidateServerCount(const ParameterLayout& layout, int servers) {
  const int tensors = static_cast<int>(layout.tensors.size());
  if (servers < 1 || servers > tensors) {
    return absl::InvalidArgumentError(absl::StrCat("DistributedConfig.parameter_servers: ", servers,
                                                   " servers for a model of ", tensors,
                                                   " tensors; each server needs at least one"));
  }
  return absl::OkStatus();
}

std::vector<std::pair<int, int>> PartitionTensors(const ParameterLayout& layout, int servers) {
  if (const absl::Status status = ValidateServerCount(layout, servers); !status.ok()) {
    std::fprintf(stderr, "PartitionTensors: %s\n", status.ToString().c_str());
    std::abort();
  }
  const int n = static_cast<int>(layout.tensors.size());
  // cumulative[i]: floats in tensors [0, i).
  std::vector<int64_t> cumulative(n + 1, 0);
  for (int i = 0; i < n; ++i) cumulative[i + 1] = cumulative[i] + layout.tensors[i].size;
  const long double total = static_cast<long double>(cumulative[n]);

  std::vector<std::pair<int, int>> ranges;
  int first = 0;
  for (int s = 1; s < servers; ++s) {
    const long double ideal = total * s / servers;
    // The boundary b (end of server s-1) leaves one tensor at least to this and every
    // later server.
    int best = first + 1;
    for (int b = first + 1; b <= n - (servers - s); ++b) {
      const long double d = std::abs(static_cast<long double>(cumulative[b]) - ideal);
      const long double best_d = std::abs(static_cast<long double>(cumulative[best]) - ideal);
      if (d < best_d) best = b;
    }
    ranges.emplace_back(first, best);
    first = best;
  }
  ranges.emplace_back(first, n);
  return ranges;
}

FloatRange FloatRangeOf(const ParameterLayout& layout, std::pair<int, int> tensors) {
  const auto [first, end] = tensors;
  if (first >= end) return {};
  const NamedTensor& last = layout.tensors[end - 1];
  const int64_t begin = layout.tensors[first].offset;
  return {begin, last.offset + last.size - begin};
}

}  // namespace cloze
