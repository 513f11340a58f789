#!/usr/bin/env bash
# bench/plot_precision_curve.py on small metrics.jsonl files written here: the final loss is
# the mean of the last 50 steps, the table's spread verdict, the figure is written, and a
# run whose lines say another precision ran (a bf16 run that fell back to fp32) is refused, and
# so are runs of different lengths.
set -uo pipefail
plot="/usr/bin/python3 bench/plot_precision_curve.py"
work=$TEST_TMPDIR
export MPLCONFIGDIR=$work/matplotlib  # quiet: the home directory is not writable in the sandbox
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# run FILE PRECISION FINAL: 100 steps, loss 10 for the first 50 and FINAL for the last 50.
run() {
  for step in $(seq 1 100); do
    loss=10
    ((step > 50)) && loss=$3
    echo "{\"step\": $step, \"loss\": $loss, \"precision\": \"$2\"}"
  done >"$1"
}
run "$work/f1" fp32 6.0
run "$work/f2" fp32 6.2
run "$work/b1" bf16 6.1
run "$work/b2" bf16 6.1
$plot --figure="$work/curve.png" --table="$work/table.md" fp32:1:"$work/f1" fp32:2:"$work/f2" bf16:1:"$work/b1" \
  bf16:2:"$work/b2" || fail "plot failed"
[ -s "$work/curve.png" ] || fail "no figure"
grep -q '| fp32 | 2 | 6.2000 |' "$work/table.md" || fail "final loss: $(cat "$work/table.md")"
grep -q '| fp32 | 2 | 6.1000 ± 0.1414 | 6.0000 – 6.2000 |' "$work/table.md" || fail "mean ± std: $(cat "$work/table.md")"
grep -q 'bf16 mean 6.1000 is within the fp32 seeds' "$work/table.md" || fail "verdict: $(cat "$work/table.md")"
grep -q 'bf16 − fp32 final loss, same seed: seed 1 +0.1000, seed 2 -0.1000.' "$work/table.md" ||
  fail "paired differences: $(cat "$work/table.md")"

run "$work/b3" bf16 6.3
$plot --figure="$work/curve.png" --table="$work/table.md" fp32:1:"$work/f1" fp32:2:"$work/f2" bf16:1:"$work/b3" ||
  fail "plot failed"
grep -q 'bf16 mean 6.3000 is OUTSIDE' "$work/table.md" || fail "outside verdict: $(cat "$work/table.md")"

run "$work/fallback" fp32 6.1
log=$($plot --figure="$work/x.png" --table="$work/x.md" fp32:1:"$work/f1" bf16:1:"$work/fallback" 2>&1) &&
  fail "a bf16 run that ran in fp32 was accepted"
grep -q "fallback:1: precision 'fp32', but this run is 'bf16'" <<<"$log" || fail "refusal message: $log"

head -n 60 "$work/f2" >"$work/short"
log=$($plot --figure="$work/x.png" --table="$work/x.md" fp32:1:"$work/f1" fp32:2:"$work/short" 2>&1) &&
  fail "runs of different lengths were compared"
grep -q "runs end at different steps" <<<"$log" || fail "different lengths message: $log"

[ "$failures" -eq 0 ] && echo PASS
exit $((failures > 0))
