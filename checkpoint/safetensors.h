// Reading and writing the safetensors format (Hugging Face): an 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}},
// then the raw little-endian tensor bytes.
//
// Used for golden fixtures now, and for checkpoints and Hugging Face import/export.
// Reading validates the whole header against the file size, so a truncated or corrupt
// file gives an error naming the file and the tensor, never a crash.
#ifndef CLOZE_CHECKPOINT_SAFETENSORS_H_
#define CLOZE_CHECKPOINT_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cloze {

struct SafetensorsEntry {
  std::string dtype;           // "F32", "F64", "I32", "I64", "BF16", "F16", "U8", ...
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range within the data section
};

class SafetensorsFile {
 public:
  // Reads and validates `path`.
  static absl::StatusOr<SafetensorsFile> Read(const std::string& path);
  // The same for bytes in memory; `source` names them in errors.
  static absl::StatusOr<SafetensorsFile> Parse(std::string bytes, const std::string& source);

  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::map<std::string, SafetensorsEntry>& entries() const { return entries_; }

  // A tensor's elements; NotFound if absent, InvalidArgument if its dtype differs.
  absl::StatusOr<std::vector<float>> Float32(const std::string& name) const;
  absl::StatusOr<std::vector<double>> Float64(const std::string& name) const;
  absl::StatusOr<std::vector<int32_t>> Int32(const std::string& name) const;
  // A floating-point tensor of any stored precision (F32, F16, BF16, F64) as float, for
  // checkpoints saved in half precision; NotFound if absent, InvalidArgument for an
  // integer dtype.
  absl::StatusOr<std::vector<float>> ToFloat32(const std::string& name) const;

 private:
  template <typename T>
  absl::StatusOr<std::vector<T>> Typed(const std::string& name, const char* dtype) const;

  std::string source_;
  std::string bytes_;        // the whole file
  uint64_t data_start_ = 0;  // offset of the data section in bytes_
  std::map<std::string, std::string> metadata_;
  std::map<std::string, SafetensorsEntry> entries_;
};

// Builds a safetensors file in memory; tensors are stored in the order added.
class SafetensorsWriter {
 public:
  void AddFloat32(const std::string& name, std::vector<int64_t> shape, std::span<const float> values);
  void AddFloat64(const std::string& name, std::vector<int64_t> shape, std::span<const double> values);
  void AddInt32(const std::string& name, std::vector<int64_t> shape, std::span<const int32_t> values);
  void SetMetadata(const std::string& key, const std::string& value) { metadata_[key] = value; }

  // The file's bytes.
  std::string Serialize() const;
  // Writes the file to `path` (not atomically: callers that need that write a temporary
  // name and rename).
  absl::Status WriteFile(const std::string& path) const;

 private:
  void Add(const std::string& name, const char* dtype, std::vector<int64_t> shape, const void* data,
           size_t bytes);

  struct Pending {
    std::string name, dtype;
    std::vector<int64_t> shape;
    std::string bytes;
  };
  std::vector<Pending> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace cloze

#endif  // CLOZE_CHECKPOINT_SAFETENSORS_H_
