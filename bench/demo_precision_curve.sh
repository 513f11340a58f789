#!/usr/bin/env bash
# The demo's pretraining curve in fp32 against bf16 (issue 17): configs/train-demo.textproto
# pretrained for its 600 steps at each precision with several seeds, then a figure (loss
# against step, one colour per precision) and a markdown table of the final losses
# (bench/plot_precision_curve.py). Runs in the repository root wherever it is called from:
#
#   bench/demo_precision_curve.sh                         # 600 steps, seeds 1 2 3, fp32 and bf16
#   STEPS=3 SEEDS=1 OUT=/tmp/curve bench/demo_precision_curve.sh   # a smoke run
#
# Each run is `cloze train` in one process with the demo's global batch (its 2 workers × 8
# as one batch of 16) and the config's steps and schedule; only TrainConfig.seed (--seed)
# and TrainConfig.precision change. The losses do not depend on the machine's load, so the
# runs go at nice 19 with 1 thread each, JOBS at a time, on a shared machine.
#
# Environment:
#   DATA       the prepared demo dataset (default runs/demo/data; prepared here as deploy/demo.sh
#              does when missing)
#   OUT        where the runs, the figure and the table go (default runs/precision-curve);
#              running again resumes the runs there that stopped part way
#   STEPS      optimizer steps per run (default: the config's total_steps, 600)
#   SEEDS      seeds, space-separated (default "1 2 3")
#   PRECISIONS space-separated (default "fp32 bf16")
#   JOBS       runs at once (default 2; 6 runs them all side by side)
#   BUILD      0 skips `bazel build //cli:cloze` (default 1)
#   CLOZE      the binary (default bazel-bin/cli/cloze)
#
# Writes OUT/curve.png and OUT/table.md (also printed). Exits non-zero if a run fails or a
# bf16 run's matrix products ran in fp32 (a CPU without AVX512-BF16: the comparison would
# then be fp32 against fp32).
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
DATA=${DATA:-runs/demo/data}
OUT=${OUT:-runs/precision-curve}
SEEDS=${SEEDS:-"1 2 3"}
PRECISIONS=${PRECISIONS:-"fp32 bf16"}
JOBS=${JOBS:-2}
BUILD=${BUILD:-1}
CLOZE=${CLOZE:-bazel-bin/cli/cloze}
BASE_CONFIG=configs/train-demo.textproto
STEPS=${STEPS:-$(sed -n 's/^total_steps: *\([0-9]*\).*/\1/p' "$BASE_CONFIG")}

if [[ "$BUILD" != 0 ]]; then
  bazel build //cli:cloze >&2
fi

if [[ ! -d "$DATA" ]]; then  # as deploy/demo.sh prepares it
  echo "== preparing corpus/demo into $DATA" >&2
  rm -rf "$DATA.partial"
  "$CLOZE" prepare --input=corpus/demo --output="$DATA.partial" --tokenizer=spm-train:8000 \
    --max_seq_length=128 --max_predictions_per_seq=20 --shards=4 >&2
  mv "$DATA.partial" "$DATA"
fi

mkdir -p "$OUT"
# The demo config as one process: the global batch in one batch, 1 worker, STEPS steps
# (a warmup longer than a smoke run's steps is cut to fit), the precision appended.
write_config() {  # write_config PRECISION FILE
  local precision=${1^^}
  local warmup
  warmup=$(sed -n 's/^ *warmup_steps: *\([0-9]*\).*/\1/p' "$BASE_CONFIG")
  ((warmup < STEPS)) || warmup=$((STEPS - 1))
  sed -e "s|^dataset: .*|dataset: \"$(realpath "$DATA")\"|" \
    -e 's|^batch_size: 8 |batch_size: 16 |' \
    -e "s|^total_steps: .*|total_steps: $STEPS|" \
    -e "s|^\( *warmup_steps:\) .*|\1 $warmup|" \
    -e 's|^\( *workers:\) .*|\1 1|' \
    -e '/^precision:/d' "$BASE_CONFIG" >"$2"
  echo "precision: $precision" >>"$2"
  grep -q '^batch_size: 16 ' "$2" || { echo "demo_precision_curve.sh: $BASE_CONFIG has no 'batch_size: 8'" >&2; exit 1; }
}

run_one() {  # run_one PRECISION SEED
  local dir="$OUT/$1-seed$2"
  mkdir -p "$dir"
  write_config "$1" "$dir/config.textproto"
  echo "== $dir: cloze train, $STEPS steps, $1, seed $2" >&2
  # A run stopped part way (SIGTERM checkpoints) resumes from its last checkpoint with the
  # same losses (bit for bit at one precision and thread count); a complete one ends at once.
  if ! OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE nice -n 19 "$CLOZE" train --config="$dir/config.textproto" \
      --run_dir="$dir/train" --seed="$2" --threads=1 --metrics_address= >>"$dir/train.log" 2>&1; then
    tail -n 20 "$dir/train.log" >&2
    echo "demo_precision_curve.sh: $dir failed (log: $dir/train.log)" >&2
    return 1
  fi
  local last
  last=$(tail -n 1 "$dir/train/metrics.jsonl" | sed -n 's/^{"step": \([0-9]*\),.*/\1/p')
  if [[ "$last" != "$STEPS" ]]; then
    echo "demo_precision_curve.sh: $dir stopped at step ${last:-?} of $STEPS; run again to resume" >&2
    return 1
  fi
}
export -f run_one write_config
export OUT DATA STEPS CLOZE BASE_CONFIG

for precision in $PRECISIONS; do
  for seed in $SEEDS; do echo "$precision $seed"; done
done | xargs -P "$JOBS" -L 1 bash -c 'run_one "$0" "$1"'

runs=()
for precision in $PRECISIONS; do
  for seed in $SEEDS; do runs+=("$precision:$seed:$OUT/$precision-seed$seed/train/metrics.jsonl"); done
done
/usr/bin/python3 bench/plot_precision_curve.py --figure="$OUT/curve.png" --table="$OUT/table.md" "${runs[@]}"
cat "$OUT/table.md"
