#!/usr/bin/env bash
# A run folder that cannot be written says why. On a read-only file system (a tmpfs
# remounted read-only; chmod would not stop root), cloze train, cloze launch and cloze
# prepare fail at once with the path and the system's reason (Read-only file system) and
# exit with status 73 (EX_CANTCREAT: permanent until the folder is fixed), not 1; the
# launch leaves no process behind. A run that trained while the folder was writable
# resumes once it is writable again.
#
# Needs a tmpfs mounted here (root, as in CI), else in a user and mount namespace
# (unshare); where neither is allowed, the test says SKIPPED and passes.
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=$TEST_TMPDIR
folder="$work/folder"
source tests/faults/common.sh
mount_tmpfs "$folder" 16m
prepare_data "$work/data"
write_job "$work/job.textproto" 20

# A run trains 10 steps while the folder is writable; then the folder turns read-only.
$cloze train --config="$work/job.textproto" --run_dir="$folder/run" --stop_after_step=10 --metrics_address= \
  >"$work/first.log" 2>&1 || { fail "the first 10 steps"; tail -n 5 "$work/first.log"; }
mount -o remount,ro "$folder" || { fail "cannot remount $folder read-only"; exit 1; }

expect() {  # expect NAME STATUS PATTERN COMMAND...: exit status STATUS, PATTERN (extended regex) in its output
  local name=$1 expected=$2 pattern=$3 status=0
  shift 3
  "$@" >"$work/$name.log" 2>&1 || status=$?
  echo "== $name: exit status $status"
  cut -c1-300 "$work/$name.log" | tail -n 5
  [ "$status" -eq "$expected" ] || fail "$name: exit status $status, expected $expected"
  grep -Eq "$pattern" "$work/$name.log" || fail "$name: does not say why ($pattern)"
}
expect train 73 "^cloze train: $folder/run/run.lock: cannot open: Read-only file system" \
  $cloze train --config="$work/job.textproto" --run_dir="$folder/run" --metrics_address=
expect launch 73 "$folder/new-run: cannot create: Read-only file system" \
  $cloze launch --config="$work/job.textproto" --run_dir="$folder/new-run" --workers=2 --metrics_address=127.0.0.1:0
no_survivors "$folder/new-run"
expect prepare 73 "$folder/data: cannot create: Read-only file system" \
  $cloze prepare --input=corpus/demo/frankenstein.txt --output="$folder/data" --tokenizer=spm-train:1000 \
  --max_seq_length=64 --max_predictions_per_seq=10 --shards=1

# Writable again: the same command resumes from step 10 and finishes.
mount -o remount,rw "$folder" || fail "cannot remount $folder writable"
$cloze train --config="$work/job.textproto" --run_dir="$folder/run" --metrics_address= >"$work/resumed.log" 2>&1 ||
  { fail "the resumed run"; tail -n 5 "$work/resumed.log"; }
grep -q "resuming from .*step-000000010" "$work/resumed.log" || fail "the run did not resume from step 10"

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
