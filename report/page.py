"""The HTML page: one self-contained file (inline CSS, figures as SVG data URIs, no script, no
link to anything outside it)."""

import html
import math
import os

import discovery
import figures
import probes

CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1250px;
       padding: 0 1.5em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2.2em; }
h3 { font-size: 1.05em; margin-top: 1.6em; }
.meta { color: #666; font-size: 0.9em; }
code { background: #f3f3f3; padding: 0 0.25em; border-radius: 3px; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.8em; text-align: right; }
th { background: #f6f6f6; }
td:first-child, th:first-child { text-align: left; }
tr.total td { font-weight: bold; border-top: 2px solid #999; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 1.2em; }
.figures.wide { grid-template-columns: 1fr; }
figure { margin: 0; }
figure img { width: 100%; height: auto; display: block; }
figcaption { font-size: 0.85em; color: #555; }
figcaption b { color: #222; }
.notes { background: #fff8e5; border-left: 4px solid #e0b000; padding: 0.5em 1em; font-size: 0.9em; }
"""


def esc(value):
    return html.escape(str(value), quote=True)


def number(value, digits=2):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return "%.*f" % (digits, value)


def mean_std(stats):
    if stats is None:
        return "–"
    return "%s ± %s" % (number(stats.mean), number(stats.std) if stats.std is not None else "n/a")


def table(header, rows, total=None):
    """header None: a table of (name, value) rows without a header."""
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join("<th>%s</th>" % esc(h) for h in header) + "</tr>")
    for row in rows:
        out.append("<tr>" + "".join("<td>%s</td>" % esc(c) for c in row) + "</tr>")
    if total:
        out.append('<tr class="total">' + "".join("<td>%s</td>" % esc(c) for c in total) + "</tr>")
    return "\n".join(out) + "</table>"


def figure_grid(items, wide=False):
    if not items:
        return ""
    cells = ['<figure><img alt="%s" src="%s"><figcaption><b>%s.</b> %s</figcaption></figure>'
             % (esc(f.title), f.data_uri, esc(f.title), esc(f.caption)) for f in items]
    return '<div class="figures%s">%s</div>' % (" wide" if wide else "", "\n".join(cells))


def notes_box(notes):
    if not notes:
        return ""
    return '<div class="notes"><ul>%s</ul></div>' % "".join("<li>%s</li>" % esc(n) for n in notes)


def steps_list(steps, limit=12):
    if not steps:
        return "none"
    shown = ", ".join(str(s) for s in steps[:limit])
    return shown + (" … (%d in all)" % len(steps) if len(steps) > limit else "")


# --- sections ----------------------------------------------------------------------------------

def pretraining_section(name, run):
    m = run.metrics
    out = ["<h2>Pretraining: %s</h2>" % esc(name)]
    if not m.records:
        out.append("<p>No steps recorded yet (metrics.jsonl is missing or empty).</p>")
    else:
        last = m.records[-1]
        window = m.records[-min(len(m.records), 20):]

        def recent(key):
            values = [float(r[key]) for r in window if isinstance(r.get(key), (int, float))]
            return sum(values) / len(values) if values else None

        seconds = sum(r["seconds"] for r in m.records if isinstance(r.get("seconds"), (int, float)))
        tokens = sum(r["tokens"] for r in m.records if isinstance(r.get("tokens"), (int, float)))
        sentence = run.sentence_task().upper()
        total = " of %d" % run.config.total_steps if run.config.total_steps else ""
        rows = [("steps recorded", "%d (last: step %d%s)" % (len(m.records), last["step"], total)),
                ("tokens", "{:,}".format(int(tokens))),
                ("time in steps", "%.1f min" % (seconds / 60)),
                ("loss (mean of the last %d steps)" % len(window), number(recent("loss"), 4)),
                ("MLM accuracy (same steps)", number(recent("mlm_acc"), 4)),
                ("%s accuracy (same steps)" % sentence, number(recent(run.sentence_task() + "_acc"), 4)),
                ("skipped steps", steps_list(run.skipped)),
                ("rollbacks", steps_list(run.rollbacks)),
                ("checkpoints on disk", steps_list(run.checkpoints))]
        if run.damaged_checkpoints:
            rows.append(("checkpoints moved aside as damaged", steps_list(run.damaged_checkpoints)))
        out.append(table(None, rows))
        out.append(figure_grid(figures.pretraining_figures(run)))
    out.append(notes_box(run.notes))
    return "\n".join(out)


def _seed_rows(run):
    rows = []
    for s in run.seeds:
        r = s.results or {}
        final, best = r.get("final") or {}, r.get("best") or {}
        rows.append((s.seed, final.get("step", "–"), number(final.get(run.primary_metric), 4),
                     best.get("step", "–"), number(best.get(run.primary_metric), 4),
                     "yes" if final.get("degenerate") else "", "yes" if r.get("finished") else "no"))
    return rows


def finetune_section(name, run):
    out = ["<h2>Fine-tuning: %s <span class=\"meta\">(%s)</span></h2>" % (esc(run.task), esc(name))]
    if run.init:
        out.append('<p class="meta">init: <code>%s</code></p>' % esc(run.init))
    metric = run.primary_metric or "metric"
    out.append(table(("seed", "final step", "final " + metric, "best step", "best " + metric,
                      "final degenerate", "finished"), _seed_rows(run)))
    summary = run.summary or {}
    for kind in ("final", "best"):
        for metric_name, stats in sorted(((summary.get(kind) or {}).get("metrics") or {}).items()):
            if isinstance(stats, dict) and isinstance(stats.get("mean"), (int, float)):
                out.append('<p class="meta">%s %s over %d seeds: %s ± %s</p>' % (
                    "final" if kind == "final" else "best on dev", esc(metric_name), len(stats.get("values") or []),
                    number(stats["mean"], 4), number(stats.get("std"), 4)))
    out.append(figure_grid(figures.finetune_figures(run)))
    out.append(notes_box(run.notes))
    return "\n".join(out)


def _evaluation_table(folder):
    scratch = any(r.scratch_final for r in folder.rows)
    header = ["task", "seeds", "final", "best on dev", "human", "final / human"]
    if scratch:
        header += ["scratch final", "scratch best", "Δ final", "Δ best"]
    rows = []
    for r in folder.rows:
        row = [r.task, ", ".join(str(s) for s in r.seeds), mean_std(r.final), mean_std(r.best), number(r.human),
               number(r.relative_to_human)]
        if scratch:
            row += [mean_std(r.scratch_final), mean_std(r.scratch_best),
                    "%+.2f" % (r.final.mean - r.scratch_final.mean) if r.scratch_final else "–",
                    "%+.2f" % (r.best.mean - r.scratch_best.mean) if r.scratch_best else "–"]
        rows.append(row)
    total = None
    g = folder.glue
    if g:
        label = "GLUE" if not g.missing else "GLUE (partial: %d of 9)" % len(g.tasks)
        total = [label, "", number(g.final), number(g.best), number(g.human),
                 number(g.final / g.human if g.human else None)]
        if scratch:
            total += [number(g.scratch_final), number(g.scratch_best),
                      "%+.2f" % (g.final - g.scratch_final) if g.scratch_final is not None else "–",
                      "%+.2f" % (g.best - g.scratch_best) if g.scratch_best is not None else "–"]
    return table(header, rows, total)


def evaluation_section(name, folder):
    out = ["<h2>Evaluation: %s</h2>" % esc(name),
           '<p class="meta">table from %s%s</p>' % (esc(folder.source),
                                                   "; init: <code>%s</code>" % esc(folder.init) if folder.init else "")]
    if folder.rows:
        out.append("<p>Dev scores in percent, mean ± sample standard deviation over the seeds; a GLUE task's score "
                   "is the mean of its metrics, as the GLUE server computes it.</p>")
        out.append(_evaluation_table(folder))
    else:
        out.append("<p>No task has finished its evaluation yet.</p>")
    if folder.glue and folder.glue.missing:
        out.append("<p class=\"meta\">A partial average, not the GLUE score: missing %s.</p>"
                   % esc(", ".join(folder.glue.missing)))
    details = ["degenerate runs (one class predicted for every dev example): " + d for r in folder.rows
               for d in r.degenerate]
    details += ["skipped %s: %s" % (task, reason) for task, reason in folder.skipped]
    out.append(notes_box(details))
    chart = figures.human_relative_figure(folder)
    if chart:
        out.append(figure_grid([chart]))
    curves = []
    for task, run in folder.runs.items():
        scratch = folder.scratch_runs.get(task)
        if scratch is not None:
            curves.append(figures.comparison_figure(task, run, scratch))
    if curves:
        out.append("<h3>Pretrained against scratch</h3>")
        out.append(figure_grid(curves, wide=True))
    per_task = [f for task, run in folder.runs.items() if task not in folder.scratch_runs
                for f in figures.finetune_figures(run)]
    if per_task:
        out.append("<h3>Fine-tuning runs</h3>")
        out.append(figure_grid(per_task))
    out.append(notes_box(folder.notes))
    return "\n".join(out)


def _newest_rows(results, step):
    """One row per probe at `step`: its overall accuracy (a linear probe's at its best layer and
    at its last), the items scored, the seconds the probe took."""
    rows = []
    for probe in results.probes():
        layers = results.layers(probe)
        if not layers:
            score = results.get(probe, step)
            if score:
                rows.append((probe, "–", number(score.accuracy, 3), "–", score.count, number(score.seconds, 1)))
            continue
        scored = [(layer, results.get(probe, step, layer=layer)) for layer in layers]
        scored = [(layer, s) for layer, s in scored if s]
        if not scored:
            continue
        best_layer, best = max(scored, key=lambda item: item[1].accuracy)
        last_layer, last = scored[-1]
        rows.append((probe, "%d (%s)" % (best_layer, number(best.accuracy, 3)), number(last.accuracy, 3),
                     last_layer, last.count, number(last.seconds, 1)))
    return rows


def _class_rows(results, step):
    rows = []
    for name in results.classes("fill"):
        fill, reconstruction = results.get("fill", step, name), results.get("reconstruction", step, name)
        rows.append((name, number(fill.accuracy, 3) if fill else "–",
                     number(reconstruction.accuracy, 3) if reconstruction else "–",
                     (fill or reconstruction).count if (fill or reconstruction) else "–"))
    return rows


def probing_section(name, results):
    """What a probes.jsonl (cloze probe) found: the newest checkpoint's numbers, then the
    figures across checkpoints."""
    out = ["<h2>Probing: %s</h2>" % esc(name)]
    steps = results.steps()
    if not steps:
        out.append("<p>No probe has finished a checkpoint yet (probes.jsonl is empty).</p>")
    else:
        newest = steps[-1]
        out.append('<p class="meta">%d checkpoint%s probed: %s</p>' % (len(steps), "" if len(steps) == 1 else "s",
                                                                      esc(steps_list(steps))))
        out.append("<h3>The newest checkpoint (step %d)</h3>" % newest)
        out.append(table(("probe", "best layer (accuracy)", "accuracy (last layer, or head)", "last layer",
                          "items", "seconds"), _newest_rows(results, newest)))
        if results.classes("fill"):
            out.append(table(("word class", "fill-in", "reconstruction", "items"), _class_rows(results, newest)))
        out.append(figure_grid(figures.probing_figures(results)))
    out.append(notes_box(results.notes))
    return "\n".join(out)


# --- the page -----------------------------------------------------------------------------------

KIND_WORDS = {"pretraining": "pretraining run", "finetune": "fine-tuning run", "evaluation": "evaluation",
              "dataset": "prepared dataset (not plotted)"}
SECTIONS = {"pretraining": pretraining_section, "finetune": finetune_section, "evaluation": evaluation_section}


def display_name(root, path):
    relative = os.path.relpath(path, root)
    return os.path.basename(os.path.abspath(root)) if relative == "." else relative


def describe(found):
    """What one found folder holds, in a few words."""
    run = found.run
    if found.kind == "pretraining":
        if not run.metrics.records:
            return "pretraining run, no steps recorded yet"
        return "pretraining run, %d steps recorded (last: %d), %d checkpoints on disk" % (
            len(run.metrics.records), run.metrics.records[-1]["step"], len(run.checkpoints))
    if found.kind == "finetune":
        finished = sum(1 for s in run.seeds if (s.results or {}).get("finished"))
        return "fine-tuning run: %s, %d seed%s (%d finished)" % (run.task, len(run.seeds),
                                                                 "" if len(run.seeds) == 1 else "s", finished)
    if found.kind == "evaluation":
        scratch = ", with runs from scratch" if run.scratch_runs else ""
        return "evaluation: %s%s; table from %s" % (", ".join(run.runs) or "no task run yet", scratch, run.source)
    return KIND_WORDS[found.kind]


def found_summary(found, root):
    if not found:
        return ("<p><b>Nothing to report here.</b> Looked for metrics.jsonl or checkpoints/ (a pretraining run), "
                "eval_results.json or seeds_summary.json (a fine-tuning run) and evaluation.json or task folders "
                "(an evaluation), %d folder levels down.</p>" % discovery.MAX_DEPTH)
    items = "".join("<li><code>%s</code>: %s</li>" % (esc(display_name(root, f.path)), esc(describe(f)))
                    for f in found)
    return "<p>Found:</p><ul>%s</ul>" % items


def render(discovery, generated_at):
    root = discovery.root
    body = ["<h1>cloze report: %s</h1>" % esc(os.path.basename(os.path.abspath(root))),
            '<p class="meta"><code>%s</code> · generated %s</p>' % (esc(os.path.abspath(root)), esc(generated_at)),
            found_summary(discovery.found, root)]
    for f in discovery.found:
        if f.kind in SECTIONS:
            body.append(SECTIONS[f.kind](display_name(root, f.path), f.run))
    for path in discovery.probes:
        body.append(probing_section(display_name(root, path), probes.read_probes(path)))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>cloze report: %s</title><style>%s</style></head><body>\n%s\n</body></html>\n"
            % (esc(os.path.basename(os.path.abspath(root))), CSS, "\n".join(b for b in body if b)))
