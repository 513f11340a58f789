#!/usr/bin/env bash
# cloze prepare over many machines, by the command line: parts run concurrently and out of
# order, then --merge, give what a one-machine prepare gives (inspect's whole report and the
# tokenizer file); a missing part and spm-train are refused with the part or field named.
# (data/prepare_part_test compares every record of every shard.)
set -uo pipefail
cloze=cli/cloze
vocab=../shared_data/vocab/bert-base-uncased-vocab.txt
text=../shared_data/wikitext-2/valid.txt
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
for f in "$vocab" "$text"; do [ -f "$f" ] || { echo "FAIL: $f missing (shared/data beside the checkout)"; exit 1; }; done

in=$TEST_TMPDIR/input
mkdir -p "$in"
head -n 1200 "$text" >"$in/a.txt"
sed -n 1201,2400p "$text" >"$in/b.txt"
sed -n 2401,3600p "$text" >"$in/c.txt"
# --unit_bytes=1 makes every file a unit, so three parts have work each.
flags=(--input="$in" --tokenizer="wordpiece:$vocab" --max_seq_length=64 --shards=2 --threads=1 --unit_bytes=1)

$cloze prepare "${flags[@]}" --output="$TEST_TMPDIR/one" >"$TEST_TMPDIR/one.log" 2>&1 ||
  fail "one-machine prepare: $(cat "$TEST_TMPDIR/one.log")"

split=$TEST_TMPDIR/split
$cloze prepare "${flags[@]}" --output="$split" --part=2 --parts=3 >"$TEST_TMPDIR/p2.log" 2>&1 || fail "part 2: $(cat "$TEST_TMPDIR/p2.log")"
grep -q "prepared part 2 of 3 (units 2 to 3 of 3)" "$TEST_TMPDIR/p2.log" || fail "part 2 summary: $(cat "$TEST_TMPDIR/p2.log")"
grep -q "next: when all 3 parts are done, cloze prepare --merge --parts=3 --output=$split" "$TEST_TMPDIR/p2.log" ||
  fail "part 2 does not say what comes next"
$cloze prepare "${flags[@]}" --output="$split" --part=0 --parts=3 >"$TEST_TMPDIR/p0.log" 2>&1 &
p0=$!
$cloze prepare "${flags[@]}" --output="$split" --part=1 --parts=3 >"$TEST_TMPDIR/p1.log" 2>&1 || fail "part 1: $(cat "$TEST_TMPDIR/p1.log")"
wait $p0 || fail "part 0: $(cat "$TEST_TMPDIR/p0.log")"
log=$($cloze prepare --merge --parts=3 --output="$split" 2>&1) || fail "merge: $log"
grep -q "merged 3 parts into $split" <<<"$log" || fail "merge summary: $log"
grep -Eq "^examples: [1-9][0-9]* in 2 shards" <<<"$log" || fail "merge summary has no examples: $log"
[ ! -e "$split/parts" ] || fail "the merge left $split/parts"
cmp -s "$TEST_TMPDIR/one/vocab.txt" "$split/vocab.txt" || fail "the tokenizer files differ"
one=$($cloze inspect "$TEST_TMPDIR/one" --examples=5 --verify 2>&1 | tail -n +2) || fail "inspect one-machine: $one"
merged=$($cloze inspect "$split" --examples=5 --verify 2>&1 | tail -n +2) || fail "inspect merged: $merged"
[ "$one" = "$merged" ] || fail "inspect reports differ: $(diff <(echo "$one") <(echo "$merged") | head -20)"
grep -q "content hashes: all 2 shards verified" <<<"$merged" || fail "merged shards not verified: $merged"

# A merge with a part missing names it, exits 1 and writes no shard.
missing=$TEST_TMPDIR/missing
$cloze prepare "${flags[@]}" --output="$missing" --part=0 --parts=2 >/dev/null 2>&1 || fail "part 0 of 2"
log=$($cloze prepare --merge --parts=2 --output="$missing" 2>&1)
[ $? -eq 1 ] || fail "merge with a missing part: exit status"
grep -q "part 1 of 2 is missing" <<<"$log" || fail "missing part not named: $log"
ls "$missing" | grep -q shard- && fail "a refused merge wrote shards: $(ls "$missing")"

# Parts need a fixed tokenizer; bad part numbers are usage errors.
log=$($cloze prepare --input="$in" --tokenizer=spm-train:100 --output="$TEST_TMPDIR/x" --part=0 --parts=2 2>&1)
[ $? -eq 2 ] || fail "spm-train part: exit status"
grep -q "a part cannot train the tokenizer" <<<"$log" || fail "spm-train part message: $log"
log=$($cloze prepare "${flags[@]}" --output="$TEST_TMPDIR/x" --part=3 --parts=3 2>&1)
[ $? -eq 2 ] && grep -q -- "--part: 3 is outside \[0, 2\]" <<<"$log" || fail "--part out of range: $log"
log=$($cloze prepare --merge --output="$TEST_TMPDIR/x" 2>&1)
[ $? -eq 2 ] && grep -q "usage: cloze prepare --merge --parts=N --output=DIR" <<<"$log" || fail "merge usage: $log"
help=$($cloze help 2>&1)
grep -q -- "--merge --parts=N" <<<"$help" || fail "cloze help does not describe the merge"

[ $failures -eq 0 ] && echo PASS
exit $failures
