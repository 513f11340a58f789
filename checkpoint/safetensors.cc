#include "checkpoint/safetensors.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "util/file_error.h"

namespace cloze {
namespace {

using nlohmann::json;

// A header larger than this is refused as corrupt (real headers are kilobytes).
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

absl::StatusOr<uint64_t> DtypeSize(const std::string& dtype) {
  static const std::map<std::string, uint64_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
      {"I16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}, {"U16", 2}, {"U32", 4}, {"U64", 8}};
  auto it = sizes.find(dtype);
  if (it == sizes.end()) return absl::InvalidArgumentError(absl::StrCat("unknown dtype \"", dtype, "\""));
  return it->second;
}

absl::StatusOr<SafetensorsEntry> ParseEntry(const json& value) {
  SafetensorsEntry entry;
  if (!value.is_object() || !value.contains("dtype") || !value["dtype"].is_string() ||
      !value.contains("shape") || !value["shape"].is_array() || !value.contains("data_offsets") ||
      !value["data_offsets"].is_array() || value["data_offsets"].size() != 2) {
    return absl::InvalidArgumentError("needs \"dtype\", \"shape\" and two \"data_offsets\"");
  }
  entry.dtype = value["dtype"].get<std::string>();
  absl::StatusOr<uint64_t> element_size = DtypeSize(entry.dtype);
  if (!element_size.ok()) return element_size.status();
  uint64_t elements = 1;
  for (const json& d : value["shape"]) {
    if (!d.is_number_unsigned()) return absl::InvalidArgumentError("shape has a non-natural dimension");
    const uint64_t dim = d.get<uint64_t>();
    if (dim != 0 && elements > (uint64_t{1} << 62) / dim) return absl::InvalidArgumentError("shape too large");
    elements *= dim;
    entry.shape.push_back(static_cast<int64_t>(dim));
  }
  for (const json& o : value["data_offsets"]) {
    if (!o.is_number_unsigned()) return absl::InvalidArgumentError("data_offsets must be natural numbers");
  }
  entry.begin = value["data_offsets"][0].get<uint64_t>();
  entry.end = value["data_offsets"][1].get<uint64_t>();
  if (entry.begin > entry.end || entry.end - entry.begin != elements * *element_size) {
    return absl::InvalidArgumentError(absl::StrCat("data_offsets [", entry.begin, ", ", entry.end,
                                                   ") do not hold ", elements, " ", entry.dtype,
                                                   " elements"));
  }
  return entry;
}

}  // namespace

absl::StatusOr<SafetensorsFile> SafetensorsFile::Read(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream contents;
  contents << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return Parse(std::move(contents).str(), path);
}

absl::StatusOr<SafetensorsFile> SafetensorsFile::Parse(std::string bytes, const std::string& source) {
  auto corrupt = [&](const std::string& what) {
    return absl::DataLossError(absl::StrCat(source, ": not a valid safetensors file: ", what));
  };
  if (bytes.size() < 8) return corrupt("shorter than its 8-byte header length");
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<uint8_t>(bytes[i]);
  if (header_size > kMaxHeaderBytes || header_size > bytes.size() - 8) {
    return corrupt(absl::StrCat("header length ", header_size, " exceeds the file (", bytes.size(), " bytes)"));
  }
  const json header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + header_size, nullptr,
                                  /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) return corrupt("header is not a JSON object");

  SafetensorsFile file;
  file.source_ = source;
  file.data_start_ = 8 + header_size;
  const uint64_t data_size = bytes.size() - file.data_start_;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) return corrupt("__metadata__ is not an object");
      for (const auto& [key, text] : value.items()) {
        if (!text.is_string()) return corrupt(absl::StrCat("metadata \"", key, "\" is not a string"));
        file.metadata_[key] = text.get<std::string>();
      }
      continue;
    }
    absl::StatusOr<SafetensorsEntry> entry = ParseEntry(value);
    if (!entry.ok()) return corrupt(absl::StrCat("tensor \"", name, "\": ", entry.status().message()));
    if (entry->end > data_size) {
      return corrupt(absl::StrCat("tensor \"", name, "\" ends at byte ", entry->end,
                                  " of a data section of ", data_size, " (truncated?)"));
    }
    file.entries_[name] = *std::move(entry);
  }
  file.bytes_ = std::move(bytes);
  return file;
}

template <typename T>
absl::StatusOr<std::vector<T>> SafetensorsFile::Typed(const std::string& name, const char* dtype) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return absl::NotFoundError(absl::StrCat(source_, ": no tensor \"", name, "\""));
  if (it->second.dtype != dtype) {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": tensor \"", name, "\" is ",
                                                   it->second.dtype, ", expected ", dtype));
  }
  std::vector<T> values((it->second.end - it->second.begin) / sizeof(T));
  std::memcpy(values.data(), bytes_.data() + data_start_ + it->second.begin, values.size() * sizeof(T));
  return values;
}

absl::StatusOr<std::vector<float>> SafetensorsFile::Float32(const std::string& name) const {
  return Typed<float>(name, "F32");
}
absl::StatusOr<std::vector<double>> SafetensorsFile::Float64(const std::string& name) const {
  return Typed<double>(name, "F64");
}
absl::StatusOr<std::vector<int32_t>> SafetensorsFile::Int32(const std::string& name) const {
  return Typed<int32_t>(name, "I32");
}

namespace {

// IEEE binary16 → binary32, exact (every half is a float), subnormals and NaN included.
float HalfToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    exponent = 113;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// bfloat16 is the upper half of a float.
float BFloat16ToFloat(uint16_t b) {
  const uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

absl::StatusOr<std::vector<float>> SafetensorsFile::ToFloat32(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return absl::NotFoundError(absl::StrCat(source_, ": no tensor \"", name, "\""));
  const std::string& dtype = it->second.dtype;
  if (dtype == "F32") return Float32(name);
  if (dtype == "F64") {
    absl::StatusOr<std::vector<double>> values = Float64(name);
    if (!values.ok()) return values.status();
    return std::vector<float>(values->begin(), values->end());
  }
  if (dtype != "F16" && dtype != "BF16") {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": tensor \"", name, "\" is ", dtype, ", expected a floating-point dtype"));
  }
  const char* data = bytes_.data() + data_start_ + it->second.begin;
  std::vector<float> values((it->second.end - it->second.begin) / 2);
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t bits;
    std::memcpy(&bits, data + 2 * i, 2);
    values[i] = dtype == "F16" ? HalfToFloat(bits) : BFloat16ToFloat(bits);
  }
  return values;
}

void SafetensorsWriter::Add(const std::string& name, const char* dtype, std::vector<int64_t> shape,
                            const void* data, size_t bytes) {
  tensors_.push_back({name, dtype, std::move(shape), std::string(static_cast<const char*>(data), bytes)});
}

void SafetensorsWriter::AddFloat32(const std::string& name, std::vector<int64_t> shape,
                                   std::span<const float> values) {
  Add(name, "F32", std::move(shape), values.data(), values.size_bytes());
}
void SafetensorsWriter::AddFloat64(const std::string& name, std::vector<int64_t> shape,
                                   std::span<const double> values) {
  Add(name, "F64", std::move(shape), values.data(), values.size_bytes());
}
void SafetensorsWriter::AddInt32(const std::string& name, std::vector<int64_t> shape,
                                 std::span<const int32_t> values) {
  Add(name, "I32", std::move(shape), values.data(), values.size_bytes());
}

std::string SafetensorsWriter::Serialize() const {
  json header = json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  uint64_t offset = 0;
  for (const Pending& t : tensors_) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  // Pad the header with spaces to 8 bytes so the data section is aligned, as the
  // reference implementation does.
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((uint64_t{text.size()} >> (8 * i)) & 0xff);
  out += text;
  for (const Pending& t : tensors_) out += t.bytes;
  return out;
}

absl::Status SafetensorsWriter::WriteFile(const std::string& path) const {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return util::FileError(path, "cannot create", errno);
  const std::string bytes = Serialize();
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  const int error = errno;
  if (std::fclose(file) != 0 || !written) return util::FileError(path, "write", written ? errno : error);
  return absl::OkStatus();
}

}  // namespace cloze
