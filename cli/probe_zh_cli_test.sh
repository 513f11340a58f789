#!/usr/bin/env bash
# cloze probe --probes=fill_zh end to end: a micro ALBERT pretrained for 4 steps (a checkpoint
# every 2) on Chinese (the first passages of corpus/demo's CMRC 2018 text, with its own
# 3000-piece SentencePiece model), probed on CMRC passages it did not see (the shared file
# from line 201 on). probes.jsonl holds, per checkpoint, the fill-in accuracy per character
# class and overall, the classes' counts summing to the overall count; a rerun redoes
# nothing. Bad input exits 2 naming it: no --zh_text, a tokenizer without Han characters, a
# line that is not UTF-8.
set -uo pipefail
source cli/testing/common.sh
require_spm
zh=../shared_data/zh-cmrc2018/cmrc2018_dev_trial_contexts.txt
[ -f "$zh" ] || { echo "FAIL: missing $zh (shared data)"; exit 1; }

head -n 600 corpus/demo/cmrc2018-zh.txt >"$work/corpus.txt"
$cloze prepare --input="$work/corpus.txt" --output="$work/data" --tokenizer=spm-train:3000 --max_seq_length=64 \
  --max_predictions_per_seq=10 --shards=1 --threads=1 >"$work/prepare.log" 2>&1 ||
  { cat "$work/prepare.log"; echo "FAIL: prepare"; exit 1; }
micro_pretrain_config "$work/train.textproto" "$work/data" 3000 4 1 2
$cloze train --config="$work/train.textproto" --run_dir="$work/run" --threads=1 --metrics_address= >"$work/train.log" 2>&1 ||
  { tail -5 "$work/train.log"; echo "FAIL: train"; exit 1; }
flags=(--tokenizer="spm:$work/data/tokenizer.model" --probes=fill_zh --zh_text="$zh" --zh_skip_lines=200
  --max_sentences=24 --max_seq_length=64 --batch_size=32 --threads=1)
probes=$work/run/probes.jsonl

# Bad input: exit 2 naming the culprit, nothing written.
log=$($cloze probe --init="$work/run" --tokenizer="spm:$work/data/tokenizer.model" --probes=fill_zh 2>&1)
[ $? -eq 2 ] && grep -q -- "--zh_text: needed" <<<"$log" || fail "fill_zh without --zh_text: $log"
log=$($cloze probe --init="$work/run" "${flags[@]}" --tokenizer=spm-albert:$spm 2>&1)
[ $? -eq 2 ] && grep -q "no Han character is a token of its own" <<<"$log" || fail "an English tokenizer: $log"
printf '第一句。\n\xff\xfe 第二句。\n' >"$work/bad_zh.txt"
log=$($cloze probe --init="$work/run" "${flags[@]}" --zh_text="$work/bad_zh.txt" --zh_skip_lines=0 2>&1)
[ $? -eq 2 ] && grep -q "bad_zh.txt:2: not valid UTF-8" <<<"$log" || fail "a line that is not UTF-8: $log"
[ ! -e "$probes" ] || fail "bad input wrote $probes"

$cloze probe --init="$work/run" "${flags[@]}" >"$work/probe.log" 2>&1 || fail "probe: $(cat "$work/probe.log")"
grep -q "cmrc2018_dev_trial_contexts.txt: 24 of [0-9]* sentences (from line 201), [0-9]* characters asked" \
  "$work/probe.log" || fail "what was read: $(cat "$work/probe.log")"
python3 - "$probes" <<'PY' || fail "probes.jsonl: $(head -3 "$probes")"
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
assert sorted({r["step"] for r in records}) == [2, 4], records
assert {r["probe"] for r in records} == {"fill_zh"}
overall_counts = set()
for step in (2, 4):
    rows = {r["class"]: r for r in records if r["step"] == step}
    assert all(r["layer"] is None and 0 <= r["accuracy"] <= 1 and r["count"] > 0 for r in rows.values()), rows
    assert {"function", "content", "punctuation", "overall"} <= set(rows) <= {
        "function", "numeral", "punctuation", "content", "overall"}, set(rows)
    overall = rows.pop("overall")
    assert sum(r["count"] for r in rows.values()) == overall["count"], rows
    right = sum(r["accuracy"] * r["count"] for r in rows.values())
    assert abs(right - overall["accuracy"] * overall["count"]) < 1e-6, rows
    assert overall["count"] > 300, overall  # 24 sentences of Wikipedia prose
    overall_counts.add(overall["count"])
assert len(overall_counts) == 1, overall_counts  # the same characters asked of every checkpoint
PY
$cloze probe --init="$work/run" "${flags[@]}" >"$work/again.log" 2>&1 || fail "rerun: $(cat "$work/again.log")"
grep -q "0 checkpoint(s) probed, 2 already in" "$work/again.log" || fail "the rerun redid work: $(cat "$work/again.log")"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "PASS"
