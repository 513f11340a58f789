#!/usr/bin/env python3
"""One markdown table from the evaluation folders bench/finetune_matrix.sh writes.

Each RUN/TASK/evaluation.json is cloze evaluate's own table; this lays their rows side by
side: per task and metric, the checkpoint's and scratch's final and best-on-dev values over
the seeds (mean ± sample std, and the values), and the seeds flagged as degenerate. Below
it, when two or more GLUE tasks are there, their average: each seed's mean over the tasks of
the task's score (as the GLUE server counts it, the mean of a task's metrics; cloze evaluate
writes it), then mean ± std over the seeds. Per task folder, because bench/finetune_matrix.sh
runs SST-2 for 1 epoch and the others for 3, which one cloze evaluate cannot.

  python3 bench/matrix_table.py runs/matrix
"""
import json
import pathlib
import statistics
import sys


# SQuAD's metrics are stored in percent already, the others as fractions (as
# eval/evaluation_table.cc's MetricsInPercent says).
PERCENT_TASKS = {"squad", "squad_v2"}


def spread(stat, scale):
    """'mean ± std (v1, v2, v3)' in percent; one seed has no std."""
    mean, std = scale * stat["mean"], stat["std"]
    head = f"{mean:.2f}" if std is None else f"{mean:.2f} ± {scale * std:.2f}"
    values = stat["values"]
    return head if len(values) == 1 else f"{head} ({', '.join(f'{scale * v:.2f}' for v in values)})"


def degenerate(side):
    seeds = sorted(set(side["final"]["degenerate_seeds"]) | set(side["best"]["degenerate_seeds"]))
    return ", ".join(str(s) for s in seeds) or "none"


def rows(evaluation):
    for task in evaluation["tasks"]:
        init, scratch = task["init"], task["scratch"]
        scale = 1 if task["task"] in PERCENT_TASKS else 100
        for metric in init["final"]["metrics"]:
            cells = [spread(side[which]["metrics"][metric], scale)
                     for which in ("final", "best") for side in (init, scratch)]
            yield (f"| {task['task']} | {metric} | {len(task['seeds'])} | {' | '.join(cells)} "
                   f"| {degenerate(init)} / {degenerate(scratch)} |")


GLUE_TASKS = ("CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI")


def glue_average(tasks):
    """The average line over the GLUE tasks among TASKS (evaluation.json task entries), or None."""
    glue = sorted((t for t in tasks if t["task"] in GLUE_TASKS), key=lambda t: GLUE_TASKS.index(t["task"]))
    if len(glue) < 2:
        return None
    seeds = {len(t[side][which]["score"]["values"]) for t in glue for side in ("init", "scratch")
             for which in ("final", "best")}
    if len(seeds) != 1:
        return "GLUE tasks average: not computed, the tasks have different numbers of seeds"

    def cell(side, which):
        per_seed = [statistics.fmean(values) for values in
                    zip(*(t[side][which]["score"]["values"] for t in glue))]
        std = f" ± {statistics.stdev(per_seed):.2f}" if len(per_seed) > 1 else ""
        return f"{statistics.fmean(per_seed):.2f}{std}"

    names = ", ".join(t["task"] for t in glue)
    return (f"GLUE tasks average ({len(glue)} of 9: {names}; per seed, then mean ± std over "
            f"{seeds.pop()} seeds): final, checkpoint {cell('init', 'final')}, scratch "
            f"{cell('scratch', 'final')}; best on dev, checkpoint {cell('init', 'best')}, scratch "
            f"{cell('scratch', 'best')}")


def main(run):
    found = sorted(pathlib.Path(run).glob("*/evaluation.json"))
    if not found:
        sys.exit(f"matrix_table.py: no */evaluation.json under {run}")
    print("| task | metric | seeds | checkpoint, final | scratch, final | checkpoint, best on dev "
          "| scratch, best on dev | degenerate seeds (checkpoint / scratch) |")
    print("|---|---|---|---|---|---|---|---|")
    compared = []
    for path in found:
        evaluation = json.loads(path.read_text(encoding="utf-8"))
        if not evaluation["tasks"] or "scratch" not in evaluation["tasks"][0]:
            print(f"matrix_table.py: {path}: no runs from scratch, skipped", file=sys.stderr)
            continue
        compared.extend(evaluation["tasks"])
        for row in rows(evaluation):
            print(row)
    average = glue_average(compared)
    if average:
        print(f"\n{average}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 bench/matrix_table.py RUN_DIR")
    main(sys.argv[1])
