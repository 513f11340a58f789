#!/usr/bin/env bash
# Data parallelism computes the same steps whatever the split, with real processes on
# 127.0.0.1 (cloze launch: a coordinator, workers under mpirun, parameter servers):
#   - 2 workers × batch 4 equal 1 worker × batch 8: losses within 1e-6 relative, 20 steps;
#   - 2 workers with 2 synchronous parameter servers equal 2 workers all-reducing;
#   - with bounded staleness, the job runs to its end.
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=$TEST_TMPDIR
source tests/distributed/common.sh
prepare_data "$work/data"

write_config "$work/one.textproto" "$work/data" 8 20
write_config "$work/two.textproto" "$work/data" 4 20
launch "$work/one.textproto" "$work/one" --workers=1
launch "$work/two.textproto" "$work/two" --workers=2
launch "$work/two.textproto" "$work/ps" --workers=2 --ps=2
# Bounded staleness: other numbers by design (servers apply gradients as they arrive); the
# job must run to the end with whole checkpoints.
write_config "$work/stale.textproto" "$work/data" 4 20 "" \
  "parameter_servers: 2 consistency: BOUNDED_STALENESS max_staleness: 2"
launch "$work/stale.textproto" "$work/stale" --workers=2

echo "1 worker × 8 vs 2 workers × 4:"
compare_losses "$work/one/metrics.jsonl" "$work/two/metrics.jsonl" 1e-6 || fail "2 workers × b differ from 1 worker × 2b"
echo "parameter servers vs all-reduce:"
compare_losses "$work/two/metrics.jsonl" "$work/ps/metrics.jsonl" 1e-6 || fail "synchronous PS mode differs from all-reduce"
grep -q "finished" "$work/stale.log" || fail "the bounded-staleness job did not finish"
for run in one two ps stale; do verify_checkpoints "$work/$run" || fail "$run: a checkpoint is not whole"; done

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
