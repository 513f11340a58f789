// Text-format protos from files, with errors that name the file, line and column.
#ifndef CLOZE_UTIL_TEXT_PROTO_H_
#define CLOZE_UTIL_TEXT_PROTO_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace cloze::util {

// Merges the text proto in `text` into *message (fields it does not name keep their
// values). InvalidArgument "SOURCE: line L column C: ..." on a syntax error or an unknown
// field.
absl::Status MergeTextProto(const std::string& text, const std::string& source, google::protobuf::Message* message);

// The same for the contents of `path` (NotFound naming it when it cannot be read).
absl::Status MergeTextProtoFile(const std::string& path, google::protobuf::Message* message);

// *message as text that MergeTextProto into `defaults` (a message of its type) reads back
// as *message: text format, plus the singular scalar fields text format leaves out (proto3
// fields at zero) wherever `defaults` holds another value, so that an explicit 0 does not
// come back as the default. (A submessage *message lacks but `defaults` has cannot be said
// in text; it comes back as the default's.)
std::string TextProtoOverDefaults(const google::protobuf::Message& message, const google::protobuf::Message& defaults);

// The contents of `path`, or NotFound naming it.
absl::Status ReadTextFile(const std::string& path, std::string* contents);

}  // namespace cloze::util

#endif  // CLOZE_UTIL_TEXT_PROTO_H_
