"""The page's figures, one function per section: pretraining curves, a fine-tuning run's seeds,
and an evaluation's human-relative chart and pretrained-vs-scratch curves."""

import math

import plotting
from plotting import finish, new_axes, noisy_line, step_marks, to_figure

SEED_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan"]
INIT_COLOR, SCRATCH_COLOR = "tab:blue", "tab:red"


def _marks(ax, run):
    step_marks(ax, checkpoints=run.checkpoints, rollbacks=run.rollbacks, skipped=run.skipped)


def _fit_to_accepted(ax, run, keys):
    """Keeps the y range to the accepted steps' values: a skipped step's spike (marked along the
    bottom) would otherwise flatten every curve."""
    skipped = set(run.skipped)
    if not skipped:
        return
    accepted = [v for key in keys for s, v in zip(*run.metrics.series(key)) if s not in skipped and math.isfinite(v)]
    if accepted:
        low, high = min(accepted), max(accepted)
        margin = 0.08 * (high - low or abs(high) or 1)
        ax.set_ylim(0 if low >= 0 else low - margin, high + margin)


def pretraining_figures(run):
    m = run.metrics
    if not m.records:
        return []
    sentence = run.sentence_task()
    figures = []

    fig, ax = new_axes()
    noisy_line(ax, *m.series("loss"), "total", "tab:blue", exclude=run.skipped)
    noisy_line(ax, *m.series("mlm_loss"), "MLM", "tab:orange", exclude=run.skipped)
    noisy_line(ax, *m.series(sentence + "_loss"), sentence.upper(), "tab:green", exclude=run.skipped)
    if m.has("eval_loss"):
        ax.plot(*m.series("eval_loss"), "ko", markersize=3, label="held-out total")
    _fit_to_accepted(ax, run, ("loss", "mlm_loss", sentence + "_loss", "eval_loss"))
    _marks(ax, run)
    finish(ax, "step", "loss")
    figures.append(to_figure(fig, "Loss", "Training loss per step (faint) and its running mean: the total, the "
                             "masked-LM term and the sentence-task term; dots: held-out evaluations when the run "
                             "had them. Skipped steps are left out of the mean and of the y range."))

    fig, ax = new_axes()
    noisy_line(ax, *m.series("mlm_acc"), "MLM", "tab:orange", exclude=run.skipped)
    noisy_line(ax, *m.series(sentence + "_acc"), sentence.upper(), "tab:green", exclude=run.skipped)
    for key, label, color in (("eval_mlm_acc", "held-out MLM", "tab:orange"),
                              ("eval_%s_acc" % sentence, "held-out " + sentence.upper(), "tab:green")):
        if m.has(key):
            ax.plot(*m.series(key), "o", color=color, markeredgecolor="k", markersize=4, label=label)
    ax.set_ylim(0, 1)
    _marks(ax, run)
    finish(ax, "step", "accuracy")
    figures.append(to_figure(fig, "Accuracy", "Masked-token accuracy (MLM) and sentence-task accuracy on the "
                             "training batches; dots: held-out evaluations when the run had them."))

    fig, ax = new_axes()
    noisy_line(ax, *m.series("lr"), "learning rate", "tab:blue", smooth=False)
    _marks(ax, run)
    finish(ax, "step", "learning rate")
    figures.append(to_figure(fig, "Learning rate", "The rate each step applied (warmup, decay, and the guard's "
                             "reduction after a rollback)."))

    fig, ax = new_axes()
    steps, norms = m.series("grad_norm")
    noisy_line(ax, steps, norms, "gradient norm", "tab:purple", exclude=run.skipped)
    finite = [v for v in norms if math.isfinite(v) and v > 0]
    if finite and max(finite) / min(finite) > 50:
        ax.set_yscale("log")
    else:
        _fit_to_accepted(ax, run, ("grad_norm",))
    _marks(ax, run)
    finish(ax, "step", "global L2 norm (before clipping)")
    figures.append(to_figure(fig, "Gradient norm", "Global gradient norm before clipping."))

    fig, ax = new_axes()
    noisy_line(ax, *m.series("tokens_per_s"), "tokens/s", "tab:gray")
    _marks(ax, run)
    finish(ax, "step", "tokens per second")
    figures.append(to_figure(fig, "Throughput", "Tokens (padding excluded) per second of each step."))
    return figures


def _seed_curves(ax, run, series, label_prefix=""):
    for i, seed in enumerate(run.seeds):
        steps, values = series(seed)
        noisy_line(ax, steps, values, "%sseed %d" % (label_prefix, seed.seed), SEED_COLORS[i % len(SEED_COLORS)])


def _dev_points(ax, run, metric, color=None, label_prefix=""):
    for i, seed in enumerate(run.seeds):
        steps, values, degenerate = seed.dev_metric(metric)
        if not steps:
            continue
        c = color or SEED_COLORS[i % len(SEED_COLORS)]
        ax.plot(steps, values, "o-", color=c, markersize=3, linewidth=1.2,
                label="%sseed %d" % (label_prefix, seed.seed))
        flagged = [(s, v) for s, v, d in zip(steps, values, degenerate) if d]
        if flagged:
            ax.plot(*zip(*flagged), "x", color="k", markersize=6, label="degenerate (one class)" if i == 0 else None)


def finetune_figures(run):
    if not any(s.metrics.records for s in run.seeds):
        return []
    figures = []
    fig, ax = new_axes()
    _seed_curves(ax, run, lambda s: s.train_loss())
    finish(ax, "step", "training loss")
    figures.append(to_figure(fig, "%s: training loss" % run.task, "Fine-tuning loss per step (faint) and its "
                             "running mean, one colour per seed."))
    if run.primary_metric:
        fig, ax = new_axes()
        _dev_points(ax, run, run.primary_metric)
        finish(ax, "step", "dev " + run.primary_metric)
        figures.append(to_figure(fig, "%s: dev %s" % (run.task, run.primary_metric),
                                 "The dev-set metric at each evaluation, one colour per seed; x: an evaluation "
                                 "where the model predicted one class for every example."))
    return figures


def human_relative_figure(folder):
    rows = [r for r in folder.rows if r.human]
    if not rows:
        return None
    labels = [r.task for r in rows]
    init = [r.final.mean / r.human for r in rows]
    init_err = [(r.final.std or 0) / r.human for r in rows]
    scratch_rows = all(r.scratch_final for r in rows)
    if folder.glue and folder.glue.human:
        labels.append("GLUE avg" if not folder.glue.missing else "GLUE avg (partial)")
        init.append(folder.glue.final / folder.glue.human)
        init_err.append(0)
    fig, ax = new_axes()
    width = 0.38 if scratch_rows else 0.6
    positions = list(range(len(labels)))
    offset = width / 2 if scratch_rows else 0
    ax.bar([p - offset for p in positions], init, width, yerr=init_err, color=INIT_COLOR, capsize=3,
           label="from the checkpoint")
    if scratch_rows:
        scratch = [r.scratch_final.mean / r.human for r in rows]
        scratch_err = [(r.scratch_final.std or 0) / r.human for r in rows]
        if folder.glue and folder.glue.human:
            scratch.append((folder.glue.scratch_final or 0) / folder.glue.human)
            scratch_err.append(0)
        ax.bar([p + offset for p in positions], scratch, width, yerr=scratch_err, color=SCRATCH_COLOR, capsize=3,
               label="from scratch")
    ax.axhline(1.0, color="k", linewidth=1, linestyle="--", label="human baseline")
    ax.set_xticks(positions)
    ax.set_xticklabels(labels)
    ax.grid(axis="x", visible=False)
    finish(ax, "", "score / human score")
    return to_figure(fig, "Against the human baseline", "Each task's final dev score (mean over seeds, error bar: "
                     "the seeds' standard deviation) over its published human baseline (Nangia & Bowman 2019); "
                     "1 is human.")


def _mean_curve(series_per_seed):
    """The per-step mean over the seeds that have each step."""
    sums = {}
    for steps, values in series_per_seed:
        for s, v in zip(steps, values):
            if math.isfinite(v):
                total, count = sums.get(s, (0.0, 0))
                sums[s] = (total + v, count + 1)
    steps = sorted(sums)
    return steps, [sums[s][0] / sums[s][1] for s in steps]


def _comparison_curves(ax, runs_by_label, series, smooth):
    for label, (run, color) in runs_by_label.items():
        per_seed = [series(s) for s in run.seeds]
        for steps, values in per_seed:
            ax.plot(steps, values, color=color, alpha=plotting.RAW_ALPHA * (0.6 if smooth else 1),
                    linewidth=0.7)
        steps, means = _mean_curve(per_seed)
        window = plotting.smoothing_window(len(steps)) if smooth else 1
        ax.plot(steps, plotting.running_mean(means, window), color=color, linewidth=1.8,
                marker=None if smooth else "o", markersize=3,
                label="%s, mean of %d seed%s" % (label, len(run.seeds), "" if len(run.seeds) == 1 else "s"))


def comparison_figure(task, run, scratch):
    """Pretrained against scratch on one task: training loss and the dev metric over steps."""
    fig, (loss_ax, dev_ax) = plotting.plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    curves = {"from the checkpoint": (run, INIT_COLOR), "from scratch": (scratch, SCRATCH_COLOR)}
    _comparison_curves(loss_ax, curves, lambda s: s.train_loss(), smooth=True)
    finish(loss_ax, "step", "training loss")
    metric = run.primary_metric or scratch.primary_metric
    _comparison_curves(dev_ax, curves, lambda s: s.dev_metric(metric)[:2], smooth=False)
    finish(dev_ax, "step", "dev " + metric)
    return to_figure(fig, "%s: pretrained against scratch" % task,
                     "The same fine-tuning (task, seeds, data, hyperparameters) from the checkpoint and from "
                     "random initialisation. Left: training loss (seeds faint, their mean smoothed); right: the "
                     "dev %s at each evaluation (seeds faint, their mean)." % metric)


PROBE_TITLES = {"fill": "Fill-in", "reconstruction": "Reconstruction", "upos": "UPOS (part of speech)",
                "deprel": "Dependency relation (syntax)", "sst2": "SST-2 sentiment (semantics)",
                "fill_zh": "Chinese fill-in"}


def _class_lines_figure(results, probe, title, caption):
    """One line per word class against the checkpoint's step, overall thick and black: the
    paper's figure (Chiang et al. 2020, fig. 1)."""
    fig, ax = plotting.plt.subplots(figsize=(7.6, 4.0), constrained_layout=True)
    classes = [c for c in results.classes(probe) if c != "overall"]
    colors = plotting.plt.get_cmap("tab20").colors
    for i, name in enumerate(classes):
        steps, accuracies = results.series(probe, name)
        ax.plot(steps, accuracies, color=colors[i % len(colors)], linewidth=1.1, marker="o", markersize=2.5,
                label=name)
    steps, accuracies = results.series(probe, "overall")
    ax.plot(steps, accuracies, color="k", linewidth=2.8, marker="o", markersize=4, label="overall")
    ax.set_ylim(0, 1)
    ax.set_xlabel("pretraining step")
    ax.set_ylabel("characters recovered" if probe == "fill_zh" else "words recovered")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7)
    return to_figure(fig, title, caption)


def _heatmap_figure(results, probe):
    layers, steps, rows = results.grid(probe)
    fig, ax = plotting.plt.subplots(figsize=(6.4, 1.4 + 0.28 * len(layers)), constrained_layout=True)
    image = ax.imshow(rows, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1,
                      interpolation="nearest")
    every = max(1, len(steps) // 12)  # about a dozen step labels at most
    ax.set_xticks(range(0, len(steps), every))
    ax.set_xticklabels([str(s) for s in steps[::every]], rotation=45 if len(steps) > 6 else 0, ha="right"
                       if len(steps) > 6 else "center")
    ax.set_yticks(range(len(layers)))
    ax.set_yticklabels(["emb" if layer == 0 else str(layer) for layer in layers])
    ax.grid(False)
    ax.set_xlabel("pretraining step (checkpoints probed)")
    ax.set_ylabel("layer")
    fig.colorbar(image, ax=ax, label="test accuracy")
    title = PROBE_TITLES.get(probe, probe) + ": layer × step"
    return to_figure(fig, title, "Test accuracy of a linear probe (softmax regression on the frozen features, "
                     "early-stopped on dev) of each layer (emb: the embeddings) at each checkpoint; white: not "
                     "probed.")


def probing_figures(results):
    """The probes.jsonl figures: fill-in and reconstruction by word class (Chinese fill-in by
    character class) against the step, and a layer × step heatmap per linear probe."""
    figures = []
    head = {"fill": ("Fill-in by word class", "Each test word masked whole (all its sub-tokens) and counted as "
                     "recovered only when every sub-token is predicted exactly; accuracy per UPOS class at each "
                     "probed checkpoint, overall thick."),
            "reconstruction": ("Reconstruction by word class", "The same words with nothing masked: how often "
                               "the MLM head gives back the input word, per UPOS class; overall thick."),
            "fill_zh": ("Chinese fill-in by character class", "Each Han character and punctuation mark of held-out "
                        "Chinese text masked (all its sub-tokens) and counted as recovered only when every one is "
                        "predicted exactly; accuracy per character class (function: a closed list of particles, "
                        "pronouns, prepositions, conjunctions and negation; numeral; punctuation; content: every "
                        "other Han character), overall thick.")}
    for probe in results.probes():
        if probe in head:
            figures.append(_class_lines_figure(results, probe, *head[probe]))
        elif results.layers(probe):
            figures.append(_heatmap_figure(results, probe))
    return figures
