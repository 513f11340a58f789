#include "util/text_proto.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace cloze::util {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Appends `message`'s fields at `indent`; `defaults` is null under a submessage the
// defaults lack (nothing to override there).
void AppendFields(const Message& message, const Message* defaults, const google::protobuf::TextFormat::Printer& printer,
                  int indent, std::string* out) {
  const Reflection& reflection = *message.GetReflection();
  const std::string pad(2 * indent, ' ');
  auto append_value = [&](const FieldDescriptor* field, int index) {
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      const Message& sub = index < 0 ? reflection.GetMessage(message, field)
                                     : reflection.GetRepeatedMessage(message, field, index);
      const Message* sub_defaults = defaults != nullptr && index < 0 && defaults->GetReflection()->HasField(*defaults, field)
                                        ? &defaults->GetReflection()->GetMessage(*defaults, field)
                                        : nullptr;
      absl::StrAppend(out, pad, field->name(), " {\n");
      AppendFields(sub, sub_defaults, printer, indent + 1, out);
      absl::StrAppend(out, pad, "}\n");
      return;
    }
    std::string value;
    printer.PrintFieldValueToString(message, field, index, &value);
    absl::StrAppend(out, pad, field->name(), ": ", value, "\n");
  };
  for (int i = 0; i < message.GetDescriptor()->field_count(); ++i) {
    const FieldDescriptor* field = message.GetDescriptor()->field(i);
    if (field->is_repeated()) {
      for (int k = 0; k < reflection.FieldSize(message, field); ++k) append_value(field, k);
    } else if (reflection.HasField(message, field) ||
               (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE && defaults != nullptr &&
                defaults->GetReflection()->HasField(*defaults, field))) {
      append_value(field, -1);
    }
  }
}

}  // namespace

std::string TextProtoOverDefaults(const Message& message, const Message& defaults) {
  google::protobuf::TextFormat::Printer printer;
  std::string text;
  AppendFields(message, &defaults, printer, 0, &text);
  return text;
}

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
