#!/usr/bin/env bash
# A one-node Slurm on this machine for tests: Debian's munged, slurmctld and slurmd,
# started by hand (no systemd, as root or as the user running the test) with a slurm.conf
# generated in a temporary folder, on free 127.0.0.1 ports.
#
# Source it, then:
#   one_node_slurm_start DIR   # DIR: an empty folder for its config, state, spool and logs;
#                              # exports SLURM_CONF, so sbatch/srun/scontrol/squeue use it.
#                              # Returns non-zero (with the daemons' log tails) if the node
#                              # is not idle within 30 s.
#   one_node_slurm_stop        # cancels every job, stops the daemons (SIGTERM, then SIGKILL),
#                              # kills what the jobs left behind. Idempotent.
# Starting installs `trap one_node_slurm_stop EXIT` unless the caller has set
# ONE_NODE_SLURM_NO_TRAP=1 (then the caller's own EXIT trap must call it): no daemon
# outlives the test.
#
# one_node_slurm_start_for_test: one_node_slurm_start in a fresh folder under /tmp (Unix
# socket paths are limited to 108 bytes, so not under TEST_TMPDIR; its path is in
# ONE_NODE_SLURM_TEST_DIR), with an EXIT trap that prints the daemons' logs when the test's
# $failures is non-zero, stops Slurm and removes the folder.
#
# one_node_slurm_available: whether the binaries are installed (Debian's slurmctld, slurmd,
# munge, slurm-client: deploy/setup.sh).
#
# Configuration choices: proctrack/linuxproc and task/none (no cgroups, which a container or
# a machine without systemd may not delegate), select/cons_tres with CR_CPU (a task per CPU,
# memory not tracked), no accounting database, credentials that expire after 5 s
# (cred_expire, default 120: also how long Slurm holds a requeued job back before starting
# it again), MpiDefault=none (cloze's pretrain.sbatch
# runs Open MPI's mpirun inside the allocation; see its header).

one_node_slurm_available() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null &&
    command -v sbatch >/dev/null && command -v scontrol >/dev/null
}

_one_node_slurm_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_one_node_slurm_logs() {
  local f
  for f in "$ONE_NODE_SLURM_DIR"/log/*.log; do
    echo "--- $f (last ${ONE_NODE_SLURM_LOG_LINES:-15} lines)"
    tail -n "${ONE_NODE_SLURM_LOG_LINES:-15}" "$f"
  done
}

one_node_slurm_start() {
  local dir=$1
  ONE_NODE_SLURM_DIR=$(cd "$dir" && pwd)
  ONE_NODE_SLURM_PIDS=()
  [ "${ONE_NODE_SLURM_NO_TRAP:-0}" = 1 ] || trap one_node_slurm_stop EXIT
  local node user cpus
  node=$(hostname -s)
  user=$(id -un)
  cpus=$(nproc)
  mkdir -p "$dir"/{etc,state,spool,log,run,munge}
  chmod 0755 "$dir/munge"  # the socket's folder: every user of the node reaches munged

  # munged: a key of its own (the installed one belongs to the munge user) and a socket here.
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1 count=128 status=none
  chmod 0400 "$dir/munge/munge.key"
  munged --force --foreground --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" \
    >>"$dir/log/munged.stdout.log" 2>&1 &
  ONE_NODE_SLURM_PIDS+=($!)

  SLURM_CONF=$dir/etc/slurm.conf
  export SLURM_CONF
  cat >"$SLURM_CONF" <<CONF
ClusterName=clozetest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(_one_node_slurm_free_port)
SlurmdPort=$(_one_node_slurm_free_port)
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=5
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
JobRequeue=1
MinJobAge=300
KillWait=30
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
  # Wait for munged's socket before the daemons that need it.
  local i
  for ((i = 0; i < 100; i++)); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.1; done
  slurmctld -D -i -f "$SLURM_CONF" >>"$dir/log/slurmctld.stdout.log" 2>&1 &
  ONE_NODE_SLURM_PIDS+=($!)
  slurmd -D -N "$node" -f "$SLURM_CONF" >>"$dir/log/slurmd.stdout.log" 2>&1 &
  ONE_NODE_SLURM_PIDS+=($!)
  for ((i = 0; i < 300; i++)); do
    if [ "$(sinfo -h -n "$node" -o %t 2>/dev/null)" = idle ]; then return 0; fi
    sleep 0.1
  done
  echo "one_node_slurm: node $node not idle after 30 s (sinfo: $(sinfo -h 2>&1))"
  _one_node_slurm_logs
  return 1
}

one_node_slurm_start_for_test() {
  ONE_NODE_SLURM_TEST_DIR=$(mktemp -d /tmp/cloze-slurm.XXXXXX)
  ONE_NODE_SLURM_NO_TRAP=1
  trap _one_node_slurm_test_cleanup EXIT
  one_node_slurm_start "$ONE_NODE_SLURM_TEST_DIR"
}

_one_node_slurm_test_cleanup() {
  [ "${failures:-0}" -eq 0 ] || [ -z "${ONE_NODE_SLURM_DIR:-}" ] || _one_node_slurm_logs
  one_node_slurm_stop
  rm -rf "$ONE_NODE_SLURM_TEST_DIR"
}

one_node_slurm_stop() {
  [ -n "${ONE_NODE_SLURM_DIR:-}" ] || return 0
  scancel --quiet --full --signal=KILL --user="$(id -un)" 2>/dev/null
  # What a job started may run on after slurmd is gone (linuxproc tracks, but slurmd must be
  # alive to kill): its slurmstepd processes and their descendants.
  local stepd
  for stepd in $(pgrep -f "slurmstepd.*$ONE_NODE_SLURM_DIR" 2>/dev/null) $(pgrep -x slurmstepd 2>/dev/null); do
    _one_node_slurm_kill_tree "$stepd"
  done
  local pid
  for pid in "${ONE_NODE_SLURM_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for ((i = 0; i < 50; i++)); do
    local alive=0
    for pid in "${ONE_NODE_SLURM_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${ONE_NODE_SLURM_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  ONE_NODE_SLURM_PIDS=()
  ONE_NODE_SLURM_DIR=
}

# SIGKILLs a process and every descendant (children first listed, then the process).
_one_node_slurm_kill_tree() {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do _one_node_slurm_kill_tree "$child"; done
  kill -9 "$1" 2>/dev/null
}
