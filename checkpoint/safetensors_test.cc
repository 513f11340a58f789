#include "checkpoint/safetensors.h"

#include <cmath>
#include <fstream>

#include "gtest/gtest.h"

namespace cloze {
namespace {

SafetensorsWriter Sample() {
  SafetensorsWriter writer;
  const std::vector<float> f = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  const std::vector<int32_t> i = {4, -100, 9};
  const std::vector<double> d = {0.125};
  writer.AddFloat32("weights", {2, 3}, f);
  writer.AddInt32("ids", {3}, i);
  writer.AddFloat64("loss", {1}, d);
  writer.SetMetadata("format", "test");
  return writer;
}

TEST(Safetensors, RoundTrip) {
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Parse(Sample().Serialize(), "memory");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata().at("format"), "test");
  EXPECT_EQ(file->entries().at("weights").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(*file->Float32("weights"), (std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f}));
  EXPECT_EQ(*file->Int32("ids"), (std::vector<int32_t>{4, -100, 9}));
  EXPECT_EQ(*file->Float64("loss"), (std::vector<double>{0.125}));
  EXPECT_EQ(file->Float32("ids").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(file->Float32("absent").status().code(), absl::StatusCode::kNotFound);
}

// A file with one tensor of `dtype` holding `raw` (little-endian bytes), built by hand:
// the writer only stores 32/64-bit types.
std::string RawFile(const std::string& dtype, const std::string& raw) {
  const std::string header = "{\"t\":{\"dtype\":\"" + dtype + "\",\"shape\":[" +
                             std::to_string(raw.size() / 2) + "],\"data_offsets\":[0," +
                             std::to_string(raw.size()) + "]}}";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return bytes + header + raw;
}

// Half-precision checkpoints (HF's torch_dtype float16 / bfloat16) read as float, exactly.
TEST(Safetensors, ConvertsHalfPrecisionToFloat) {
  // 1.0, -2.5, 65504 (largest half), 2^-24 (smallest subnormal), 0.0, -0.0
  const std::string f16("\x00\x3c\x00\xc1\xff\x7b\x01\x00\x00\x00\x00\x80", 12);
  absl::StatusOr<SafetensorsFile> half = SafetensorsFile::Parse(RawFile("F16", f16), "f16");
  ASSERT_TRUE(half.ok()) << half.status();
  const std::vector<float> h = *half->ToFloat32("t");
  EXPECT_EQ(h, (std::vector<float>{1.0f, -2.5f, 65504.0f, 5.9604645e-08f, 0.0f, -0.0f}));
  EXPECT_TRUE(std::signbit(h[5]));
  EXPECT_EQ(half->Float32("t").status().code(), absl::StatusCode::kInvalidArgument);

  // 1.0, -3.0, 0.15625 (0x3e20)
  const std::string bf16("\x80\x3f\x40\xc0\x20\x3e", 6);
  absl::StatusOr<SafetensorsFile> brain = SafetensorsFile::Parse(RawFile("BF16", bf16), "bf16");
  ASSERT_TRUE(brain.ok()) << brain.status();
  EXPECT_EQ(*brain->ToFloat32("t"), (std::vector<float>{1.0f, -3.0f, 0.15625f}));

  absl::StatusOr<SafetensorsFile> sample = SafetensorsFile::Parse(Sample().Serialize(), "memory");
  ASSERT_TRUE(sample.ok());
  EXPECT_EQ(*sample->ToFloat32("weights"), *sample->Float32("weights"));
  EXPECT_EQ(*sample->ToFloat32("loss"), (std::vector<float>{0.125f}));
  EXPECT_EQ(sample->ToFloat32("ids").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sample->ToFloat32("absent").status().code(), absl::StatusCode::kNotFound);
}

TEST(Safetensors, ReadsTheGoldenFixtureWrittenByPython) {
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Read("tests/golden/albert_golden.safetensors");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata().at("format"), "cloze-golden-v1");
  EXPECT_EQ(file->entries().at("input.input_ids").dtype, "I32");
}

TEST(Safetensors, WritesAFile) {
  const std::string path = ::testing::TempDir() + "/sample.safetensors";
  ASSERT_TRUE(Sample().WriteFile(path).ok());
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Read(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->Int32("ids")->size(), 3u);
}

// Corrupt files give a DataLoss error naming the source, never a crash.
TEST(Safetensors, CorruptInputIsAnError) {
  const std::string good = Sample().Serialize();
  std::vector<std::string> corrupt = {
      "",                                    // empty
      good.substr(0, 5),                     // shorter than the length field
      good.substr(0, good.size() - 3),       // truncated data
      std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}",  // absurd header length
  };
  std::string garbled = good;
  garbled[10] = '#';  // breaks the JSON
  corrupt.push_back(garbled);
  std::string wrong_offsets = good;
  const size_t pos = wrong_offsets.find("\"data_offsets\":[0,24]");
  ASSERT_NE(pos, std::string::npos) << good.substr(8, 200);
  wrong_offsets.replace(pos, 21, "\"data_offsets\":[0,20]");
  corrupt.push_back(wrong_offsets);
  for (const std::string& bytes : corrupt) {
    absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Parse(bytes, "shard-7.safetensors");
    ASSERT_FALSE(file.ok());
    EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(file.status().message().find("shard-7.safetensors"), std::string::npos);
  }
  EXPECT_EQ(SafetensorsFile::Read("/nonexistent/x.safetensors").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cloze
