#include "tasks/task_file.h"

#include <lzma.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace cloze::tasks {
namespace {

absl::StatusOr<std::string> ReadBytes(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  std::string bytes;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) bytes.append(buffer, n);
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return bytes;
}

const char* LzmaError(lzma_ret code) {
  switch (code) {
    case LZMA_FORMAT_ERROR: return "not an .xz file";
    case LZMA_DATA_ERROR: return "corrupt data";
    case LZMA_BUF_ERROR: return "truncated";
    case LZMA_MEM_ERROR: return "out of memory";
    case LZMA_OPTIONS_ERROR: return "unsupported options";
    default: return "decoder error";
  }
}

}  // namespace

absl::StatusOr<std::string> DecompressXz(absl::string_view compressed, const std::string& path) {
  lzma_stream stream = LZMA_STREAM_INIT;
  lzma_ret code = lzma_stream_decoder(&stream, UINT64_MAX, LZMA_CONCATENATED);
  if (code != LZMA_OK) {
    return absl::InternalError(absl::StrCat(path, ": cannot start the xz decoder"));
  }
  stream.next_in = reinterpret_cast<const uint8_t*>(compressed.data());
  stream.avail_in = compressed.size();
  std::string out;
  char buffer[1 << 16];
  while (true) {
    stream.next_out = reinterpret_cast<uint8_t*>(buffer);
    stream.avail_out = sizeof(buffer);
    // All input is present, so LZMA_FINISH from the start: the decoder then reports a
    // truncated file as LZMA_BUF_ERROR instead of waiting for more.
    code = lzma_code(&stream, LZMA_FINISH);
    out.append(buffer, sizeof(buffer) - stream.avail_out);
    if (code == LZMA_STREAM_END) break;
    if (code != LZMA_OK) {
      lzma_end(&stream);
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": bad .xz file (", LzmaError(code), ") after ", out.size(),
                       " decompressed bytes"));
    }
  }
  lzma_end(&stream);
  return out;
}

absl::StatusOr<std::string> ReadTaskFile(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadBytes(path);
  if (!bytes.ok() || !absl::EndsWith(path, ".xz")) return bytes;
  return DecompressXz(*bytes, path);
}

absl::string_view StripUtf8Bom(absl::string_view text) {
  if (absl::StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  return text;
}

}  // namespace cloze::tasks
