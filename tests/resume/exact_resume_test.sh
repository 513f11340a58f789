#!/usr/bin/env bash
# Exact resume with a real kill -9: an uninterrupted run of 30 steps, and a run killed
# with SIGKILL right after its step-15 checkpoint appears and then started again, must
# report bitwise-equal losses and gradient norms for steps 16 to 30 (CPU, same threads).
# The argument is TrainConfig.precision (FP32, or BF16: bf16 matrix products), which the
# guarantee holds within.
set -uo pipefail
precision=${1:-FP32}
cloze=cli/cloze
work=$TEST_TMPDIR
fail() { echo "FAIL: $*"; exit 1; }

# A small dataset with its own tokenizer, from the demo corpus.
$cloze prepare --input=corpus/demo/frankenstein.txt --output="$work/data" --tokenizer=spm-train:2000 \
  --max_seq_length=64 --max_predictions_per_seq=10 --shards=2 --threads=2 >"$work/prepare.log" 2>&1 ||
  fail "prepare: $(cat "$work/prepare.log")"

cat >"$work/train.textproto" <<CONFIG
model {
  model_type: "albert" vocab_size: 2000 embedding_size: 32 hidden_size: 64 num_hidden_layers: 3
  num_attention_heads: 2 intermediate_size: 128 num_hidden_groups: 1 inner_group_num: 1
  hidden_act: "gelu_new" hidden_dropout_prob: 0.1 attention_probs_dropout_prob: 0.1
  classifier_dropout_prob: 0.1 max_position_embeddings: 64 type_vocab_size: 2
  layer_norm_eps: 1e-12 initializer_range: 0.02
}
dataset: "$work/data"
batch_size: 8
accumulation_steps: 2
seq_len: 64
max_predictions_per_seq: 10
total_steps: 30
optimizer { kind: LAMB learning_rate: 0.01 }
schedule { warmup_steps: 5 }
checkpoint { every_steps: 5 keep_last: 2 }
seed: 7
log_every_steps: 10
precision: $precision
CONFIG

$cloze train --config="$work/train.textproto" --run_dir="$work/straight" --metrics_address= >"$work/straight.log" 2>&1 ||
  fail "uninterrupted run: $(cat "$work/straight.log")"

$cloze train --config="$work/train.textproto" --run_dir="$work/killed" --metrics_address= >"$work/killed1.log" 2>&1 &
pid=$!
while :; do  # no time bound: the process ending, or bazel's test timeout, ends the wait
  [ -d "$work/killed/checkpoints/step-000000015" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.01
done
kill -9 $pid 2>/dev/null || fail "the run ended before it could be killed: $(cat "$work/killed1.log")"
wait $pid 2>/dev/null
[ -d "$work/killed/checkpoints/step-000000015" ] || fail "no step-15 checkpoint before the kill"
killed_at=$(grep -c '"step"' "$work/killed/metrics.jsonl")
echo "killed after $killed_at logged steps"

$cloze train --config="$work/train.textproto" --run_dir="$work/killed" --metrics_address= >"$work/killed2.log" 2>&1 ||
  fail "resumed run: $(cat "$work/killed2.log")"
grep -q "resuming from .*step-0000000" "$work/killed2.log" || fail "did not resume: $(cat "$work/killed2.log")"
if [ "$precision" != FP32 ]; then
  grep -q "precision: $precision" "$work/killed/checkpoints/step-000000030/manifest.pb.txt" ||
    fail "the checkpoint does not record precision $precision"
fi

# Compare the exact text of the figures that must be bitwise equal.
fields() { python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["step"] > 15:
        print(r["step"], repr(r["loss"]), repr(r["mlm_loss"]), repr(r["sop_loss"]), repr(r["grad_norm"]), repr(r["lr"]))
' "$1"; }
fields "$work/straight/metrics.jsonl" >"$work/straight.txt"
fields "$work/killed/metrics.jsonl" >"$work/killed.txt"
[ "$(wc -l <"$work/straight.txt")" -eq 15 ] || fail "uninterrupted run logged $(wc -l <"$work/straight.txt") steps after 15"
diff "$work/straight.txt" "$work/killed.txt" || fail "steps 16-30 differ after the kill and resume"
echo "steps 16-30 bitwise equal after kill -9 and resume ($precision)"
