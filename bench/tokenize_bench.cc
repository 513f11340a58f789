// Tokenization throughput of cloze's tokenizers: MB/s of input text and tokens/s, on one
// thread and on several, over the lines of a text file.
//
//   bazel-bin/bench/tokenize_bench --file=/tmp/tokenize_20mb.txt --threads=1,2 \
//       --tokenizers=spm:$M,spm-albert:$M,wordpiece:$V
//
// Each line (line end removed, blank lines skipped) is one Encode call, as the data
// pipeline makes them. MB = 10^6 bytes of UTF-8 input. Threads share the lines through an
// atomic counter, chunks of 256 lines. One untimed pass over the first 2 MB warms caches.
// bench/tokenize_bench.py measures Python's sentencepiece (and Hugging Face) the same way.
// Prints a markdown table, then one JSON line per measurement.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "data/tokenizer.h"

ABSL_FLAG(std::string, file, "", "Text file, one paragraph per line.");
ABSL_FLAG(std::vector<std::string>, tokenizers, {},
          "Tokenizer specs (DataConfig.tokenizer), comma-separated.");
ABSL_FLAG(std::vector<std::string>, threads, std::vector<std::string>({"1", "2"}),
          "Thread counts, comma-separated.");

namespace cloze::bench {
namespace {

constexpr size_t kChunk = 256;

struct Result {
  double seconds = 0;
  int64_t tokens = 0;
};

// Encodes lines [0, count) on `threads` threads; wall-clock time and total ids.
Result EncodeAll(const data::Tokenizer& tokenizer, const std::vector<std::string>& lines,
                 size_t count, int threads) {
  std::atomic<size_t> next{0};
  std::atomic<int64_t> tokens{0};
  auto work = [&] {
    int64_t mine = 0;
    for (size_t begin; (begin = next.fetch_add(kChunk)) < count;) {
      for (size_t i = begin; i < std::min(count, begin + kChunk); ++i) {
        mine += static_cast<int64_t>(tokenizer.Encode(lines[i]).size());
      }
    }
    tokens.fetch_add(mine);
  };
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  return {elapsed.count(), tokens.load()};
}

int Run() {
  std::ifstream file(absl::GetFlag(FLAGS_file));
  if (!file) {
    std::fprintf(stderr, "cannot open --file=%s\n", absl::GetFlag(FLAGS_file).c_str());
    return 1;
  }
  std::vector<std::string> lines;
  int64_t bytes = 0;
  size_t warmup_lines = 0;
  for (std::string line; std::getline(file, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    bytes += static_cast<int64_t>(line.size());
    if (bytes <= 2'000'000) warmup_lines = lines.size() + 1;
    lines.push_back(std::move(line));
  }
  std::printf("%s: %zu lines, %.1f MB\n\n", absl::GetFlag(FLAGS_file).c_str(), lines.size(),
              bytes / 1e6);
  std::printf(
      "| tokenizer | threads | seconds | MB/s | tokens/s | tokens |\n|---|---|---|---|---|---|\n");
  std::vector<std::string> json;
  for (const std::string& spec : absl::GetFlag(FLAGS_tokenizers)) {
    absl::StatusOr<std::unique_ptr<data::Tokenizer>> tokenizer = data::LoadTokenizer(spec);
    if (!tokenizer.ok()) {
      std::fprintf(stderr, "%s\n", tokenizer.status().ToString().c_str());
      return 1;
    }
    EncodeAll(**tokenizer, lines, warmup_lines, 1);
    const std::string kind = spec.substr(0, spec.find(':'));
    for (const std::string& threads_flag : absl::GetFlag(FLAGS_threads)) {
      const int threads = std::stoi(threads_flag);
      const Result r = EncodeAll(**tokenizer, lines, lines.size(), threads);
      std::printf("| %s | %d | %.2f | %.2f | %.0f | %lld |\n", kind.c_str(), threads, r.seconds,
                  bytes / 1e6 / r.seconds, r.tokens / r.seconds, static_cast<long long>(r.tokens));
      char buffer[512];
      std::snprintf(buffer, sizeof buffer,
                    "{\"program\":\"cloze\",\"tokenizer\":\"%s\",\"threads\":%d,\"seconds\":%.4f,"
                    "\"bytes\":%lld,\"tokens\":%lld}",
                    kind.c_str(), threads, r.seconds, static_cast<long long>(bytes),
                    static_cast<long long>(r.tokens));
      json.push_back(buffer);
    }
  }
  std::printf("\n");
  for (const std::string& line : json) std::printf("%s\n", line.c_str());
  return 0;
}

}  // namespace
}  // namespace cloze::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return cloze::bench::Run();
}
