// Options and counters shared by every task reader.
#ifndef CLOZE_TASKS_READ_OPTIONS_H_
#define CLOZE_TASKS_READ_OPTIONS_H_

#include <cstdint>
#include <string>

namespace cloze::tasks {

struct ReadOptions {
  // false: the first bad record (a TSV line with the wrong number of columns, an unknown
  // label, a broken CoNLL-U line, a SQuAD answer not at its offset) fails the read with
  // InvalidArgument. true: bad records are skipped and counted in ReadStats instead.
  // Errors about the file as a whole (missing, undecodable, a bad header, no examples at
  // all) fail the read either way.
  bool skip_bad_lines = false;
};

// What a read saw; like `cloze prepare`'s InputStats, skipped input is counted, not hidden.
// Every reader adds its file's counts to the ReadStats it is given when the read succeeds
// (one ReadStats can tally several files) and leaves it untouched when the read fails.
struct ReadStats {
  int64_t lines = 0;          // physical lines read (JSON files: 0)
  int64_t examples = 0;       // examples returned
  int64_t skipped = 0;        // bad records skipped (skip_bad_lines only)
  std::string first_skipped;  // the error the first skipped record would have raised

  // Adds a skipped record whose error message is `error`.
  void Skip(const std::string& error) {
    if (skipped++ == 0) first_skipped = error;
  }

  // Adds the counts of another read (several files into one tally).
  void Add(const ReadStats& other) {
    lines += other.lines;
    examples += other.examples;
    if (skipped == 0) first_skipped = other.first_skipped;
    skipped += other.skipped;
  }
};

}  // namespace cloze::tasks

#endif  // CLOZE_TASKS_READ_OPTIONS_H_
