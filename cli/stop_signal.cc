#include "cli/stop_signal.h"

#include <signal.h>
#include <unistd.h>

namespace cloze::cli {
namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) {
  if (g_stop.exchange(true)) _exit(130);
}

}  // namespace

const std::atomic<bool>* StopOnSignals() {
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  return &g_stop;
}

}  // namespace cloze::cli
