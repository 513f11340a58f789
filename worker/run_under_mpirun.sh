#!/usr/bin/env bash
# Runs a test binary under a real `mpirun -np RANKS`, inside Bazel's sandbox:
#   run_under_mpirun.sh RANKS BINARY [ARGS...]
# The binary reads CLOZE_EXPECTED_WORLD_SIZE to check that mpirun really started RANKS
# ranks (and not RANKS singletons). mpirun exits non-zero when any rank does.
set -euo pipefail
ranks=$1
binary=$2
shift 2
mpirun=$(command -v mpirun || true)
mpirun=${mpirun:-/usr/bin/mpirun}
# Open MPI's session directory goes under TMPDIR; the sandbox's writable one is TEST_TMPDIR.
export TMPDIR=${TEST_TMPDIR:-${TMPDIR:-/tmp}}
# Shared memory between local ranks; no network needed. Cross-memory attach (CMA) needs
# ptrace rights that containers often withhold, so copy through the shared segment.
export OMPI_MCA_btl=self,vader
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export CLOZE_EXPECTED_WORLD_SIZE=$ranks
# Every rank would write the same gtest XML file; Bazel writes its own from the exit code.
unset XML_OUTPUT_FILE GTEST_OUTPUT TEST_PREMATURE_EXIT_FILE
# A rank stuck in a collective (its peer failed an assertion and left) must not hang the
# test until Bazel's timeout: give up well before.
exec timeout --signal=TERM --kill-after=10 150 \
  "$mpirun" --allow-run-as-root --oversubscribe -np "$ranks" "$binary" "$@"
