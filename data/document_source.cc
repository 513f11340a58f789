#include "data/document_source.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "data/text_checks.h"

namespace cloze::data {

namespace fs = std::filesystem;

absl::StatusOr<std::unique_ptr<DocumentSource>> DocumentSource::Open(const std::vector<std::string>& paths,
                                                                     const SourceOptions& options) {
  if (options.format != "auto") {
    if (absl::StatusOr<std::unique_ptr<InputFormat>> f = MakeInputFormat(options.format, {}); !f.ok()) return f.status();
  }
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
  return std::unique_ptr<DocumentSource>(new DocumentSource(std::move(files), options));
}

DocumentSource::DocumentSource(std::vector<std::string> files, const SourceOptions& options)
    : files_(std::move(files)),
      options_(options),
      buffer_(1 << 20),
      assembler_(&stats_, options.max_document_bytes) {}

DocumentSource::~DocumentSource() {
  if (file_ != nullptr) std::fclose(file_);
}

// Detection reads the file's start with a read of its own: the main read stays one
// sequential pass.
absl::StatusOr<FormatDecision> DocumentSource::DecideFormat(const std::string& path) {
  std::string sample(kDetectionSampleBytes, '\0');
  sample.resize(std::fread(sample.data(), 1, sample.size(), file_));
  if (std::ferror(file_)) return absl::DataLossError(absl::StrCat(path, ": read error"));
  std::rewind(file_);
  FormatDecision decision = DetectInputFormat(path, sample);
  if (options_.format != "auto") {
    decision.format = options_.format;
    decision.reason = "named with --input_format";
  }
  return decision;
}

absl::Status DocumentSource::OpenNextFile() {
  const std::string& path = files_[next_file_++];
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  absl::StatusOr<FormatDecision> decision = DecideFormat(path);
  if (!decision.ok()) return decision.status();
  FormatOptions format_options{.chapters = options_.chapters, .gutenberg_markers = decision->gutenberg_markers};
  absl::StatusOr<std::unique_ptr<InputFormat>> format = MakeInputFormat(decision->format, format_options);
  if (!format.ok()) return format.status();
  format_ = *std::move(format);
  file_formats_.push_back({path, *std::move(decision)});
  assembler_.StartFile(path);
  buffer_pos_ = buffer_end_ = 0;
  first_line_ = true;
  ++stats_.files;
  return absl::OkStatus();
}

void DocumentSource::CloseFile() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  format_.reset();
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
      if (static_cast<int64_t>(line->size() + take) > options_.max_line_bytes) {
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

absl::StatusOr<bool> DocumentSource::ReadUntilDocument() {
  std::string line;
  while (true) {
    absl::StatusOr<LineResult> result = ReadLine(&line);
    if (!result.ok()) return result.status();
    if (*result == LineResult::kEnd) {
      format_->EndOfFile(assembler_);
      assembler_.EndDocument();
      return false;
    }
    const bool first = std::exchange(first_line_, false);
    if (*result == LineResult::kOverlong || !Usable(line)) {
      format_->SkippedLine(assembler_);
    } else {
      std::string_view text = line;
      if (first) ConsumePrefix(&text, "\xEF\xBB\xBF");  // a UTF-8 BOM
      format_->Line(text, assembler_);
    }
    if (assembler_.has_ready()) return true;
  }
}

absl::StatusOr<bool> DocumentSource::Next(Document* document) {
  while (!assembler_.Pop(document)) {
    if (file_ == nullptr) {
      if (next_file_ >= files_.size()) return false;
      if (absl::Status s = OpenNextFile(); !s.ok()) {
        next_file_ = files_.size();
        CloseFile();
        return s;
      }
    }
    absl::StatusOr<bool> got = ReadUntilDocument();
    if (!got.ok()) {
      next_file_ = files_.size();
      CloseFile();
      return got.status();
    }
    if (!*got) CloseFile();  // this file is exhausted
  }
  ++stats_.documents;
  stats_.sentences += static_cast<int64_t>(document->sentences.size());
  return true;
}

}  // namespace cloze::data
