#!/usr/bin/env bash
# Nothing `cloze launch` started outlives it (issue 14):
#   1. the launcher SIGKILLed in the middle of a job (2 workers under mpirun, a parameter
#      server): its coordinator, server, mpirun and worker ranks are gone within seconds
#      (PR_SET_PDEATHSIG on every child, and the ranks on mpirun);
#   2. its output piped into `head -1`, which exits after the first line: the launcher does
#      not die of SIGPIPE; the job runs to its last step, the launcher exits 0, and nothing of
#      it is left.
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=$TEST_TMPDIR
source tests/faults/common.sh
prepare_data "$work/data"
write_job "$work/long.textproto" 2000
write_job "$work/short.textproto" 40

# --- 1. SIGKILL ------------------------------------------------------------------------------
run=$work/killed
$cloze launch --config="$work/long.textproto" --run_dir="$run" --workers=2 --ps=1 --metrics_address=127.0.0.1:0 \
  >"$run.log" 2>&1 &
launcher=$!
wait_for_step "$run/metrics.jsonl" 10 "$launcher"
job=$(descendants "$launcher")
echo "the job's processes: $(for pid in $job; do tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -d' ' -f1-2; done | sort | uniq -c | paste -sd,)"
[ "$(echo "$job" | wc -w)" -ge 5 ] || fail "expected a coordinator, a server, mpirun and 2 ranks under the launcher: $job"
kill -9 "$launcher"
wait "$launcher" 2>/dev/null
# running PID: it has not exited. A zombie has (state Z), and one reaped meanwhile has no
# /proc entry: an unreadable state counts as gone (reading it after a kill -0 raced the reaper).
running() {
  local state
  state=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
  [ -n "$state" ] && [ "$state" != Z ]
}
deadline=$((SECONDS + 20))
for pid in $job; do
  while running "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  ! running "$pid" || fail "pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)) outlived the launcher by 20 s"
done
no_survivors "$run"

# --- 2. Output into a closed pipe --------------------------------------------------------------
run=$work/piped
$cloze launch --config="$work/short.textproto" --run_dir="$run" --workers=2 --metrics_address=127.0.0.1:0 2>&1 | head -1
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || fail "cloze launch | head -1: the launcher exited with status $status"
[ "$(last_step "$run/metrics.jsonl")" -eq 40 ] || fail "cloze launch | head -1: the job stopped at step $(last_step "$run/metrics.jsonl") of 40"
no_survivors "$run"

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
