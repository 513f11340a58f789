#!/usr/bin/env bash
# Failures: a worker killed with SIGKILL at a random step, five times in one job, and the
# coordinator killed once. cloze launch restarts what died, the job resumes from the last
# committed checkpoint each time, and its losses equal an uninterrupted run's bit for bit;
# every checkpoint in the run directory is whole.
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=$TEST_TMPDIR
source tests/distributed/common.sh
prepare_data "$work/data"
write_config "$work/job.textproto" "$work/data" 4 200

$cloze launch --config="$work/job.textproto" --run_dir="$work/clean" --workers=2 --metrics_address=127.0.0.1:0 >"$work/clean.log" 2>&1 ||
  { tail -n 30 "$work/clean.log"; fail "the uninterrupted run"; }

step_of() {  # the last step in a metrics.jsonl (cheap: polled 20 times a second)
  local step
  step=$(tail -n 1 "$1" 2>/dev/null | sed -n 's/^{"step": *\([0-9]*\).*/\1/p')
  echo "${step:-0}"
}
worker_pids() {  # the worker processes themselves, not mpirun
  for pid in $(pgrep -f -- "worker --coordinator=127.0.0.1"); do
    [ "$(cat /proc/$pid/comm 2>/dev/null)" = cloze ] && echo "$pid"
  done
}

$cloze launch --config="$work/job.textproto" --run_dir="$work/killed" --workers=2 --metrics_address=127.0.0.1:0 >"$work/killed.log" 2>&1 &
launcher=$!
RANDOM=7  # the kill steps vary from kill to kill but not from run to run
kills=0
target=$((3 + RANDOM % 6))
while kill -0 "$launcher" 2>/dev/null && [ "$kills" -lt 6 ]; do
  step=$(step_of "$work/killed/metrics.jsonl")
  if [ "$step" -ge "$target" ]; then
    if [ "$kills" -eq 3 ]; then
      victim=$(pgrep -f -- "coordinator --config=$work/killed/" | head -n 1)
      what="the coordinator"
    else
      victim=$(worker_pids | shuf -n 1 --random-source=<(yes))
      what="worker pid $victim"
    fi
    if [ -n "$victim" ]; then
      kill -9 "$victim" && kills=$((kills + 1)) && echo "killed $what at step $step"
      target=$((step + 4 + RANDOM % 5))
    fi
  fi
  sleep 0.05
done
wait "$launcher" || { fail "the launch with failures exited non-zero"; tail -n 30 "$work/killed.log"; }
[ "$kills" -ge 6 ] || fail "only $kills kills happened (the job finished first)"
grep -c "restarting" "$work/killed.log" || true

compare_losses "$work/clean/metrics.jsonl" "$work/killed/metrics.jsonl" 0 || fail "losses differ from the uninterrupted run"
verify_checkpoints "$work/killed" || fail "a checkpoint is not whole"
for f in "$work"/killed/logs/*.log; do echo "== $f"; tail -n 6 "$f"; done

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
