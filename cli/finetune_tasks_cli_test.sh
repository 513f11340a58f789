#!/usr/bin/env bash
# cloze finetune on the token and span tasks end to end, with the micro-ALBERT from scratch
# and the real ALBERT SentencePiece model: POS tagging on 80 train / 40 dev sentences of UD
# English-EWT, and SQuAD v1.1 on a few paragraphs of the SQuAD dev set split by article
# (train: two articles, dev: another). Each must write eval_results.json with its metrics
# and its predictions files; the POS run killed with SIGKILL after its step-12 checkpoint
# and started again must end as the uninterrupted one, bit for bit (the resume machinery is
# shared by every task); bad input exits 2 naming file and line or question. cloze predict
# on each run's dev file gives the run's own dev predictions (POS: the same lines; SQuAD: the
# same predictions.json), also with the tags or answers left out; its bad input exits 2
# naming file and line, writing nothing.
set -uo pipefail
source cli/testing/common.sh
require_spm
ud=../shared_data/ud-english-ewt
squad=../shared_data/squad-v1.1/dev-v1.1.json.xz
[ -f "$ud/en_ewt-ud-dev.conllu" ] && [ -f "$squad" ] || { echo "FAIL: missing UD-EWT or SQuAD (shared data)"; exit 1; }

# The first N sentences of a CoNLL-U stream (sentences end with a blank line).
sentences() { awk -v n="$1" '{ print } /^$/ { if (++count >= n) exit }'; }
mkdir -p "$work/ud"
xz -dc "$ud/en_ewt-ud-train.conllu.xz" | sentences 80 >"$work/ud/en_ewt-ud-train.conllu"
sentences 40 <"$ud/en_ewt-ud-dev.conllu" >"$work/ud/en_ewt-ud-dev.conllu"

pos_flags=(--task=pos --data_dir="$work/ud" "${micro_rte[@]}"
  --learning_rate=1e-3 --epochs=2 --eval_every_steps=6 --checkpoint_every_steps=6 --seed=1)
pos() {  # pos RUN_DIR [EXTRA FLAGS...]
  local run=$1
  shift
  $cloze finetune "${pos_flags[@]}" --run_dir="$run" "$@"
}

# POS, uninterrupted: 80 sentences in windows of 64 tokens, 2 epochs of batches of 8.
pos "$work/pos" >"$work/pos.log" 2>&1 || fail "pos run: $(cat "$work/pos.log")"
python3 - "$work/pos" <<'PY' || fail "pos run's files"
import json, sys
run = sys.argv[1]
r = json.load(open(run + "/eval_results.json"))
assert r["task"] == "en_ewt-upos" and r["primary_metric"] == "accuracy" and r["finished"] is True, r
for key in ("final", "best"):
    assert 0 <= r[key]["accuracy"] <= 1 and "loss" in r[key] and "degenerate" in r[key], (key, r)
# 2 epochs of batches of 8 over the windows (a sentence longer than 62 pieces has several).
last = r["final"]["step"]
assert 20 <= last <= 28, r
evals = [l for l in map(json.loads, open(run + "/metrics.jsonl")) if "eval_accuracy" in l]
assert [l["step"] for l in evals] == list(range(6, last, 6)) + [last], evals
assert max(l["eval_accuracy"] for l in evals) == r["best"]["accuracy"], (evals, r)
preds = [json.loads(l) for l in open(run + "/predictions_dev.jsonl")]
assert len(preds) == 40, len(preds)
upos = {"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
        "SCONJ", "SYM", "VERB", "X"}
for p in preds:
    assert len(p["words"]) == len(p["tags"]) == len(p["predictions"]), p
    assert set(p["predictions"]) <= upos, p
words = sum(len(p["words"]) for p in preds)
right = sum(a == b for p in preds for a, b in zip(p["tags"], p["predictions"]))
assert abs(right / words - r["final"]["accuracy"]) < 1e-12, (right, words, r)
PY

# kill -9 after the step-12 checkpoint, then the same command again.
kill_at_checkpoint 12 "$work/killed" "$work/killed1.log" $cloze finetune "${pos_flags[@]}" --run_dir="$work/killed"
[ ! -e "$work/killed/eval_results.json" ] || fail "the killed pos run got to the end"
pos "$work/killed" >"$work/killed2.log" 2>&1 || fail "resumed pos run: $(cat "$work/killed2.log")"
grep -q "resuming from .*step-0000000" "$work/killed2.log" || fail "did not resume: $(cat "$work/killed2.log")"
same_after_resume 12 "$work/pos" "$work/killed" 8

# XPOS: the splits' own tags (NFP is in the dev slice only); a step is enough to see the spec.
pos "$work/xpos" --tag_set=xpos --epochs=0.05 >"$work/xpos.log" 2>&1 || fail "xpos run: $(cat "$work/xpos.log")"
grep -q '"task": "en_ewt-xpos"' "$work/xpos/eval_results.json" || fail "xpos: $(cat "$work/xpos/eval_results.json")"

# cloze predict on the run's own dev file: the run's dev predictions, line for line; with
# the tags blanked ("_"), the same predictions without "tags".
mkdir -p "$work/predicted"
$cloze predict --run_dir="$work/pos" --input="$work/ud/en_ewt-ud-dev.conllu" --output="$work/predicted/pos.jsonl" \
  2>"$work/err.txt" || fail "predict on the pos run: $(cat "$work/err.txt")"
cmp "$work/predicted/pos.jsonl" "$work/pos/predictions_dev.jsonl" || fail "pos: predict differs from the run's dev predictions"
awk -F'\t' -v OFS='\t' 'NF == 10 { $4 = "_" } { print }' "$work/ud/en_ewt-ud-dev.conllu" >"$work/untagged.conllu"
$cloze predict --run_dir="$work/pos" --input="$work/untagged.conllu" >"$work/predicted/untagged.jsonl" \
  2>"$work/err.txt" || fail "predict on untagged CoNLL-U: $(cat "$work/err.txt")"
python3 - "$work/predicted/untagged.jsonl" "$work/pos/predictions_dev.jsonl" <<'PY' || fail "pos: untagged predictions"
import json, sys
mine, theirs = ([json.loads(l) for l in open(p)] for p in sys.argv[1:])
assert len(mine) == len(theirs) == 40, (len(mine), len(theirs))
for m, t in zip(mine, theirs):
    assert "tags" not in m and len(m["predictions"]) == len(m["words"]), m
    assert m["predictions"] == t["predictions"] and m["words"] == t["words"] and m["id"] == t["id"], (m, t)
PY

# Bad POS input: exit 2 naming the file and line, the empty file, the flag.
mkdir -p "$work/ud_bad" "$work/ud_empty"
cp "$work/ud/en_ewt-ud-train.conllu" "$work/ud_bad/"
sed '3s/\t/ /' "$work/ud/en_ewt-ud-dev.conllu" >"$work/ud_bad/en_ewt-ud-dev.conllu"
line=$(awk '!/^#/ && NF { print NR; exit }' "$work/ud/en_ewt-ud-dev.conllu")
sed "${line}s/\t/ /" "$work/ud/en_ewt-ud-dev.conllu" >"$work/ud_bad/en_ewt-ud-dev.conllu"
log=$(pos "$work/bad" --data_dir="$work/ud_bad" 2>&1)
[ $? -eq 2 ] && grep -q "en_ewt-ud-dev.conllu:$line: .*columns" <<<"$log" || fail "broken CoNLL-U line: $log"
cp "$work/ud/en_ewt-ud-train.conllu" "$work/ud_empty/"
: >"$work/ud_empty/en_ewt-ud-dev.conllu"
log=$(pos "$work/bad" --data_dir="$work/ud_empty" 2>&1)
[ $? -eq 2 ] && grep -q "en_ewt-ud-dev.conllu" <<<"$log" || fail "empty dev file: $log"
log=$(pos "$work/bad" --data_dir="$work" 2>&1)
[ $? -eq 2 ] && grep -q -- "-ud-train.conllu" <<<"$log" || fail "no treebank: $log"
log=$(pos "$work/bad" --tag_set=lemma 2>&1)
[ $? -eq 2 ] && grep -q "tag_set" <<<"$log" || fail "bad tag set: $log"
[ ! -e "$work/bad" ] || fail "bad input created the run directory"
# ... and for cloze predict: exit 2 naming file and line, nothing written.
mkdir -p "$work/predict_bad"
log=$($cloze predict --run_dir="$work/pos" --input="$work/ud_bad/en_ewt-ud-dev.conllu" \
  --output="$work/predict_bad/pos.jsonl" 2>&1)
[ $? -eq 2 ] && grep -q "en_ewt-ud-dev.conllu:$line: .*columns" <<<"$log" || fail "predict, broken CoNLL-U line: $log"

# SQuAD v1.1: the first paragraph of two articles to train on, of a third to evaluate.
mkdir -p "$work/squad"
xz -dc "$squad" | python3 -c '
import json, sys
d = json.load(sys.stdin)
def cut(articles, paragraphs):
    return {"version": d["version"], "data": [dict(a, paragraphs=a["paragraphs"][:paragraphs]) for a in articles]}
json.dump(cut(d["data"][0:2], 1), open(sys.argv[1] + "/train-v1.1.json", "w"))
json.dump(cut(d["data"][2:3], 1), open(sys.argv[1] + "/dev-v1.1.json", "w"))
' "$work/squad"
squad_flags=(--task=squad --data_dir="$work/squad" --init=scratch --tokenizer=spm-albert:$spm
  --model_config=cli/testdata/finetune/albert-micro.textproto --max_seq_length=128 --doc_stride=64 --batch_size=8
  --learning_rate=1e-3 --epochs=1 --seed=1)
$cloze finetune "${squad_flags[@]}" --run_dir="$work/squad_run" >"$work/squad.log" 2>&1 ||
  fail "squad run: $(cat "$work/squad.log")"
python3 - "$work/squad_run" "$work/squad/dev-v1.1.json" <<'PY' || fail "squad run's files"
import json, sys
run, dev = sys.argv[1], sys.argv[2]
r = json.load(open(run + "/eval_results.json"))
assert r["task"] == "squad" and r["primary_metric"] == "f1" and r["finished"] is True, r
for key in ("final", "best"):
    assert 0 <= r[key]["f1"] <= 100 and 0 <= r[key]["exact_match"] <= r[key]["f1"], (key, r)
ids = [q["id"] for a in json.load(open(dev))["data"] for p in a["paragraphs"] for q in p["qas"]]
predictions = json.load(open(run + "/predictions.json"))
assert sorted(predictions) == sorted(ids) and all(isinstance(t, str) for t in predictions.values()), predictions
nbest = json.load(open(run + "/nbest_predictions.json"))
assert sorted(nbest) == sorted(ids), nbest.keys()
for i in ids:
    assert not nbest[i] or nbest[i][0]["text"] == predictions[i], (i, nbest[i][:1], predictions[i])
PY

# cloze predict on the run's dev file: the run's predictions.json and nbest_predictions.json
# next to --output, and a line per question; without answers, the same predictions.
$cloze predict --run_dir="$work/squad_run" --input="$work/squad/dev-v1.1.json" --output="$work/predicted/squad.jsonl" \
  2>"$work/err.txt" || fail "predict on the squad run: $(cat "$work/err.txt")"
for file in predictions.json nbest_predictions.json; do
  cmp "$work/predicted/$file" "$work/squad_run/$file" || fail "squad: predict's $file differs from the run's"
done
mkdir -p "$work/predicted_bare"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for a in d["data"]:
    for p in a["paragraphs"]:
        for q in p["qas"]:
            del q["answers"]
json.dump(d, open(sys.argv[2], "w"))
' "$work/squad/dev-v1.1.json" "$work/squad_bare.json"
$cloze predict --run_dir="$work/squad_run" --input="$work/squad_bare.json" --output="$work/predicted_bare/squad.jsonl" \
  2>"$work/err.txt" || fail "predict on questions without answers: $(cat "$work/err.txt")"
cmp "$work/predicted_bare/predictions.json" "$work/squad_run/predictions.json" || fail "squad: predictions without answers differ"
python3 - "$work/predicted/squad.jsonl" "$work/predicted_bare/squad.jsonl" "$work/squad_run/predictions.json" <<'PY' || fail "squad: predict's lines"
import json, sys
answered, bare = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
official = json.load(open(sys.argv[3]))
assert len(answered) == len(bare) == len(official), (len(answered), len(bare), len(official))
for a, b in zip(answered, bare):
    assert a["prediction"] == b["prediction"] == official[a["id"]] and a["id"] == b["id"], (a, b)
    assert a["answers"] and "answers" not in b and a["question"] == b["question"], (a, b)
PY
# Not JSON: exit 2 naming file and line, nothing written.
printf '{"data": [\n  {"title": "t",\n   "paragraphs": [}\n' >"$work/not_squad.json"
log=$($cloze predict --run_dir="$work/squad_run" --input="$work/not_squad.json" --output="$work/predict_bad/squad.jsonl" 2>&1)
[ $? -eq 2 ] && grep -q "not_squad.json:3: not valid JSON" <<<"$log" || fail "predict, not JSON: $log"
[ -z "$(ls -A "$work/predict_bad")" ] || fail "bad predict input wrote $(ls "$work/predict_bad")"

# Bad SQuAD input: an answer not at its offset, named by file, question and field.
python3 -c '
import json, sys
d = json.load(open(sys.argv[1] + "/dev-v1.1.json"))
d["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] += 1
json.dump(d, open(sys.argv[1] + "/dev-bad.json", "w"))
print(d["data"][0]["paragraphs"][0]["qas"][0]["id"])
' "$work/squad" >"$work/bad_id.txt"
log=$($cloze finetune "${squad_flags[@]}" --dev_file=dev-bad.json --run_dir="$work/bad" 2>&1)
[ $? -eq 2 ] && grep -q "dev-bad.json.*$(cat "$work/bad_id.txt").*answer" <<<"$log" || fail "answer off its offset: $log"
[ ! -e "$work/bad" ] || fail "bad squad input created the run directory"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "PASS"
