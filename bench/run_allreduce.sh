#!/usr/bin/env bash
# Builds bench/allreduce_bench.cc and runs it under mpirun: bus bandwidth of the bucketed
# GradientSync (MPI) against a bare MPI_Allreduce of the same buffer, as a markdown table.
# Runs in the repository root wherever it is called from; arguments go to the benchmark:
#
#   bench/run_allreduce.sh                              # 2 ranks, default sizes, 3 + 10 reps
#   bench/run_allreduce.sh --reps=30 --bucket_bytes=8388608
#   RANKS=4 bench/run_allreduce.sh --sizes=1048576 --config=
#
# Environment: RANKS (default 2); BUILD=0 skips the bazel build; OMPI_MCA_* as usual
# (default transport: shared memory, OMPI_MCA_btl=self,vader).
# The machine (lscpu) and the date go to stderr before the table, for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RANKS=${RANKS:-2}
if [[ "${BUILD:-1}" != 0 ]]; then
  bazel build //bench:allreduce_bench >&2
fi
export OMPI_MCA_btl=${OMPI_MCA_btl:-self,vader}
{
  date -u '+%Y-%m-%d %H:%M UTC'
  lscpu | head -n 15
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
} >&2
# --allow-run-as-root: containers run as root; it changes nothing for other users.
exec mpirun --allow-run-as-root --oversubscribe -np "$RANKS" bazel-bin/bench/allreduce_bench "$@"
