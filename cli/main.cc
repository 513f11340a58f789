// cloze: pretraining ALBERT and BERT encoders. `cloze help` lists the subcommands.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "cli/common_flags.h"
#include "cli/commands.h"
#include "server/child_process.h"

namespace {

constexpr char kUsage[] = R"(cloze: pretrain ALBERT and BERT encoders

usage: cloze <command> [flags] [arguments]

commands available now:
  prepare            raw text (files, folders; .jsonl with a "text" field) to a sharded
                     RocksDB dataset of ALBERT examples:
                     --input=PATHS --output=DIR --tokenizer=spm:M|spm-albert:M|spm-train:N|wordpiece:V
                     [--max_seq_length --masked_lm_prob --max_predictions_per_seq --max_ngram
                      --whole_word_mask --sentence_task=sop|nsp --dupe_factor --dynamic_masking
                      --shards --seed --threads]; exit status 3 if bad input was skipped.
                     Over many machines: the same flags plus --part=I --parts=N on each of N
                     machines (any order; a rerun replaces its part; spm-train: refused,
                     train once and pass spm:), then cloze prepare --merge --parts=N
                     --output=DIR writes the dataset, identical to a one-machine prepare
  inspect DIR        counts, length histogram, masking statistics, decoded examples
                     [--examples=N --limit=N --verify]
  task-text          the text of GLUE tasks' train splits (no labels) as a corpus for
                     prepare --input_format=bert, for task-adaptive pretraining:
                     --data_dir=GLUE --output=FILE [--tasks --sentences_per_document=8]
  train              pretrain on a prepared dataset: --config=TRAIN_CONFIG --run_dir=DIR
                     [--stop_after_step=N --metrics_address=HOST:PORT --device=cpu|cuda
                      --gpu=N --seed=N (replaces the config's)]; resumes from the newest valid checkpoint in DIR;
                     SIGTERM/SIGINT checkpoint and exit 0; exit 65 on bad data, 66 when
                     the checkpoint cannot be loaded
  finetune           a GLUE or generic sentence(-pair) task: --task=SST-2 --data_dir=PATH/GLUE
                     --init=scratch|CHECKPOINT|HF_FOLDER --tokenizer=SPEC --run_dir=DIR
                     [--model_config (scratch) --max_seq_length=128 --batch_size=32
                      --learning_rate=2e-5 --epochs=3 --warmup_ratio=0.1 --seed
                      --eval_every_steps=N --recipe=albert: the paper's per-task settings]; writes eval_results.json (final and best on
                     dev) and predictions_dev.jsonl; resumes like train; --workers=N
                     [--ps=M]: as a job like launch (--batch_size per worker)
  evaluate           a checkpoint on a suite: --init=CHECKPOINT|RUN_DIR|HF_FOLDER --tokenizer=SPEC
                     --run_dir=DIR [--suite=glue|pos|squad|all --data_dir=GLUE --ud_dir
                      --squad_dir --tasks=CoLA,RTE --seeds=N --with_scratch --model_config
                      and finetune's hyperparameters]; every task present fine-tuned
                     over the seeds (and from scratch), then the table (GLUE score,
                     human-relative scores, seed statistics) in DIR/evaluation.json and
                     evaluation.md; resumes like finetune; --workers=N [--ps=M]: each
                     fine-tune as a job, as finetune --workers
  fill-mask TEXT...  the likeliest tokens at each [MASK] of TEXT (or of each stdin line):
                     --init=CHECKPOINT|RUN_DIR (pretraining) --tokenizer=SPEC [--top_k=5]
  probe              what checkpoints know (issue 13, "BERT embryology"): --init=CHECKPOINT|RUN_DIR[,...]
                     --tokenizer=SPEC --ud_dir=UD_EWT [--glue_dir=GLUE --run_dir=OUT --every=K
                      --probes=fill,reconstruction,upos,deprel,sst2 --max_sentences=500
                      --max_train_sentences=2000]; fill-in by word class and linear probes of
                     every layer, one line per checkpoint x probe x layer x class appended to
                     OUT/probes.jsonl (default OUT: the run folder); resumes without redoing
  predict            a fine-tuned run on a file in its task's format (GLUE TSV named after
                     a split, e.g. test.tsv; generic TSV/JSONL; CoNLL-U; SQuAD JSON):
                     --run_dir=FINETUNE_RUN --input=FILE [--output=FILE.jsonl
                      --checkpoint=DIR --batch_size=N]; one JSON line per example, as the
                     run's predictions files (SQuAD: predictions.json next to --output)
  launch             the whole distributed job on this machine: --config=TRAIN_CONFIG
                     --run_dir=DIR [--workers=N --ps=M --max_restarts=K --seed=N]; starts a
                     coordinator, M parameter servers and N workers (mpirun), restarts
                     what fails, shows one progress line; SIGTERM checkpoints and exits 0;
                     a member's permanent failure (exit 2, 65 bad data, 66 no usable
                     checkpoint, 73 run folder full or read-only) is not restarted: the
                     job stops and exits with it
  coordinator        the job's coordinator: --config --run_dir --listen=HOST:PORT
                     --job_token_file [--port_file --tls_cert --tls_key --metrics_address
                     --workers=N --ps=M: the job's size, over the config's]
  worker             one worker: --coordinator=HOST:PORT --job_token_file [--tls_ca];
                     N workers: mpirun -np N cloze worker ...; exit 75: restart me;
                     the seed is the job's (no --seed)
  ps                 a parameter server: --coordinator=HOST:PORT --job_token_file
                     [--listen --tls_cert --tls_key --tls_ca]
  report RUN_DIR     one self-contained HTML page (figures inline, no network) of the
                     pretraining, fine-tuning and evaluation runs under RUN_DIR: curves, the
                     evaluation table, scores against the human baseline, pretrained against
                     scratch [--output=FILE.html, default RUN_DIR/report.html]; prints its path
                     last; needs Python 3 with matplotlib (Debian: python3-matplotlib)
  verify PATH...     every checkpoint at PATH (a checkpoint folder, or every run below a
                     folder) against its manifest: sizes and SHA-256 of every file, a line
                     per checkpoint; exit 0 when all are valid, 65 naming the file and what
                     differs, 66 when there is none
  config CONFIG...   validate model configs (.textproto or Hugging Face config.json)
                     and print their sizes and parameter counts
  step CONFIG        run forward and backward passes of CONFIG on a synthetic batch
                     and print losses, gradient norm and timings
                     (--batch_size, --seq_len, --steps, --seed, --training)
  help               this text

)";

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  cloze::cli::ApplyThreadsFlagToCpuOps();
  // A member of a job cloze launch started (under mpirun too) stops when its parent dies.
  cloze::DieWithParentIfAsked();
  const std::string command = positional[1];
  const std::vector<std::string> args(positional.begin() + 2, positional.end());
  if (command == "config") return cloze::cli::RunConfigCommand(args);
  if (command == "step") return cloze::cli::RunStepCommand(args);
  if (command == "prepare") return cloze::cli::RunPrepareCommand(args);
  if (command == "inspect") return cloze::cli::RunInspectCommand(args);
  if (command == "task-text") return cloze::cli::RunTaskTextCommand(args);
  if (command == "train") return cloze::cli::RunTrainCommand(args);
  if (command == "finetune") return cloze::cli::RunFinetuneCommand(args);
  if (command == "evaluate") return cloze::cli::RunEvaluateCommand(args);
  if (command == "fill-mask") return cloze::cli::RunFillMaskCommand(args);
  if (command == "probe") return cloze::cli::RunProbeCommand(args);
  if (command == "predict") return cloze::cli::RunPredictCommand(args);
  if (command == "coordinator") return cloze::cli::RunCoordinatorCommand(args);
  if (command == "ps") return cloze::cli::RunPsCommand(args);
  if (command == "worker") return cloze::cli::RunWorkerCommand(args);
  if (command == "launch") return cloze::cli::RunLaunchCommand(args);
  if (command == "report") return cloze::cli::RunReportCommand(args);
  if (command == "verify") return cloze::cli::RunVerifyCommand(args);
  if (command == "help" || command == "--help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::fprintf(stderr, "cloze: unknown command \"%s\"\n\n%s", command.c_str(), kUsage);
  return 2;
}
