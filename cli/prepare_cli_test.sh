#!/usr/bin/env bash
# cloze prepare and inspect on bad input: binary junk, invalid UTF-8, a 10 MB line, empty
# files and broken JSON are skipped and counted (exit status 3, summary says so); missing
# inputs, a non-empty output folder and a corrupted shard are clear errors; nothing crashes.
set -uo pipefail
cloze=cli/cloze
vocab=../shared_data/vocab/bert-base-uncased-vocab.txt
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
[ -f "$vocab" ] || { echo "FAIL: $vocab missing (shared/data beside the checkout)"; exit 1; }

in=$TEST_TMPDIR/input
mkdir -p "$in"
printf 'The first document has a sentence.\nAnd a second one.\n\nAnother document here.\nIt ends now.\n' >"$in/good.txt"
head -c 20000 /dev/urandom >"$in/junk.bin"
printf 'fine line one.\nbad \xff\xfe bytes\nfine line two.\n' >"$in/bad_utf8.txt"
{ echo "before the long line."; head -c 10485760 /dev/zero | tr '\0' 'x'; echo; echo "after the long line."; } >"$in/huge.txt"
: >"$in/empty.txt"
printf '{"text": "A JSON document. With two sentences."}\nnot json at all\n{"no_text": 1}\n' >"$in/docs.jsonl"

out=$TEST_TMPDIR/dataset
log=$($cloze prepare --input="$in" --output="$out" --tokenizer="wordpiece:$vocab" --max_seq_length=32 --shards=2 --threads=2 2>&1)
status=$?
[ $status -eq 3 ] || fail "prepare on bad input: exit status $status, expected 3: $log"
grep -q "note: some input was skipped" <<<"$log" || fail "summary does not say input was skipped: $log"
grep -Eq "skipped: [1-9][0-9]* lines .*[1-9][0-9]* over the length limit of [0-9]+ bytes, 1 bad JSON" <<<"$log" ||
  grep -Eq "skipped: [1-9][0-9]* lines" <<<"$log" || fail "skipped lines not counted: $log"
grep -q "1 over the length limit of 1048576 bytes" <<<"$log" || fail "no overlong count with the limit: $log"
ls "$out" | grep -q "shard-00000-of-00002" || fail "no shard written: $(ls "$out")"

grep -q "format: $in/good.txt: bert (" <<<"$log" || fail "no format decision for good.txt: $log"
grep -q "format: $in/docs.jsonl: jsonl (" <<<"$log" || fail "no format decision for docs.jsonl: $log"
grep -Eq "^fill: [0-9.]+% " <<<"$log" || fail "no fill in the summary: $log"

log=$($cloze inspect "$out" --examples=1 --verify 2>&1) || fail "inspect failed: $log"
grep -q "content hashes: all 2 shards verified" <<<"$log" || fail "inspect --verify: $log"
grep -Eq "^documents: [1-9][0-9]*, " <<<"$log" || fail "inspect does not report the documents: $log"
grep -Eq "^fill: [0-9.]+% " <<<"$log" || fail "inspect does not report the fill: $log"

# Paragraphs read as one-sentence-per-line documents: the summary warns and names the cause.
for i in $(seq 1 40); do printf 'Paragraph %s has a sentence. And another one here.\n\n' "$i"; done >"$TEST_TMPDIR/short.txt"
log=$($cloze prepare --input="$TEST_TMPDIR/short.txt" --input_format=bert --output="$TEST_TMPDIR/short" \
  --tokenizer="wordpiece:$vocab" --max_seq_length=128 --shards=1 2>&1) || fail "prepare short documents: $log"
grep -q "warning: fill .* documents are short" <<<"$log" || fail "no low-fill warning naming short documents: $log"
log=$($cloze prepare --input="$TEST_TMPDIR/short.txt" --input_format=nonsense --output="$TEST_TMPDIR/x" \
  --tokenizer="wordpiece:$vocab" 2>&1)
[ $? -eq 2 ] || fail "unknown --input_format: exit status"
grep -q "nonsense" <<<"$log" || fail "unknown --input_format not named: $log"

# A missing input is an error naming it, and leaves no output behind.
log=$($cloze prepare --input="$TEST_TMPDIR/nope.txt" --output="$TEST_TMPDIR/other" --tokenizer="wordpiece:$vocab" 2>&1)
status=$?
[ $status -eq 1 ] || fail "missing input: exit status $status"
grep -q "nope.txt" <<<"$log" || fail "missing input not named: $log"
[ ! -e "$TEST_TMPDIR/other" ] || fail "missing input left an output folder"

# A non-empty output folder is never written into.
log=$($cloze prepare --input="$in/good.txt" --output="$out" --tokenizer="wordpiece:$vocab" 2>&1)
[ $? -eq 1 ] || fail "non-empty output accepted: $log"
grep -q "not empty" <<<"$log" || fail "non-empty output message: $log"
$cloze inspect "$out" --verify >/dev/null 2>&1 || fail "the existing dataset was damaged"

# Bad flags are usage errors naming the field.
log=$($cloze prepare --input="$in/good.txt" --output="$TEST_TMPDIR/x" --tokenizer="wordpiece:$vocab" --masked_lm_prob=2 2>&1)
[ $? -eq 2 ] || fail "bad masked_lm_prob: exit status"
grep -q "DataConfig.masked_lm_prob" <<<"$log" || fail "bad masked_lm_prob message: $log"

# Input with no usable text (an empty file, binary junk): no examples is an error here, not a
# dataset that train refuses later, and no output folder is left behind.
mkdir -p "$TEST_TMPDIR/nothing"
: >"$TEST_TMPDIR/nothing/empty.txt"
head -c 2000 /dev/urandom >"$TEST_TMPDIR/nothing/junk.bin"
log=$($cloze prepare --input="$TEST_TMPDIR/nothing" --output="$TEST_TMPDIR/none" --tokenizer="wordpiece:$vocab" 2>&1)
[ $? -eq 2 ] && grep -q "no examples from .*nothing: 0 documents" <<<"$log" || fail "no examples: $log"
[ ! -e "$TEST_TMPDIR/none" ] || fail "prepare of no examples left $TEST_TMPDIR/none behind"

# A corrupted shard: inspect fails with the shard named, without crashing.
sst=$(ls "$out"/shard-00001-of-00002/*.sst | head -n 1)
size=$(stat -c %s "$sst")
printf 'garbage!garbage!garbage!' | dd of="$sst" bs=1 seek=$((size / 3)) conv=notrunc 2>/dev/null
log=$($cloze inspect "$out" --verify 2>&1)
status=$?
[ $status -eq 1 ] || fail "corrupted shard: exit status $status: $log"
grep -q "shard-00001-of-00002" <<<"$log" || fail "corrupted shard not named: $log"

[ $failures -eq 0 ] && echo "all prepare/inspect checks passed"
exit $failures
