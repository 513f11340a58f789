#!/usr/bin/env bash
# cloze train on bad input and signals: an invalid config, a missing dataset, shards made
# with another tokenizer, a corrupt checkpoint (skipped with a warning, the older one
# used, nothing lost), and SIGTERM (checkpoint, then exit 0).
set -uo pipefail
cloze=cli/cloze
work=$TEST_TMPDIR
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

prepare() {  # prepare INPUT OUTPUT TOKENIZER
  $cloze prepare --input="$1" --output="$2" --tokenizer="$3" --max_seq_length=64 --max_predictions_per_seq=10 \
    --shards=2 --threads=2 >"$work/prepare.log" 2>&1 || { cat "$work/prepare.log"; echo "FAIL: prepare $2"; exit 1; }
}
prepare corpus/demo/frankenstein.txt "$work/data" spm-train:1000
head -n 2000 corpus/demo/wikitext-2-test.txt >"$work/wiki.txt"
prepare "$work/wiki.txt" "$work/other_tokenizer" spm-train:1000  # same size, another model

config() {  # config FILE DATASET TOTAL_STEPS [EXTRA]
  cat >"$1" <<CONFIG
model {
  model_type: "albert" vocab_size: 1000 embedding_size: 32 hidden_size: 64 num_hidden_layers: 2
  num_attention_heads: 2 intermediate_size: 128 num_hidden_groups: 1 inner_group_num: 1
  hidden_act: "gelu_new" max_position_embeddings: 64 type_vocab_size: 2 layer_norm_eps: 1e-12
  initializer_range: 0.02
}
dataset: "$2"
batch_size: 8
seq_len: 64
max_predictions_per_seq: 10
total_steps: $3
optimizer { kind: LAMB learning_rate: 0.005 }
schedule { warmup_steps: 5 }
checkpoint { every_steps: 10 keep_last: 5 }
${4:-}
CONFIG
}

# An invalid config is a usage error naming the file and the field.
config "$work/bad.textproto" "$work/data" 20 "batch_size: 0"
log=$($cloze train --config="$work/bad.textproto" --run_dir="$work/bad_run" --metrics_address= 2>&1)
[ $? -eq 2 ] || fail "invalid config: exit status"
grep -q "bad.textproto: TrainConfig.batch_size" <<<"$log" || fail "invalid config message: $log"
log=$($cloze train --config="$work/none.textproto" --run_dir="$work/bad_run" 2>&1)
[ $? -eq 2 ] && grep -q "none.textproto" <<<"$log" || fail "missing config: $log"

# A missing dataset names it: a configuration error (exit status 2, util/exit_status.h).
config "$work/missing.textproto" "$work/no_such_data" 20
log=$($cloze train --config="$work/missing.textproto" --run_dir="$work/missing_run" --metrics_address= 2>&1)
[ $? -eq 2 ] && grep -q "no_such_data: NotFound: no such file or directory" <<<"$log" || fail "missing dataset: $log"

# A dataset whose vocabulary does not fit the model: a configuration error too.
config "$work/vocab.textproto" "$work/data" 20
sed -i 's/vocab_size: 1000/vocab_size: 999/' "$work/vocab.textproto"
log=$($cloze train --config="$work/vocab.textproto" --run_dir="$work/vocab_run" --metrics_address= 2>&1)
[ $? -eq 2 ] && grep -q "vocab_size is 999" <<<"$log" || fail "vocabulary mismatch: $log"

# Train 30 steps (checkpoints at 10, 20, 30).
config "$work/train.textproto" "$work/data" 30
$cloze train --config="$work/train.textproto" --run_dir="$work/run" --metrics_address= >"$work/train.log" 2>&1 ||
  fail "training: $(tail -5 "$work/train.log")"
[ -d "$work/run/checkpoints/step-000000030" ] || fail "no step-30 checkpoint"

# Resuming on shards made with another tokenizer is refused, naming both fingerprints.
config "$work/swap.textproto" "$work/other_tokenizer" 40
log=$($cloze train --config="$work/swap.textproto" --run_dir="$work/run" --metrics_address= 2>&1)
[ $? -eq 2 ] || fail "other tokenizer accepted: $log"
grep -q "fingerprint" <<<"$log" || fail "other tokenizer message: $log"

# A corrupt newest checkpoint is skipped with a warning; the run resumes from step 20,
# and the damaged directory is moved aside (kept for the operator) so step 30 is redone.
ckpt=$work/run/checkpoints/step-000000030
printf 'XXXX' | dd of="$ckpt/model.safetensors" bs=1 seek=1000 conv=notrunc 2>/dev/null
config "$work/more.textproto" "$work/data" 40
log=$($cloze train --config="$work/more.textproto" --run_dir="$work/run" --metrics_address= 2>&1) ||
  fail "resume after corruption: $log"
grep -q "step-000000030" <<<"$log" || fail "no warning naming the corrupt checkpoint: $log"
grep -q "resuming from .*step-000000020" <<<"$log" || fail "did not resume from step 20: $log"
[ -d "$work/run/checkpoints/step-000000040" ] || fail "no step-40 checkpoint after resuming"
[ -d "$work/run/checkpoints/step-000000010" ] || fail "an older checkpoint was lost"
ls -d "$work/run/checkpoints/step-000000030.damaged-"* >/dev/null 2>&1 || fail "the damaged checkpoint was not kept aside"
grep -q "moved the damaged checkpoint" <<<"$log" || fail "no message about the damaged checkpoint: $log"

# The guard: NaN losses are skipped; three in a row roll back to the last checkpoint with
# half the learning rate.
config "$work/guard.textproto" "$work/data" 40 "guard { max_consecutive_skips: 3 rollback_lr_factor: 0.5 }"
log=$($cloze train --config="$work/guard.textproto" --run_dir="$work/guard" --metrics_address= \
  --testing_nonfinite_loss_steps=15,25,26,27 2>&1) || fail "guard run: $log"
grep -q "step 15 skipped: loss is nan" <<<"$log" || fail "no skip reported: $log"
grep -q "rolled back to .*step-000000020 after repeated skips; learning rate scale now 0.5" <<<"$log" ||
  fail "no rollback reported: $log"
grep -q "(4 skipped, 1 rollbacks)" <<<"$log" || fail "summary counts: $log"
python3 -c '
import json, sys
r = {j["step"]: j for j in map(json.loads, open(sys.argv[1]))}
assert r[15]["skipped"] and r[15]["loss"] is None, r[15]
assert not r[28]["skipped"] and abs(r[28]["lr"] / r[24]["lr"] - 0.5 * (40 - 27) / (40 - 23)) < 1e-6, (r[24], r[28])
' "$work/guard/metrics.jsonl" || fail "metrics.jsonl does not show the skips and the halved learning rate"

# SIGTERM: the step in progress finishes, a checkpoint is written, exit status 0.
config "$work/long.textproto" "$work/data" 100000
$cloze train --config="$work/long.textproto" --run_dir="$work/long" --metrics_address= >"$work/long.log" 2>&1 &
pid=$!
while :; do  # no time bound: the process ending, or bazel's test timeout, ends the wait
  [ -s "$work/long/metrics.jsonl" ] && [ "$(wc -l <"$work/long/metrics.jsonl")" -ge 15 ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.05
done
kill -TERM $pid
wait $pid
status=$?
[ $status -eq 0 ] || fail "SIGTERM: exit status $status: $(tail -3 "$work/long.log")"
step=$(grep -oP 'stopping at step \K[0-9]+' "$work/long.log")
[ -n "$step" ] || fail "SIGTERM: no 'stopping at step' line: $(tail -3 "$work/long.log")"
[ -d "$work/long/checkpoints/$(printf 'step-%09d' "${step:-0}")" ] || fail "SIGTERM: no checkpoint of step $step"

[ $failures -eq 0 ] && echo "all train checks passed"
exit $failures
