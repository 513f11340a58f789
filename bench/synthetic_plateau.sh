#!/usr/bin/env bash
# Issue 12's plateau on data where context decides everything: sentences that count
# ("Three four five six seven."), so every masked word is fixed by its neighbours and a model
# that reads its context reaches MLM accuracy near 1, one that does not stays at the unigram
# level (~0.1). Pretrains ALBERT-tiny (the demo's model, a 60-piece vocabulary) on it with
# the demo's optimizer, or the one given, and prints the MLM accuracy every 25 steps. A
# minute or two per 300 steps on 2 cores: a cheap place to look for settings that leave the
# plateau sooner. bench/synthetic_plateau_hf.py trains Hugging Face's AlbertForMaskedLM of the
# same size on the same tokens (the independent reference).
#
#   bash bench/synthetic_plateau.sh [--steps=300] [--optimizer=LAMB|ADAMW] [--learning_rate=0.005]
#                                   [--threads=2] [--build=1]   env: WORK=/tmp/synthetic-plateau
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=300 OPTIMIZER=LAMB LR=0.005 THREADS=2 BUILD=1
for arg in "$@"; do
  case "$arg" in
    --steps=*) STEPS=${arg#*=} ;;
    --optimizer=*) OPTIMIZER=${arg#*=} ;;
    --learning_rate=*) LR=${arg#*=} ;;
    --threads=*) THREADS=${arg#*=} ;;
    --build=*) BUILD=${arg#*=} ;;
    *) echo "usage: bash bench/synthetic_plateau.sh [--steps=N] [--optimizer=LAMB|ADAMW] [--learning_rate=X] [--threads=N] [--build=0|1]" >&2
       exit 2 ;;
  esac
done
WORK=${WORK:-/tmp/synthetic-plateau}
[ "$BUILD" = 1 ] && bazel build //cli:cloze
C=bazel-bin/cli/cloze

if [ ! -d "$WORK/data" ]; then
  mkdir -p "$WORK/corpus"
  python3 - "$WORK/corpus/count.txt" <<'PY'
import random, sys
words = ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen twenty").split()
rng = random.Random(1)
with open(sys.argv[1], "w") as f:
    for document in range(400):  # documents of 12 sentences, each 6-10 numbers in order
        for sentence in range(12):
            start, length = rng.randrange(0, 10), rng.randrange(6, 11)
            f.write(" ".join(words[start:start + length]).capitalize() + ".\n")
        f.write("\n")
PY
  $C prepare --input="$WORK/corpus" --output="$WORK/data" --tokenizer=spm-train:60 \
    --max_seq_length=64 --max_predictions_per_seq=10 --shards=1 | tail -3
fi

run="$WORK/run-$OPTIMIZER-$LR-$STEPS"
rm -rf "$run"
# The demo's model and schedule (20% warmup, linear decay), on this data.
sed -e 's/vocab_size: 8000.*/vocab_size: 60/' -e "s|^dataset: .*|dataset: \"$WORK/data\"|" \
    -e 's/^seq_len: 128/seq_len: 64/' -e 's/^max_predictions_per_seq: 20/max_predictions_per_seq: 10/' \
    -e "s/^total_steps: .*/total_steps: $STEPS/" -e 's/^batch_size: .*/batch_size: 16/' \
    -e "s/^  warmup_steps: .*/  warmup_steps: $((STEPS / 5))/" -e "s/^  kind: .*/  kind: $OPTIMIZER/" \
    -e "s/^  learning_rate: .*/  learning_rate: $LR/" -e '/^precision:/d' configs/train-demo.textproto |
  sed '/^distributed {/,/^}/d' >"$WORK/train.textproto"
# The edits above match train-demo.textproto's lines; say so if one of them no longer does.
for expected in "vocab_size: 60" "dataset: \"$WORK/data\"" "seq_len: 64" "max_predictions_per_seq: 10" \
    "total_steps: $STEPS" "batch_size: 16" "kind: $OPTIMIZER" "learning_rate: $LR"; do
  grep -qF "$expected" "$WORK/train.textproto" ||
    { echo "synthetic_plateau.sh: configs/train-demo.textproto changed: no '$expected' in $WORK/train.textproto" >&2; exit 1; }
done
$C train --config="$WORK/train.textproto" --run_dir="$run" --threads="$THREADS" --metrics_address= >"$run.log" 2>&1 ||
  { tail -5 "$run.log"; exit 1; }
python3 - "$run/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if '"mlm_acc"' in line]
print("steps      MLM loss  MLM accuracy (means over 25 steps)")
for i in range(0, len(rows), 25):
    chunk = rows[i:i + 25]
    mean = lambda key: sum(r[key] for r in chunk) / len(chunk)
    print(f"{chunk[0]['step']:>4}-{chunk[-1]['step']:<4}  {mean('mlm_loss'):8.3f}  {mean('mlm_acc'):8.3f}")
PY
$C fill-mask --init="$run" --tokenizer="spm:$WORK/data/tokenizer.model" --top_k=3 "One two three [MASK] five six seven." |
  tail -4
