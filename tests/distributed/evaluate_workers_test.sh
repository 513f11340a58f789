#!/usr/bin/env bash
# cloze evaluate --workers: every fine-tune of the evaluation (from the checkpoint and from
# scratch, every seed) runs as a distributed job (cloze launch's coordinator, workers under
# mpirun on 127.0.0.1), and computes what one process with the workers' batches together
# computes. A micro ALBERT pretrained for 4 steps, evaluated --with_scratch on the RTE slice
# of cli/testdata/finetune, 2 seeds, 9 steps a run:
#   - 2 workers × batch 4 equal one process × batch 8: every run's losses within 1e-6
#     relative, the same dev accuracies, so the same evaluation table;
#   - each of the 4 runs was a job (its workers' log), and the same command again redoes none;
#   - bad input exits 2 before anything is fine-tuned: --ps without --workers,
#     --stop_after_step with --workers.
set -uo pipefail
source cli/testing/common.sh
source tests/distributed/common.sh
require_spm

pretrain_micro 4 "every_steps: 4"
flags=(--init="$work/pre" --tokenizer=spm-albert:$spm --data_dir=cli/testdata/finetune --tasks=RTE --seeds=2 --seed=3
  --with_scratch --max_seq_length=64 --epochs=1 --learning_rate=1e-3 --eval_every_steps=4 --metrics_address=127.0.0.1:0)
evaluate() {  # evaluate RUN_DIR [EXTRA FLAGS...]: its output in RUN_DIR.log, shown if it fails
  local run=$1
  shift
  $cloze evaluate "${flags[@]}" --run_dir="$run" "$@" >"$run.log" 2>&1 || { fail "cloze evaluate $* ($run)"; tail -n 30 "$run.log"; }
}

# Bad input: refused before any fine-tune, no folder made.
log=$($cloze evaluate "${flags[@]}" --run_dir="$work/bad" --batch_size=8 --ps=2 2>&1)
[ $? -eq 2 ] && grep -q -- "--ps: parameter servers need --workers=N" <<<"$log" || fail "--ps alone: $log"
log=$($cloze evaluate "${flags[@]}" --run_dir="$work/bad" --batch_size=4 --workers=2 --stop_after_step=3 2>&1)
[ $? -eq 2 ] && grep -q -- "--stop_after_step: not with --workers" <<<"$log" || fail "--stop_after_step with --workers: $log"
[ ! -e "$work/bad" ] || fail "bad input created the evaluation folder"

evaluate "$work/one" --batch_size=8
evaluate "$work/two" --batch_size=4 --workers=2

runs=(RTE/seed-3 RTE/seed-4 scratch/RTE/seed-3 scratch/RTE/seed-4)
for run in "${runs[@]}"; do
  echo "$run: one process × 8 vs 2 workers × 4:"
  compare_losses "$work/one/$run/metrics.jsonl" "$work/two/$run/metrics.jsonl" 1e-6 || fail "$run: the job differs"
  grep -q "worker 0: " "$work/two/$run/logs/workers.log" 2>/dev/null || fail "$run: not run as a job (no workers' log)"
  grep -q "^  workers: 2$" "$work/two/$run/train_config.pb.txt" || fail "$run: the config has no 2-worker job"
done

python3 - "$work/one" "$work/two" <<'PY' || fail "the evaluation tables differ"
import json, math, sys
one, two = (json.load(open(f"{d}/evaluation.json")) for d in sys.argv[1:])
(a,), (b,) = one["tasks"], two["tasks"]
for side in ("init", "scratch"):
    for kind in ("final", "best"):
        x, y = a[side][kind], b[side][kind]
        assert x["metrics"]["accuracy"]["values"] == y["metrics"]["accuracy"]["values"], (side, kind, x, y)
        assert x["score"]["values"] == y["score"]["values"], (side, kind, x, y)
assert math.isclose(one["glue"]["init"]["final"], two["glue"]["init"]["final"], abs_tol=1e-12)
print("same table:", a["init"]["final"]["score"]["values"], a["scratch"]["final"]["score"]["values"])
PY

# Finished, the same command redoes no run.
evaluate "$work/two" --batch_size=4 --workers=2
[ "$(grep -c "already finished" "$work/two.log")" -eq 4 ] || fail "the rerun trained: $(tail -20 "$work/two.log")"

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
