#!/usr/bin/env python3
"""Writes report/testdata/run/ (the browser test's fixture) from real runs of this project:
runs/demo/train (a cloze launch pretraining run) and runs/measure (cloze finetune runs of CoLA
and RTE from the demo checkpoint and from scratch). Kept for the record: those runs live outside
the repository (runs/ is ignored).

What is changed from the real files, to keep the fixture small and to show every kind of mark:
  - pretraining: the first 300 of 600 steps; steps 150 (non-finite loss) and 201-205 (loss
    spikes) turned into skipped steps as the loss guard writes them, the learning rate halved
    after step 205 as the guard's rollback does; checkpoints 100, 200 and 300 as folders
    holding only a placeholder manifest (the report lists checkpoint folders, never reads them).
  - fine-tuning: CoLA seeds 1-2 and RTE seed 1, from the checkpoint and from scratch; every 4th
    training step (CoLA) or 2nd (RTE) kept with every evaluation step; floats to 5 digits.
  - evaluation.json: computed from those runs' eval_results.json in the schema of
    eval/evaluation_report.h (cloze evaluate's).
  - train/probes.jsonl is not made here: real `cloze probe` records of the micro ALBERT
    (cli/testdata/finetune/albert-micro.textproto) pretrained 300 steps (batch 16, checkpoints
    every 50) on the first 200 kB of corpus/demo, probed on 200/40/40 sentences of UD-EWT
    train/dev/test and 200/60 of SST-2 train/dev (cli/probe_cli_test.sh's recipe, larger); the
    checkpoint paths rewritten to /runs/fixture/..., floats to 5 digits.
Usage: make_fixtures.py MAIN_CHECKOUT OUTPUT_DIR
"""

import json
import math
import os
import shutil
import sys

HUMAN = {"CoLA": 66.4, "RTE": 93.6}
GLUE = ["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI"]


def short(value):
    if isinstance(value, float) and math.isfinite(value):
        return float("%.5g" % value)
    return value


def copy_metrics(source, target, keep):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(source) as f, open(target, "w") as out:
        lines = [json.loads(line) for line in f]
        last = lines[-1]["step"]
        for r in lines:
            if keep(r["step"]) or any(k.startswith("eval_") for k in r) or r["step"] == last:
                out.write(json.dumps({k: short(v) for k, v in r.items()}) + "\n")


def pretraining(main, out):
    target = os.path.join(out, "train")
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(main, "runs/demo/train/metrics.jsonl")) as f:
        records = [json.loads(line) for line in f][:300]
    for r in records:
        if r["step"] == 150:
            r.update({"loss": None, "mlm_loss": None, "skipped": True, "nonfinite": "loss nan grad_norm 2.31"})
        elif 201 <= r["step"] <= 205:
            r.update({"loss": r["loss"] * 3.4, "mlm_loss": r["mlm_loss"] * 3.6, "skipped": True})
        if r["step"] > 205:
            r["lr"] *= 0.5
    with open(os.path.join(target, "metrics.jsonl"), "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    shutil.copy(os.path.join(main, "runs/demo/train/train_config.pb.txt"), target)
    for step in (100, 200, 300):
        folder = os.path.join(target, "checkpoints/step-%09d" % step)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "manifest.pb.txt"), "w") as f:
            f.write("# fixture: the report lists checkpoint folders and never reads them\nstep: %d\n" % step)


def stats(values):
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else None
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return {"mean": mean, "median": median, "std": std, "min": min(values), "max": max(values), "values": values}


def cell(task, results, kind):
    evaluations = [r[kind] for r in results]
    names = [k for k in evaluations[0] if k not in ("step", "loss", "degenerate")]
    scores = [100 * sum(e[n] for n in names) / len(names) for e in evaluations]
    out = {"metrics": {n: stats([e[n] for e in evaluations]) for n in names}, "score": stats(scores),
           "relative_to_human": stats(scores)["mean"] / HUMAN[task],
           "degenerate_seeds": [i + 1 for i, e in enumerate(evaluations) if e["degenerate"]],
           "top_seed": scores.index(max(scores)) + 1}
    return out


def finetune(main, out):
    sources = {("CoLA", ""): "runs/measure/CoLA-demo/seed-%d", ("CoLA", "scratch/"): "runs/measure/CoLA-scratch/seed-%d",
               ("RTE", ""): "runs/measure/rte-demo-s1", ("RTE", "scratch/"): "runs/measure/rte-scratch-s1"}
    seeds = {"CoLA": [1, 2], "RTE": [1]}
    results = {}
    for (task, prefix), pattern in sources.items():
        for seed in seeds[task]:
            source = os.path.join(main, pattern % seed if "%d" in pattern else pattern)
            target = os.path.join(out, "eval", prefix + task, "seed-%d" % seed)
            every = 4 if task == "CoLA" else 2
            copy_metrics(os.path.join(source, "metrics.jsonl"), os.path.join(target, "metrics.jsonl"),
                         lambda step: step % every == 1)
            for name in ("eval_results.json", "train_config.pb.txt"):
                shutil.copy(os.path.join(source, name), target)
            with open(os.path.join(source, "eval_results.json")) as f:
                results.setdefault((task, prefix), []).append(json.load(f))
    tasks = []
    for task in ("CoLA", "RTE"):
        init = {k: cell(task, results[(task, "")], k) for k in ("final", "best")}
        scratch = {k: cell(task, results[(task, "scratch/")], k) for k in ("final", "best")}
        tasks.append({"task": task, "seeds": seeds[task], "human_score": HUMAN[task], "init": init, "scratch": scratch,
                      "difference": {k: init[k]["score"]["mean"] - scratch[k]["score"]["mean"] for k in init}})
    glue = {"tasks": ["CoLA", "RTE"], "missing": [t for t in GLUE if t not in ("CoLA", "RTE")], "partial": True,
            "human_score": (HUMAN["CoLA"] + HUMAN["RTE"]) / 2}
    glue["note"] = "a partial average over 2 of the 9 GLUE tasks, not the GLUE score (missing: %s)" % ", ".join(
        glue["missing"])
    for side in ("init", "scratch"):
        glue[side] = {k: sum(t[side][k]["score"]["mean"] for t in tasks) / 2 for k in ("final", "best")}
    glue["difference"] = {k: glue["init"][k] - glue["scratch"][k] for k in ("final", "best")}
    document = {"tasks": tasks, "glue": glue, "init": "runs/demo/train",
                "init_resolved": "runs/demo/train/checkpoints/step-000000600", "suite": "glue",
                "skipped": [{"task": t, "reason": "not part of this fixture"} for t in glue["missing"]],
                "glue_submission": {}}
    with open(os.path.join(out, "eval", "evaluation.json"), "w") as f:
        f.write(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main_checkout, output = sys.argv[1:3]
    pretraining(main_checkout, output)
    finetune(main_checkout, output)
