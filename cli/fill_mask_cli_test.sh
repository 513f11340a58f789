#!/usr/bin/env bash
# cloze fill-mask end to end: a micro ALBERT pretrained for 40 steps on a prepared slice of
# Frankenstein (its own 1000-piece SentencePiece model), then asked for the tokens at the
# [MASK]s of two sentences: top_k lines per mask, probabilities in (0, 1], descending,
# summing to at most 1, better than uniform (the checkpoint was loaded, not a fresh model);
# a run folder means its newest checkpoint; stdin lines work too; bad input exits 2 naming
# the problem.
set -uo pipefail
source cli/testing/common.sh

$cloze prepare --input=corpus/demo/frankenstein.txt --output="$work/data" --tokenizer=spm-train:1000 \
  --max_seq_length=64 --max_predictions_per_seq=10 --shards=2 --threads=2 >"$work/prepare.log" 2>&1 ||
  { cat "$work/prepare.log"; echo "FAIL: prepare"; exit 1; }
micro_pretrain_config "$work/train.textproto" "$work/data" 1000 40 5 20
$cloze train --config="$work/train.textproto" --run_dir="$work/run" --metrics_address= >"$work/train.log" 2>&1 ||
  { tail -5 "$work/train.log"; echo "FAIL: train"; exit 1; }
tokenizer=spm:$work/data/tokenizer.model

# Two sentences, three masks, top 4.
$cloze fill-mask --init="$work/run" --tokenizer="$tokenizer" --top_k=4 \
  "The monster [MASK] into the night." "I was [MASK] by the [MASK] of my creature." \
  >"$work/out.txt" 2>"$work/err.txt" || fail "fill-mask: $(cat "$work/err.txt")"
grep -q "step-000000040" "$work/err.txt" || fail "the run's newest checkpoint was not used: $(cat "$work/err.txt")"
python3 - "$work/out.txt" <<'PY' || fail "fill-mask output: $(cat "$work/out.txt")"
import sys
blocks = open(sys.argv[1]).read().split("\n\n")
assert len(blocks) == 2, blocks
expected_masks = [1, 2]
for block, masks in zip(blocks, expected_masks):
    lines = block.strip("\n").split("\n")
    assert "[MASK]" in lines[0], lines[0]
    heads = [i for i, l in enumerate(lines) if l.startswith("[MASK] ")]
    assert len(heads) == masks, (masks, lines)
    for h in heads:
        rows = [l.split("\t") for l in lines[h + 1:h + 5]]
        assert len(rows) == 4 and all(len(r) == 4 and r[0].startswith("  ") for r in rows), rows
        p = [float(r[0]) for r in rows]
        assert all(0 < x <= 1 for x in p), p
        assert p == sorted(p, reverse=True), p
        assert sum(p) <= 1 + 1e-6, p
        # A trained model is far from uniform (1/1000) on its likeliest token.
        assert p[0] > 2 / 1000, p
        assert len(set(int(r[1]) for r in rows)) == 4, rows
        assert all(0 <= int(r[1]) < 1000 and r[2] for r in rows), rows
    assert len(lines) == 1 + masks * 5, lines
PY

# The step folder itself gives the same answer; stdin lines (blank ones skipped) too.
$cloze fill-mask --init="$work/run/checkpoints/step-000000040" --tokenizer="$tokenizer" --top_k=4 \
  "The monster [MASK] into the night." "I was [MASK] by the [MASK] of my creature." >"$work/step.txt" 2>"$work/err.txt" ||
  fail "fill-mask on a step folder: $(cat "$work/err.txt")"
diff "$work/out.txt" "$work/step.txt" || fail "step folder and run folder differ"
printf 'The monster [MASK] into the night.\n\nI was [MASK] by the [MASK] of my creature.\n' |
  $cloze fill-mask --init="$work/run" --tokenizer="$tokenizer" --top_k=4 >"$work/stdin.txt" 2>/dev/null ||
  fail "fill-mask on stdin"
diff "$work/out.txt" "$work/stdin.txt" || fail "stdin and arguments differ"
# An older checkpoint is another model.
$cloze fill-mask --init="$work/run/checkpoints/step-000000020" --tokenizer="$tokenizer" --top_k=4 \
  "The monster [MASK] into the night." "I was [MASK] by the [MASK] of my creature." >"$work/older.txt" 2>"$work/err.txt" ||
  fail "fill-mask on the step-20 folder: $(cat "$work/err.txt")"
! cmp -s "$work/out.txt" "$work/older.txt" || fail "steps 20 and 40 gave the same probabilities"

# Bad input: exit 2 naming the problem.
log=$($cloze fill-mask --init="$work/run" --tokenizer="$tokenizer" "no mask here" 2>&1)
[ $? -eq 2 ] && grep -q 'no \[MASK\] in "no mask here"' <<<"$log" || fail "text without [MASK]: $log"
log=$(printf 'one [MASK]\nnone here\n' | $cloze fill-mask --init="$work/run" --tokenizer="$tokenizer" 2>&1)
[ $? -eq 2 ] && grep -q 'stdin line 2: no \[MASK\]' <<<"$log" || fail "stdin line without [MASK]: $log"
log=$($cloze fill-mask --init="$work/no_such_run" --tokenizer="$tokenizer" "a [MASK]" 2>&1)
[ $? -eq 2 ] && grep -q "no_such_run" <<<"$log" || fail "missing checkpoint: $log"
mkdir -p "$work/empty_run/checkpoints"
log=$($cloze fill-mask --init="$work/empty_run" --tokenizer="$tokenizer" "a [MASK]" 2>&1)
[ $? -eq 2 ] && grep -q "empty_run.*valid checkpoint" <<<"$log" || fail "run without checkpoints: $log"
log=$($cloze fill-mask --init="$work/run" --tokenizer=spm-albert:$spm "a [MASK]" 2>&1)
[ $? -eq 2 ] && grep -q "30000 ids.*vocab_size 1000" <<<"$log" || fail "vocabulary mismatch: $log"
log=$($cloze fill-mask --init="$work/run" --tokenizer="$tokenizer" --top_k=0 "a [MASK]" 2>&1)
[ $? -eq 2 ] && grep -q "top_k" <<<"$log" || fail "--top_k=0: $log"
log=$($cloze fill-mask --init="$work/run" --tokenizer="$tokenizer" \
  "$(printf 'word %.0s' $(seq 1 80)) [MASK]" 2>&1)
[ $? -eq 2 ] && grep -q "at most 64" <<<"$log" || fail "text longer than the model: $log"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "PASS"
