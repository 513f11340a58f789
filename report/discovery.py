"""What RUN_DIR holds: a pretraining run, a fine-tuning run, an evaluation folder, or a folder
of several (runs/small with train/ and eval/), looked for a few levels down.

Each folder is the first of these that fits (a run's own subfolders are part of it):
  evaluation   evaluation.json, or task-named fine-tuning runs (cloze evaluate's layout)
  finetune     eval_results.json, seeds_summary.json, a finetune block in its config, seed-K/
  pretraining  metrics.jsonl or checkpoints/
  dataset      a prepared dataset (cloze prepare): named on the page, not plotted
and any other folder is looked into.
"""

import os
from dataclasses import dataclass, field

import evaluation
import run_folders

MAX_DEPTH = 3
# Folders of a run that hold no run: not looked into.
NOT_RUNS = {"checkpoints", "logs", "coordinator", "glue_submission"}
# Tasks `cloze finetune` knows besides GLUE's (whose names come with the context).
OTHER_TASKS = ("pos", "squad")
# The page's order: the story of a checkpoint, from its pretraining to its evaluation.
KIND_ORDER = ["pretraining", "finetune", "evaluation", "dataset"]


@dataclass
class Found:
    kind: str      # "pretraining", "finetune", "evaluation", "dataset"
    path: str
    run: object = None  # PretrainingRun, FinetuneRun, EvaluationFolder; None for a dataset


@dataclass
class Discovery:
    root: str
    found: list = field(default_factory=list)  # Found, in folder order
    probes: list = field(default_factory=list)  # probes.jsonl files (the probing issue's results)

    def notes(self):
        return [note for f in self.found if f.run is not None for note in f.run.notes]


def _is_dataset(path):
    try:
        names = os.listdir(path)
    except OSError:
        return False
    return any(n.startswith("shard-") for n in names)


def _kind(path, known_tasks):
    if evaluation.is_evaluation_folder(path, known_tasks):
        return "evaluation"
    if run_folders.is_finetune_folder(path):
        return "finetune"
    if os.path.isfile(os.path.join(path, "metrics.jsonl")) or os.path.isdir(os.path.join(path, "checkpoints")):
        return "pretraining"
    if _is_dataset(path):
        return "dataset"
    return None


def _read(kind, path, context):
    if kind == "evaluation":
        return evaluation.read_evaluation(path, context)
    if kind == "finetune":
        return run_folders.read_finetune(path)
    if kind == "pretraining":
        return run_folders.read_pretraining(path)
    return None


def discover(root, context):
    """Every run under `root` (itself included), read. `context` gives the GLUE task names and
    human baselines (main.py's --context)."""
    known_tasks = list(context.get("glue_tasks", [])) + list(OTHER_TASKS)
    result = Discovery(root=root)

    def visit(path, depth):
        if os.path.isfile(os.path.join(path, "probes.jsonl")):
            result.probes.append(os.path.join(path, "probes.jsonl"))
        kind = _kind(path, known_tasks)
        if kind is not None:
            result.found.append(Found(kind=kind, path=path, run=_read(kind, path, context)))
            return
        if depth >= MAX_DEPTH:
            return
        try:
            names = sorted(os.listdir(path))
        except OSError:
            return
        for name in names:
            child = os.path.join(path, name)
            if name not in NOT_RUNS and not name.startswith(".") and os.path.isdir(child):
                visit(child, depth + 1)

    visit(root, 0)
    result.found.sort(key=lambda f: (KIND_ORDER.index(f.kind), f.path))
    return result
