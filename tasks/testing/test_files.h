// Files for the tasks/ tests: shared data, checked-in fixtures, and scratch files.
#ifndef CLOZE_TASKS_TESTING_TEST_FILES_H_
#define CLOZE_TASKS_TESTING_TEST_FILES_H_

#include <string>

namespace cloze::tasks::testing {

// The path of shared/data/`relative`; fails the current test (ADD_FAILURE) and returns ""
// when it is absent (see data/testing/shared_data.h).
std::string SharedFile(const std::string& relative);

// The runfiles path of a checked-in file, e.g. "tasks/testdata/glue/QQP/train.tsv".
std::string SourceFile(const std::string& relative);

// Writes `contents` to a fresh file `name` in the test's temporary folder; returns its path.
std::string WriteTempFile(const std::string& name, const std::string& contents);

}  // namespace cloze::tasks::testing

#endif  // CLOZE_TASKS_TESTING_TEST_FILES_H_
