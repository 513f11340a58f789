// MpiSync under a real mpirun (see run_under_mpirun.sh and BUILD's mpi_gradient_sync_test).
//
// Every rank runs every test in the same order, so each test makes the same collectives on
// every rank. Assertions that could end a test early on one rank only come after its last
// collective; before that, EXPECT_* keeps the ranks in step. Cross-rank comparisons use raw
// MPI on MPI_COMM_WORLD, so a broken sync cannot vouch for itself.
#include <mpi.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "worker/mpi_gradient_sync.h"

namespace cloze {
namespace {

constexpr int64_t kSmallBucketBytes = 4096;  // 1024 floats, 512 doubles

std::unique_ptr<GradientSync> MakeSync(int64_t bucket_bytes) {
  auto sync = MakeMpiSync(bucket_bytes);
  if (!sync.ok()) {
    // Without a sync no test can keep the ranks in step; stop the whole job.
    std::fprintf(stderr, "MakeMpiSync(%lld): %s\n", static_cast<long long>(bucket_bytes),
                 sync.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(sync);
}

// Multiples of 1/4 below 2^12: sums over a few ranks are exact in float in any order.
template <typename T>
T ExactValue(int rank, size_t i) {
  return static_cast<T>(static_cast<double>((i * 37 + rank * 101) % 4001) * 0.25 - 250.0 * rank);
}

// Whether every rank holds the same bytes as rank 0 (raw MPI, not the sync under test).
bool SameBytesOnAllRanks(const void* data, size_t bytes) {
  std::vector<char> root(static_cast<const char*>(data), static_cast<const char*>(data) + bytes);
  for (size_t offset = 0; offset < bytes; offset += 1 << 20) {
    int count = static_cast<int>(std::min<size_t>(1 << 20, bytes - offset));
    MPI_Bcast(root.data() + offset, count, MPI_BYTE, 0, MPI_COMM_WORLD);
  }
  int same = bytes == 0 || std::memcmp(root.data(), data, bytes) == 0, all_same = 0;
  MPI_Allreduce(&same, &all_same, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  return all_same;
}

TEST(MpiGradientSync, RunsAsManyRanksAsMpirunStarted) {
  auto sync = MakeSync(0);
  if (const char* expected = std::getenv("CLOZE_EXPECTED_WORLD_SIZE")) {
    EXPECT_EQ(sync->world_size(), std::atoi(expected));
  }
  auto env = MpiRankFromEnvironment();
  ASSERT_TRUE(env.has_value()) << "not started by mpirun?";
  EXPECT_EQ(env->first, sync->rank());
  EXPECT_EQ(env->second, sync->world_size());
}

template <typename T>
void ExpectExactSums(GradientSync& sync, const std::vector<size_t>& sizes) {
  for (size_t size : sizes) {
    std::vector<T> values(size);
    for (size_t i = 0; i < size; ++i) values[i] = ExactValue<T>(sync.rank(), i);
    EXPECT_TRUE(sync.AllReduceSum(std::span<T>(values)).ok()) << "size " << size;
    int wrong = 0;
    for (size_t i = 0; i < size; ++i) {
      T want = 0;
      for (int r = 0; r < sync.world_size(); ++r) want += ExactValue<T>(r, i);
      if (values[i] != want && wrong++ < 3) {
        ADD_FAILURE() << "rank " << sync.rank() << " size " << size << " element " << i << ": "
                      << values[i] << " != " << want;
      }
    }
    EXPECT_EQ(wrong, 0) << "size " << size;
    EXPECT_TRUE(SameBytesOnAllRanks(values.data(), size * sizeof(T))) << "size " << size;
  }
}

// 0, 1, 7, exactly one bucket, several buckets plus a remainder.
TEST(MpiGradientSync, SumsFloatsExactlyInAndAcrossBuckets) {
  auto sync = MakeSync(kSmallBucketBytes);
  ExpectExactSums<float>(*sync, {0, 1, 7, 1024, 3 * 1024 + 5});
}

TEST(MpiGradientSync, SumsDoublesExactlyInAndAcrossBuckets) {
  auto sync = MakeSync(kSmallBucketBytes);
  ExpectExactSums<double>(*sync, {0, 1, 7, 512, 3 * 512 + 5});
}

TEST(MpiGradientSync, DefaultBucketSumsALargeBuffer) {
  auto sync = MakeSync(0);
  ExpectExactSums<float>(*sync, {(size_t{25} << 20) / sizeof(float) + 1001});
}

// Arbitrary floats, where the order of additions matters: every rank ends with the same
// bits, and repeating the call from the same inputs gives them again. With two ranks the
// sum is one rounding of a + b whatever the order, so it must equal the serial sum.
TEST(MpiGradientSync, ArbitraryFloatsGiveTheSameBitsOnEveryRankAndEveryRun) {
  auto sync = MakeSync(kSmallBucketBytes);
  const size_t size = 5 * 1024 + 3;
  auto inputs_of = [&](int rank) {
    std::mt19937 random(1234 + rank);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> values(size);
    for (float& v : values) v = normal(random);
    return values;
  };
  std::vector<float> first = inputs_of(sync->rank()), second = first;
  EXPECT_TRUE(sync->AllReduceSum(std::span<float>(first)).ok());
  EXPECT_TRUE(sync->AllReduceSum(std::span<float>(second)).ok());
  EXPECT_EQ(std::memcmp(first.data(), second.data(), size * sizeof(float)), 0);
  EXPECT_TRUE(SameBytesOnAllRanks(first.data(), size * sizeof(float)));
  std::vector<float> serial(size, 0.0f);
  for (int r = 0; r < sync->world_size(); ++r) {
    std::vector<float> inputs = inputs_of(r);
    for (size_t i = 0; i < size; ++i) serial[i] += inputs[i];
  }
  for (size_t i = 0; i < size; ++i) {
    if (sync->world_size() <= 2) {
      ASSERT_EQ(first[i], serial[i]) << "element " << i;
    } else {
      ASSERT_NEAR(first[i], serial[i], 1e-4f * sync->world_size()) << "element " << i;
    }
  }
}

TEST(MpiGradientSync, BroadcastCopiesTheRootsBytesInAndAcrossBuckets) {
  auto sync = MakeSync(kSmallBucketBytes);
  const int root = sync->world_size() - 1;
  for (size_t size : {size_t{0}, size_t{1}, size_t{4096}, size_t{3 * 4096 + 7}}) {
    std::vector<char> bytes(size);
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(i * 7 + sync->rank() * 13);
    EXPECT_TRUE(sync->Broadcast(std::span<char>(bytes), root).ok()) << "size " << size;
    int wrong = 0;
    for (size_t i = 0; i < size; ++i) wrong += bytes[i] != static_cast<char>(i * 7 + root * 13);
    EXPECT_EQ(wrong, 0) << "size " << size;
  }
}

TEST(MpiGradientSync, BarrierSucceeds) {
  auto sync = MakeSync(0);
  EXPECT_TRUE(sync->Barrier().ok());
  EXPECT_TRUE(sync->Barrier().ok());
}

TEST(MpiGradientSync, RootOutsideTheWorldIsInvalidOnEveryRank) {
  auto sync = MakeSync(0);
  std::vector<char> bytes(8, 'x');
  absl::Status s = sync->Broadcast(std::span<char>(bytes), sync->world_size());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("rank " + std::to_string(sync->rank())), std::string::npos) << s;
  EXPECT_TRUE(sync->Barrier().ok());  // still in step
}

TEST(MpiGradientSync, DifferentSizesAreRefusedOnEveryRankAndMoveNothing) {
  auto sync = MakeSync(kSmallBucketBytes);
  if (sync->world_size() < 2) GTEST_SKIP() << "needs two ranks";
  std::vector<float> values(7 + sync->rank(), 1.5f);  // rank 0: 7, rank 1: 8, ...
  absl::Status s = sync->AllReduceSum(std::span<float>(values));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("elements 7.." + std::to_string(6 + sync->world_size())),
            std::string::npos)
      << s;
  for (float v : values) EXPECT_EQ(v, 1.5f);
  // The next, well-formed call is checked afresh and works.
  std::vector<double> total = {1.0};
  EXPECT_TRUE(sync->AllReduceSum(std::span<double>(total)).ok());
  EXPECT_EQ(total[0], sync->world_size());
}

TEST(MpiGradientSync, DifferentMethodsAreRefusedOnEveryRank) {
  auto sync = MakeSync(0);
  if (sync->world_size() < 2) GTEST_SKIP() << "needs two ranks";
  absl::Status s;
  std::vector<char> bytes(16);
  if (sync->rank() == 0) {
    s = sync->Barrier();
  } else {
    s = sync->Broadcast(std::span<char>(bytes), 0);
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("method 3..4"), std::string::npos) << s;
  EXPECT_TRUE(sync->Barrier().ok());
}

TEST(MpiGradientSync, NegativeBucketBytesAreInvalid) {
  EXPECT_EQ(MakeMpiSync(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cloze

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
