#include "util/text_proto.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace cloze::util {

absl::Status ReadTextFile(const std::string& path, std::string* contents) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream buffer;
  buffer << file.rdbuf();
  *contents = std::move(buffer).str();
  return absl::OkStatus();
}

absl::Status MergeTextProto(const std::string& text, const std::string& source, google::protobuf::Message* message) {
  // Keeps the parser's first message ("line 3: unknown field ...") instead of logging it.
  class Collector : public google::protobuf::io::ErrorCollector {
   public:
    void AddError(int line, int column, const std::string& message) override {
      if (error.empty()) error = absl::StrFormat("line %d column %d: %s", line + 1, column + 1, message);
    }
    std::string error;
  } collector;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  if (!parser.MergeFromString(text, message)) return absl::InvalidArgumentError(absl::StrCat(source, ": ", collector.error));
  return absl::OkStatus();
}

absl::Status MergeTextProtoFile(const std::string& path, google::protobuf::Message* message) {
  std::string text;
  if (absl::Status s = ReadTextFile(path, &text); !s.ok()) return s;
  return MergeTextProto(text, path, message);
}

}  // namespace cloze::util
