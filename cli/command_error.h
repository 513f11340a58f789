// How a subcommand fails: one line on stderr, "<command>: <why>", and the exit status it
// returns (2: bad flags or input; 1: the work itself failed). One place, so that every
// command's errors read alike and the tests can match them the same way.
#ifndef CLOZE_CLI_COMMAND_ERROR_H_
#define CLOZE_CLI_COMMAND_ERROR_H_

#include <cstdio>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace cloze::cli {

inline int Fail(std::string_view command, int exit_status, std::string_view why) {
  std::fprintf(stderr, "%s: %s\n", std::string(command).c_str(), std::string(why).c_str());
  return exit_status;
}

inline int Fail(std::string_view command, int exit_status, const absl::Status& error) {
  return Fail(command, exit_status, std::string(error.message()));
}

}  // namespace cloze::cli

#endif  // CLOZE_CLI_COMMAND_ERROR_H_
