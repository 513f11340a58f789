# Shared by the fault-injection tests: real `cloze launch` jobs on 127.0.0.1 with a fault
# injected while they run. Builds on tests/distributed/common.sh (data, config, loss
# comparison, checkpoint verification). Sourced; expects $cloze and $work.
source tests/distributed/common.sh

# mount_tmpfs DIR SIZE: a tmpfs of SIZE (e.g. 3m) mounted on DIR, unmounted when the test
# exits. Needs root (as in CI); without it the test runs itself again in a user and mount
# namespace (unshare), so call this before anything a second run would redo; where neither
# is allowed the test says SKIPPED and passes.
mount_tmpfs() {
  local dir=$1 size=$2
  mkdir -p "$dir"
  if ! mount -t tmpfs -o size="$size" tmpfs "$dir" 2>/dev/null; then
    if [ -z "${CLOZE_IN_MOUNT_NAMESPACE:-}" ] && unshare --user --map-root-user --mount true 2>/dev/null; then
      CLOZE_IN_MOUNT_NAMESPACE=1 exec unshare --user --map-root-user --mount "$0"
    fi
    echo "SKIPPED: cannot mount a tmpfs of $size here (not root, and no user namespaces)"
    exit 0
  fi
  trap "umount '$dir' 2>/dev/null" EXIT
}

# write_job FILE TOTAL_STEPS [EXTRA]: the distributed tests' tiny ALBERT, batch 4,
# checkpoints every 20 steps.
write_job() {
  write_config "$1" "$work/data" 4 "$2" "${3:-}"
  sed -i 's/checkpoint { every_steps: 5 /checkpoint { every_steps: 20 /' "$1"
}

last_step() {  # last_step METRICS_JSONL: the last step logged (0: none yet)
  local step
  step=$(tail -n 1 "$1" 2>/dev/null | sed -n 's/^{"step": *\([0-9]*\).*/\1/p')
  echo "${step:-0}"
}

# wait_for_step METRICS_JSONL STEP PID: waits until the run has logged STEP while PID (its
# launcher) runs; fails after a generous timeout.
wait_for_step() {
  local deadline=$((SECONDS + 300))
  while [ "$(last_step "$1")" -lt "$2" ]; do
    kill -0 "$3" 2>/dev/null || { fail "the job ended before step $2"; return 1; }
    [ "$SECONDS" -lt "$deadline" ] || { fail "step $2 not reached in 300 s"; return 1; }
    sleep 0.05
  done
}

# wait_or_kill PID SECONDS: waits for a background launcher; returns its exit status, or
# 124 after killing it (and everything it started) when it runs longer. Generous limits:
# they catch hangs, not slowness.
wait_or_kill() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    kill_tree "$pid"
    wait "$pid" 2>/dev/null
    return 124
  fi
  wait "$pid"
}

descendants() {  # descendants PID: every process under PID, deepest last
  local child
  for child in $(pgrep -P "$1"); do
    echo "$child"
    descendants "$child"
  done
}

kill_tree() {  # kill_tree PID: continues (a stopped one would not die of SIGTERM) and kills
  local all
  all="$1 $(descendants "$1")"
  kill -CONT $all 2>/dev/null
  kill -9 $all 2>/dev/null
}

# member_pid LAUNCHER WHAT: the pid of a process the launcher started: "coordinator",
# "ps" (parameter server 0) or "worker" (a worker rank, under mpirun).
member_pid() {
  local pid
  for pid in $(descendants "$1"); do
    [ "$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | sed -n 2p)" = "$2" ] && { echo "$pid"; return; }
  done
}

# no_survivors RUN_DIR PIDS...: no process of the job (one naming the run directory or its
# coordinator's port) outlives its launcher, and none of PIDS exists.
no_survivors() {
  local run=$1 port pid
  shift
  port=$(cat "$run/coordinator.port" 2>/dev/null)
  for pid in "$@"; do
    ! kill -0 "$pid" 2>/dev/null || fail "pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-80)) outlived the job"
  done
  for pid in $(pgrep -f -- "--run_dir=$run( |$)") ${port:+$(pgrep -f -- "--coordinator=127.0.0.1:$port( |$)")}; do
    fail "pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)) outlived the job"
  done
}

# expect_permanent_failure CONFIG RUN_DIR STATUS CAUSE FLAGS...: a launch that must fail at
# once (no restart) with exit status STATUS (util/exit_status.h), a worker's own error line
# matching CAUSE (an extended regex) on its console, and no process left behind.
expect_permanent_failure() {
  local config=$1 run=$2 expected=$3 cause=$4 status=0
  shift 4
  $cloze launch --config="$config" --run_dir="$run" --metrics_address=127.0.0.1:0 "$@" >"$run.log" 2>&1 &
  wait_or_kill $! 300 || status=$?
  echo "== $run: exit status $status"
  cut -c1-300 "$run.log"
  [ "$status" -eq "$expected" ] || fail "$run: exit status $status, expected $expected"
  ! grep -q "restarting" "$run.log" || fail "$run: a permanent failure was restarted"
  grep -Eq "^cloze worker: .*$cause" "$run.log" || fail "$run: the console does not give the cause ($cause)"
  no_survivors "$run"
}

# stop_while_joining NAME COORDINATOR MESSAGE [WAIT_FOR_COMMAND...]: starts the caller's
# "${JOINING_COMMAND[@]}" --coordinator=COORDINATOR (a worker or a parameter server), waits until
# WAIT_FOR_COMMAND succeeds (it is registering), SIGTERMs it, and checks that it exits 0 within
# $PATIENCE_S s with MESSAGE in its log (NAME.log in $work).
stop_while_joining() {
  local name=$1 coordinator=$2 message=$3
  shift 3
  "${JOINING_COMMAND[@]}" --coordinator="$coordinator" >"$work/$name.log" 2>&1 &
  local member=$!
  # No time bound: under load registering can take long; the member exiting, or bazel's test
  # timeout, ends the wait.
  until "$@"; do kill -0 "$member" 2>/dev/null || break; sleep 0.1; done
  sleep 1  # inside a long poll or a retry by now
  kill -0 "$member" 2>/dev/null || { fail "$name: it exited before the SIGTERM"; cat "$work/$name.log"; return; }
  kill -TERM "$member"
  local waited=0
  while kill -0 "$member" 2>/dev/null && [ "$waited" -lt $((PATIENCE_S * 10)) ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$member" 2>/dev/null; then
    fail "$name: still running $PATIENCE_S s after SIGTERM"
    kill -9 "$member"
    wait "$member" 2>/dev/null
    return
  fi
  local status=0
  wait "$member" || status=$?
  [ "$status" -eq 0 ] || fail "$name: exit status $status after SIGTERM, want 0"
  grep -q "$message" "$work/$name.log" || { fail "$name: no message saying why"; cat "$work/$name.log"; }
  echo "$name: exited $status after $((waited / 10)).$((waited % 10)) s: $(tail -n 1 "$work/$name.log")"
}
