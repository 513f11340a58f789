#!/usr/bin/env bash
# cloze predict end to end: the micro ALBERT of finetune_cli_test fine-tuned for 16 steps on
# its RTE slice (and for 8 as a generic TSV task), then run on the dev file: one JSON line
# per example, labels from the task's set, probabilities the softmax of the logits, and the
# run's own predictions_dev.jsonl, byte for byte (predict renders a file as the task renders
# its dev split). The unlabelled test.tsv layout gives the same answers; --checkpoint picks
# an older checkpoint; bad input exits 2 naming the problem. (POS and SQuAD runs:
# finetune_tasks_cli_test, which trains them.)
set -uo pipefail
source cli/testing/common.sh
require_spm
dev=cli/testdata/finetune/RTE/dev.tsv

common=("${micro_rte[@]}" --learning_rate=1e-3 --checkpoint_every_steps=8 --seed=1)
$cloze finetune --task=RTE --data_dir=cli/testdata/finetune --epochs=2 "${common[@]}" --run_dir="$work/rte" \
  >"$work/rte.log" 2>&1 || { tail -5 "$work/rte.log"; echo "FAIL: finetune RTE"; exit 1; }
$cloze finetune --task=generic --data_dir=cli/testdata/finetune/RTE --text_b_column=sentence2 --epochs=1 \
  "${common[@]}" --run_dir="$work/generic" >"$work/generic.log" 2>&1 ||
  { tail -5 "$work/generic.log"; echo "FAIL: finetune generic"; exit 1; }

# predictions.jsonl agrees with the run's predictions_dev.jsonl.
agree() {  # agree PREDICTIONS RUN_DIR LABELLED LABELS...
  python3 - "$@" <<'PY'
import json, math, sys
path, run, labelled, labels = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
mine = [json.loads(l) for l in open(path)]
theirs = [json.loads(l) for l in open(run + "/predictions_dev.jsonl")]
assert len(mine) == len(theirs) == 32, (len(mine), len(theirs))
for i, (m, t) in enumerate(zip(mine, theirs)):
    assert m["index"] == i, m
    assert m["prediction"] in labels and m["prediction"] == t["prediction"], (m, t)
    assert all(abs(a - b) < 1e-5 for a, b in zip(m["logits"], t["logits"])), (m, t)
    p = m["probabilities"]
    assert sorted(p) == sorted(labels) and abs(sum(p.values()) - 1) < 1e-9, p
    z = sum(math.exp(x) for x in m["logits"])
    assert all(abs(p[labels[c]] - math.exp(m["logits"][c]) / z) < 1e-9 for c in range(len(labels))), m
    assert max(p, key=p.get) == m["prediction"], m
    if labelled:
        assert m["guid"] == t["guid"] and m["line"] == t["line"] and m["label"] == t["label"], (m, t)
    else:
        assert "label" not in m and m["guid"].startswith("test-"), m
PY
}
$cloze predict --run_dir="$work/rte" --input=$dev --output="$work/rte.jsonl" 2>"$work/err.txt" ||
  fail "predict: $(cat "$work/err.txt")"
grep -q "step-000000016 (RTE) on 32 examples" "$work/err.txt" || fail "predict did not use the newest checkpoint: $(cat "$work/err.txt")"
agree "$work/rte.jsonl" "$work/rte" 1 entailment not_entailment || fail "RTE predictions"
cmp "$work/rte.jsonl" "$work/rte/predictions_dev.jsonl" || fail "predict's lines differ from the run's dev predictions"
# An older checkpoint: its own step, other logits.
$cloze predict --run_dir="$work/rte" --input=$dev --checkpoint="$work/rte/checkpoints/step-000000008" \
  --output="$work/rte8.jsonl" 2>"$work/err.txt" || fail "predict --checkpoint: $(cat "$work/err.txt")"
grep -q "step-000000008 (RTE) on 32 examples" "$work/err.txt" || fail "--checkpoint not used: $(cat "$work/err.txt")"
cmp -s "$work/rte8.jsonl" "$work/rte.jsonl" && fail "step 8 predicts as step 16"
# Without --output, the same lines on stdout.
$cloze predict --run_dir="$work/rte" --input=$dev >"$work/stdout.jsonl" 2>/dev/null || fail "predict to stdout"
cmp "$work/rte.jsonl" "$work/stdout.jsonl" || fail "stdout differs from --output"
# GLUE's test layout (index, sentence1, sentence2; no label): the same texts, the same answers.
mkdir -p "$work/test_layout"
cut -f1-3 $dev >"$work/test_layout/test.tsv"
$cloze predict --run_dir="$work/rte" --input="$work/test_layout/test.tsv" --output="$work/test.jsonl" 2>"$work/err.txt" ||
  fail "predict on test.tsv: $(cat "$work/err.txt")"
agree "$work/test.jsonl" "$work/rte" 0 entailment not_entailment || fail "RTE test-layout predictions"
grep -q '"id":"0"' "$work/test.jsonl" || fail "test.tsv's index is not kept: $(head -1 "$work/test.jsonl")"
# A generic task's run (labels sorted: entailment, not_entailment).
$cloze predict --run_dir="$work/generic" --input=$dev --output="$work/generic.jsonl" 2>"$work/err.txt" ||
  fail "predict generic: $(cat "$work/err.txt")"
agree "$work/generic.jsonl" "$work/generic" 1 entailment not_entailment || fail "generic predictions"

# Bad input: exit 2 naming the problem.
log=$($cloze predict --run_dir="$work/no_such_run" --input=$dev 2>&1)
[ $? -eq 2 ] && grep -q "no_such_run" <<<"$log" || fail "missing run: $log"
log=$($cloze predict --run_dir="$work/rte" --input="$work/none/dev.tsv" 2>&1)
[ $? -eq 2 ] && grep -q "none/dev.tsv" <<<"$log" || fail "missing input: $log"
cp $dev "$work/mine.tsv"
log=$($cloze predict --run_dir="$work/rte" --input="$work/mine.tsv" 2>&1)
[ $? -eq 2 ] && grep -q "mine.tsv: a file of task RTE must be named after one of its splits (train.tsv, dev.tsv, test.tsv)" <<<"$log" ||
  fail "file not named after a split: $log"
mkdir -p "$work/broken"
{ head -3 $dev; printf 'x\tonly two\n'; } >"$work/broken/dev.tsv"
log=$($cloze predict --run_dir="$work/rte" --input="$work/broken/dev.tsv" 2>&1)
[ $? -eq 2 ] && grep -q "broken/dev.tsv.*4" <<<"$log" || fail "bad line: $log"
log=$($cloze predict --run_dir="$work/rte" --input=$dev --tokenizer=spm:"$work/none.model" 2>&1)
[ $? -eq 2 ] && grep -q "none.model" <<<"$log" || fail "missing tokenizer: $log"
log=$($cloze predict --run_dir="$work/rte" 2>&1)
[ $? -eq 2 ] && grep -q "usage: cloze predict" <<<"$log" || fail "no --input: $log"
log=$($cloze predict --run_dir="$work/rte" --input=$dev --checkpoint="$work/rte/checkpoints/step-000000099" 2>&1)
[ $? -eq 2 ] && grep -q "step-000000099" <<<"$log" || fail "missing checkpoint: $log"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "PASS"
