#include "data/document_source.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "data/sentence_splitter.h"
#include "data/text_checks.h"
#include "nlohmann/json.hpp"

namespace cloze::data {

namespace fs = std::filesystem;

absl::StatusOr<std::unique_ptr<DocumentSource>> DocumentSource::Open(const std::vector<std::string>& paths,
                                                                     int64_t max_line_bytes) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
      for (auto it = fs::recursive_directory_iterator(path, error); !error && it != fs::recursive_directory_iterator();
           it.increment(error)) {
        if (it->is_regular_file(error)) files.push_back(it->path().string());
      }
      if (error) return absl::NotFoundError(absl::StrCat(path, ": cannot list folder: ", error.message()));
    } else if (fs::is_regular_file(path, error)) {
      files.push_back(path);
    } else {
      return absl::NotFoundError(absl::StrCat(path, ": no such file or folder"));
    }
  }
  if (files.empty()) return absl::InvalidArgumentError("no input files");
  std::sort(files.begin(), files.end());
  return std::unique_ptr<DocumentSource>(new DocumentSource(std::move(files), max_line_bytes));
}

DocumentSource::DocumentSource(std::vector<std::string> files, int64_t max_line_bytes)
    : files_(std::move(files)), max_line_bytes_(max_line_bytes), buffer_(1 << 20) {}

DocumentSource::~DocumentSource() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status DocumentSource::OpenNextFile() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  if (next_file_ >= files_.size()) return absl::OkStatus();
  const std::string& path = files_[next_file_++];
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  jsonl_ = absl::EndsWith(path, ".jsonl");
  buffer_pos_ = buffer_end_ = 0;
  ++stats_.files;
  return absl::OkStatus();
}

absl::StatusOr<DocumentSource::LineResult> DocumentSource::ReadLine(std::string* line) {
  line->clear();
  bool overlong = false, any = false;
  while (true) {
    if (buffer_pos_ == buffer_end_) {
      buffer_end_ = std::fread(buffer_.data(), 1, buffer_.size(), file_);
      buffer_pos_ = 0;
      if (buffer_end_ == 0) {
        if (std::ferror(file_)) {
          return absl::DataLossError(absl::StrCat(files_[next_file_ - 1], ": read error"));
        }
        if (!any) return LineResult::kEnd;
        break;  // last line without a newline
      }
      stats_.bytes += static_cast<int64_t>(buffer_end_);
    }
    any = true;
    const char* begin = buffer_.data() + buffer_pos_;
    const char* newline = static_cast<const char*>(std::memchr(begin, '\n', buffer_end_ - buffer_pos_));
    const size_t take = newline ? static_cast<size_t>(newline - begin) : buffer_end_ - buffer_pos_;
    if (!overlong) {
      if (static_cast<int64_t>(line->size() + take) > max_line_bytes_) {
        overlong = true;  // keep reading to the newline, keeping nothing
        line->clear();
        line->shrink_to_fit();
      } else {
        line->append(begin, take);
      }
    }
    buffer_pos_ += take;
    if (newline) {
      ++buffer_pos_;
      break;
    }
  }
  ++stats_.lines;
  if (overlong) {
    ++stats_.overlong_lines;
    return LineResult::kOverlong;
  }
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return LineResult::kLine;
}

bool DocumentSource::Usable(const std::string& line) {
  if (!IsValidUtf8(line)) {
    ++stats_.invalid_utf8_lines;
    return false;
  }
  if (LooksBinary(line)) {
    ++stats_.binary_lines;
    return false;
  }
  return true;
}

absl::StatusOr<bool> DocumentSource::NextRaw(Document* document) {
  std::string line;
  bool had_lines = false;  // any non-blank line (kept or skipped) in this document
  while (true) {
    absl::StatusOr<LineResult> result = ReadLine(&line);
    if (!result.ok()) return result.status();
    if (*result == LineResult::kEnd) break;
    if (*result == LineResult::kOverlong) {
      had_lines = true;
      continue;
    }
    std::string_view text = TrimAsciiSpace(line);
    if (text.empty()) {
      if (!document->sentences.empty()) return true;
      if (had_lines) ++stats_.empty_documents;
      had_lines = false;
      continue;
    }
    had_lines = true;
    if (!Usable(line)) continue;
    document->sentences.emplace_back(text);
    document->bytes += static_cast<int64_t>(text.size());
  }
  if (!document->sentences.empty()) return true;
  if (had_lines) ++stats_.empty_documents;
  return false;  // end of this file
}

absl::StatusOr<bool> DocumentSource::NextJsonLines(Document* document) {
  std::string line;
  while (true) {
    absl::StatusOr<LineResult> result = ReadLine(&line);
    if (!result.ok()) return result.status();
    if (*result == LineResult::kEnd) return false;
    if (*result == LineResult::kOverlong) continue;
    if (TrimAsciiSpace(line).empty()) continue;
    if (!IsValidUtf8(line)) {
      ++stats_.invalid_utf8_lines;
      continue;
    }
    const nlohmann::json value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded() || !value.is_object() || !value.contains("text") || !value["text"].is_string()) {
      ++stats_.bad_json_lines;
      continue;
    }
    const std::string& text = value["text"].get_ref<const std::string&>();
    for (std::string& sentence : SplitSentences(text)) {
      if (LooksBinary(sentence)) {
        ++stats_.binary_lines;
        continue;
      }
      document->bytes += static_cast<int64_t>(sentence.size());
      document->sentences.push_back(std::move(sentence));
    }
    if (!document->sentences.empty()) return true;
    ++stats_.empty_documents;
  }
}

absl::StatusOr<bool> DocumentSource::Next(Document* document) {
  document->sentences.clear();
  document->bytes = 0;
  while (true) {
    if (file_ == nullptr) {
      if (next_file_ >= files_.size()) return false;
      if (absl::Status s = OpenNextFile(); !s.ok()) return s;
    }
    absl::StatusOr<bool> got = jsonl_ ? NextJsonLines(document) : NextRaw(document);
    if (!got.ok()) {
      next_file_ = files_.size();
      std::fclose(file_);
      file_ = nullptr;
      return got.status();
    }
    if (*got) {
      ++stats_.documents;
      stats_.sentences += static_cast<int64_t>(document->sentences.size());
      return true;
    }
    std::fclose(file_);  // this file is exhausted
    file_ = nullptr;
  }
}

}  // namespace cloze::data
