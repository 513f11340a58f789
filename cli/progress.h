// Progress lines shared by the subcommands that train (train, worker, launch).
#ifndef CLOZE_CLI_PROGRESS_H_
#define CLOZE_CLI_PROGRESS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "metrics/step_record.h"

namespace cloze::cli {

// "1h05m", "3m07s"; "?" for a negative or non-finite duration.
std::string Duration(double seconds);

// TrainOptions.on_step for a terminal (a redrawn progress bar) or a log (a line every
// log_every steps and at the last step). `prefix` starts each line ("" or "worker 1: ").
std::function<void(const StepRecord&, int64_t total_steps, double elapsed_seconds)> StepPrinter(
    bool terminal, int64_t log_every, std::string prefix = "");

// TrainOptions.on_event: "[cloze] message" lines on stderr.
std::function<void(const std::string&)> EventPrinter(bool terminal, std::string prefix = "");

}  // namespace cloze::cli

#endif  // CLOZE_CLI_PROGRESS_H_
