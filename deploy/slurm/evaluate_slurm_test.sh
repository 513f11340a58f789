#!/usr/bin/env bash
# deploy/slurm/evaluate.sbatch on a real Slurm (the one-node cluster of deploy/slurm/testing),
# on the micro ALBERT (cli/testdata/finetune) pretrained for 4 steps with a checkpoint every 2:
#   1. finetune: an array over (task, seed), RTE (the slice of cli/testdata/finetune) × 2
#      seeds, then its collect step as a job depending on the array (afterok): the collect
#      trains nothing ("already finished" for both seeds) and writes the table, whose
#      evaluation.json equals a local `cloze evaluate` of the same flags (paths aside).
#   2. probe: an array over the run's checkpoints, one index past the last (it exits 0 saying
#      so): each probes.jsonl equals a local `cloze probe` of that checkpoint (timings aside).
#   3. Bad flags exit 2 saying why; so does an --init naming a pretraining run folder (each
#      array task would take the newest checkpoint of its own moment).
# Needs Debian's Slurm (deploy/setup.sh); says SKIP and passes without it. About a minute.
set -uo pipefail
source cli/testing/common.sh
cloze=$(realpath cli/cloze)
source deploy/slurm/testing/slurm_jobs.sh
start_test_cluster
require_spm
spm=$(realpath "$spm")
script=$(realpath deploy/slurm/evaluate.sbatch)
probe_slices
pretrain_micro 4 "every_steps: 2 keep_last: 5"
mkdir -p "$work/glue"
cp -r cli/testdata/finetune/RTE "$work/glue/"

# run_job NAME SBATCH_FLAGS... -- SCRIPT_ARGS...: submits the script and waits for it; its
# output (every array task's) goes to $work/NAME*.out; returns sbatch's status.
run_job() {
  local name=$1 flags=()
  shift
  while [ "$1" != -- ]; do flags+=("$1"); shift; done
  shift
  sbatch --wait --parsable "${flags[@]}" "$script" "$@" >"$work/$name.jobid" 2>"$work/$name.err"
}
show() { local f; for f in "$work/$1"*.out "$work/$1.err"; do echo "--- $f"; cat "$f"; done; }

# --- 1. finetune: the array over (task, seed), the collect after it -----------------------------
eval_flags=(--init="$work/pre/checkpoints/step-000000004" --tokenizer=spm-albert:$spm --data_dir="$work/glue" --max_seq_length=64
  --batch_size=16 --epochs=1 --learning_rate=1e-3 --eval_every_steps=2 --checkpoint_every_steps=2)
echo "[${SECONDS}s] local cloze evaluate"
"$cloze" evaluate "${eval_flags[@]}" --tasks=RTE --seeds=2 --seed=3 --run_dir="$work/local" >"$work/local.log" 2>&1 ||
  { cat "$work/local.log"; fail "local cloze evaluate"; }

echo "[${SECONDS}s] the fine-tuning array and its collect"
array_flags=(--tasks=RTE --seeds=2 --seed=3 --out="$work/array" --cloze="$cloze" -- "${eval_flags[@]}")
array=$(sbatch --parsable --array=0-1 --cpus-per-task=1 --output="$work/finetune-%a.out" "$script" finetune \
  "${array_flags[@]}")
run_job collect --dependency=afterok:"$array" --output="$work/collect.out" -- collect "${array_flags[@]}" ||
  { show finetune-; show collect; fail "the array or its collect failed"; }
[ "$(grep -c "already finished" "$work/collect.out")" -eq 2 ] || { show collect; fail "the collect step trained"; }
grep -q "GLUE (partial: 1 of 9)" "$work/collect.out" || { show collect; fail "the collect step wrote no table"; }
python3 - "$work/local" "$work/array" <<'PY' || fail "the array's evaluation.json differs from the local one's"
import json, sys
local, array = sys.argv[1], sys.argv[2]
# The two differ only in their folder's name.
a = open(f"{local}/evaluation.json").read()
b = open(f"{array}/evaluation.json").read().replace(array, local)
assert json.loads(a) == json.loads(b), (a, b)
print("evaluation.json: the same", len(json.loads(a)["tasks"]), "task(s)")
PY

# --- 2. probe: the array over checkpoints ---------------------------------------------------------
echo "[${SECONDS}s] the probing array, local probes"
probe_args=(--run="$work/pre" --out="$work/probes" --cloze="$cloze" -- "${probe_flags[@]}" --probes=fill --max_sentences=4)
run_job probe --array=0-2 --cpus-per-task=1 --output="$work/probe-%a.out" -- probe "${probe_args[@]}" ||
  { show probe-; fail "the probe array failed"; }
grep -q "array index 2: past the last of 2 checkpoints; nothing to do" "$work/probe-2.out" ||
  fail "index past the last checkpoint: $(cat "$work/probe-2.out")"
without_seconds() { python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line); r.pop("seconds", None); print(json.dumps(r, sort_keys=True))' "$1"; }
for step in 2 4; do
  checkpoint=$(printf '%s/pre/checkpoints/step-%09d' "$work" "$step")
  "$cloze" probe --init="$checkpoint" --run_dir="$work/local_probe-$step" "${probe_flags[@]}" --probes=fill --max_sentences=4 \
    >"$work/local_probe-$step.log" 2>&1 || { cat "$work/local_probe-$step.log"; fail "local probe of $checkpoint"; }
  diff <(without_seconds "$work/local_probe-$step/probes.jsonl") \
    <(without_seconds "$work/probes/$(basename "$checkpoint")/probes.jsonl" | sed "s|$work/probes/|$work/local_probe-|") \
    >/dev/null || fail "step $step: the array's probes.jsonl differs from a local cloze probe's"
done

# --- 3. Bad flags ----------------------------------------------------------------------------------
run_job bad --array=0 --output="$work/bad.out" -- finetune --tasks=RTE --cloze="$cloze"
[ $? -ne 0 ] && grep -q "no output folder: give --out=DIR" "$work/bad.out" || fail "no --out: $(cat "$work/bad.out")"
run_job run_folder --array=0 --output="$work/run_folder.out" -- finetune --tasks=RTE --out="$work/x" --cloze="$cloze" \
  -- --init="$work/pre"
[ $? -eq 2 ] && grep -q "is a pretraining run folder: give one of its checkpoints" "$work/run_folder.out" ||
  fail "--init of a run folder: $(cat "$work/run_folder.out")"
run_job bad_mode --array=0 --output="$work/bad_mode.out" -- pretrain --out="$work/x" --cloze="$cloze"
[ $? -ne 0 ] && grep -q 'first argument: finetune, collect or probe, not "pretrain"' "$work/bad_mode.out" ||
  fail "bad mode: $(cat "$work/bad_mode.out")"

echo "[${SECONDS}s] done"
stop_test_cluster
[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
