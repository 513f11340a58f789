#!/usr/bin/env bash
# A launcher that gives up after --max_restarts says why with the failing process's own
# lines, not a log's tail (which may hold another generation's lines, cut off). Worker
# rank 1 is killed with SIGKILL once, with --max_restarts=0: the launch exits 1 at once and
# its console ends with the worker group's own account of that death (mpirun: the rank and
# the signal), and no process outlives it.
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=$TEST_TMPDIR
source tests/faults/common.sh
prepare_data "$work/data"
write_job "$work/job.textproto" 300

run="$work/run"
$cloze launch --config="$work/job.textproto" --run_dir="$run" --workers=2 --max_restarts=0 \
  --metrics_address=127.0.0.1:0 >"$run.log" 2>&1 &
launcher=$!
wait_for_step "$run/metrics.jsonl" 10 "$launcher"
rank=$(for pid in $(descendants "$launcher"); do
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "^[^ ]*cloze worker " && echo "$pid"; done | tail -n 1)
[ -n "$rank" ] || fail "no worker rank found under $launcher"
kill -9 "$rank"
wait_or_kill "$launcher" 120
status=$?
echo "== exit status $status"
cut -c1-300 "$run.log" | tail -n 12
[ "$status" -eq 1 ] || fail "exit status $status, expected 1"
grep -q "the job keeps failing: 0 restarts; its own last lines" "$run.log" || fail "the launcher does not give the failing process's own lines"
! grep -q "the end of .*workers.log" "$run.log" || fail "the launcher printed a log's tail"
grep -Eiq "signal 9|killed" "$run.log" || fail "the console does not say the rank was killed"
no_survivors "$run"

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
