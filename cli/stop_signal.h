// SIGTERM and SIGINT as a request to stop cleanly (train, worker, launch): the first sets a
// flag the work polls between steps (a checkpoint, then exit 0); a second one exits at once
// with status 130, for an operator who does not want to wait.
#ifndef CLOZE_CLI_STOP_SIGNAL_H_
#define CLOZE_CLI_STOP_SIGNAL_H_

#include <atomic>

namespace cloze::cli {

// Installs the handlers (once per process) and returns the flag they set.
const std::atomic<bool>* StopOnSignals();

}  // namespace cloze::cli

#endif  // CLOZE_CLI_STOP_SIGNAL_H_
