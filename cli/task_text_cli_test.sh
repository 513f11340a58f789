#!/usr/bin/env bash
# cloze task-text end to end: a GLUE folder as distributed with slices of real CoLA (no
# header), SST-2 and RTE and an empty QQP folder. The text written must be each task's
# train texts in file order, labels left out: a pair task's example one document, a
# one-sentence task's examples 8 to a document; cloze prepare must read it back as that
# many documents. Bad input (a line with a column missing, no GLUE task, a bad
# --sentences_per_document) exits 2 naming the file and line, and leaves the output as it was.
set -uo pipefail
source cli/testing/common.sh
require_spm

glue=$work/glue
mkdir -p "$glue/CoLA" "$glue/SST-2" "$glue/QQP"
cp -r cli/testdata/finetune/RTE "$glue/"
for task in CoLA:20 SST-2:21; do  # CoLA's train has no header line, SST-2's has
  for split in train dev; do
    head -n "${task#*:}" "../shared_data/glue/${task%:*}/$split.tsv" >"$glue/${task%:*}/$split.tsv" ||
      { echo "FAIL: missing ../shared_data/glue/${task%:*} (shared data)"; exit 1; }
  done
done

out=$work/text.txt
$cloze task-text --data_dir="$glue" --output="$out" >"$work/text.log" 2>&1 || fail "task-text: $(cat "$work/text.log")"
grep -q "skipped QQP: " "$work/text.log" || fail "QQP not reported as skipped: $(cat "$work/text.log")"
grep -q "^CoLA: 20 examples, 3 documents, 20 lines$" "$work/text.log" || fail "CoLA counts: $(cat "$work/text.log")"

python3 - "$glue" "$out" <<'PY' || fail "the text is not the tasks' train texts"
import csv, sys
glue, out = sys.argv[1:]
def rows(task, header):
    with open(f"{glue}/{task}/train.tsv", encoding="utf-8-sig", newline="") as f:
        r = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return r[1:] if header else r
documents = []
cola = [r[3].strip() for r in rows("CoLA", False)]
sst2 = [r[0].strip() for r in rows("SST-2", True)]
for sentences in (cola, sst2):  # GLUE's order: CoLA, SST-2, ..., RTE
    documents += [sentences[i:i + 8] for i in range(0, len(sentences), 8)]
documents += [[r[1].strip(), r[2].strip()] for r in rows("RTE", True)]
want = "".join("\n".join(d) + "\n\n" for d in documents)
got = open(out, encoding="utf-8").read()
assert got == want, (len(got), len(want), got[:300], want[:300])
assert "not_entailment" not in got.split("\n")  # no label line
print(f"{len(documents)} documents as expected")
PY

# cloze prepare reads it back, a document per blank-line block.
documents=$(grep -c '^$' "$out")
$cloze prepare --input="$out" --input_format=bert --output="$work/data" --tokenizer=spm-albert:$spm --max_seq_length=64 \
  --max_predictions_per_seq=10 --shards=1 >"$work/prepare.log" 2>&1 || fail "prepare: $(tail -5 "$work/prepare.log")"
grep -q "^input: 1 files, .*, $documents documents" "$work/prepare.log" ||
  fail "prepare did not see $documents documents: $(grep '^input' "$work/prepare.log")"

# Bad input: exit 2, the file and line named, the output unchanged.
cp "$out" "$work/before.txt"
cp "$glue/SST-2/train.tsv" "$work/sst2.tsv"
printf 'a line without its label\n' >>"$glue/SST-2/train.tsv"
log=$($cloze task-text --data_dir="$glue" --output="$out" 2>&1)
[ $? -eq 2 ] && grep -q "SST-2/train.tsv:22: expected 2 tab-separated columns" <<<"$log" || fail "bad line: $log"
cmp -s "$out" "$work/before.txt" || fail "a failed task-text changed its output"
log=$($cloze task-text --data_dir="$glue" --output="$work/skipped.txt" --skip_bad_lines 2>&1) ||
  fail "--skip_bad_lines: $log"
grep -q "SST-2: 20 examples.*1 bad lines skipped" <<<"$log" || fail "--skip_bad_lines did not count the line: $log"
cp "$work/sst2.tsv" "$glue/SST-2/train.tsv"
log=$($cloze task-text --data_dir="$work/nothing" --output="$out" 2>&1)
[ $? -eq 2 ] && grep -q "no GLUE task" <<<"$log" || fail "no task: $log"
log=$($cloze task-text --data_dir="$glue" --output="$out" --sentences_per_document=0 2>&1)
[ $? -eq 2 ] && grep -q -- "--sentences_per_document" <<<"$log" || fail "--sentences_per_document=0: $log"
cmp -s "$out" "$work/before.txt" || fail "refused runs changed the output"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "PASS"
