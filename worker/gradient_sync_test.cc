#include "worker/gradient_sync.h"

#include <cstdlib>
#include <vector>

#include "gtest/gtest.h"
#include "worker/mpi_gradient_sync.h"

namespace cloze {
namespace {

TEST(SingleProcessSync, IsRankZeroOfOneAndChangesNothing) {
  auto sync = MakeSingleProcessSync();
  EXPECT_EQ(sync->rank(), 0);
  EXPECT_EQ(sync->world_size(), 1);
  std::vector<float> floats = {1.5f, -2.0f, 3.25f};
  std::vector<double> doubles = {0.1, 1e300};
  std::vector<char> bytes = {'a', 'b'};
  EXPECT_TRUE(sync->AllReduceSum(std::span<float>(floats)).ok());
  EXPECT_TRUE(sync->AllReduceSum(std::span<double>(doubles)).ok());
  EXPECT_TRUE(sync->AllReduceSum(std::span<float>()).ok());
  EXPECT_TRUE(sync->Broadcast(std::span<char>(bytes), 0).ok());
  EXPECT_TRUE(sync->Barrier().ok());
  EXPECT_EQ(floats, (std::vector<float>{1.5f, -2.0f, 3.25f}));
  EXPECT_EQ(doubles, (std::vector<double>{0.1, 1e300}));
  EXPECT_EQ(bytes, (std::vector<char>{'a', 'b'}));
}

TEST(SingleProcessSync, BroadcastFromAnotherRootIsInvalid) {
  auto sync = MakeSingleProcessSync();
  std::vector<char> bytes(4);
  EXPECT_EQ(sync->Broadcast(std::span<char>(bytes), 1).code(),
            absl::StatusCode::kInvalidArgument);
}

class MpiEnvironment : public testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kNames) unsetenv(name);
  }
  void TearDown() override { SetUp(); }
  static constexpr const char* kNames[] = {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
                                           "PMI_RANK", "PMI_SIZE"};
};

TEST_F(MpiEnvironment, AbsentOutsideMpirun) { EXPECT_FALSE(MpiRankFromEnvironment()); }

TEST_F(MpiEnvironment, OpenMpiVariables) {
  setenv("OMPI_COMM_WORLD_RANK", "3", 1);
  setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
  EXPECT_EQ(MpiRankFromEnvironment(), std::make_optional(std::pair{3, 4}));
}

TEST_F(MpiEnvironment, PmiVariables) {
  setenv("PMI_RANK", "0", 1);
  setenv("PMI_SIZE", "2", 1);
  EXPECT_EQ(MpiRankFromEnvironment(), std::make_optional(std::pair{0, 2}));
}

TEST_F(MpiEnvironment, InconsistentValuesAreNotARank) {
  setenv("OMPI_COMM_WORLD_RANK", "4", 1);
  setenv("OMPI_COMM_WORLD_SIZE", "4", 1);
  EXPECT_FALSE(MpiRankFromEnvironment());
  setenv("OMPI_COMM_WORLD_RANK", "one", 1);
  EXPECT_FALSE(MpiRankFromEnvironment());
  unsetenv("OMPI_COMM_WORLD_RANK");
  EXPECT_FALSE(MpiRankFromEnvironment());  // a size without a rank
}

}  // namespace
}  // namespace cloze
