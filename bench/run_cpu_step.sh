#!/usr/bin/env bash
# CPU forward+backward of one batch: cloze (bench/cpu_step_bench.cc) against PyTorch with
# Hugging Face's model (bench/torch_step.py), at each thread count, and a markdown table
# of the medians. Runs in the repository root wherever it is called from:
#
#   bench/run_cpu_step.sh                       # ALBERT-base, 1 and 2 threads, 3 + 10 steps
#   WARMUP=1 STEPS=3 THREADS="2" bench/run_cpu_step.sh
#   CONFIGS="configs/albert-base.textproto configs/bert-base.textproto" bench/run_cpu_step.sh
#
# Environment:
#   CONFIGS    model configs, space-separated (default configs/albert-base.textproto)
#   THREADS    thread counts, space-separated (default "1 2"); each run gets
#              OMP_NUM_THREADS=<n>, and torch_step.py calls torch.set_num_threads(<n>)
#   WARMUP     untimed steps per run (default 3)
#   STEPS      timed steps per run (default 10)
#   EXTRA      extra flags for both programs, e.g. "--batch_size=16"
#   JSONL      file to append every run's JSON line to (default: none)
#   BUILD      0 skips `bazel build //bench:cpu_step_bench` (default 1)
#
# Speedup = torch median / cloze median, so above 1 means cloze is faster. Exits non-zero
# if a run fails or the two programs did not time the same batch (checksums differ).
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
CONFIGS=${CONFIGS:-configs/albert-base.textproto}
THREADS=${THREADS:-"1 2"}
WARMUP=${WARMUP:-3}
STEPS=${STEPS:-10}
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
    echo "== $config, $threads thread(s)" >&2
    cloze=$(run "$threads" "$BENCH" --config="$config")
    full=$(run "$threads" python3 bench/torch_step.py --config="$config" --mlm_head=full)
    masked=$(run "$threads" python3 bench/torch_step.py --config="$config" --mlm_head=masked)
    sum=$(field "$cloze" batch_checksum)
    for other in "$full" "$masked"; do
      if [[ "$(field "$other" batch_checksum)" != "$sum" ]]; then
        echo "run_cpu_step.sh: batch checksums differ for $config; the batch recipes have drifted" >&2
        exit 1
      fi
    done
    rows+=("$(python3 - "$config" "$threads" "$cloze" "$full" "$masked" <<'EOF'
import json, sys
config, threads = sys.argv[1], sys.argv[2]
cloze, full, masked = (json.loads(a) for a in sys.argv[3:6])
c, f, m = cloze["median_ms"], full["median_ms"], masked["median_ms"]
print(f"| {config} | {threads} | {c:.1f} | {f:.1f} | {m:.1f} | {f / c:.2f}x | {m / c:.2f}x |")
EOF
)")
  done
done

b=$(field "$cloze" batch_size)
t=$(field "$cloze" seq_len)
p=$(field "$cloze" masked_predictions)
echo
echo "Batch ${b} x ${t}, ${p} masked predictions; ${WARMUP} warmup + ${STEPS} timed steps; median ms per step."
echo "Speedup = torch / cloze (above 1: cloze faster)."
echo
echo "| config | threads | cloze ms | torch ms (full head) | torch ms (masked head) | speedup vs full | speedup vs masked |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
