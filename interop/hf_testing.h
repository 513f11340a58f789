// What the interop tests share: fresh folders, writing an HF folder from tensors, and
// running a model on a golden fixture's inputs.
#ifndef CLOZE_INTEROP_HF_TESTING_H_
#define CLOZE_INTEROP_HF_TESTING_H_

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "model/batch.h"
#include "model/head_spec.h"
#include "checkpoint/safetensors.h"

namespace cloze::interop::testing {

template <typename T>
T Unwrap(absl::StatusOr<T> value) {
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *std::move(value) : T{};
}

// An empty folder under the test's temporary directory (removed first if it exists).
inline std::string FreshFolder(const std::string& name) {
  const std::string folder = ::testing::TempDir() + "/" + name;
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  return folder;
}

inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// An HF folder: `config_json` and the given F32 tensors (name → values with shape).
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};
inline void WriteHfFolder(const std::string& folder, const std::string& config_json,
                          const std::map<std::string, Tensor>& tensors) {
  WriteText(folder + "/config.json", config_json);
  SafetensorsWriter writer;
  writer.SetMetadata("format", "pt");
  for (const auto& [name, tensor] : tensors) writer.AddFloat32(name, tensor.shape, tensor.values);
  ASSERT_TRUE(writer.WriteFile(folder + "/model.safetensors").ok());
}

// The tensors named `prefix`* of a fixture, without the prefix ("param." → HF names).
inline std::map<std::string, Tensor> TensorsWithPrefix(const SafetensorsFile& file, const std::string& prefix) {
  std::map<std::string, Tensor> tensors;
  for (const auto& [name, entry] : file.entries()) {
    if (name.rfind(prefix, 0) != 0) continue;
    tensors[name.substr(prefix.size())] = {entry.shape, Unwrap(file.Float32(name))};
  }
  return tensors;
}

// A golden fixture's batch (tests/golden/generate*_golden.py) with the labels `head` reads.
inline Batch ReadGoldenBatch(const SafetensorsFile& fixture, const HeadSpec& head) {
  Batch batch;
  const auto& dims = fixture.entries().at("input.input_ids").shape;
  batch.batch_size = static_cast<int>(dims[0]);
  batch.seq_len = static_cast<int>(dims[1]);
  batch.input_ids = Unwrap(fixture.Int32("input.input_ids"));
  batch.token_type_ids = Unwrap(fixture.Int32("input.token_type_ids"));
  batch.attention_mask = Unwrap(fixture.Int32("input.attention_mask"));
  switch (head.kind) {
    case HeadKind::kPretraining:
      batch.masked_positions = Unwrap(fixture.Int32("input.masked_positions"));
      batch.masked_labels = Unwrap(fixture.Int32("input.masked_labels"));
      batch.sentence_labels = Unwrap(fixture.Int32("input.sentence_labels"));
      break;
    case HeadKind::kSequenceClassification:
      if (head.is_regression()) {
        batch.targets = Unwrap(fixture.Float32("input.targets"));
      } else {
        batch.labels = Unwrap(fixture.Int32("input.labels"));
      }
      break;
    case HeadKind::kTokenClassification: batch.labels = Unwrap(fixture.Int32("input.token_labels")); break;
    case HeadKind::kSpanExtraction: {
      batch.labels = Unwrap(fixture.Int32("input.start_positions"));
      const std::vector<int32_t> ends = Unwrap(fixture.Int32("input.end_positions"));
      batch.labels.insert(batch.labels.end(), ends.begin(), ends.end());
      break;
    }
  }
  return batch;
}

// max |a - b| (sizes must match).
inline double MaxAbsDifference(std::span<const float> a, std::span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  return worst;
}

}  // namespace cloze::interop::testing

#endif  // CLOZE_INTEROP_HF_TESTING_H_
