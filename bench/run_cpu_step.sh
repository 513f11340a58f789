#!/usr/bin/env bash
# CPU forward+backward of one batch: cloze (bench/cpu_step_bench.cc) against PyTorch with
# Hugging Face's model (bench/torch_step.py), at each thread count, and a markdown table
# of the medians. Runs in the repository root wherever it is called from:
#
#   bench/run_cpu_step.sh                       # ALBERT-base, 1 and 2 threads, 3 + 10 steps
#   WARMUP=1 STEPS=3 THREADS="2" bench/run_cpu_step.sh
#   CONFIGS="configs/albert-base.textproto configs/bert-base.textproto" bench/run_cpu_step.sh
#   TORCH=0 PRECISIONS=bf16 bench/run_cpu_step.sh   # cloze only (no PyTorch here), bf16
#
# Environment:
#   CONFIGS    model configs, space-separated (default configs/albert-base.textproto)
#   THREADS    thread counts, space-separated (default "1 2"); each run gets
#              OMP_NUM_THREADS=<n>, and torch_step.py calls torch.set_num_threads(<n>)
#   WARMUP     untimed steps per run (default 3)
#   STEPS      timed steps per run (default 10)
#   PRECISIONS precisions, space-separated (default "fp32 bf16"): cloze's --precision (bf16:
#              bf16 matrix products through oneDNN) against PyTorch's (bf16: torch.autocast)
#   TORCH      0 skips PyTorch (the torch columns are then "-") (default 1)
#   EXTRA      extra flags for both programs, e.g. "--batch_size=16"
#   JSONL      file to append every run's JSON line to (default: none)
#   BUILD      0 skips `bazel build //bench:cpu_step_bench` (default 1)
#
# Speedup = torch median / cloze median at the same precision, so above 1 means cloze is faster. Exits non-zero
# if a run fails or the two programs did not time the same batch (checksums differ).
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
CONFIGS=${CONFIGS:-configs/albert-base.textproto}
THREADS=${THREADS:-"1 2"}
WARMUP=${WARMUP:-3}
STEPS=${STEPS:-10}
PRECISIONS=${PRECISIONS:-"fp32 bf16"}
TORCH=${TORCH:-1}
EXTRA=${EXTRA:-}
JSONL=${JSONL:-}
BUILD=${BUILD:-1}

if [[ "$BUILD" != 0 ]]; then
  bazel build //bench:cpu_step_bench >&2
fi
BENCH=bazel-bin/bench/cpu_step_bench

# Runs one program; its full output goes to stderr, its JSON line to stdout.
run() {
  local threads=$1
  shift
  local output
  if ! output=$(OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads "$@" --warmup="$WARMUP" --steps="$STEPS" $EXTRA); then
    echo "$output" >&2
    echo "run_cpu_step.sh: failed: $*" >&2
    exit 1
  fi
  echo "$output" >&2
  local json
  json=$(grep '^{' <<<"$output" | tail -n 1 || true)
  [[ -n "$json" ]] || { echo "run_cpu_step.sh: no JSON line from $*" >&2; exit 1; }
  [[ -z "$JSONL" ]] || echo "$json" >>"$JSONL"
  echo "$json"
}

# field JSON KEY
field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

rows=()
for config in $CONFIGS; do
  for threads in $THREADS; do
    for precision in $PRECISIONS; do
      echo "== $config, $threads thread(s), $precision" >&2
      cloze=$(run "$threads" "$BENCH" --config="$config" --precision="$precision")
      full='{}'
      masked='{}'
      if [[ "$TORCH" != 0 ]]; then
        full=$(run "$threads" python3 bench/torch_step.py --config="$config" --mlm_head=full --precision="$precision")
        masked=$(run "$threads" python3 bench/torch_step.py --config="$config" --mlm_head=masked --precision="$precision")
        sum=$(field "$cloze" batch_checksum)
        for other in "$full" "$masked"; do
          if [[ "$(field "$other" batch_checksum)" != "$sum" ]]; then
            echo "run_cpu_step.sh: batch checksums differ for $config; the batch recipes have drifted" >&2
            exit 1
          fi
        done
      fi
      rows+=("$(python3 - "$config" "$threads" "$precision" "$cloze" "$full" "$masked" <<'EOF'
import json, sys
config, threads, precision = sys.argv[1:4]
cloze, full, masked = (json.loads(a) for a in sys.argv[4:7])
c = cloze["median_ms"]
f, m = full.get("median_ms"), masked.get("median_ms")
ms = lambda x: "-" if x is None else f"{x:.1f}"
speedup = lambda x: "-" if x is None else f"{x / c:.2f}x"
print(f"| {config} | {threads} | {precision} | {c:.1f} | {ms(f)} | {ms(m)} | {speedup(f)} | {speedup(m)} |")
EOF
)")
    done
  done
done

b=$(field "$cloze" batch_size)
t=$(field "$cloze" seq_len)
p=$(field "$cloze" masked_predictions)
echo
echo "Batch ${b} x ${t}, ${p} masked predictions; ${WARMUP} warmup + ${STEPS} timed steps; median ms per step."
echo "Speedup = torch / cloze (above 1: cloze faster)."
echo
echo "| config | threads | precision | cloze ms | torch ms (full head) | torch ms (masked head) | speedup vs full | speedup vs masked |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
