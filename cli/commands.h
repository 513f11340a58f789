// The subcommands of the `cloze` program. Each takes the positional arguments after
// its name (flags are parsed globally by absl) and returns the process exit status:
// 0 on success, 1 when the work failed, 2 on a usage error.
#ifndef CLOZE_CLI_COMMANDS_H_
#define CLOZE_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace cloze::cli {

// cloze config CONFIG...: validates model configs and prints their sizes.
int RunConfigCommand(const std::vector<std::string>& args);

// cloze prepare --input=... --output=DIR --tokenizer=SPEC: raw text to a sharded dataset.
// Exit status 3 when it succeeded but skipped bad input (counted in its summary).
int RunPrepareCommand(const std::vector<std::string>& args);

// cloze inspect DIR: counts, histograms, masking statistics and decoded examples.
int RunInspectCommand(const std::vector<std::string>& args);

// cloze task-text --data_dir=GLUE --output=FILE: the GLUE tasks' train text, no labels, as a
// corpus for cloze prepare (task-adaptive pretraining); 2 on bad input, nothing written.
int RunTaskTextCommand(const std::vector<std::string>& args);

// cloze train --config=FILE --run_dir=DIR: pretraining, resumed from the run's newest
// checkpoint; SIGTERM/SIGINT stop it after a checkpoint with status 0.
int RunTrainCommand(const std::vector<std::string>& args);

// cloze finetune --task=NAME --data_dir=PATH --init=... --tokenizer=SPEC --run_dir=DIR: a
// sentence(-pair) task fine-tuned on the training loop, resumed from the run's newest
// checkpoint; 2 on bad input (unknown task, missing files, a run dir of another run).
int RunFinetuneCommand(const std::vector<std::string>& args);

// cloze evaluate --init=... --tokenizer=SPEC --run_dir=DIR --suite=glue|pos|squad|all
// --data_dir=GLUE [--with_scratch]: every task of the suite whose files are present,
// fine-tuned over --seeds from the init (and from scratch), then evaluation.json and
// evaluation.md; resumable (finished runs are not redone); 2 on bad input.
int RunEvaluateCommand(const std::vector<std::string>& args);

// cloze fill-mask --init=CHECKPOINT|RUN_DIR --tokenizer=SPEC [TEXT...]: the top_k tokens at
// each [MASK] of each text (or stdin line), from a pretraining checkpoint's MLM head.
int RunFillMaskCommand(const std::vector<std::string>& args);

// cloze probe --init=CHECKPOINT|RUN_DIR[,...] --tokenizer=SPEC --ud_dir=... [--glue_dir=...]: the
// probes of issue 13 on each checkpoint, appended to probes.jsonl in --run_dir (default: the
// run folder); resumable (checkpoint × probe pairs in the file are not redone); 2 on bad input.
int RunProbeCommand(const std::vector<std::string>& args);

// cloze predict --run_dir=FINETUNE_RUN --input=FILE [--output=FILE.jsonl]: a fine-tuned
// run's newest checkpoint on a file in its task's format, one JSON line per example.
int RunPredictCommand(const std::vector<std::string>& args);

// cloze coordinator --config=FILE --run_dir=DIR --listen=HOST:PORT --job_token_file=F: the
// job's coordinator (server/coordinator.h); exits 0 once the job is finished.
int RunCoordinatorCommand(const std::vector<std::string>& args);

// cloze ps --coordinator=HOST:PORT --job_token_file=F: a parameter server.
int RunPsCommand(const std::vector<std::string>& args);

// cloze worker --coordinator=HOST:PORT --job_token_file=F: one worker (under mpirun for N).
// Exit status 75 when the job's generation ended: start it again.
int RunWorkerCommand(const std::vector<std::string>& args);

// cloze launch --config=FILE --run_dir=DIR [--workers=N --ps=M]: the whole job here.
int RunLaunchCommand(const std::vector<std::string>& args);

// cloze report RUN_DIR [--output=FILE.html]: a self-contained HTML page of the pretraining,
// fine-tuning and evaluation runs under RUN_DIR (report/); prints the page's path last. 1 when
// no Python 3 with matplotlib is found (the message names the package) or the page cannot be
// written; 2 on a usage error (RUN_DIR missing or not a folder).
int RunReportCommand(const std::vector<std::string>& args);

// cloze verify PATH...: every checkpoint at PATH (a checkpoint folder, or every run below a
// folder) against its manifest, a line each. 0 when all are valid, 65 when one is damaged
// (its line names the file and what differs), 66 when there is none, 2 on a usage error.
int RunVerifyCommand(const std::vector<std::string>& args);

// cloze step CONFIG: forward and backward passes on a synthetic batch, with timings.
int RunStepCommand(const std::vector<std::string>& args);

}  // namespace cloze::cli

#endif  // CLOZE_CLI_COMMANDS_H_
