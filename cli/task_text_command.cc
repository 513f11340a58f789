// cloze task-text: the unlabelled text of GLUE tasks' train splits as a corpus for `cloze
// prepare`, for task-adaptive pretraining (Gururangan et al. 2020, "Don't Stop Pretraining":
// a pretrained model trained on further on its task's own text). The tasks are read by the
// fine-tune's own reader (tasks/glue_tasks.h), so every GLUE task's columns are known and a
// bad line is named as cloze finetune names it. Only train splits: dev text would leak the
// evaluation's sentences into the model, and test text is the GLUE server's.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/command_error.h"
#include "cli/commands.h"
#include "cli/evaluate_suite.h"
#include "tasks/glue_tasks.h"
#include "util/atomic_file.h"

ABSL_DECLARE_FLAG(std::string, data_dir);
ABSL_DECLARE_FLAG(std::vector<std::string>, tasks);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(bool, skip_bad_lines);
ABSL_FLAG(int, sentences_per_document, 8,
          "cloze task-text: consecutive examples of a one-sentence task (CoLA, SST-2) put in one document, so that "
          "prepare's examples fill their sequence");

namespace cloze::cli {
namespace {

constexpr char kUsage[] =
    "usage: cloze task-text --data_dir=GLUE --output=FILE.txt [--tasks=CoLA,SST-2,... --sentences_per_document=8 "
    "--skip_bad_lines]\n"
    "  the train split's text of each GLUE task present (labels left out), one sentence per line and a blank "
    "line between documents (a pair task's example is a document of its two texts; a one-sentence task's "
    "--sentences_per_document consecutive examples are one), for cloze prepare --input=FILE.txt "
    "--input_format=bert\n";

constexpr char kCommand[] = "cloze task-text";

struct TaskText {
  int64_t examples = 0, documents = 0, lines = 0;
};

// Appends one document (its non-empty texts, a line each) to `out`.
void AppendDocument(const std::vector<const std::string*>& texts, std::string& out, TaskText& counts) {
  bool any = false;
  for (const std::string* text : texts) {
    const absl::string_view line = absl::StripAsciiWhitespace(*text);
    if (line.empty()) continue;
    absl::StrAppend(&out, line, "\n");
    ++counts.lines;
    any = true;
  }
  if (!any) return;
  out += "\n";
  ++counts.documents;
}

TaskText AppendTask(const std::vector<tasks::SentenceExample>& examples, int sentences_per_document, std::string& out) {
  TaskText counts{.examples = static_cast<int64_t>(examples.size())};
  std::vector<const std::string*> document;
  for (size_t i = 0; i < examples.size(); ++i) {
    const tasks::SentenceExample& e = examples[i];
    document.push_back(&e.text_a);
    if (e.text_b.has_value()) document.push_back(&*e.text_b);
    // A pair is a document of its own; one-sentence examples fill one up to the limit.
    if (e.text_b.has_value() || static_cast<int>(document.size()) == sentences_per_document ||
        i + 1 == examples.size()) {
      AppendDocument(document, out, counts);
      document.clear();
    }
  }
  return counts;
}

}  // namespace

int RunTaskTextCommand(const std::vector<std::string>& args) {
  const std::string output = absl::GetFlag(FLAGS_output);
  if (!args.empty() || output.empty() || absl::GetFlag(FLAGS_data_dir).empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const int per_document = absl::GetFlag(FLAGS_sentences_per_document);
  if (per_document < 1) {
    return Fail(kCommand, 2,
        absl::InvalidArgumentError(absl::StrCat("--sentences_per_document: must be at least 1, got ", per_document)));
  }
  absl::StatusOr<Suite> suite =
      ResolveSuite("glue", absl::GetFlag(FLAGS_tasks), {.glue = absl::GetFlag(FLAGS_data_dir)});
  if (!suite.ok()) return Fail(kCommand, 2, suite.status());
  for (const SkippedTask& s : suite->skipped) std::printf("skipped %s: %s\n", s.task.c_str(), s.reason.c_str());
  if (suite->tasks.empty()) return Fail(kCommand, 2, absl::NotFoundError("no GLUE task has its files in --data_dir"));

  // Every task is read before anything is written: a bad file leaves no output behind.
  std::string text;
  for (const SuiteTask& t : suite->tasks) {
    tasks::ReadStats stats;
    absl::StatusOr<std::vector<tasks::SentenceExample>> examples = tasks::ReadGlueSplit(
        absl::StrCat(t.data_dir, "/", t.task), t.task, "train", {.skip_bad_lines = absl::GetFlag(FLAGS_skip_bad_lines)},
        &stats);
    if (!examples.ok()) return Fail(kCommand, 2, examples.status());
    const TaskText counts = AppendTask(*examples, per_document, text);
    std::printf("%s: %lld examples, %lld documents, %lld lines", t.task.c_str(),
                static_cast<long long>(counts.examples), static_cast<long long>(counts.documents),
                static_cast<long long>(counts.lines));
    if (stats.skipped > 0) {
      std::printf("; %lld bad lines skipped, the first: %s", static_cast<long long>(stats.skipped),
                  stats.first_skipped.c_str());
    }
    std::printf("\n");
  }
  if (absl::Status s = util::WriteTextFileAtomically(output, text); !s.ok()) return Fail(kCommand, 1, s);
  std::printf("written: %s (%zu bytes); next: cloze prepare --input=%s --input_format=bert ...\n", output.c_str(),
              text.size(), output.c_str());
  return 0;
}

}  // namespace cloze::cli
