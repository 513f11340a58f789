#include "server/scrape_targets.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "util/atomic_file.h"

namespace cloze {
namespace {

nlohmann::ordered_json TargetGroup(const std::string& address, const std::string& run, const std::string& role,
                                   int rank) {
  nlohmann::ordered_json group;
  group["targets"] = nlohmann::ordered_json::array({address});
  // Label values are strings in file_sd.
  group["labels"] = {{"run", run}, {"role", role}, {"rank", absl::StrCat(rank)}};
  return group;
}

}  // namespace

std::string ScrapeTargetsJson(const std::string& run, const std::string& coordinator_address,
                              const JobStatus& status) {
  nlohmann::ordered_json groups = nlohmann::ordered_json::array();
  if (!coordinator_address.empty()) groups.push_back(TargetGroup(coordinator_address, run, "coordinator", 0));
  for (const MemberStatus& member : status.members()) {
    if (member.metrics_address().empty()) continue;
    groups.push_back(TargetGroup(member.metrics_address(), run, member.role() == PARAMETER_SERVER ? "ps" : "worker",
                                 member.rank()));
  }
  return groups.dump(2) + "\n";
}

ScrapeTargetsFile::ScrapeTargetsFile(std::string run_dir, std::string run, std::string coordinator_address)
    : path_(absl::StrCat(run_dir, "/", kScrapeTargetsFileName)),
      run_(std::move(run)),
      coordinator_address_(std::move(coordinator_address)) {}

absl::Status ScrapeTargetsFile::Update(const JobStatus& status) {
  std::string text = ScrapeTargetsJson(run_, coordinator_address_, status);
  if (text == written_) return absl::OkStatus();
  if (absl::Status s = util::WriteTextFileAtomically(path_, text); !s.ok()) return s;
  written_ = std::move(text);
  return absl::OkStatus();
}

}  // namespace cloze
