// "HOST:PORT" addresses of a job's services.
#ifndef CLOZE_RPC_HOST_PORT_H_
#define CLOZE_RPC_HOST_PORT_H_

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cloze {

// HOST:(PORT + offset): a job's processes of one kind serve on consecutive ports, so one
// scrape configuration covers them. Unchanged when the port is 0 (any free port), missing
// or unparsable, and for "" (no endpoint).
inline std::string AddressWithPortOffset(const std::string& address, int offset) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) || port == 0) return address;
  return absl::StrCat(address.substr(0, colon), ":", port + offset);
}

}  // namespace cloze

#endif  // CLOZE_RPC_HOST_PORT_H_
