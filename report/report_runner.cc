#include "report/report_runner.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "report/embedded_scripts.h"

extern char** environ;

namespace cloze::report {
namespace {

// Exit statuses of kProbe: what the interpreter lacks.
constexpr int kNoMatplotlib = 3, kNoNumpy = 4, kTooOld = 5;
constexpr char kProbe[] =
    "import sys\n"
    "if sys.version_info < (3, 7): sys.exit(5)\n"
    "import importlib.util as u\n"
    "sys.exit(3 if u.find_spec('matplotlib') is None else 4 if u.find_spec('numpy') is None else 0)\n";

// Runs argv (argv[0] looked up on PATH) and waits. quiet: its stdout and stderr go to /dev/null.
// An error (ENOENT: not found) when it cannot be started.
absl::StatusOr<int> Run(const std::vector<std::string>& argv, bool quiet) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  }
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) return absl::InternalError(absl::StrCat(argv[0], ": ", std::strerror(error)));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return absl::InternalError(absl::StrCat("waiting for ", argv[0], ": ", std::strerror(errno)));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string Lack(int probe_status) {
  switch (probe_status) {
    case kNoMatplotlib:
      return "has no matplotlib";
    case kNoNumpy:
      return "has no numpy";
    case kTooOld:
      return "is older than Python 3.7";
    default:
      return absl::StrCat("is not a working Python 3 (exit status ", probe_status, ")");
  }
}

absl::StatusOr<std::string> WriteScripts(const std::string& context_json) {
  const char* tmp = std::getenv("TMPDIR");
  std::string folder = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/cloze-report-XXXXXX");
  if (mkdtemp(folder.data()) == nullptr) {
    return absl::PermissionDeniedError(absl::StrCat(folder, ": cannot create: ", std::strerror(errno)));
  }
  auto write = [&](const std::string& name, const char* text) -> absl::Status {
    std::ofstream out(folder + "/" + name, std::ios::binary);
    out << text;
    out.close();
    if (!out) return absl::DataLossError(absl::StrCat(folder, "/", name, ": cannot write"));
    return absl::OkStatus();
  };
  for (const EmbeddedFile& file : EmbeddedReportScripts()) {
    if (absl::Status s = write(file.name, file.text); !s.ok()) return s;
  }
  if (absl::Status s = write("context.json", context_json.c_str()); !s.ok()) return s;
  return folder;
}

}  // namespace

std::vector<std::string> PythonCandidates() {
  const char* chosen = std::getenv("CLOZE_PYTHON");
  if (chosen != nullptr && *chosen != '\0') return {chosen};
  return {"python3", "/usr/bin/python3"};
}

absl::StatusOr<std::string> FindPythonWithMatplotlib(const std::vector<std::string>& candidates) {
  std::vector<std::string> tried;
  for (const std::string& python : candidates) {
    absl::StatusOr<int> probe = Run({python, "-c", kProbe}, /*quiet=*/true);
    if (probe.ok() && *probe == 0) return python;
    tried.push_back(probe.ok() ? absl::StrCat(python, " ", Lack(*probe)) : std::string(probe.status().message()));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("the report's figures need Python 3 with matplotlib; tried ", absl::StrJoin(tried, "; "),
                   ". Install Debian's python3-matplotlib (apt-get install python3-matplotlib, as deploy/setup.sh "
                   "does), or set CLOZE_PYTHON to a Python 3 that has matplotlib."));
}

absl::StatusOr<int> RunReportScript(const std::string& python, const ReportRequest& request) {
  absl::StatusOr<std::string> folder = WriteScripts(request.context_json);
  if (!folder.ok()) return folder.status();
  absl::StatusOr<int> status =
      Run({python, "-B", *folder + "/main.py", "--run_dir=" + request.run_dir, "--output=" + request.output,
           "--context=" + *folder + "/context.json"},
          /*quiet=*/false);
  std::error_code ignored;
  std::filesystem::remove_all(*folder, ignored);
  return status;
}

}  // namespace cloze::report
