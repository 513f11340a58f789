"""Matplotlib plumbing shared by the figures: the look, smoothing, marks, and a figure turned
into an SVG data URI for an <img> (each figure its own SVG document, so the ids matplotlib
writes never clash between figures on one page)."""

import base64
import io
import collections
import math
from dataclasses import dataclass

import matplotlib

matplotlib.use("svg")  # no display; the page embeds SVG
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

plt.rcParams.update({
    "figure.figsize": (6.4, 3.6),
    "font.size": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "svg.hashsalt": "cloze-report",  # stable ids: the same runs give the same page
})

RAW_ALPHA = 0.25
CHECKPOINT_STYLE = dict(color="0.55", linestyle=":", linewidth=1.0)
ROLLBACK_STYLE = dict(color="tab:red", linestyle="--", linewidth=1.2)
SKIP_STYLE = dict(color="tab:red", marker="|", linestyle="none", markersize=9)


@dataclass
class Figure:
    title: str
    caption: str
    data_uri: str


def new_axes():
    fig, ax = plt.subplots(constrained_layout=True)
    return fig, ax


def to_figure(fig, title, caption=""):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    uri = "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return Figure(title=title, caption=caption, data_uri=uri)


def smoothing_window(count):
    """Steps averaged by the running mean: about 1/40 of the run, 1 to 100."""
    return max(1, min(100, count // 40))


def running_mean(values, window):
    """Trailing mean over `window` values, NaN ignored (a NaN-only window gives NaN)."""
    out, total, count, queue = [], 0.0, 0, collections.deque()
    for v in values:
        queue.append(v)
        if not math.isnan(v):
            total += v
            count += 1
        if len(queue) > window:
            old = queue.popleft()
            if not math.isnan(old):
                total -= old
                count -= 1
        out.append(total / count if count else math.nan)
    return out


def noisy_line(ax, steps, values, label, color, smooth=True, exclude=()):
    """The raw per-step values faint, their running mean over them; steps in `exclude` (those
    the guard skipped) are drawn but left out of the mean, as the guard left them out of the
    run."""
    if not steps:
        return
    window = smoothing_window(len(steps)) if smooth else 1
    if window > 1:
        excluded = set(exclude)
        kept = [math.nan if s in excluded else v for s, v in zip(steps, values)]
        ax.plot(steps, values, color=color, alpha=RAW_ALPHA, linewidth=0.7)
        ax.plot(steps, running_mean(kept, window), color=color, linewidth=1.5,
                label="%s (mean of %d steps)" % (label, window))
    else:
        ax.plot(steps, values, color=color, linewidth=1.3, label=label, marker="o" if len(steps) < 3 else None,
                markersize=3)


def step_marks(ax, checkpoints=(), rollbacks=(), skipped=()):
    """Checkpoints and rollbacks as vertical lines, skipped steps as ticks along the bottom."""
    for i, step in enumerate(checkpoints):
        ax.axvline(step, label="checkpoint" if i == 0 else None, **CHECKPOINT_STYLE)
    for i, step in enumerate(rollbacks):
        ax.axvline(step, label="rollback" if i == 0 else None, **ROLLBACK_STYLE)
    if skipped:
        ax.plot(list(skipped), [0.03] * len(skipped), transform=ax.get_xaxis_transform(),
                label="skipped step", **SKIP_STYLE)


def finish(ax, xlabel, ylabel):
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best")
