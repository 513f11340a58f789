#include "cli/evaluate_suite.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "tasks/glue_tasks.h"

namespace cloze::cli {
namespace {

namespace fs = std::filesystem;

std::string Canonical(const std::string& name) {
  return absl::AsciiStrToLower(absl::StrReplaceAll(name, {{"-", ""}, {"_", ""}}));
}

absl::StatusOr<std::vector<std::string>> SuiteTasks(const std::string& suite) {
  std::vector<std::string> tasks;
  if (suite == "glue" || suite == "all") tasks = tasks::GlueTaskNames();
  if (suite == "pos" || suite == "all") tasks.push_back("pos");
  if (suite == "squad" || suite == "all") tasks.push_back("squad");
  if (tasks.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--suite=", suite, ": expected glue, pos, squad or all"));
  }
  return tasks;
}

// Empty when the GLUE task's train and labelled dev files are in glue_dir/<task>; else why not.
std::string GlueTaskMissing(const std::string& glue_dir, const std::string& task) {
  if (glue_dir.empty()) return "no --data_dir (the GLUE folder)";
  const std::string dir = absl::StrCat(glue_dir, "/", task);
  if (!fs::is_directory(dir)) return absl::StrCat("no folder ", dir);
  const std::vector<std::string> splits = tasks::GlueSplits(task).value();  // task is one of GlueTaskNames()
  for (const std::string& split : splits) {
    if (split != "train" && !absl::StartsWith(split, "dev")) continue;  // test splits are optional
    const std::string file = absl::StrCat(dir, "/", split, ".tsv");
    if (!fs::exists(file)) return absl::StrCat(file, " is missing");
  }
  return "";
}

std::string FolderMissing(const std::string& dir, const char* flag) {
  if (dir.empty()) return absl::StrCat("no --", flag);
  if (!fs::is_directory(dir)) return absl::StrCat("no folder ", dir, " (--", flag, ")");
  return "";
}

}  // namespace

absl::StatusOr<Suite> ResolveSuite(const std::string& suite, const std::vector<std::string>& only,
                                   const SuiteFolders& folders) {
  absl::StatusOr<std::vector<std::string>> names = SuiteTasks(suite);
  if (!names.ok()) return names.status();
  for (const std::string& wanted : only) {
    if (std::none_of(names->begin(), names->end(),
                     [&](const std::string& n) { return Canonical(n) == Canonical(wanted); })) {
      return absl::InvalidArgumentError(absl::StrCat("--tasks: \"", wanted, "\" is not a task of --suite=", suite, " (",
                                                     absl::StrJoin(*names, ", "), ")"));
    }
  }
  Suite out;
  for (const std::string& task : *names) {
    const bool kept = only.empty() || std::any_of(only.begin(), only.end(), [&](const std::string& wanted) {
                        return Canonical(wanted) == Canonical(task);
                      });
    if (!kept) continue;
    std::string data_dir, missing;
    if (task == "pos") {
      data_dir = folders.ud;
      missing = FolderMissing(folders.ud, "ud_dir");
    } else if (task == "squad") {
      data_dir = folders.squad;
      missing = FolderMissing(folders.squad, "squad_dir");
    } else {
      data_dir = folders.glue;
      missing = GlueTaskMissing(folders.glue, task);
    }
    if (missing.empty()) {
      out.tasks.push_back({.task = task, .data_dir = data_dir});
    } else {
      out.skipped.push_back({.task = task, .reason = missing});
    }
  }
  return out;
}

}  // namespace cloze::cli
