#include "util/exit_status.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cloze {
namespace {

constexpr char kPayloadUrl[] = "type.googleapis.com/cloze.ExitStatus";

}  // namespace

bool IsPermanentExit(int exit_status) {
  return exit_status == kExitUsage || exit_status == kExitDataError || exit_status == kExitNoCheckpoint ||
         exit_status == kExitCannotWrite;
}

std::string ExitStatusMeaning(int exit_status) {
  switch (exit_status) {
    case kExitOk: return "done";
    case kExitFailure: return "failed";
    case kExitUsage: return "configuration error";
    case kExitDataError: return "bad data";
    case kExitNoCheckpoint: return "no usable checkpoint";
    case kExitCannotWrite: return "the run folder cannot be written (full, read-only or no permission)";
    case kExitRestart: return "its generation ended";
    default: return "";
  }
}

absl::Status WithExitStatus(absl::Status status, int exit_status) {
  if (!status.ok()) status.SetPayload(kPayloadUrl, absl::Cord(absl::StrCat(exit_status)));
  return status;
}

absl::Status WithMessagePrefix(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  absl::Status prefixed(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) { prefixed.SetPayload(url, payload); });
  return prefixed;
}

absl::Status PermanentIfBadInput(absl::Status status, int exit_status) {
  if (absl::IsDataLoss(status) || absl::IsFailedPrecondition(status) || absl::IsNotFound(status) ||
      absl::IsInvalidArgument(status)) {
    return WithExitStatus(std::move(status), exit_status);
  }
  return status;
}

int ExitStatusOf(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  if (const auto payload = status.GetPayload(kPayloadUrl)) {  // absl::optional
    int exit_status = 0;
    if (absl::SimpleAtoi(std::string(*payload), &exit_status)) return exit_status;
  }
  return kExitFailure;
}

}  // namespace cloze
