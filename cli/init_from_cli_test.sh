#!/usr/bin/env bash
# TrainConfig.init_from: a fresh pretraining run starts from another run's checkpoint (BERT's
# second phase, continued pretraining) with its own step, schedule and optimizer state.
# - With a learning rate too small to move a float, the second run's checkpoint holds the
#   first run's tensors bit for bit: every tensor was loaded, by name, none left at the seed.
# - Run again, it resumes from its own checkpoint and does not load init_from a second time.
# - A checkpoint of another vocabulary is refused before any step, naming both sizes.
set -uo pipefail
cloze=cli/cloze
work=$TEST_TMPDIR
source tests/distributed/common.sh
prepare_data "$work/data"

write_config "$work/phase1.textproto" "$work/data" 4 5
$cloze train --config="$work/phase1.textproto" --run_dir="$work/phase1" --metrics_address= >"$work/phase1.log" 2>&1 ||
  { fail "phase 1"; tail -n 5 "$work/phase1.log"; }

write_config "$work/phase2.textproto" "$work/data" 4 5 "seed: 99
init_from: \"$work/phase1\""
sed -i 's/learning_rate: 0.005/learning_rate: 1e-30/' "$work/phase2.textproto"
$cloze train --config="$work/phase2.textproto" --run_dir="$work/phase2" --metrics_address= >"$work/phase2.log" 2>&1 ||
  { fail "phase 2"; tail -n 5 "$work/phase2.log"; }
grep -q "initialised from $work/phase1/checkpoints/step-000000005" "$work/phase2.log" ||
  fail "phase 2 does not say it started from phase 1's newest checkpoint: $(grep -m3 -i "init\|resum" "$work/phase2.log")"
grep -q "missing (from the seed): none; unexpected (ignored): none" "$work/phase2.log" ||
  fail "phase 2 left tensors at the seed or ignored some: $(grep -m1 missing "$work/phase2.log")"
python3 - "$work/phase1/checkpoints/step-000000005/model.safetensors" "$work/phase2/checkpoints/step-000000005/model.safetensors" <<'PY' ||
import json, struct, sys
def tensors(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    return {k: body[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in header.items() if k != "__metadata__"}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
assert a.keys() == b.keys(), (sorted(a.keys() ^ b.keys()))
differ = [k for k in a if a[k] != b[k]]
assert not differ, "tensors differ from phase 1's: %s" % differ
print("%d tensors equal to phase 1's" % len(a))
PY
  fail "phase 2's parameters are not phase 1's"

$cloze train --config="$work/phase2.textproto" --run_dir="$work/phase2" --metrics_address= >"$work/again.log" 2>&1 ||
  fail "phase 2 run again"
grep -q "resuming from $work/phase2/checkpoints/step-000000005" "$work/again.log" || fail "phase 2 run again did not resume"
grep -q "initialised from" "$work/again.log" && fail "phase 2 run again loaded init_from over its own checkpoint"

$cloze prepare --input=corpus/demo/frankenstein.txt --output="$work/data500" --tokenizer=spm-train:500 --max_seq_length=64 \
  --max_predictions_per_seq=10 --shards=1 --threads=2 >"$work/prepare500.log" 2>&1 || fail "prepare with 500 pieces"
write_config "$work/other.textproto" "$work/data500" 4 5 "init_from: \"$work/phase1\""
sed -i 's/vocab_size: 1000/vocab_size: 500/' "$work/other.textproto"
$cloze train --config="$work/other.textproto" --run_dir="$work/other" --metrics_address= >"$work/other.log" 2>&1
status=$?
[ "$status" -ne 0 ] && grep -q "1000" "$work/other.log" && grep -q "500" "$work/other.log" ||
  fail "another vocabulary: exit status $status, $(tail -n 2 "$work/other.log")"
ls "$work/other/checkpoints" 2>/dev/null | grep -q step && fail "another vocabulary: a checkpoint was written"
grep -i "vocab" "$work/other.log" | head -n 1

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
