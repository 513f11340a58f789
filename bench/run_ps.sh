#!/usr/bin/env bash
# Parameter-server push + pull throughput of ALBERT-base's parameters against a bare gRPC
# stream of the same bytes (bench/ps_bench.cc explains the three figures), for 1 and 2
# servers; prints a markdown table. Runs in the repository root wherever it is called from:
#
#   bench/run_ps.sh
#   SERVERS=1 WARMUP=1 STEPS=5 bench/run_ps.sh
#
# Environment: CONFIG (default configs/albert-base.textproto), SERVERS (default "1,2"),
# WARMUP (2), STEPS (7), THREADS (OMP_NUM_THREADS for the servers' arithmetic; default 2),
# BUILD=0 skips the build. OMP_WAIT_POLICY defaults to passive: OpenMP's idle workers
# otherwise spin after each parallel loop (Σg², LAMB), and on a 2-core machine they take
# the cores gRPC's threads need (measured: ps/bare 66% spinning, 94% passive).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${BUILD:-1}" != 0 ]]; then bazel build //bench:ps_bench >&2; fi
echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'); $(date -u '+%Y-%m-%d %H:%M UTC')"
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} OMP_NUM_THREADS=${THREADS:-2} bazel-bin/bench/ps_bench --config="${CONFIG:-configs/albert-base.textproto}" \
  --servers="${SERVERS:-1,2}" --warmup="${WARMUP:-2}" --steps="${STEPS:-7}"
