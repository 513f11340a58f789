#!/usr/bin/env bash
# The loss guard's rollback in a distributed job, with real processes on 127.0.0.1 (cloze
# launch: a coordinator, 2 workers under mpirun, 2 parameter servers). NaN losses injected
# at steps 8-10 and 12-14 (--testing_nonfinite_loss_steps, a test-only flag) make the guard
# skip 8, 9, 12, 13 and roll back at 10 (to checkpoint 5) and at 14 (to checkpoint 10,
# written right after the first rollback, so it must hold the restored state):
#   - synchronous parameter servers (which restore their ranges themselves) and all-reduce
#     (whose workers restore locally) have bitwise-equal losses at every step, and the
#     servers' logs say they rolled back;
#   - bounded staleness keeps the skip, and its log says the parameters were not restored.
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=$TEST_TMPDIR
source tests/distributed/common.sh
prepare_data "$work/data"

guard="guard { max_consecutive_skips: 3 rollback_lr_factor: 0.5 }"
nans=8,9,10,12,13,14
write_config "$work/job.textproto" "$work/data" 4 20 "$guard"
launch "$work/job.textproto" "$work/allreduce" --workers=2 --testing_nonfinite_loss_steps=$nans
launch "$work/job.textproto" "$work/ps" --workers=2 --ps=2 --testing_nonfinite_loss_steps=$nans
write_config "$work/stale.textproto" "$work/data" 4 20 "$guard" \
  "parameter_servers: 2 consistency: BOUNDED_STALENESS max_staleness: 2"
launch "$work/stale.textproto" "$work/stale" --workers=2 --testing_nonfinite_loss_steps=$nans

echo "parameter servers vs all-reduce, with two rollbacks:"
compare_losses "$work/allreduce/metrics.jsonl" "$work/ps/metrics.jsonl" 0 ||
  fail "synchronous PS mode with rollbacks differs from all-reduce"
for run in allreduce ps; do
  log="$work/$run/logs/workers.log"
  # Each of the 2 workers reports both rollbacks.
  for checkpoint in step-000000005 step-000000010; do
    n=$(grep -c "rolled back to .*/checkpoints/$checkpoint after repeated skips" "$log")
    [ "$n" -eq 2 ] || fail "$run: $n workers report the rollback to $checkpoint (want 2)"
  done
  ! grep -q "skipped instead\|no rollback" "$log" || fail "$run: a rollback was not done: $(grep -m1 'no rollback' "$log")"
  python3 - "$work/$run/metrics.jsonl" <<'PY' || fail "$run: metrics.jsonl does not show the skips"
import json, sys
steps = {r["step"]: r for r in map(json.loads, open(sys.argv[1])) if "step" in r}
skipped = sorted(s for s, r in steps.items() if r.get("skipped"))
assert skipped == [8, 9, 10, 12, 13, 14], skipped
PY
done
grep -q "rolled back to .*(parameter servers restored it)" "$work/ps/logs/workers.log" ||
  fail "ps: the workers do not say the servers restored the checkpoint"
grep -q "finished" "$work/stale.log" || fail "the bounded-staleness job did not finish"
grep -q "step 10: no rollback with bounded-staleness parameter servers" "$work/stale/logs/workers.log" ||
  fail "bounded staleness: the log does not say the rollback was not done"
for run in allreduce ps stale; do verify_checkpoints "$work/$run" || fail "$run: a checkpoint is not whole"; done

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
