#include "util/atomic_file.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace cloze::util {

absl::Status WriteTextFileAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  std::FILE* f = std::fopen(temporary.c_str(), "w");
  if (f == nullptr) return absl::PermissionDeniedError(absl::StrCat(temporary, ": cannot create"));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return absl::DataLossError(absl::StrCat(temporary, ": write failed"));
  if (std::rename(temporary.c_str(), path.c_str()) != 0) return absl::DataLossError(absl::StrCat(path, ": rename failed"));
  return absl::OkStatus();
}

}  // namespace cloze::util
