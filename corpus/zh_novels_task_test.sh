#!/bin/bash
# make_zh_novels_task.py on the real novels: deterministic, balanced, train and dev disjoint, and
# JSONL in CLUE's TNEWS layout that `cloze finetune --task=generic` reads.
set -euo pipefail
script=corpus/make_zh_novels_task.py
books=$(dirname "$(find -L . -path '*zh-classics/zh-xiyouji.txt' | head -1)")
[ -n "$books" ] || { echo "FAIL: the Chinese novels (shared/data/books/zh-classics) are missing"; exit 1; }
out=${TEST_TMPDIR:-/tmp}/zh
args=(--books="$books" --train_per_book=200 --dev_per_book=50 --seed=7)
python3 "$script" "${args[@]}" --output="$out/a"
python3 "$script" "${args[@]}" --output="$out/b"
cmp "$out/a/train.jsonl" "$out/b/train.jsonl" && cmp "$out/a/dev.jsonl" "$out/b/dev.jsonl" \
  || { echo "FAIL: the same seed gave different files"; exit 1; }
python3 - "$out/a" <<'PY'
import collections, json, sys
rows = {s: [json.loads(l) for l in open(f"{sys.argv[1]}/{s}.jsonl", encoding="utf-8")] for s in ("train", "dev")}
for split, want in (("train", 200), ("dev", 50)):
    counts = collections.Counter(r["label"] for r in rows[split])
    assert counts == {"hongloumeng": want, "sanguoyanyi": want, "xiyouji": want}, (split, counts)
    assert all(set(r) == {"sentence", "label", "label_desc"} and r["sentence"] for r in rows[split])
overlap = {r["sentence"] for r in rows["train"]} & {r["sentence"] for r in rows["dev"]}
assert not overlap, f"{len(overlap)} passages in both train and dev"
print("PASS")
PY
