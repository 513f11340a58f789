#!/usr/bin/env python3
"""Pretraining curves of one config at two precisions, several seeds each: a figure (loss
against step, as a running mean of 20 steps, one colour per precision) and a markdown table of each run's final loss (the
mean of its last 50 steps), mean ± sample std per precision, whether each other
precision's mean lies within the first precision's seeds' spread (min to max), and for the
seeds run at both, the difference the precision alone makes.

  plot_precision_curve.py --figure=curve.png --table=table.md fp32:1:runs/a/metrics.jsonl ...

Each run is PRECISION:SEED:METRICS_JSONL (cloze train's metrics.jsonl). Where the lines
record the precision the matrix products ran at ("precision"), a run whose lines say
otherwise than PRECISION is refused: a bf16 run that fell back to fp32 compares nothing;
so are runs that end at different steps.
Needs Debian's python3-matplotlib (deploy/setup.sh).
"""
import argparse
import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FINAL_WINDOW = 50
SMOOTHING = 20
COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:red"]


def read_run(spec):
    precision, seed, path = spec.split(":", 2)
    steps, losses = [], []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            record = json.loads(line)
            ran = record.get("precision")
            if ran is not None and ran != precision:
                sys.exit(f"{path}:{number}: precision {ran!r}, but this run is {precision!r}")
            if record.get("loss") is None:
                sys.exit(f"{path}:{number}: no finite loss")
            steps.append(record["step"])
            losses.append(record["loss"])
    if not steps:
        sys.exit(f"{path}: no steps")
    final = statistics.fmean(losses[-FINAL_WINDOW:])
    return {"precision": precision, "seed": seed, "steps": steps, "losses": losses, "final": final}


def running_mean(values, window):
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def plot(runs, precisions, path):
    """Each run's loss as a running mean over SMOOTHING steps (a batch of 16 makes the raw
    loss too noisy to tell curves apart); the first precision solid, the others dashed on top,
    since the same seed at two precisions nearly overlaps."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    for run in runs:
        i = precisions.index(run["precision"])
        ax.plot(run["steps"], running_mean(run["losses"], SMOOTHING), color=COLOURS[i % len(COLOURS)],
                linestyle="-" if i == 0 else "--", linewidth=1.0)
    for i, precision in enumerate(precisions):
        ax.plot([], [], color=COLOURS[i % len(COLOURS)], linestyle="-" if i == 0 else "--", label=precision)
    ax.set_xlabel("step")
    ax.set_ylabel(f"training loss (MLM + SOP), mean of {SMOOTHING} steps")
    seeds = len({r["seed"] for r in runs})
    ax.set_title(f"ALBERT-tiny on the demo corpus, {' vs '.join(precisions)}, {seeds} seeds")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)


def table(runs, precisions):
    window = min(FINAL_WINDOW, min(len(r["losses"]) for r in runs))
    lines = [f"| precision | seed | final loss (mean of the last {window} steps) |", "|---|---|---|"]
    for run in runs:
        lines.append(f"| {run['precision']} | {run['seed']} | {run['final']:.4f} |")
    lines += ["", "| precision | seeds | mean ± std | min – max |", "|---|---|---|---|"]
    finals = {p: [r["final"] for r in runs if r["precision"] == p] for p in precisions}
    for p in precisions:
        std = statistics.stdev(finals[p]) if len(finals[p]) > 1 else 0.0
        lines.append(f"| {p} | {len(finals[p])} | {statistics.fmean(finals[p]):.4f} ± {std:.4f} | "
                     f"{min(finals[p]):.4f} – {max(finals[p]):.4f} |")
    reference = precisions[0]
    low, high = min(finals[reference]), max(finals[reference])
    lines.append("")
    for p in precisions[1:]:
        mean = statistics.fmean(finals[p])
        verdict = "within" if low <= mean <= high else "OUTSIDE"
        lines.append(f"{p} mean {mean:.4f} is {verdict} the {reference} seeds' spread [{low:.4f}, {high:.4f}].")
        # The same seed at both precisions: how far the precision alone moves the final loss.
        by_seed = {r["seed"]: r["final"] for r in runs if r["precision"] == reference}
        paired = [(r["seed"], r["final"] - by_seed[r["seed"]]) for r in runs if r["precision"] == p and r["seed"] in by_seed]
        if paired:
            differences = ", ".join(f"seed {seed} {d:+.4f}" for seed, d in paired)
            lines.append(f"{p} − {reference} final loss, same seed: {differences}.")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--figure", required=True)
    parser.add_argument("--table", required=True)
    parser.add_argument("runs", nargs="+", help="PRECISION:SEED:METRICS_JSONL")
    args = parser.parse_args()
    runs = [read_run(spec) for spec in args.runs]
    ends = {r["steps"][-1] for r in runs}
    if len(ends) > 1:  # final losses at different steps compare nothing
        sys.exit("runs end at different steps: " + ", ".join(f"{r['precision']} seed {r['seed']} at {r['steps'][-1]}"
                                                              for r in runs))
    precisions = list(dict.fromkeys(r["precision"] for r in runs))
    plot(runs, precisions, args.figure)
    with open(args.table, "w") as f:
        f.write(table(runs, precisions))


if __name__ == "__main__":
    main()
