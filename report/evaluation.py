"""An evaluation folder (`cloze evaluate --run_dir=DIR`): DIR/<task>/ and, with --with_scratch,
DIR/scratch/<task>/, each a fine-tuning run folder (seed-K subfolders), and the table
DIR/evaluation.json once the suite is done.

The table comes from evaluation.json when it is there (its schema: eval/evaluation_report.h,
read in one place, table_from_evaluation_json); otherwise it is computed from the task folders'
eval_results.json the same way (a GLUE task's score is the mean of its metrics x100, as the
GLUE server computes it), so a suite still running has its page too.
"""

import math
import os
from dataclasses import dataclass, field

import run_folders
import runs

# Tasks whose runs report their metrics in percent already (SQuAD's exact match and F1, as the
# official script prints them); the others report fractions.
PERCENT_TASKS = {"squad"}
NOT_METRICS = {"step", "loss", "degenerate"}


@dataclass
class Stats:
    mean: float
    std: float = None  # None for one seed
    values: list = field(default_factory=list)


@dataclass
class TaskScores:
    """One task's score, percent, over its seeds: the final evaluation and the best on dev."""
    task: str
    seeds: list
    final: Stats
    best: Stats
    human: float = None                 # the published human baseline's score (GLUE tasks)
    relative_to_human: float = None     # final mean / human
    scratch_final: Stats = None
    scratch_best: Stats = None
    scratch_relative_to_human: float = None
    degenerate: list = field(default_factory=list)  # "from the checkpoint, final: seeds 2, 3"


@dataclass
class GlueAverage:
    tasks: list
    missing: list
    human: float
    final: float
    best: float
    scratch_final: float = None
    scratch_best: float = None


@dataclass
class EvaluationFolder:
    path: str
    source: str                                     # where the table came from, in words
    init: str = ""
    rows: list = field(default_factory=list)        # TaskScores
    glue: GlueAverage = None
    skipped: list = field(default_factory=list)     # (task, reason)
    runs: dict = field(default_factory=dict)        # task -> FinetuneRun from the checkpoint
    scratch_runs: dict = field(default_factory=dict)  # task -> FinetuneRun from scratch
    notes: list = field(default_factory=list)


def _subfolders(path):
    try:
        return sorted(n for n in os.listdir(path) if os.path.isdir(os.path.join(path, n)))
    except OSError:
        return []


def _task_runs(path, exclude=()):
    found = {}
    for name in _subfolders(path):
        folder = os.path.join(path, name)
        if name not in exclude and run_folders.is_finetune_folder(folder):
            run = run_folders.read_finetune(folder)
            found[run.task or name] = run
    return found


def is_evaluation_folder(path, known_tasks):
    """evaluation.json, a scratch/ folder of fine-tuning runs, or a fine-tuning run in a folder
    named after a known task (what `cloze evaluate` lays out)."""
    if os.path.exists(os.path.join(path, "evaluation.json")):
        return True
    if _task_runs(os.path.join(path, "scratch")):
        return True
    known = {t.lower() for t in known_tasks}
    return any(name.lower() in known and run_folders.is_finetune_folder(os.path.join(path, name))
               for name in _subfolders(path))


def read_evaluation(path, context):
    folder = EvaluationFolder(path=path, source="")
    folder.runs = _task_runs(path, exclude=("scratch",))
    folder.scratch_runs = _task_runs(os.path.join(path, "scratch"))
    for run in list(folder.runs.values()) + list(folder.scratch_runs.values()):
        folder.notes.extend(run.notes)
    document = runs.read_json(os.path.join(path, "evaluation.json"), folder.notes)
    if isinstance(document, dict):
        folder.source = "evaluation.json"
        table_from_evaluation_json(document, folder)
    else:
        folder.source = "the task folders' eval_results.json (no evaluation.json yet)"
        table_from_run_folders(folder, context)
    return folder


# --- evaluation.json (eval/evaluation_report.h) ---------------------------------------------

def _get(value, *keys):
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _stats_from_json(value):
    if not isinstance(_get(value, "mean"), (int, float)):
        return None
    std = value.get("std")
    values = value.get("values") if isinstance(value.get("values"), list) else []
    return Stats(mean=float(value["mean"]), std=float(std) if isinstance(std, (int, float)) else None, values=values)


def _degenerate_from_json(columns, label):
    lines = []
    for kind in ("final", "best"):
        seeds = _get(columns, kind, "degenerate_seeds")
        if seeds:
            lines.append("%s, %s: seeds %s" % (label, "final" if kind == "final" else "best on dev",
                                               ", ".join(str(s) for s in seeds)))
    return lines


def table_from_evaluation_json(document, folder):
    """Fills folder's rows, glue, skipped and init from an evaluation.json. A task row without
    its scores is left out with a note naming it."""
    where = os.path.join(folder.path, "evaluation.json")
    folder.init = str(document.get("init_resolved") or document.get("init") or "")
    for skipped in document.get("skipped") or []:
        if isinstance(skipped, dict):
            folder.skipped.append((str(skipped.get("task", "?")), str(skipped.get("reason", ""))))
    for index, task in enumerate(document.get("tasks") or []):
        final = _stats_from_json(_get(task, "init", "final", "score"))
        best = _stats_from_json(_get(task, "init", "best", "score"))
        if final is None or best is None:
            folder.notes.append("%s: tasks[%d] (%s): no init.final.score / init.best.score; row left out"
                                % (where, index, _get(task, "task")))
            continue
        row = TaskScores(task=str(task.get("task", "?")), seeds=task.get("seeds") or [], final=final, best=best,
                         human=_get(task, "human_score"),
                         relative_to_human=_get(task, "init", "final", "relative_to_human"),
                         scratch_final=_stats_from_json(_get(task, "scratch", "final", "score")),
                         scratch_best=_stats_from_json(_get(task, "scratch", "best", "score")),
                         scratch_relative_to_human=_get(task, "scratch", "final", "relative_to_human"))
        row.degenerate = (_degenerate_from_json(task.get("init"), "from the checkpoint")
                          + _degenerate_from_json(task.get("scratch"), "from scratch"))
        folder.rows.append(row)
    glue = document.get("glue")
    if isinstance(glue, dict) and isinstance(_get(glue, "init", "final"), (int, float)):
        folder.glue = GlueAverage(tasks=glue.get("tasks") or [], missing=glue.get("missing") or [],
                                  human=_get(glue, "human_score"), final=_get(glue, "init", "final"),
                                  best=_get(glue, "init", "best"), scratch_final=_get(glue, "scratch", "final"),
                                  scratch_best=_get(glue, "scratch", "best"))


# --- computed from the task folders ----------------------------------------------------------

def _stats(values):
    values = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    if not values:
        return None
    mean = sum(values) / len(values)
    std = None
    if len(values) > 1:
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return Stats(mean=mean, std=std, values=values)


def seed_score(task, primary_metric, evaluation, human_scores):
    """A seed's score in percent from one eval_results.json evaluation ("final" or "best"):
    for a GLUE task the mean of its metrics x100, as the GLUE server computes it; otherwise the
    primary metric, x100 unless the task reports percent already. None when absent."""
    if not isinstance(evaluation, dict):
        return None
    metrics = {k: v for k, v in evaluation.items()
               if k not in NOT_METRICS and isinstance(v, (int, float)) and not isinstance(v, bool)}
    if not metrics:
        return None
    if task in human_scores:
        return 100 * sum(metrics.values()) / len(metrics)
    value = metrics.get(primary_metric, next(iter(metrics.values())))
    return value if task.lower() in PERCENT_TASKS else 100 * value


def _scores(run, kind, human_scores):
    return [seed_score(run.task, run.primary_metric, (s.results or {}).get(kind), human_scores) for s in run.seeds]


def _degenerate_seeds(run, kind):
    return [s.seed for s in run.seeds if _get(s.results, kind, "degenerate") is True]


def table_from_run_folders(folder, context):
    human_scores = context.get("human_scores", {})
    glue_order = context.get("glue_tasks", [])
    order = [t for t in glue_order if t in folder.runs] + sorted(t for t in folder.runs if t not in glue_order)
    for task in order:
        run = folder.runs[task]
        final, best = _stats(_scores(run, "final", human_scores)), _stats(_scores(run, "best", human_scores))
        if final is None or best is None:
            folder.notes.append("%s: no finished evaluation yet (eval_results.json); not in the table" % run.path)
            continue
        row = TaskScores(task=task, seeds=[s.seed for s in run.seeds], final=final, best=best,
                         human=human_scores.get(task))
        if row.human:
            row.relative_to_human = final.mean / row.human
        scratch = folder.scratch_runs.get(task)
        if scratch is not None:
            row.scratch_final = _stats(_scores(scratch, "final", human_scores))
            row.scratch_best = _stats(_scores(scratch, "best", human_scores))
            if row.human and row.scratch_final:
                row.scratch_relative_to_human = row.scratch_final.mean / row.human
        for label, r in (("from the checkpoint", run), ("from scratch", scratch)):
            for kind, name in (("final", "final"), ("best", "best on dev")):
                seeds = _degenerate_seeds(r, kind) if r else []
                if seeds:
                    row.degenerate.append("%s, %s: seeds %s" % (label, name, ", ".join(map(str, seeds))))
        folder.rows.append(row)
    glue_rows = [r for r in folder.rows if r.task in human_scores]
    if glue_rows:
        def mean(values):
            return sum(values) / len(values) if values and all(v is not None for v in values) else None
        folder.glue = GlueAverage(
            tasks=[r.task for r in glue_rows], missing=[t for t in glue_order if t not in folder.runs],
            human=mean([r.human for r in glue_rows]), final=mean([r.final.mean for r in glue_rows]),
            best=mean([r.best.mean for r in glue_rows]),
            scratch_final=mean([r.scratch_final.mean if r.scratch_final else None for r in glue_rows]),
            scratch_best=mean([r.scratch_best.mean if r.scratch_best else None for r in glue_rows]))
