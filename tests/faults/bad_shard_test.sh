#!/usr/bin/env bash
# Bad data is a permanent failure: a job on a dataset with a truncated shard, or with bytes
# of a shard's RocksDB table flipped, fails at once (exit status 65, EX_DATAERR, not 20
# restarts), stops everything, and prints the workers' own error lines naming the shard;
# cloze train on it exits 65 too. No process outlives the job.
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=$TEST_TMPDIR
source tests/faults/common.sh
prepare_data "$work/data"

damaged_dataset() {  # damaged_dataset NAME PYTHON: a copy of the dataset, shard 1's table edited
  cp -r "$work/data" "$work/$1"
  python3 - "$(ls "$work/$1"/shard-00001-of-00002/*.sst)" <<<"$2"
  write_job "$work/$1.textproto" 40
  sed -i "s#dataset: \"$work/data\"#dataset: \"$work/$1\"#" "$work/$1.textproto"
}

damaged_dataset truncated '
import os, sys
os.truncate(sys.argv[1], os.path.getsize(sys.argv[1]) // 2)'
expect_permanent_failure "$work/truncated.textproto" "$work/truncated-run" 65 \
  "shard $work/truncated/shard-00001-of-00002: Corruption: .* to be an sstable: $work/truncated/shard-00001" --workers=2
$cloze train --config="$work/truncated.textproto" --run_dir="$work/truncated-train" --metrics_address= \
  >"$work/train.log" 2>&1
status=$?
[ "$status" -eq 65 ] || { fail "cloze train on the truncated shard exited with $status, expected 65"; cat "$work/train.log"; }

damaged_dataset corrupt '
import os, sys
with open(sys.argv[1], "r+b") as f:  # 16 bytes in the middle of the data blocks
    f.seek(os.path.getsize(sys.argv[1]) * 2 // 5)
    data = f.read(16)
    f.seek(-16, 1)
    f.write(bytes(b ^ 0xFF for b in data))'
expect_permanent_failure "$work/corrupt.textproto" "$work/corrupt-run" 65 \
  "shard $work/corrupt/shard-00001-of-00002: example [0-9]+ .*Corruption: block checksum mismatch" --workers=2

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
