#!/usr/bin/env bash
# cloze finetune --seeds=2 end to end on the RTE slice and micro ALBERT of finetune_cli_test
# (16 steps a seed, at a learning rate where the seeds' best dev accuracies differ): both seeds' run folders, seeds_summary.json whose statistics agree with
# the per-seed eval_results.json, a rerun that trains nothing, a seed resumed after an
# interruption, and --seeds=1 unchanged (no seed-K folder).
set -uo pipefail
source cli/testing/common.sh
require_spm

flags=(--task=RTE --data_dir=cli/testdata/finetune "${micro_rte[@]}"
  --learning_rate=1e-4 --epochs=2 --eval_every_steps=8 --checkpoint_every_steps=8 --seed=3)
finetune() {  # finetune RUN_DIR [EXTRA FLAGS...]
  local run=$1
  shift
  $cloze finetune "${flags[@]}" --run_dir="$run" "$@"
}

log=$(finetune "$work/bad" --seeds=0 2>&1)
[ $? -eq 2 ] && grep -q -- "--seeds" <<<"$log" || fail "--seeds=0: $log"

finetune "$work/seeds" --seeds=2 >"$work/seeds1.log" 2>&1 || fail "--seeds=2: $(cat "$work/seeds1.log")"
grep -q "final accuracy" "$work/seeds1.log" || fail "no summary table: $(cat "$work/seeds1.log")"
python3 - "$work/seeds" <<'PY' || fail "seeds_summary.json disagrees with the seeds' runs"
import json, math, statistics, sys
run = sys.argv[1]
per_seed = [json.load(open(f"{run}/seed-{k}/eval_results.json")) for k in (3, 4)]
assert all(r["finished"] and r["final"]["step"] == 16 for r in per_seed), per_seed
s = json.load(open(run + "/seeds_summary.json"))
assert s["task"] == "RTE" and s["primary_metric"] == "accuracy" and s["seeds"] == [3, 4], s
for kind in ("final", "best"):
    values = [r[kind]["accuracy"] for r in per_seed]
    m = s[kind]["metrics"]["accuracy"]
    assert m["values"] == values, (kind, m, values)
    assert math.isclose(m["mean"], statistics.mean(values), abs_tol=1e-12), (kind, m)
    assert math.isclose(m["median"], statistics.median(values), abs_tol=1e-12), (kind, m)
    assert math.isclose(m["std"], statistics.stdev(values), abs_tol=1e-12), (kind, m)  # sample, n - 1
    assert m["min"] == min(values) and m["max"] == max(values), (kind, m)
    assert s[kind]["degenerate_seeds"] == [k for k, r in zip((3, 4), per_seed) if r[kind]["degenerate"]], s
# At this learning rate the seeds' best accuracies differ (0.5625, 0.4375): a real spread.
assert s["best"]["metrics"]["accuracy"]["std"] > 0, s
# The two seeds are different runs.
lines = [[json.loads(l)["loss"] for l in open(f"{run}/seed-{k}/metrics.jsonl")] for k in (3, 4)]
assert len(lines[0]) == 16 and len(lines[1]) == 16 and lines[0] != lines[1], lines
PY
[ ! -e "$work/seeds/train_config.pb.txt" ] || fail "--seeds=2 wrote a run into RUN_DIR itself"

# The same command again: nothing to train, the same summary.
cp "$work/seeds/seeds_summary.json" "$work/summary1.json"
finetune "$work/seeds" --seeds=2 >"$work/seeds2.log" 2>&1 || fail "rerun: $(cat "$work/seeds2.log")"
[ "$(grep -c "already finished" "$work/seeds2.log")" -eq 2 ] || fail "rerun trained again: $(cat "$work/seeds2.log")"
for k in 3 4; do
  [ "$(wc -l <"$work/seeds/seed-$k/metrics.jsonl")" -eq 16 ] || fail "rerun added steps to seed $k"
done
cmp "$work/seeds/seeds_summary.json" "$work/summary1.json" || fail "rerun changed seeds_summary.json"

# Interrupted in the second seed (--stop_after_step): no summary yet; the same command
# resumes that seed from its checkpoint and leaves the first alone.
finetune "$work/stopped" --seeds=2 --stop_after_step=8 >"$work/stopped1.log" 2>&1 || fail "stopped: $(cat "$work/stopped1.log")"
[ ! -e "$work/stopped/seeds_summary.json" ] || fail "a summary before every seed finished"
[ ! -e "$work/stopped/seed-4" ] || fail "went on to seed 4 after seed 3 stopped"
finetune "$work/stopped" --seeds=2 >"$work/stopped2.log" 2>&1 || fail "resumed: $(cat "$work/stopped2.log")"
grep -q "resuming from .*step-000000008" "$work/stopped2.log" || fail "seed 3 did not resume: $(cat "$work/stopped2.log")"
python3 - "$work/stopped" "$work/seeds" <<'PY' || fail "the resumed seeds' summary differs from the uninterrupted one"
import json, sys
a, b = (json.load(open(d + "/seeds_summary.json")) for d in sys.argv[1:])
assert a == b, (a, b)
PY

# A --seeds=1 folder is not taken for a --seeds=2 one.
finetune "$work/single" --epochs=1 >"$work/single.log" 2>&1 || fail "--seeds=1: $(cat "$work/single.log")"
[ -f "$work/single/eval_results.json" ] && [ ! -e "$work/single/seed-3" ] || fail "--seeds=1 layout changed"
log=$(finetune "$work/single" --epochs=1 --seeds=2 2>&1)
[ $? -eq 2 ] && grep -q "holds a single run" <<<"$log" || fail "--seeds=2 into a single run's folder: $log"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "PASS"
