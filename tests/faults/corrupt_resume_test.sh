#!/usr/bin/env bash
# A distributed job resumes past a damaged checkpoint, as cloze train does. A job of 2
# workers is stopped with SIGTERM (the workers commit a checkpoint at the step they stopped
# at, and the launcher's summary must name that one); one byte of the newest committed
# model.safetensors is flipped; the same launch again must verify what it resumes from,
# fall back to the newest valid checkpoint, move the damaged one aside and say so, and
# finish with the uninterrupted run's losses bit for bit. No process outlives the job.
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=$TEST_TMPDIR
source tests/faults/common.sh
prepare_data "$work/data"
write_job "$work/job.textproto" 300

launch "$work/job.textproto" "$work/clean" --workers=2

run="$work/damaged"
$cloze launch --config="$work/job.textproto" --run_dir="$run" --workers=2 --metrics_address=127.0.0.1:0 \
  >"$work/stopped.log" 2>&1 &
launcher=$!
wait_for_step "$run/metrics.jsonl" 65 "$launcher"
kill -TERM "$launcher" && echo "stopped the job at step $(last_step "$run/metrics.jsonl")"
wait_or_kill "$launcher" 300 || { fail "the stopped job exited with $?"; tail -n 20 "$work/stopped.log"; }
newest=$(ls -d "$run"/checkpoints/step-* | sort | tail -n 1)
echo "newest committed checkpoint: $newest"
grep "last checkpoint:" "$work/stopped.log"
grep -q "last checkpoint: $newest\$" "$work/stopped.log" || fail "the summary does not name $newest"
no_survivors "$run"

python3 - "$newest/model.safetensors" <<'PY'
import os, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(os.path.getsize(sys.argv[1]) // 2)
    byte = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([byte[0] ^ 0x01]))
PY

launch "$work/job.textproto" "$run" --workers=2 --max_restarts=3
grep "damaged\|resuming from\|cannot be resumed" "$run/logs/coordinator.log"
ls -d "$newest".damaged-* >/dev/null 2>&1 || fail "$newest was not moved aside"
grep -q "moved the damaged checkpoint $newest aside" "$run/logs/coordinator.log" || fail "the coordinator does not say it moved $newest aside"
compare_losses "$work/clean/metrics.jsonl" "$run/metrics.jsonl" 0 || fail "losses differ from the uninterrupted run"
verify_checkpoints "$run" || fail "a checkpoint is not whole"
no_survivors "$run"

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
