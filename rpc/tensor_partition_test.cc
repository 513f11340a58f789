#include "rpc/tensor_partition.h"

#include "gtest/gtest.h"
#include "model/model_config.h"
#include "model/parameter_layout.h"

namespace cloze {
namespace {

ParameterLayout AlbertBase() {
  absl::StatusOr<ModelConfig> config = LoadModelConfig("configs/albert-base.textproto");
  EXPECT_TRUE(config.ok()) << config.status();
  return BuildParameterLayout(*config);
}

TEST(TensorPartitionTest, WholeTensorsCoverEverythingBalanced) {
  const ParameterLayout layout = AlbertBase();
  const int n = static_cast<int>(layout.tensors.size());
  int64_t largest = 0;
  for (const NamedTensor& t : layout.tensors) largest = std::max(largest, t.size);
  for (int servers = 1; servers <= 8; ++servers) {
    SCOPED_TRACE(testing::Message() << servers << " servers");
    const std::vector<std::pair<int, int>> ranges = PartitionTensors(layout, servers);
    ASSERT_EQ(ranges.size(), static_cast<size_t>(servers));
    EXPECT_EQ(ranges.front().first, 0);
    EXPECT_EQ(ranges.back().second, n);
    int64_t covered = 0;
    for (int s = 0; s < servers; ++s) {
      EXPECT_LT(ranges[s].first, ranges[s].second) << "server " << s << " is empty";
      if (s > 0) {
        EXPECT_EQ(ranges[s].first, ranges[s - 1].second) << "not contiguous";
      }
      const FloatRange floats = FloatRangeOf(layout, ranges[s]);
      EXPECT_EQ(floats.begin, covered);
      covered += floats.size;
      // Balanced: each boundary is within one tensor of the ideal one, so no share exceeds
      // the ideal by more than two tensors.
      EXPECT_LE(floats.size, layout.total_size / servers + 2 * largest);
    }
    EXPECT_EQ(covered, layout.total_size);
  }
  // Two servers: the word embeddings (3.84M of 11.7M floats) alone would not balance; the
  // split lands in the transformer layers, near half.
  const FloatRange first = FloatRangeOf(layout, PartitionTensors(layout, 2)[0]);
  EXPECT_NEAR(static_cast<double>(first.size) / layout.total_size, 0.5, 0.2);
}

TEST(TensorPartitionTest, ServerCountIsChecked) {
  const ParameterLayout layout = AlbertBase();
  EXPECT_TRUE(ValidateServerCount(layout, 1).ok());
  EXPECT_FALSE(ValidateServerCount(layout, 0).ok());
  EXPECT_FALSE(ValidateServerCount(layout, static_cast<int>(layout.tensors.size()) + 1).ok());
  const auto one_each = PartitionTensors(layout, static_cast<int>(layout.tensors.size()));
  for (size_t s = 0; s < one_each.size(); ++s) EXPECT_EQ(one_each[s], std::make_pair(int(s), int(s) + 1));
}

}  // namespace
}  // namespace cloze
