// Flags shared by several subcommands.
#ifndef CLOZE_CLI_COMMON_FLAGS_H_
#define CLOZE_CLI_COMMON_FLAGS_H_

#include <cstdint>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(int, threads);

namespace cloze::cli {

// --threads, or every hardware thread when it is 0.
int CommandThreads();

}  // namespace cloze::cli

#endif  // CLOZE_CLI_COMMON_FLAGS_H_
