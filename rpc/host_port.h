// "HOST:PORT" addresses of a job's services.
#ifndef CLOZE_RPC_HOST_PORT_H_
#define CLOZE_RPC_HOST_PORT_H_

#include <unistd.h>

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

// The host others reach a service on: `host` itself, except for the wildcards a server
// listens on ("0.0.0.0", "[::]", "::", ""), which become this machine's host name.
inline std::string ReachableHost(const std::string& host) {
  if (host != "0.0.0.0" && host != "[::]" && host != "::" && !host.empty()) return host;
  char name[256] = {};
  return gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0' ? std::string(name) : host;
}

// "HOST:PORT" to scrape or call a service that listens on `listen_address` ("HOST:PORT",
// its port possibly 0) and was given `port`: the host made reachable (ReachableHost).
inline std::string ReachableAddress(const std::string& listen_address, int port) {
  const size_t colon = listen_address.rfind(':');
  const std::string host = colon == std::string::npos ? "" : listen_address.substr(0, colon);
  return absl::StrCat(ReachableHost(host), ":", port);
}

}  // namespace cloze

#endif  // CLOZE_RPC_HOST_PORT_H_
