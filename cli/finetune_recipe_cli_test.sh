#!/usr/bin/env bash
# cloze finetune --recipe=albert: the ALBERT paper's per-task settings fill in what the command
# line leaves unsaid (RTE: lr 3e-5, batch 32, 800 steps, warm-up 200, dropout 0.1; MRPC: dropout
# 0), explicit flags win, and an unknown recipe exits 2 naming it. One step of the micro-ALBERT
# each: the test reads the run's saved config.
set -uo pipefail
source cli/testing/common.sh
require_spm

base=(--data_dir=cli/testdata/finetune --init=scratch --tokenizer=spm-albert:$spm
  --model_config=cli/testdata/finetune/albert-micro.textproto --max_seq_length=64 --stop_after_step=1 --seed=1)
config_of() { cat "$1/train_config.pb.txt"; }
want() {  # want RUN_DIR LABEL PATTERN...: every PATTERN is a line of the run's saved config
  local run=$1 label=$2
  shift 2
  for pattern in "$@"; do
    grep -Eq "^ *$pattern\$" <(config_of "$run") || fail "$label: no '$pattern' in $(config_of "$run")"
  done
}

$cloze finetune --task=RTE "${base[@]}" --recipe=albert --run_dir="$work/rte" >"$work/rte.log" 2>&1 ||
  fail "RTE with the recipe: $(cat "$work/rte.log")"
want "$work/rte" "RTE recipe" "batch_size: 32" "total_steps: 800" "warmup_steps: 200" "learning_rate: 3e-05" \
  "hidden_dropout_prob: 0.1" "attention_probs_dropout_prob: 0.1" "classifier_dropout_prob: 0.1" "seq_len: 64"

# Explicit flags win: the learning rate, the batch and the length in epochs (64 lines / 16 = 4 steps,
# so the recipe's 200 warm-up steps are cut to 3).
$cloze finetune --task=RTE "${base[@]}" --recipe=albert --learning_rate=1e-3 --batch_size=16 --epochs=1 \
  --run_dir="$work/rte_flags" >"$work/rte_flags.log" 2>&1 || fail "RTE with flags: $(cat "$work/rte_flags.log")"
want "$work/rte_flags" "explicit flags" "batch_size: 16" "total_steps: 4" "warmup_steps: 3" "learning_rate: 0.001"

# MRPC's ALBERT setting has no encoder dropout: the micro config's 0.1 is replaced.
mkdir -p "$work/glue/MRPC"
python3 - "$work/glue/MRPC" <<'PY'
import sys
rows = ["Quality\t#1 ID\t#2 ID\t#1 String\t#2 String"]
rows += [f"{i % 2}\t{i}\t{i + 100}\tThe cat sat on mat number {i}.\tA cat sat on mat {i}." for i in range(16)]
for split in ("train", "dev"):
    open(f"{sys.argv[1]}/{split}.tsv", "w").write("\n".join(rows) + "\n")
PY
$cloze finetune --task=MRPC "${base[@]}" --data_dir="$work/glue" --recipe=albert --run_dir="$work/mrpc" \
  >"$work/mrpc.log" 2>&1 || fail "MRPC with the recipe: $(cat "$work/mrpc.log")"
want "$work/mrpc" "MRPC recipe" "total_steps: 800" "learning_rate: 2e-05"
grep -q "hidden_dropout_prob: 0.1" <(config_of "$work/mrpc") && fail "MRPC kept the encoder dropout"

log=$($cloze finetune --task=RTE "${base[@]}" --recipe=roberta --run_dir="$work/bad" 2>&1)
[ $? -eq 2 ] && grep -q "roberta" <<<"$log" && grep -q "albert" <<<"$log" || fail "unknown recipe: $log"
[ ! -e "$work/bad" ] || fail "an unknown recipe created the run directory"

[ $failures -eq 0 ] && echo PASS || exit 1
