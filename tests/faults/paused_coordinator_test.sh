#!/usr/bin/env bash
# A paused coordinator (SIGSTOP for 20 s, then SIGCONT) in a job of 2 workers: it was not
# running, so it must not judge the workers by that gap. The workers keep their generation
# (no worker declared failed, nothing restarted, no step redone) and the job finishes with
# the uninterrupted run's losses bit for bit and only whole checkpoints.
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=$TEST_TMPDIR
source tests/faults/common.sh
prepare_data "$work/data"
write_job "$work/job.textproto" 100

launch "$work/job.textproto" "$work/clean" --workers=2

$cloze launch --config="$work/job.textproto" --run_dir="$work/paused" --workers=2 \
  --metrics_address=127.0.0.1:0 >"$work/paused.log" 2>&1 &
launcher=$!
wait_for_step "$work/paused/metrics.jsonl" 30 "$launcher"
coordinator=$(member_pid "$launcher" coordinator)
[ -n "$coordinator" ] || fail "no coordinator found"
kill -STOP "$coordinator" && echo "stopped the coordinator (pid $coordinator) at step $(last_step "$work/paused/metrics.jsonl")"
sleep 20
kill -CONT "$coordinator" && echo "continued it at step $(last_step "$work/paused/metrics.jsonl")"
wait_or_kill "$launcher" 400
status=$?
[ "$status" -eq 0 ] || { fail "the job exited with $status (124: it hung)"; tail -n 30 "$work/paused.log"; }

log="$work/paused/logs/coordinator.log"
grep "did not run\|ended" "$log"
! grep -q "generation [0-9]* ended" "$log" || fail "the coordinator ended a generation: $(grep -m1 'ended' "$log")"
! grep -q "restarting" "$work/paused.log" || fail "processes were restarted: $(grep -m1 restarting "$work/paused.log")"
grep -q "0 process restarts, 0 generation restarts" "$work/paused.log" || fail "the summary counts restarts"
python3 - "$work/paused/metrics.jsonl" <<'PY' || fail "steps were redone"
import json, sys
steps = [r["step"] for r in map(json.loads, open(sys.argv[1])) if "loss" in r and "step" in r]
assert len(steps) == len(set(steps)), f"{len(steps) - len(set(steps))} steps logged twice"
PY
compare_losses "$work/clean/metrics.jsonl" "$work/paused/metrics.jsonl" 0 || fail "losses differ from the uninterrupted run"
verify_checkpoints "$work/paused" || fail "a checkpoint is not whole"
no_survivors "$work/paused" "$coordinator"

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
