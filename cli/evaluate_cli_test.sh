#!/usr/bin/env bash
# cloze evaluate end to end: a micro ALBERT (cli/testdata/finetune/albert-micro.textproto)
# pretrained for 4 steps, evaluated with --with_scratch on a GLUE folder holding two tasks
# (the RTE slice of cli/testdata/finetune and a slice of real STS-B) and an incomplete third
# (QQP without its files), 2 seeds, 4 steps a run. The evaluation is killed (SIGKILL) in its
# fifth fine-tune and started again: the four finished runs are not redone (their files stay
# byte for byte), the killed one resumes from its checkpoint. evaluation.json must carry the
# structure documented in eval/evaluation_report.h and the numbers of the seeds_summary.json
# files it comes from; bad input (an unknown suite or task, a damaged checkpoint) exits 2
# before any fine-tune.
set -uo pipefail
source cli/testing/common.sh
require_spm

# A GLUE folder as distributed, two tasks present, QQP's folder empty.
glue=$work/glue
mkdir -p "$glue/STS-B" "$glue/QQP"
cp -r cli/testdata/finetune/RTE "$glue/"
for split in train:65 dev:33 test:9; do
  head -n "${split#*:}" "../shared_data/glue/STS-B/${split%:*}.tsv" >"$glue/STS-B/${split%:*}.tsv" ||
    { echo "FAIL: missing ../shared_data/glue/STS-B (shared data)"; exit 1; }
done

# The checkpoint: the micro ALBERT pretrained for 4 steps on a slice of Frankenstein.
pretrain_micro 4 "every_steps: 4"

flags=(--init="$work/pre" --tokenizer=spm-albert:$spm --data_dir="$glue" --seeds=2 --seed=3 --with_scratch
  --max_seq_length=64 --batch_size=16 --epochs=1 --learning_rate=1e-3 --eval_every_steps=2 --checkpoint_every_steps=2)
evaluate() {  # evaluate RUN_DIR [EXTRA FLAGS...]
  local run=$1
  shift
  $cloze evaluate "${flags[@]}" --run_dir="$run" "$@"
}

# Bad input: exit 2 naming the culprit, nothing fine-tuned.
log=$(evaluate "$work/bad" --suite=superglue 2>&1)
[ $? -eq 2 ] && grep -q -- "--suite=superglue" <<<"$log" || fail "unknown suite: $log"
log=$(evaluate "$work/bad" --tasks=RTE,squad 2>&1)
[ $? -eq 2 ] && grep -q '"squad" is not a task of --suite=glue' <<<"$log" || fail "task outside the suite: $log"
cp -r "$work/pre" "$work/damaged"
checkpoint=$work/damaged/checkpoints/step-000000004
printf 'XXXX' | dd of="$checkpoint/model.safetensors" bs=1 seek=200 conv=notrunc 2>/dev/null
log=$(evaluate "$work/bad" --init="$checkpoint" 2>&1)
[ $? -eq 2 ] && grep -q "model.safetensors" <<<"$log" || fail "damaged checkpoint: $log"
[ ! -e "$work/bad" ] || fail "bad input created the evaluation folder"

# Killed in the fifth fine-tune (RTE from the init, seed 3, after its step-2 checkpoint): the
# four STS-B runs have finished.
ev=$work/ev
kill_at_checkpoint 2 "$ev/RTE/seed-3" "$work/killed.log" $cloze evaluate "${flags[@]}" --run_dir="$ev" || exit 1
grep -q "skipped QQP: .*QQP/train.tsv is missing" "$work/killed.log" || fail "QQP not reported: $(cat "$work/killed.log")"
finished=("$ev/STS-B" "$ev/scratch/STS-B")
for dir in "${finished[@]}"; do
  [ -f "$dir/seeds_summary.json" ] || fail "$dir did not finish before the kill: $(tail -20 "$work/killed.log")"
done
[ ! -e "$ev/evaluation.json" ] || fail "an evaluation.json before the evaluation finished"
fingerprint() { find "${finished[@]}" -type f \( -name '*.json' -o -name '*.jsonl' -o -name '*.tsv' -o -name '*.txt' \) \
  -print0 | sort -z | xargs -0 sha256sum; }
fingerprint >"$work/before.txt"

evaluate "$ev" >"$work/resumed.log" 2>&1 || fail "resumed evaluation: $(tail -20 "$work/resumed.log")"
[ "$(grep -c "already finished" "$work/resumed.log")" -eq 4 ] ||
  fail "the finished runs were not all skipped: $(grep -E "already finished|^seed" "$work/resumed.log")"
grep -q "resuming from .*RTE/seed-3/checkpoints/step-000000002" "$work/resumed.log" ||
  fail "RTE seed 3 did not resume from its checkpoint: $(grep -E "resum|^seed" "$work/resumed.log")"
fingerprint | cmp -s - "$work/before.txt" || fail "the resumed evaluation rewrote finished runs"
for run in "$ev"/{,scratch/}{RTE,STS-B}/seed-{3,4}; do
  [ "$(wc -l <"$run/metrics.jsonl")" -eq 4 ] || fail "$run/metrics.jsonl: $(wc -l <"$run/metrics.jsonl") steps, want 4"
done

python3 - "$ev" <<'PY' || fail "evaluation.json disagrees with the runs' seeds_summary.json"
import json, math, os, sys
ev = sys.argv[1]
j = json.load(open(f"{ev}/evaluation.json"))
human = {"RTE": 93.6, "STS-B": (92.7 + 92.6) / 2}
glue_metrics = {"RTE": ["accuracy"], "STS-B": ["pearson", "spearman"]}
assert [t["task"] for t in j["tasks"]] == ["STS-B", "RTE"], j["tasks"]
assert j["suite"] == "glue" and j["init"].endswith("/pre"), j
assert j["init_resolved"].endswith("/pre/checkpoints/step-000000004"), j["init_resolved"]
skipped = {s["task"]: s["reason"] for s in j["skipped"]}
assert set(skipped) == {"CoLA", "SST-2", "MRPC", "QQP", "MNLI", "QNLI", "WNLI"}, skipped
assert "QQP/train.tsv is missing" in skipped["QQP"] and "no folder" in skipped["CoLA"], skipped
means = {"init": {"final": [], "best": []}, "scratch": {"final": [], "best": []}}
for t in j["tasks"]:
    task = t["task"]
    assert t["seeds"] == [3, 4] and t["human_score"] == human[task], t
    for side, folder in (("init", f"{ev}/{task}"), ("scratch", f"{ev}/scratch/{task}")):
        summary = json.load(open(f"{folder}/seeds_summary.json"))
        for kind in ("final", "best"):
            cell, theirs = t[side][kind], summary[kind]
            # Every metric's statistics are the seeds summary's, exactly.
            assert cell["metrics"] == theirs["metrics"], (task, side, kind, cell["metrics"], theirs["metrics"])
            assert cell["degenerate_seeds"] == theirs["degenerate_seeds"], (task, side, kind)
            # The GLUE task score per seed: the mean of its metrics, in percent.
            scores = [100 * sum(theirs["metrics"][m]["values"][i] for m in glue_metrics[task]) / len(glue_metrics[task])
                      for i in range(2)]
            assert all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(cell["score"]["values"], scores)), (cell, scores)
            assert math.isclose(cell["score"]["mean"], sum(scores) / 2, abs_tol=1e-9), cell
            assert cell["top_seed"] == (3 if scores[0] >= scores[1] else 4), cell
            assert math.isclose(cell["relative_to_human"], cell["score"]["mean"] / human[task], rel_tol=1e-12), cell
            means[side][kind].append(cell["score"]["mean"])
    for kind in ("final", "best"):
        assert math.isclose(t["difference"][kind], t["init"][kind]["score"]["mean"] - t["scratch"][kind]["score"]["mean"],
                            abs_tol=1e-9), t["difference"]
g = j["glue"]
assert g["tasks"] == ["STS-B", "RTE"] and g["partial"] and len(g["missing"]) == 7, g
assert "partial average over 2 of the 9" in g["note"], g
assert math.isclose(g["human_score"], (human["RTE"] + human["STS-B"]) / 2, abs_tol=1e-9), g
for side in ("init", "scratch"):
    for kind in ("final", "best"):
        assert math.isclose(g[side][kind], sum(means[side][kind]) / 2, abs_tol=1e-9), (side, kind, g)
# The test-set submission of each task's top seed on dev.
for s in j["glue_submission"]:
    (path,) = s["files"]
    seed_file = f"{ev}/{s['task']}/seed-{s['seed']}/glue_submission/{os.path.basename(path)}"
    assert open(path).read() == open(seed_file).read(), (path, seed_file)
assert sorted(s["task"] for s in j["glue_submission"]) == ["RTE", "STS-B"], j["glue_submission"]
md = open(f"{ev}/evaluation.md").read()
assert "| task | seeds | final | best on dev | human | final / human | scratch final |" in md, md
assert "GLUE (partial: 2 of 9)" in md and "QQP: " in md, md
PY
grep -q "GLUE (partial: 2 of 9)" "$work/resumed.log" || fail "no table on stdout: $(tail -30 "$work/resumed.log")"

# Once finished, the same command trains nothing and writes the same evaluation.
cp "$ev/evaluation.json" "$work/evaluation1.json"
evaluate "$ev" >"$work/again.log" 2>&1 || fail "rerun: $(tail -20 "$work/again.log")"
[ "$(grep -c "already finished" "$work/again.log")" -eq 8 ] || fail "the rerun trained: $(cat "$work/again.log")"
cmp -s "$ev/evaluation.json" "$work/evaluation1.json" || fail "the rerun changed evaluation.json"

# cloze report reads what cloze evaluate wrote: both tasks' rows, from the checkpoint and
# from scratch, and no note that a row could not be read.
$cloze report "$ev" --output="$work/report.html" >"$work/report.log" 2>&1 || fail "report: $(cat "$work/report.log")"
for want in "STS-B" "RTE" "from scratch" "GLUE (partial: 2 of 9)"; do
  grep -q "$want" "$work/report.html" || fail "the report page lacks $want"
done
! grep -q "row left out" "$work/report.html" || fail "the report could not read evaluation.json: $(grep -o "[^>]*row left out" "$work/report.html")"

# One evaluation per folder: a second one on a folder in use is refused, naming the holder.
refused_while_held "$ev" "cloze evaluate" $cloze evaluate "${flags[@]}" --run_dir="$ev"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "PASS"
