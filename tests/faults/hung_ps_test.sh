#!/usr/bin/env bash
# A hung parameter server (SIGSTOP, never continued) in a job of 2 workers and 2 servers:
# the coordinator declares it failed when it misses its heartbeats, the launcher kills it
# (SIGKILL, reaped) and starts it again, and the job finishes without waiting for it, with
# the uninterrupted run's losses bit for bit and only whole checkpoints. The failure counts
# once against --max_restarts (=1 here: the workers and the other server, whose generation
# ended, are restarted too but not counted). No process outlives the job.
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=$TEST_TMPDIR
source tests/faults/common.sh
prepare_data "$work/data"
write_job "$work/job.textproto" 100

launch "$work/job.textproto" "$work/clean" --workers=2 --ps=2

$cloze launch --config="$work/job.textproto" --run_dir="$work/hung" --workers=2 --ps=2 --max_restarts=1 \
  --metrics_address=127.0.0.1:0 >"$work/hung.log" 2>&1 &
launcher=$!
wait_for_step "$work/hung/metrics.jsonl" 30 "$launcher"
victim=$(member_pid "$launcher" ps)
[ -n "$victim" ] || fail "no parameter server found"
kill -STOP "$victim" && echo "stopped parameter server pid $victim at step $(last_step "$work/hung/metrics.jsonl")"
wait_or_kill "$launcher" 400
status=$?
[ "$status" -eq 0 ] || { fail "the job with a hung server exited with $status (124: it hung)"; tail -n 30 "$work/hung.log"; }
grep "missed its heartbeats\|restarting" "$work/hung.log"
grep -q "parameter server [0-9] (pid $victim, server rank [0-9]) missed its heartbeats: killed" "$work/hung.log" ||
  fail "the launcher did not say it killed the hung server"

compare_losses "$work/clean/metrics.jsonl" "$work/hung/metrics.jsonl" 0 || fail "losses differ from the uninterrupted run"
verify_checkpoints "$work/hung" || fail "a checkpoint is not whole"
no_survivors "$work/hung" "$victim"
kill -CONT "$victim" 2>/dev/null; kill -9 "$victim" 2>/dev/null  # a failed run's leftover

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
