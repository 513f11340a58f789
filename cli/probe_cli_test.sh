#!/usr/bin/env bash
# cloze probe end to end: the micro ALBERT (cli/testdata/finetune/albert-micro.textproto)
# pretrained for 6 steps with a checkpoint every 2, probed on slices of UD English-EWT and
# SST-2. The checkpoint of step 4 is deleted just before it is read (a prune racing the
# prober): skipped with a message, the others probed. probes.jsonl holds every checkpoint ×
# probe × layer × class; a rerun redoes nothing; a run stopped after a checkpoint's first two
# probes (the file as a kill leaves it: whole probes only) redoes only the rest, to the same
# numbers. Bad CoNLL-U is named by file and line; bad flags exit 2.
set -uo pipefail
source cli/testing/common.sh
require_spm
probe_slices

pretrain_micro 6 "every_steps: 2 keep_last: 5"

flags=("${probe_flags[@]}")
probes=$work/pre/probes.jsonl

# Bad input: exit 2 naming the culprit.
log=$($cloze probe --init="$work/pre" "${flags[@]}" --probes=fill,syntax 2>&1)
[ $? -eq 2 ] && grep -q 'unknown probe "syntax"' <<<"$log" || fail "unknown probe: $log"
log=$($cloze probe --init="$work/pre" --tokenizer=spm-albert:$spm --probes=upos 2>&1)
[ $? -eq 2 ] && grep -q -- "--ud_dir" <<<"$log" || fail "no --ud_dir: $log"
log=$($cloze probe --init="$work/nothing" "${flags[@]}" --run_dir="$work/out" 2>&1)
[ $? -eq 2 ] && grep -q "nothing: neither a checkpoint folder" <<<"$log" || fail "missing run: $log"
mkdir -p "$work/ud_bad"
cp "$work/ud/"*train* "$work/ud/"*dev* "$work/ud_bad/"
line=$(awk '!/^#/ && NF { print NR; exit }' "$work/ud/en_ewt-ud-test.conllu")
sed "${line}s/\t/ /" "$work/ud/en_ewt-ud-test.conllu" >"$work/ud_bad/en_ewt-ud-test.conllu"
log=$($cloze probe --init="$work/pre" "${flags[@]}" --ud_dir="$work/ud_bad" 2>&1)
[ $? -eq 2 ] && grep -q "en_ewt-ud-test.conllu:$line: .*columns" <<<"$log" || fail "broken CoNLL-U line: $log"
[ ! -e "$probes" ] || fail "bad input wrote $probes"

# Step 4 vanishes just before it is read.
$cloze probe --init="$work/pre" "${flags[@]}" --testing_delete_before_load=4 >"$work/probe.log" 2>&1 ||
  fail "probe: $(cat "$work/probe.log")"
grep -q "skipped .*step-000000004" "$work/probe.log" || fail "no message for the deleted checkpoint: $(cat "$work/probe.log")"
grep -q "2 checkpoint(s) probed, 0 already in .*, 1 skipped" "$work/probe.log" || fail "summary: $(cat "$work/probe.log")"
python3 - "$probes" "$work/ud/en_ewt-ud-test.conllu" <<'PY' || fail "probes.jsonl: $(head -3 "$probes")"
import json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
test_words = sum(1 for l in open(sys.argv[2]) if l[:1].isdigit() and l.split("\t")[0].isdigit())
steps = sorted({r["step"] for r in records})
assert steps == [2, 6], steps
for r in records:
    assert set(r) == {"step", "checkpoint", "probe", "layer", "class", "accuracy", "count", "seconds"}, r
    assert 0 <= r["accuracy"] <= 1 and r["count"] > 0 and r["seconds"] > 0, r
    assert r["checkpoint"].endswith("checkpoints/step-%09d" % r["step"]), r
for step in steps:
    mine = [r for r in records if r["step"] == step]
    assert sorted({r["probe"] for r in mine}) == ["deprel", "fill", "reconstruction", "sst2", "upos"]
    for probe in ("fill", "reconstruction"):
        rows = [r for r in mine if r["probe"] == probe]
        assert all(r["layer"] is None for r in rows)
        overall = [r for r in rows if r["class"] == "overall"]
        assert len(overall) == 1 and overall[0]["count"] == test_words, (overall, test_words)
        assert sum(r["count"] for r in rows if r["class"] != "overall") == test_words
        assert {"NOUN", "VERB", "DET", "PUNCT"} <= {r["class"] for r in rows}
    for probe in ("upos", "deprel", "sst2"):
        rows = [r for r in mine if r["probe"] == probe]
        assert sorted({r["layer"] for r in rows}) == [0, 1, 2], probe  # embeddings + 2 layers
        for layer in (0, 1, 2):
            overall = [r for r in rows if r["layer"] == layer and r["class"] == "overall"]
            assert len(overall) == 1, (probe, layer)
            per_class = [r for r in rows if r["layer"] == layer and r["class"] != "overall"]
            assert sum(r["count"] for r in per_class) == overall[0]["count"]
            right = sum(r["accuracy"] * r["count"] for r in per_class)
            assert abs(right - overall[0]["accuracy"] * overall[0]["count"]) < 1e-6
    upos0 = [r for r in mine if r["probe"] == "upos" and r["layer"] == 0 and r["class"] == "overall"][0]
    assert upos0["count"] == test_words and upos0["accuracy"] > 0.3, upos0  # words' own embeddings know POS
    sst = [r for r in mine if r["probe"] == "sst2" and r["class"] == "overall"]
    assert all(r["count"] == 12 for r in sst), sst  # --max_sentences bounds SST-2 dev too
    assert {r["class"] for r in mine if r["probe"] == "sst2"} == {"0", "1", "overall"}
PY

# A rerun redoes nothing.
cp "$probes" "$work/probes.first"
$cloze probe --init="$work/pre" "${flags[@]}" >"$work/rerun.log" 2>&1 || fail "rerun: $(cat "$work/rerun.log")"
grep -q "0 checkpoint(s) probed, 2 already in" "$work/rerun.log" || fail "rerun probed again: $(cat "$work/rerun.log")"
cmp -s "$probes" "$work/probes.first" || fail "the rerun changed probes.jsonl"

# Stopped after step 6's fill and reconstruction: only the rest of step 6 is redone, alike.
without_seconds() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); r.pop("seconds"); print(json.dumps(r, sort_keys=True))' "$1" | sort; }
python3 - "$probes" <<'PY'
import json, sys
lines = open(sys.argv[1]).readlines()
keep = [l for l in lines if json.loads(l)["step"] == 2 or json.loads(l)["probe"] in ("fill", "reconstruction")]
open(sys.argv[1], "w").writelines(keep)
PY
$cloze probe --init="$work/pre" "${flags[@]}" >"$work/resume.log" 2>&1 || fail "resume: $(cat "$work/resume.log")"
grep -q "probing .*step-000000006: upos, deprel, sst2$" "$work/resume.log" || fail "resume redid: $(cat "$work/resume.log")"
grep -q "1 checkpoint(s) probed, 1 already in" "$work/resume.log" || fail "resume summary: $(cat "$work/resume.log")"
diff <(without_seconds "$probes") <(without_seconds "$work/probes.first") >/dev/null ||
  fail "the resumed probes differ from the first run's"

# A checkpoint folder and another output folder; only the fill-in probe.
$cloze probe --init="$work/pre/checkpoints/step-000000002" "${flags[@]}" --probes=fill --run_dir="$work/out" \
  >"$work/one.log" 2>&1 || fail "one checkpoint: $(cat "$work/one.log")"
[ "$(python3 -c 'import json,sys; print(sorted({json.loads(l)["probe"] for l in open(sys.argv[1])}))' "$work/out/probes.jsonl")" == "['fill']" ] ||
  fail "--probes=fill into --run_dir: $(head -2 "$work/out/probes.jsonl")"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "PASS"
