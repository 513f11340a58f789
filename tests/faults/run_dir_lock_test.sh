#!/usr/bin/env bash
# One job per run folder. While a launch runs, a second launch and a cloze train on its
# folder are refused with the holder's host and PID. The launcher SIGKILLed, its coordinator
# and workers die with it (tests/faults/orphans_test); once they are gone the stale lock is
# taken over: the same launch resumes and finishes with the uninterrupted run's losses bit
# for bit.
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=$TEST_TMPDIR
source tests/faults/common.sh
prepare_data "$work/data"
write_job "$work/job.textproto" 200

launch "$work/job.textproto" "$work/clean" --workers=2

run="$work/shared"
start() {  # start NAME: a launch on the shared folder, in the background
  $cloze launch --config="$work/job.textproto" --run_dir="$run" --workers=2 --metrics_address=127.0.0.1:0 \
    >"$work/$1.log" 2>&1 &
}
refused() {  # refused NAME PID [WORDS]: NAME's log says the folder is held by PID
  grep -q "in use by cloze launch on host $(hostname), PID $2${3:+ $3}" "$work/$1.log" ||
    { fail "$1 was not refused naming PID $2 ${3:-}"; tail -n 5 "$work/$1.log"; }
}

start first
first=$!
wait_for_step "$run/metrics.jsonl" 10 "$first"
start second
wait_or_kill $! 120
[ $? -ne 0 ] || fail "a second launch on the folder ran"
refused second "$first"
cat "$work/second.log"
$cloze train --config="$work/job.textproto" --run_dir="$run" >"$work/train.log" 2>&1 && fail "cloze train on the folder ran"
refused train "$first"

job=$(descendants "$first")
kill -9 "$first" && echo "killed the launcher (pid $first)"
wait "$first" 2>/dev/null
for pid in $job; do  # they die with it; their locks go when they have exited
  deadline=$((SECONDS + 120))
  while kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] &&
    [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
done

launch "$work/job.textproto" "$run" --workers=2
compare_losses "$work/clean/metrics.jsonl" "$run/metrics.jsonl" 0 || fail "losses differ from the uninterrupted run"
verify_checkpoints "$run" || fail "a checkpoint is not whole"
no_survivors "$run"

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
