#!/usr/bin/env bash
# The cost of probing (issue 13): seconds to probe one checkpoint of ALBERT-tiny and of
# ALBERT-base, and how much `cloze train` slows down while `cloze probe --follow` runs beside
# it on the same machine. Run it on an idle machine; it runs in the repository root wherever
# it is called from:
#
#   bench/probe_cost.sh                       # the figures: 2 threads, default probes and sizes
#   bench/probe_cost.sh --models=tiny --train_model=tiny --steps=6 --checkpoint_every=2 \
#     --max_sentences=12 --max_train_sentences=40 --build=0          # a quick check that it runs
#
# Flags (defaults in brackets):
#   --threads=N [2]            threads of the probe timed alone and of the training
#   --probe_threads=N [1]      threads of the prober beside training (a probe {} block's default)
#   --models=LIST [tiny,base]  the models (configs/albert-<name>.textproto) whose checkpoint is probed
#   --train_model=NAME [base]  the model trained alone and with the prober beside it
#   --steps=N [40]             training steps of each of those two runs
#   --checkpoint_every=N [5]   their checkpoint interval: what the prober probes
#   --batch_size=N [8], --seq_len=N [128]   the training batches
#   --max_sentences=N, --max_train_sentences=N   passed to cloze probe [its defaults: 500, 2000]
#   --build=0|1 [1]            bazel build --config=cpu //cli:cloze first
#   --keep=DIR                 keep the run folders and logs in DIR
# Environment: SHARED [../shared/data], the shared data folder; CLOZE [bazel-bin/cli/cloze].
#
# What is measured:
# - probe seconds: the wall clock of `cloze probe --init=CHECKPOINT` with the default probes
#   (fill, reconstruction, upos, deprel, sst2) on UD English-EWT and SST-2 from shared data,
#   data loading and tokenizing included, and each probe's own seconds (probes.jsonl). The
#   checkpoint is a 1-step pretraining from scratch: the cost does not depend on what the
#   weights learned.
# - training slowdown: tokens/s of `cloze train` (sum of the steps' tokens over the sum of
#   their seconds, metrics.jsonl) over the steps after the first checkpoint, alone and with
#   `cloze probe --follow` started beside it at the same time (it loads its data, then probes
#   each checkpoint as it comes; it is killed when training ends). The checkpoints it finished
#   while training ran are counted: if it finished all of them it sat idle part of the time,
#   and the slowdown understates a prober that is always busy (raise --steps).
# Prints markdown tables. Results go to bench/RESULTS.md by hand, with the command, machine
# and date.
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
THREADS=2
PROBE_THREADS=1
MODELS=tiny,base
TRAIN_MODEL=base
STEPS=40
CHECKPOINT_EVERY=5
BATCH=8
SEQ_LEN=128
PROBE_SIZES=()
BUILD=1
KEEP=
for arg in "$@"; do
  case $arg in
    --threads=*) THREADS=${arg#*=} ;;
    --probe_threads=*) PROBE_THREADS=${arg#*=} ;;
    --models=*) MODELS=${arg#*=} ;;
    --train_model=*) TRAIN_MODEL=${arg#*=} ;;
    --steps=*) STEPS=${arg#*=} ;;
    --checkpoint_every=*) CHECKPOINT_EVERY=${arg#*=} ;;
    --batch_size=*) BATCH=${arg#*=} ;;
    --seq_len=*) SEQ_LEN=${arg#*=} ;;
    --max_sentences=* | --max_train_sentences=*) PROBE_SIZES+=("$arg") ;;
    --build=*) BUILD=${arg#*=} ;;
    --keep=*) KEEP=${arg#*=} ;;
    *) echo "probe_cost.sh: unknown argument $arg (see the comment at the top)" >&2; exit 2 ;;
  esac
done
for flag in "threads=$THREADS" "probe_threads=$PROBE_THREADS" "steps=$STEPS" "checkpoint_every=$CHECKPOINT_EVERY" \
  "batch_size=$BATCH" "seq_len=$SEQ_LEN" "${PROBE_SIZES[@]/#--/}"; do
  [[ "${flag#*=}" =~ ^[1-9][0-9]*$ ]] || { echo "probe_cost.sh: --$flag: want a positive whole number" >&2; exit 2; }
done
(( CHECKPOINT_EVERY < STEPS )) ||
  { echo "probe_cost.sh: --checkpoint_every must be below --steps (the slowdown is read after the first)" >&2; exit 2; }
IFS=, read -ra MODEL_LIST <<<"$MODELS"
for model in "${MODEL_LIST[@]}" "$TRAIN_MODEL"; do
  [[ -f "configs/albert-$model.textproto" ]] ||
    { echo "probe_cost.sh: no configs/albert-$model.textproto (--models, --train_model)" >&2; exit 2; }
done

SHARED=${SHARED:-../shared/data}
SPIECE=$SHARED/vocab/albert-base-v2-spiece.model
[[ -f "$SPIECE" && -d "$SHARED/ud-english-ewt" && -f "$SHARED/glue/SST-2/dev.tsv" ]] ||
  { echo "probe_cost.sh: no $SPIECE, $SHARED/ud-english-ewt or $SHARED/glue/SST-2; set SHARED" >&2; exit 2; }
if [[ "$BUILD" != 0 ]]; then
  bazel build --config=cpu //cli:cloze >&2
fi
cloze=${CLOZE:-bazel-bin/cli/cloze}
WORK=$(mktemp -d)
PROBER=
cleanup() {
  if [[ -n "$PROBER" ]]; then kill -9 "$PROBER" 2>/dev/null || true; fi
  if [[ -n "$KEEP" ]]; then mkdir -p "$KEEP" && cp -r "$WORK"/. "$KEEP"/; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
probe_flags=(--tokenizer="spm-albert:$SPIECE" --ud_dir="$SHARED/ud-english-ewt" --glue_dir="$SHARED/glue"
  --max_seq_length="$SEQ_LEN" "${PROBE_SIZES[@]}")
now() { date +%s.%N; }

echo "== preparing Frankenstein (corpus/demo) with ALBERT's SentencePiece model, sequences of $SEQ_LEN" >&2
$cloze prepare --input=corpus/demo/frankenstein.txt --output="$WORK/data" --tokenizer="spm-albert:$SPIECE" \
  --max_seq_length="$SEQ_LEN" --max_predictions_per_seq=20 --shards=1 --threads="$THREADS" >"$WORK/prepare.log" 2>&1 ||
  { cat "$WORK/prepare.log" >&2; exit 1; }

# config MODEL STEPS CHECKPOINT_EVERY: a pretraining config of configs/albert-MODEL.textproto.
config() {
  echo "model {"
  grep -v '^#' "configs/albert-$1.textproto"
  cat <<CONFIG
}
dataset: "$WORK/data"
batch_size: $BATCH
seq_len: $SEQ_LEN
max_predictions_per_seq: 20
total_steps: $2
log_every_steps: 1
optimizer { kind: LAMB learning_rate: 0.001 }
schedule { warmup_steps: 1 }
checkpoint { every_steps: $3 keep_last: 1000 }
CONFIG
}

# train NAME MODEL STEPS CHECKPOINT_EVERY: a run in $WORK/NAME.
train() {
  config "$2" "$3" "$4" >"$WORK/$1.textproto"
  $cloze train --config="$WORK/$1.textproto" --run_dir="$WORK/$1" --threads="$THREADS" --metrics_address= \
    >"$WORK/$1.log" 2>&1 || { tail -5 "$WORK/$1.log" >&2; echo "probe_cost.sh: training $1 failed" >&2; exit 1; }
}

echo "| model | threads | probe one checkpoint (s) | fill | reconstruction | upos | deprel | sst2 |" >"$WORK/probe_table.md"
echo "|---|---|---|---|---|---|---|---|" >>"$WORK/probe_table.md"
for model in "${MODEL_LIST[@]}"; do
  echo "== ALBERT-$model: a 1-step checkpoint, probed with $THREADS thread(s)" >&2
  train "one-$model" "$model" 1 1
  start=$(now)
  $cloze probe --init="$WORK/one-$model/checkpoints/step-000000001" --run_dir="$WORK/probed-$model" \
    --threads="$THREADS" "${probe_flags[@]}" >"$WORK/probe-$model.log" 2>&1 ||
    { tail -5 "$WORK/probe-$model.log" >&2; echo "probe_cost.sh: probing ALBERT-$model failed" >&2; exit 1; }
  end=$(now)
  python3 - "$WORK/probed-$model/probes.jsonl" "$model" "$THREADS" "$(echo "$end - $start" | bc -l)" \
    >>"$WORK/probe_table.md" <<'EOF'
import json, sys
path, model, threads, wall = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
seconds = {}
for line in open(path, encoding="utf-8"):
    record = json.loads(line)
    seconds[record["probe"]] = record["seconds"]
cells = " | ".join("%.1f" % seconds[p] if p in seconds else "-" for p in ("fill", "reconstruction", "upos", "deprel", "sst2"))
print(f"| ALBERT-{model} | {threads} | {wall:.1f} | {cells} |")
EOF
done

echo "== ALBERT-$TRAIN_MODEL: $STEPS training steps alone, $THREADS thread(s)" >&2
train alone "$TRAIN_MODEL" "$STEPS" "$CHECKPOINT_EVERY"
echo "== the same beside cloze probe --follow ($PROBE_THREADS thread(s))" >&2
mkdir -p "$WORK/beside"
$cloze probe --follow="$WORK/beside" --threads="$PROBE_THREADS" --poll_seconds=1 "${probe_flags[@]}" \
  >"$WORK/prober.log" 2>&1 &
PROBER=$!
train beside "$TRAIN_MODEL" "$STEPS" "$CHECKPOINT_EVERY"
kill -0 "$PROBER" 2>/dev/null ||
  { tail -5 "$WORK/prober.log" >&2; echo "probe_cost.sh: the prober ended before training did" >&2; exit 1; }
kill -9 "$PROBER" 2>/dev/null || true
wait "$PROBER" 2>/dev/null || true
PROBER=

python3 - "$WORK/alone/metrics.jsonl" "$WORK/beside/metrics.jsonl" "$WORK/beside/probes.jsonl" "$CHECKPOINT_EVERY" \
  "$STEPS" "$TRAIN_MODEL" "$THREADS" "$PROBE_THREADS" >"$WORK/train_table.md" <<'EOF'
import json, os, sys
alone, beside, probes = sys.argv[1:4]
first, steps = int(sys.argv[4]), int(sys.argv[5])
model, threads, probe_threads = sys.argv[6:]

def rate(path):
    records = [json.loads(l) for l in open(path, encoding="utf-8")]
    timed = [r for r in records if "tokens" in r and "seconds" in r and r["step"] > first]
    if len(timed) != steps - first:
        sys.exit(f"probe_cost.sh: {path} has {len(timed)} steps after step {first}, want {steps - first}")
    return sum(r["tokens"] for r in timed) / sum(r["seconds"] for r in timed)

done = set()
if os.path.exists(probes):
    done = {json.loads(l)["step"] for l in open(probes, encoding="utf-8") if l.strip()}
a, b = rate(alone), rate(beside)
print(f"| ALBERT-{model} | {threads} | {probe_threads} | steps {first + 1}-{steps} | {a:.0f} | {b:.0f} | "
      f"{(1 - b / a) * 100:.1f}% | {len(done)} of {steps // first} |")
EOF

echo
echo "Probing one checkpoint (the default probes; ${PROBE_SIZES[*]:-the default sentence counts}; $(nproc) CPUs):"
echo
cat "$WORK/probe_table.md"
echo
echo "Training beside the prober (batch $BATCH x $SEQ_LEN, a checkpoint every $CHECKPOINT_EVERY steps):"
echo
echo "| training | threads | prober threads | measured | tokens/s alone | tokens/s beside the prober | slowdown | checkpoints the prober finished meanwhile |"
echo "|---|---|---|---|---|---|---|---|"
cat "$WORK/train_table.md"
