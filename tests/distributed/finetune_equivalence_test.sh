#!/usr/bin/env bash
# Fine-tuning as a distributed job computes the same steps as one process, with real
# processes on 127.0.0.1 (cloze finetune --workers: cloze launch's coordinator, workers under
# mpirun, parameter servers): the micro ALBERT from scratch on the RTE slice of
# cli/finetune_cli_test, 20 steps, dropout on (its masks are keyed by each example's place in
# the step, and a step's examples are padded alike on every rank, so the split changes none):
#   - 2 workers × batch 4 equal one process × batch 8: losses within 1e-6 relative (as
#     tests/distributed/equivalence_test.sh), the same dev accuracy and dev losses within
#     1e-6, the same dev predictions with logits within 1e-5 of the largest;
#   - 2 workers with 2 synchronous parameter servers equal 2 workers all-reducing;
#   - the job's config is the one-process run's, batch and distributed block aside (steps,
#     warmup and checkpoints sized by the global batch; no weight decay stays none);
#   - only rank 0 evaluates (eval_results.json, predictions); every checkpoint is whole.
set -uo pipefail
source cli/testing/common.sh
source tests/distributed/common.sh
require_spm

flags=(--task=RTE --data_dir=cli/testdata/finetune "${micro_rte[@]}" --learning_rate=1e-3 --epochs=2.5
  --eval_every_steps=10 --seed=1 --metrics_address=127.0.0.1:0)
finetune() {  # finetune RUN_DIR [EXTRA FLAGS...]: its output in RUN_DIR.log, and its logs if it fails
  local run=$1
  shift
  $cloze finetune "${flags[@]}" --run_dir="$run" "$@" >"$run.log" 2>&1 ||
    { fail "cloze finetune $* ($run)"; tail -n 30 "$run.log"; [ -f "$run/logs/workers.log" ] && tail -n 20 "$run/logs/workers.log"; }
}

finetune "$work/one" --batch_size=8
finetune "$work/two" --batch_size=4 --workers=2
finetune "$work/ps" --batch_size=4 --workers=2 --ps=2

echo "one process × 8 vs 2 workers × 4:"
compare_losses "$work/one/metrics.jsonl" "$work/two/metrics.jsonl" 1e-6 || fail "2 workers × 4 differ from one process × 8"
echo "parameter servers vs all-reduce:"
compare_losses "$work/two/metrics.jsonl" "$work/ps/metrics.jsonl" 1e-6 || fail "synchronous PS mode differs from all-reduce"

python3 - "$work/one" "$work/two" "$work/ps" <<'PY' || fail "the dev evaluations differ"
import json, sys
one, *jobs = sys.argv[1:]
def evals(run):
    return [json.loads(l) for l in open(run + "/metrics.jsonl") if "eval_loss" in l]
def close(a, b):
    return abs(a - b) <= 1e-6 * max(abs(a), 1e-30)
for run in jobs:
    a, b = json.load(open(one + "/eval_results.json")), json.load(open(run + "/eval_results.json"))
    assert b["finished"] and b["final"]["step"] == 20, b
    for kind in ("final", "best"):
        assert a[kind]["step"] == b[kind]["step"] and a[kind]["accuracy"] == b[kind]["accuracy"], (kind, a, b)
        assert close(a[kind]["loss"], b[kind]["loss"]), (kind, a, b)
    ea, eb = evals(one), evals(run)
    assert [e["step"] for e in ea] == [e["step"] for e in eb] == [10, 20], (ea, eb)
    assert all(x["eval_accuracy"] == y["eval_accuracy"] and close(x["eval_loss"], y["eval_loss"]) for x, y in zip(ea, eb))
    pa = [json.loads(l) for l in open(one + "/predictions_dev.jsonl")]
    pb = [json.loads(l) for l in open(run + "/predictions_dev.jsonl")]
    assert [p["guid"] for p in pa] == [p["guid"] for p in pb] and len(pa) == 32, (len(pa), len(pb))
    assert [p["prediction"] for p in pa] == [p["prediction"] for p in pb]
    largest = max(abs(x) for p in pa for x in p["logits"])
    worst = max(abs(x - y) for p, q in zip(pa, pb) for x, y in zip(p["logits"], q["logits"]))
    assert worst <= 1e-5 * largest, (worst, largest)
    print(f"{run}: dev accuracy {b['final']['accuracy']}, loss {b['final']['loss']:.6f}; logits within {worst:.2g} of {largest:.2g}")
PY

# The same run: only the batch per worker and the distributed block differ.
for run in two ps; do
  diff <(grep -v "batch_size" "$work/one/train_config.pb.txt") \
    <(sed '/^distributed {/,/^}/d' "$work/$run/train_config.pb.txt" | grep -v "batch_size") ||
    fail "$run: the job's config differs from the one-process run's"
done
grep -q "^  weight_decay: 0$" "$work/two/train_config.pb.txt" || fail "the job lost the fine-tune's weight decay of 0"
grep -q "worker 1: .*dev evaluation" "$work/two/logs/workers.log" && fail "a worker other than rank 0 evaluated"
for run in two ps; do verify_checkpoints "$work/$run" || fail "$run: a checkpoint is not whole"; done

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
