#!/usr/bin/env bash
# cloze verify on a run folder, a checkpoint folder and a folder of runs: a line per
# checkpoint, exit 0 when all are valid; a flipped byte, a truncated file and a missing
# manifest are each named with what differs (exit 65); no checkpoint is 66, no path 2.
set -uo pipefail
cloze=cli/cloze
work=$TEST_TMPDIR
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

$cloze prepare --input=corpus/demo/frankenstein.txt --output="$work/data" --tokenizer=spm-train:1000 \
  --max_seq_length=64 --max_predictions_per_seq=10 --shards=1 --threads=2 >"$work/prepare.log" 2>&1 ||
  { cat "$work/prepare.log"; echo "FAIL: prepare"; exit 1; }
cat >"$work/train.textproto" <<CONFIG
model {
  model_type: "albert" vocab_size: 1000 embedding_size: 16 hidden_size: 32 num_hidden_layers: 1
  num_attention_heads: 2 intermediate_size: 64 num_hidden_groups: 1 inner_group_num: 1
  hidden_act: "gelu_new" max_position_embeddings: 64 type_vocab_size: 2 layer_norm_eps: 1e-12
  initializer_range: 0.02
}
dataset: "$work/data"
batch_size: 4
seq_len: 64
max_predictions_per_seq: 10
total_steps: 6
optimizer { kind: LAMB learning_rate: 0.005 }
schedule { warmup_steps: 2 }
checkpoint { every_steps: 2 keep_last: 5 }
CONFIG
run="$work/runs/pretrain"
$cloze train --config="$work/train.textproto" --run_dir="$run" --metrics_address= >"$work/train.log" 2>&1 ||
  { cat "$work/train.log"; echo "FAIL: train"; exit 1; }
checkpoint() { echo "$run/checkpoints/step-00000000$1"; }

verify() {  # verify EXPECTED_STATUS PATH...: runs cloze verify, output in $work/verify.out
  $cloze verify "${@:2}" >"$work/verify.out" 2>&1
  local status=$?
  cat "$work/verify.out"
  [ "$status" -eq "$1" ] || fail "cloze verify ${*:2}: exit status $status, expected $1"
}
says() { grep -qF -- "$1" "$work/verify.out" || fail "cloze verify does not say: $1"; }

verify 0 "$run"
for step in 2 4 6; do says "valid    $(checkpoint $step) (3 files"; done
says "3 valid, 0 damaged"
verify 0 "$(checkpoint 4)"
says "1 valid, 0 damaged"
verify 0 "$work/runs"  # a folder of runs (a fine-tune's seeds, an evaluation)
says "3 valid, 0 damaged"

python3 - "$(checkpoint 6)/model.safetensors" <<'PY'
import os, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(os.path.getsize(sys.argv[1]) // 2)
    byte = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([byte[0] ^ 0x01]))
PY
bytes=$(stat -c %s "$(checkpoint 4)/optimizer.safetensors")
truncate -s 1000 "$(checkpoint 4)/optimizer.safetensors"
verify 65 "$run"
says "valid    $(checkpoint 2)"
says "DAMAGED  checkpoint $(checkpoint 4): optimizer.safetensors has 1000 bytes, the manifest says $bytes"
says "DAMAGED  checkpoint $(checkpoint 6): model.safetensors does not match its SHA-256 in the manifest"
says "1 valid, 2 damaged"
rm "$(checkpoint 2)/manifest.pb.txt"
verify 65 "$(checkpoint 2)"
says "DAMAGED  checkpoint $(checkpoint 2): no manifest.pb.txt"

verify 66 "$work/data"
says "no checkpoints  $work/data"
verify 2
verify 2 "$work/nowhere"

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
