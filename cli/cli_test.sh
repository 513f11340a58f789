#!/usr/bin/env bash
# The cloze program end to end: good configs are described, a bad one is refused with
# the field named and a non-zero status, a step on ALBERT-tiny gives finite losses, and
# --threads sets the thread count of the ops.
set -uo pipefail
cloze=cli/cloze
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

out=$($cloze config configs/albert-base.textproto configs/bert-base.textproto 2>&1) || fail "config exit $?: $out"
grep -q "parameters 11.81M (11813810)" <<<"$out" || fail "albert-base parameter count: $out"
grep -q "parameters 110.11M (110106428)" <<<"$out" || fail "bert-base parameter count: $out"

bad=$TEST_TMPDIR/bad.textproto
sed 's/num_attention_heads: 4/num_attention_heads: 5/' configs/albert-tiny.textproto >"$bad"
out=$($cloze config "$bad" 2>&1); status=$?
[ $status -eq 1 ] || fail "bad config exit status $status"
grep -q "ModelConfig.hidden_size: 256 is not divisible by num_attention_heads (5)" <<<"$out" || fail "bad config message: $out"
grep -q "$bad" <<<"$out" || fail "bad config message lacks the file name: $out"

out=$($cloze step configs/albert-tiny.textproto --batch_size=2 --seq_len=32 --steps=2 2>&1) || fail "step exit $?: $out"
grep -q "^step 1: loss [0-9]" <<<"$out" || fail "step output: $out"
# --threads sets the ops' thread count (the test environment's OMP_NUM_THREADS is 2).
out=$($cloze step configs/albert-tiny.textproto --batch_size=2 --seq_len=32 --steps=1 --threads=1 2>&1) || fail "step --threads=1 exit $?: $out"
grep -q "batch 2 x 32, 1 threads" <<<"$out" || fail "step --threads=1 output: $out"

out=$($cloze frobnicate 2>&1); [ $? -eq 2 ] || fail "unknown command should exit 2"
# Read once: `cloze help | grep -q` fails under pipefail when grep quits before cloze has
# written the whole text (SIGPIPE).
help=$($cloze help 2>&1)
grep -q "config CONFIG" <<<"$help" || fail "help text"
grep -q "fill-mask TEXT" <<<"$help" && grep -q "^  predict " <<<"$help" || fail "help text lacks fill-mask or predict"
grep -q "^  report RUN_DIR " <<<"$help" || fail "help text lacks report"
out=$($cloze fill-mask 2>&1); [ $? -eq 2 ] && grep -q "usage: cloze fill-mask" <<<"$out" || fail "fill-mask without flags: $out"
out=$($cloze predict 2>&1); [ $? -eq 2 ] && grep -q "usage: cloze predict" <<<"$out" || fail "predict without flags: $out"

[ $failures -eq 0 ] && echo "all cli checks passed"
exit $failures
