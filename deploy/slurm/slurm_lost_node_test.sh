#!/usr/bin/env bash
# A node lost in the middle of a Slurm pretraining job (deploy/slurm/pretrain.sbatch on the
# one-node cluster of deploy/slurm/testing): the processes of one worker rank, found among
# the job's own (scontrol listpids), are SIGKILLed at once, as when their node goes away.
# The rest of the job recovers as `cloze launch` does on one machine: the worker group ends,
# the script starts it again (one counted restart, no requeue), the coordinator forms a new
# generation that resumes from the last committed checkpoint, and the job completes with the
# losses of an uninterrupted `cloze launch` bit for bit, every checkpoint verified and no
# process left. Needs Debian's Slurm (deploy/setup.sh); says SKIP and passes without it.
# About a minute.
set -uo pipefail
cloze=$(realpath "${CLOZE:-cli/cloze}")
work=$TEST_TMPDIR
source tests/faults/common.sh
source deploy/slurm/testing/slurm_jobs.sh
start_test_cluster

prepare_data "$work/data"
write_job "$work/job.textproto" 120 # a checkpoint every 20 steps
launch "$work/job.textproto" "$work/clean" --workers=2 --threads=1

# rank_pids JOB RANK: the job's processes (on this node) that belong to worker RANK: the
# worker Open MPI numbered RANK and what it started.
rank_pids() {
  local pid
  for pid in $(scontrol listpids "$1" 2>/dev/null | awk 'NR > 1 { print $1 }'); do
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = cloze ] || continue
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" || continue
    echo "$pid"
    descendants "$pid"
  done
}

run=$work/slurm_run
job=$(sbatch --parsable --ntasks=2 --cpus-per-task=1 --output="$work/job.out" deploy/slurm/pretrain.sbatch \
  --config="$work/job.textproto" --run_dir="$run" --cloze="$cloze" --metrics_address=127.0.0.1:0 \
  --coordinator_host=127.0.0.1)
echo "submitted job $job"
if wait_until "$job" 300 has_checkpoint "$run" 40; then
  victims=$(rank_pids "$job" 1 | paste -sd' ')
  echo "after step $(last_step "$run/metrics.jsonl"): SIGKILL to worker rank 1 (pids $victims)"
  [ -n "$victims" ] && kill -9 $victims || fail "no process of worker rank 1 among the job's: $(scontrol listpids "$job")"
fi
wait_until "$job" 300 completed "$job"
echo "job $job: $(job_state "$job")"
cat "$work/job.out"
[ "$(job_state "$job")" = "COMPLETED 0" ] || fail "the job was requeued, or did not complete: $(job_state "$job")"
grep -q "starting them again (restart 1 " "$work/job.out" || fail "the script did not start the workers again"
grep -q "the workers finished" "$work/job.out" || fail "the workers did not finish"

compare_losses "$work/clean/metrics.jsonl" "$run/metrics.jsonl" 0 || fail "the losses differ from the uninterrupted run's"
"$cloze" verify "$run" >"$work/verify.log" 2>&1 || { cat "$work/verify.log"; fail "cloze verify $run"; }
tail -n 2 "$work/verify.log"
no_job_leftovers "$run"
stop_test_cluster

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
