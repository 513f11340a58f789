#!/usr/bin/env bash
# deploy/slurm/pretrain.sbatch on a real Slurm: Debian's munged, slurmctld and slurmd,
# started here as a one-node cluster (deploy/slurm/testing/one_node_slurm.sh) and torn down
# at the end.
#   1. Without --run_dir the script refuses to start, saying why (exit status 2).
#   2. The script submitted with sbatch (2 CPU workers under mpirun) on the distributed
#      tests' tiny ALBERT is requeued twice in the middle of its run: once from outside
#      (`scontrol requeue`, which signals every process of the job), once as at a time limit
#      (USR1 to the batch script, as --signal=B:USR1@120 sends it: the script stops the
#      workers at a checkpoint and requeues the job itself). The job completes, its losses
#      equal an uninterrupted `cloze launch` of the same config bit for bit, every checkpoint
#      verifies (`cloze verify`), and no process of the job is left.
# Needs Debian's slurmctld, slurmd, munge and slurm-client (deploy/setup.sh); says SKIP and
# passes without them. About a minute.
set -uo pipefail
cloze=$(realpath "${CLOZE:-cli/cloze}")
work=$TEST_TMPDIR
source tests/faults/common.sh
source deploy/slurm/testing/slurm_jobs.sh
start_test_cluster
sbatch_script=$(realpath deploy/slurm/pretrain.sbatch)

prepare_data "$work/data"
write_job "$work/job.textproto" 200 # a checkpoint every 20 steps
# The uninterrupted run: 2 workers with one thread each, as the Slurm job's 2 one-CPU tasks.
launch "$work/job.textproto" "$work/clean" --workers=2 --threads=1

# --- 1. No run folder ---------------------------------------------------------------------------
sbatch --wait --ntasks=1 --output="$work/no_run_dir.out" "$sbatch_script" --config="$work/job.textproto" \
  --cloze="$cloze" >/dev/null 2>&1
status=$?
cat "$work/no_run_dir.out"
[ $status -eq 2 ] || fail "without --run_dir: exit status $status, want 2"
grep -q "no run folder: give --run_dir=DIR, a folder on storage that every node of the job sees" \
  "$work/no_run_dir.out" || fail "without --run_dir: the refusal does not say why"

# --- 2. Submitted, requeued twice, completed --------------------------------------------------
run=$work/slurm_run
job=$(sbatch --parsable --ntasks=2 --cpus-per-task=1 --output="$work/job.out" "$sbatch_script" \
  --config="$work/job.textproto" --run_dir="$run" --cloze="$cloze" --metrics_address=127.0.0.1:0 \
  --coordinator_host=127.0.0.1)
echo "submitted job $job"
wait_until "$job" 300 has_checkpoint "$run" 40 && {
  echo "requeue from outside after step $(last_step "$run/metrics.jsonl")"
  scontrol requeue "$job" || fail "scontrol requeue $job"
}
start_again "$job" 1 &&
  wait_until "$job" 300 has_checkpoint "$run" 120 && {
  echo "USR1 to the batch script (the time limit's warning) after step $(last_step "$run/metrics.jsonl")"
  scancel --batch --signal=USR1 "$job" || fail "scancel --batch --signal=USR1 $job"
}
start_again "$job" 2 && wait_until "$job" 300 completed "$job"
echo "job $job: $(job_state "$job")"
cat "$work/job.out"
grep -q "requeueing job $job" "$work/job.out" || fail "the script did not requeue the job itself on USR1"
[ "$(grep -c "^pretrain.sbatch: job $job (restart" "$work/job.out")" -eq 3 ] || fail "the job did not run 3 times"

compare_losses "$work/clean/metrics.jsonl" "$run/metrics.jsonl" 0 || fail "the losses differ from the uninterrupted run's"
"$cloze" verify "$run" >"$work/verify.log" 2>&1 || { cat "$work/verify.log"; fail "cloze verify $run"; }
tail -n 2 "$work/verify.log"
[ "$(stat -c %a "$run/job_token")" = 600 ] || fail "job_token has mode $(stat -c %a "$run/job_token"), want 600"
no_job_leftovers "$run"
stop_test_cluster

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
