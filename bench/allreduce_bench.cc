// Bus bandwidth of GradientSync::AllReduceSum over MPI (bucketed, with its cross-rank
// contract check) against one bare MPI_Allreduce of the same buffer. Run under mpirun,
// e.g. through bench/run_allreduce.sh:
//
//   mpirun -np 2 bazel-bin/bench/allreduce_bench [--reps=10 --warmup=3 --bucket_bytes=0]
//
// Sizes: --sizes, then the flat gradient of --config (ALBERT-base: 11,813,810 floats,
// 45.1 MiB, counted by the trainer's own parameter layout). Each repetition times
// both methods, in alternating order, on the same freshly copied inputs, each started
// after a barrier; a repetition's time is the slowest rank's. Figures are medians over
// --reps after --warmup untimed repetitions. busbw = bytes × 2(n−1)/n / time, as
// nccl-tests define it for all-reduce. On two ranks, exits non-zero if the two methods'
// sums differ in a single bit.
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "model/model_config.h"
#include "model/parameter_layout.h"
#include "worker/mpi_gradient_sync.h"

ABSL_FLAG(std::string, config, "configs/albert-base.textproto",
          "Model config whose flat gradient is the largest buffer (empty: none).");
// 11,683,584 floats (44.6 MiB) is the figure issue 5 quotes for ALBERT-base's gradient;
// the trainer's layout of configs/albert-base.textproto, which --config adds, counts
// 11,813,810 (it includes the pooler). Both are timed by default.
ABSL_FLAG(std::string, sizes, "4096,65536,1048576,4194304,11683584",
          "Buffer sizes in floats, comma-separated, timed before --config's gradient.");
ABSL_FLAG(int, warmup, 3, "Untimed repetitions first.");
ABSL_FLAG(int, reps, 10, "Timed repetitions; the median is reported.");
ABSL_FLAG(int64_t, bucket_bytes, 0, "GradientSync bucket size (0: its default, 25 MiB).");

namespace cloze {
namespace {

struct Timing {
  std::vector<double> bare, sync;  // seconds, slowest rank
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Seconds `op` takes, started together after a barrier, as the slowest rank saw it.
template <typename Op>
double TimeOnAllRanks(Op op) {
  MPI_Barrier(MPI_COMM_WORLD);
  double start = MPI_Wtime();
  op();
  double mine = MPI_Wtime() - start, slowest = 0;
  MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return slowest;
}

// Times both methods on a buffer of `count` floats; false if their sums differ.
bool Measure(GradientSync& sync, size_t count, int warmup, int reps, Timing& timing) {
  std::vector<float> inputs(count), bare(count), bucketed(count);
  for (size_t i = 0; i < count; ++i) {
    inputs[i] = static_cast<float>((i * 2654435761u + sync.rank()) % 1000003) * 1e-6f - 0.5f;
  }
  bool same = true;
  for (int rep = 0; rep < warmup + reps; ++rep) {
    std::copy(inputs.begin(), inputs.end(), bare.begin());
    std::copy(inputs.begin(), inputs.end(), bucketed.begin());
    auto run_bare = [&] {
      return TimeOnAllRanks([&] {
        MPI_Allreduce(MPI_IN_PLACE, bare.data(), static_cast<int>(count), MPI_FLOAT, MPI_SUM,
                      MPI_COMM_WORLD);
      });
    };
    auto run_sync = [&] {
      return TimeOnAllRanks([&] {
        if (absl::Status s = sync.AllReduceSum(std::span<float>(bucketed)); !s.ok()) {
          std::fprintf(stderr, "rank %d: %s\n", sync.rank(), s.ToString().c_str());
          MPI_Abort(MPI_COMM_WORLD, 1);
        }
      });
    };
    double t_bare, t_sync;
    if (rep % 2 == 0) {
      t_bare = run_bare();
      t_sync = run_sync();
    } else {
      t_sync = run_sync();
      t_bare = run_bare();
    }
    if (rep >= warmup) {
      timing.bare.push_back(t_bare);
      timing.sync.push_back(t_sync);
    }
    // With two ranks each sum is one rounding of a + b whatever the algorithm, so the
    // methods must agree bit for bit; with more, their summation orders may differ.
    if (rep == 0 && sync.world_size() == 2) {
      same = std::memcmp(bare.data(), bucketed.data(), count * sizeof(float)) == 0;
    }
  }
  int mine = same, all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  return all;
}

int Run(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto sync_or = MakeMpiSync(absl::GetFlag(FLAGS_bucket_bytes));  // initialises MPI
  if (!sync_or.ok()) {
    std::fprintf(stderr, "%s\n", sync_or.status().ToString().c_str());
    return 1;
  }
  GradientSync& sync = **sync_or;
  const bool root = sync.rank() == 0;

  std::vector<std::pair<size_t, std::string>> sizes;
  for (absl::string_view text : absl::StrSplit(absl::GetFlag(FLAGS_sizes), ',', absl::SkipEmpty())) {
    size_t count = 0;
    if (!absl::SimpleAtoi(text, &count) || count == 0 || count > INT32_MAX) {
      if (root) std::fprintf(stderr, "--sizes: '%.*s' is not a float count\n", int(text.size()), text.data());
      return 1;
    }
    sizes.push_back({count, ""});
  }
  if (std::string config_path = absl::GetFlag(FLAGS_config); !config_path.empty()) {
    auto config = LoadModelConfig(config_path);
    if (!config.ok()) {
      if (root) std::fprintf(stderr, "--config: %s\n", config.status().ToString().c_str());
      return 1;
    }
    sizes.push_back({static_cast<size_t>(BuildParameterLayout(*config).total_size),
                     "gradient of " + config_path});
  }

  const int n = sync.world_size();
  if (root) {
    std::printf("%d ranks, bucket %lld bytes (0: 25 MiB), %d warmup + %d timed repetitions, "
                "median (min) of the slowest rank\n\n",
                n, static_cast<long long>(absl::GetFlag(FLAGS_bucket_bytes)),
                absl::GetFlag(FLAGS_warmup), absl::GetFlag(FLAGS_reps));
    std::printf("| floats | MiB | bare MPI_Allreduce ms | bare busbw GB/s | GradientSync ms | "
                "GradientSync busbw GB/s | sync / bare |\n|---:|---:|---:|---:|---:|---:|---:|\n");
  }
  bool all_same = true;
  for (const auto& [count, label] : sizes) {
    Timing timing;
    all_same &= Measure(sync, count, absl::GetFlag(FLAGS_warmup), absl::GetFlag(FLAGS_reps), timing);
    if (!root) continue;
    const double bytes = count * sizeof(float), bus = bytes * 2.0 * (n - 1) / n;
    const double bare = Median(timing.bare), bucketed = Median(timing.sync);
    const double bare_min = *std::min_element(timing.bare.begin(), timing.bare.end());
    const double sync_min = *std::min_element(timing.sync.begin(), timing.sync.end());
    std::printf("| %zu%s | %.2f | %.3f (%.3f) | %.2f | %.3f (%.3f) | %.2f | %.1f%% |\n", count,
                label.empty() ? "" : (" (" + label + ")").c_str(), bytes / (1 << 20),
                bare * 1e3, bare_min * 1e3, bus / bare / 1e9, bucketed * 1e3, sync_min * 1e3,
                bus / bucketed / 1e9, 100.0 * bare / bucketed);
    std::fflush(stdout);
  }
  if (!all_same) {
    if (root) std::fprintf(stderr, "GradientSync's sums differ from MPI_Allreduce's\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace cloze

int main(int argc, char** argv) { return cloze::Run(argc, argv); }
