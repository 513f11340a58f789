#!/usr/bin/env bash
# cloze finetune end to end: a 2-layer ALBERT from scratch with the real ALBERT SentencePiece
# model on 64 train / 32 dev lines of real RTE (cli/testdata/finetune, cut from GLUE), 32
# steps. It must finish and write eval_results.json (final and best) and per-example dev
# predictions; a run killed with SIGKILL after its step-16 checkpoint and started again must
# end with the uninterrupted run's metrics, bit for bit; bad input exits 2 naming the culprit;
# another run's folder is refused; a checkpoint initialises a new run by tensor name.
set -uo pipefail
source cli/testing/common.sh
require_spm

flags=(--task=RTE --data_dir=cli/testdata/finetune "${micro_rte[@]}"
  --learning_rate=1e-3 --epochs=4 --eval_every_steps=8 --checkpoint_every_steps=8 --seed=1)
finetune() {  # finetune RUN_DIR [EXTRA FLAGS...]
  local run=$1
  shift
  $cloze finetune "${flags[@]}" --run_dir="$run" "$@"
}

# Bad input: exit 2 with a message naming the task, the file or the flag.
log=$(finetune "$work/bad" --task=NoSuchTask 2>&1)
[ $? -eq 2 ] && grep -q "NoSuchTask" <<<"$log" || fail "unknown task: $log"
log=$(finetune "$work/bad" --data_dir="$work/no_such_glue" 2>&1)
[ $? -eq 2 ] && grep -q "no_such_glue.*train.tsv" <<<"$log" || fail "missing data: $log"
log=$(finetune "$work/bad" --tokenizer=spm-albert:"$work/none.model" 2>&1)
[ $? -eq 2 ] && grep -q "none.model" <<<"$log" || fail "missing tokenizer: $log"
log=$(finetune "$work/bad" --model_config= 2>&1)
[ $? -eq 2 ] && grep -q "model_config" <<<"$log" || fail "scratch without a model config: $log"
log=$(finetune "$work/bad" --init="$work/nothing_here" 2>&1)
[ $? -eq 2 ] && grep -q "nothing_here" <<<"$log" || fail "unknown init: $log"
[ ! -e "$work/bad" ] || fail "bad input created the run directory"
# A train line with a column missing: named with its file and line; --skip_bad_lines skips
# and counts it instead.
mkdir -p "$work/rte_bad" && cp cli/testdata/finetune/RTE/*.tsv "$work/rte_bad/"
printf '9999\tonly two columns\n' >>"$work/rte_bad/train.tsv"
bad_line=$(wc -l <"$work/rte_bad/train.tsv")
log=$(finetune "$work/bad" --data_dir="$work/rte_bad" 2>&1)
[ $? -eq 2 ] && grep -q "rte_bad/train.tsv.*$bad_line" <<<"$log" || fail "bad train line: $log"
log=$(finetune "$work/skipped" --data_dir="$work/rte_bad" --skip_bad_lines --epochs=0.1 2>&1) || fail "--skip_bad_lines: $log"
grep -q "skipped 1 bad records" <<<"$log" || fail "--skip_bad_lines did not count the bad line: $log"

# The uninterrupted run.
finetune "$work/straight" >"$work/straight.log" 2>&1 || fail "uninterrupted run: $(cat "$work/straight.log")"
python3 - "$work/straight" <<'PY' || fail "uninterrupted run's files"
import json, sys
run = sys.argv[1]
r = json.load(open(run + "/eval_results.json"))
assert r["task"] == "RTE" and r["finished"] is True, r
for key in ("final", "best"):
    assert "accuracy" in r[key] and "loss" in r[key] and "degenerate" in r[key], (key, r)
assert r["final"]["step"] == 32, r
assert r["best"]["accuracy"] >= r["final"]["accuracy"], r
assert isinstance(r["degenerate"], bool)
lines = [json.loads(l) for l in open(run + "/metrics.jsonl")]
assert [l["step"] for l in lines] == list(range(1, 33)), [l["step"] for l in lines]
evals = [l for l in lines if "eval_accuracy" in l]
assert [l["step"] for l in evals] == [8, 16, 24, 32], evals
assert max(l["eval_accuracy"] for l in evals) == r["best"]["accuracy"], (evals, r)
assert evals[-1]["eval_accuracy"] == r["final"]["accuracy"]
# Hugging Face's linear schedule: warmup ceil(0.1 * 32) = 4 steps, then down to 0 at 32.
assert lines[0]["lr"] == 0 and abs(lines[4]["lr"] - 1e-3) < 1e-9 and abs(lines[31]["lr"] - 1e-3 / 28) < 1e-9, lines[:5]
preds = [json.loads(l) for l in open(run + "/predictions_dev.jsonl")]
assert len(preds) == 32, len(preds)
assert all(p["prediction"] in ("entailment", "not_entailment") and len(p["logits"]) == 2 for p in preds)
assert preds[0]["guid"] == "dev-2" and preds[0]["label"] == "not_entailment", preds[0]
PY
grep -q "finetune {" "$work/straight/train_config.pb.txt" || fail "train_config.pb.txt lacks the finetune block"
grep -q 'task: "RTE"' "$work/straight/train_config.pb.txt" || fail "train_config.pb.txt lacks the task"

# Another run's folder is refused (a different learning rate is a different run).
log=$(finetune "$work/straight" --learning_rate=2e-3 2>&1)
[ $? -eq 2 ] && grep -q "holds another run" <<<"$log" || fail "another run's folder: $log"

# One fine-tune per run folder: a second one on a folder in use (a resume started twice) is
# refused, naming the holder.
refused_while_held "$work/held" "cloze finetune" $cloze finetune "${flags[@]}" --run_dir="$work/held"

# kill -9 after the step-16 checkpoint, then the same command again.
kill_at_checkpoint 16 "$work/killed" "$work/killed1.log" $cloze finetune "${flags[@]}" --run_dir="$work/killed"
[ ! -e "$work/killed/eval_results.json" ] || fail "the killed run got to the end"
finetune "$work/killed" >"$work/killed2.log" 2>&1 || fail "resumed run: $(cat "$work/killed2.log")"
grep -q "resuming from .*step-0000000" "$work/killed2.log" || fail "did not resume: $(cat "$work/killed2.log")"
same_after_resume 16 "$work/straight" "$work/killed" 16
# The finished run predicted the task's test split (10 pairs) as a GLUE submission file.
submission="$work/straight/glue_submission/RTE.tsv"
[ "$(head -1 "$submission")" = "$(printf 'index\tprediction')" ] || fail "no GLUE submission header in $submission"
[ "$(wc -l <"$submission")" -eq 11 ] || fail "$submission: $(wc -l <"$submission") lines, want 11"
cmp "$submission" "$work/killed/glue_submission/RTE.tsv" || fail "test predictions differ after resume"

# A cloze checkpoint initialises a new run by tensor name (its own model config).
$cloze finetune --task=RTE --data_dir=cli/testdata/finetune --init="$work/straight" --tokenizer=spm-albert:$spm \
  --run_dir="$work/from_checkpoint" --max_seq_length=64 --batch_size=8 --epochs=1 --seed=2 \
  >"$work/from_checkpoint.log" 2>&1 || fail "init from a checkpoint: $(cat "$work/from_checkpoint.log")"
grep -q "initialised from $work/straight/checkpoints/step-000000032: .* tensors loaded; missing (from the seed): none" \
  "$work/from_checkpoint.log" || fail "init from a checkpoint: $(cat "$work/from_checkpoint.log")"
[ -f "$work/from_checkpoint/eval_results.json" ] || fail "init from a checkpoint: no eval_results.json"

# The same data as a generic sentence-pair task (TSV with named columns; labels sorted),
# batched by length.
$cloze finetune --task=generic --data_dir=cli/testdata/finetune/RTE --text_b_column=sentence2 --init=scratch \
  --tokenizer=spm-albert:$spm --model_config=cli/testdata/finetune/albert-micro.textproto \
  --run_dir="$work/generic" --max_seq_length=64 --batch_size=8 --epochs=1 --seed=1 --group_by_length \
  >"$work/generic.log" 2>&1 || fail "generic task: $(cat "$work/generic.log")"
grep -q '"task": "generic"' "$work/generic/eval_results.json" || fail "generic task: no eval_results.json"
[ "$(wc -l <"$work/generic/predictions_dev.jsonl")" -eq 32 ] || fail "generic task: dev predictions"
grep -q "group_by_length: true" "$work/generic/train_config.pb.txt" || fail "generic task: --group_by_length not in its config"
log=$($cloze finetune --task=generic --data_dir=cli/testdata/finetune/RTE --text_b_column=no_such_column \
  --init=scratch --tokenizer=spm-albert:$spm --model_config=cli/testdata/finetune/albert-micro.textproto \
  --run_dir="$work/generic_bad" 2>&1)
[ $? -eq 2 ] && grep -q "train.tsv.*no_such_column" <<<"$log" || fail "generic task, missing column: $log"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "PASS"
