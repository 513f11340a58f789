#include "cli/common_flags.h"

#include <algorithm>
#include <thread>

#include "absl/flags/flag.h"

ABSL_FLAG(uint64_t, seed, 12345, "seed of everything random (parameters, data, dropout)");
ABSL_FLAG(int, threads, 0, "worker threads (0: one per hardware thread)");

namespace cloze::cli {

int CommandThreads() {
  const int threads = absl::GetFlag(FLAGS_threads);
  return threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace cloze::cli
