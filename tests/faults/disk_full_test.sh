#!/usr/bin/env bash
# Disk full. A job of 2 workers writes its run folder on a 3 MiB tmpfs: three checkpoints
# (about 0.9 MiB each) fit, the fourth does not. The job must stop at once as a permanent
# failure (exit status 73, EX_CANTCREAT; no restart), with the cause on its console (No
# space left on device, and the path); the failed checkpoint's partial files are removed;
# every committed checkpoint verifies; the coordinator never just warns that it cannot save
# its state; metrics.jsonl and the logs end with a whole line; no process outlives the job.
# Once space is freed (the tmpfs remounted larger), the same launch resumes and finishes
# with the uninterrupted run's losses bit for bit, and no generation number is used twice.
#
# Needs a small file system: a tmpfs mounted here (root, as in CI), else in a user and mount
# namespace (unshare); where neither is allowed, the test says SKIPPED and passes.
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=$TEST_TMPDIR
small="$work/small"
source tests/faults/common.sh
mount_tmpfs "$small" 3m
prepare_data "$work/data"
write_job "$work/job.textproto" 100

launch "$work/job.textproto" "$work/clean" --workers=2

ends_with_newline() {  # ends_with_newline FILE: the file is empty or its last line is whole
  [ ! -s "$1" ] || [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] || fail "$1 ends mid-line"
}

run="$small/run"
$cloze launch --config="$work/job.textproto" --run_dir="$run" --workers=2 --metrics_address=127.0.0.1:0 \
  >"$work/full.log" 2>&1 &
wait_or_kill $! 300
status=$?
echo "== the job on a full disk: exit status $status"
cut -c1-300 "$work/full.log"
[ "$status" -eq 73 ] || fail "exit status $status, expected 73 (EX_CANTCREAT)"
! grep -q "restarting" "$work/full.log" || fail "a full disk was restarted"
grep -Eq "^cloze (worker|coordinator): .*$run/.*No space left on device" "$work/full.log" ||
  fail "the console does not give the cause (No space left on device, and the path)"
leftovers=$(find "$run/checkpoints" -path '*/.step-*' -type f)
[ -z "$leftovers" ] || fail "partial checkpoint files left: $leftovers"
! grep -q "warning: cannot save the state" "$run/logs/coordinator.log" || fail "the coordinator only warned"
for f in "$run/metrics.jsonl" "$run"/logs/*.log; do ends_with_newline "$f"; done
verify_checkpoints "$run" || fail "a checkpoint is not whole"
$cloze verify "$run" >"$work/verify.log" 2>&1 || { fail "cloze verify $run"; cat "$work/verify.log"; }
no_survivors "$run"
df -h "$small" | tail -n 1

mount -o remount,size=64m "$small" || fail "cannot remount $small larger"
launch "$work/job.textproto" "$run" --workers=2
compare_losses "$work/clean/metrics.jsonl" "$run/metrics.jsonl" 0 || fail "losses differ from the uninterrupted run"
verify_checkpoints "$run" || fail "a checkpoint is not whole"
generations=$(sed -n 's/.*generation \([0-9]*\) formed.*/\1/p' "$run/logs/coordinator.log")
echo "generations formed:" $generations
[ "$(echo "$generations" | sort -n | uniq -d)" = "" ] || fail "a generation number was used twice"
no_survivors "$run"

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
