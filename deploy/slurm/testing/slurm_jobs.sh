# Shared by the Slurm tests: a one-node cluster (one_node_slurm.sh) in a short /tmp folder,
# torn down when the test exits, and waiting on a job's state. Sourced after a `fail`
# function and a `failures` count (tests/distributed/common.sh, or the test's own).
source deploy/slurm/testing/one_node_slurm.sh

# start_test_cluster: exits 0 saying SKIP when Slurm is not installed; else starts the
# cluster (exits 1 when it does not come up) and installs the EXIT trap that shows the
# daemons' logs if the test failed, stops them and removes their folder.
start_test_cluster() {
  if ! one_node_slurm_available; then
    echo "SKIP: Slurm is not installed (Debian packages slurmctld slurmd munge slurm-client; deploy/setup.sh)"
    exit 0
  fi
  one_node_slurm_start_for_test || exit 1
}

# job_state JOB: PENDING, RUNNING, COMPLETED, ... and the restart count, e.g. "RUNNING 1".
job_state() {
  scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n 's/^JobState=//p; s/^Restarts=//p' | paste -sd' '
}
# wait_until JOB SECONDS CONDITION...: polls until CONDITION (a command) succeeds; fails on
# a job that ended (FAILED, CANCELLED, ...) or after SECONDS (generous: they catch hangs, not slowness).
wait_until() {
  local job=$1 seconds=$2 deadline=$((SECONDS + $2))
  shift 2
  until "$@"; do
    case $(job_state "$job") in FAILED* | CANCELLED* | TIMEOUT* | NODE_FAIL* | OUT_OF_MEMORY*)
      fail "job $job ended: $(job_state "$job")"; return 1 ;;
    esac
    [ "$SECONDS" -lt "$deadline" ] || { fail "job $job: not after $seconds s: $*"; return 1; }
    sleep 0.2
  done
}
running_again() { [ "$(job_state "$1")" = "RUNNING $2" ]; }
# start_again JOB N: waits for the job's N-th run (Slurm holds a requeued job back for the
# credentials' lifetime, 5 s in this cluster).
start_again() { wait_until "$1" 120 running_again "$1" "$2"; }
completed() { [[ $(job_state "$1") == COMPLETED* ]]; }
has_checkpoint() { [ -d "$(printf '%s/checkpoints/step-%09d' "$1" "$2")" ]; }

# no_job_leftovers RUN_DIR: no process names RUN_DIR once the job has ended.
no_job_leftovers() {
  local pid
  for pid in $(pgrep -f -- "$1/"); do
    fail "pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-100)) outlived the job"
  done
}

# stop_test_cluster: stops the cluster now and checks that none of its processes is left.
stop_test_cluster() {
  [ "$failures" -eq 0 ] || _one_node_slurm_logs
  one_node_slurm_stop
  local pid
  for pid in $(pgrep -f -- "$ONE_NODE_SLURM_TEST_DIR"); do
    fail "pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-100)) outlived the cluster"
  done
}
