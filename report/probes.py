"""Reading a run's probes.jsonl (`cloze probe`, probe/probe_log.h): one record per checkpoint ×
probe × layer × class, {"step", "checkpoint", "probe", "layer", "class", "accuracy", "count",
"seconds"}. Standard library only, tested without matplotlib.

As with metrics.jsonl, bad input is never fatal: a line that is not such a record becomes a note
naming file and line, a torn last line (a prober killed mid-write) is only noted, and when a
checkpoint × probe × layer × class appears twice the later line wins.
"""

import math
from dataclasses import dataclass, field

import runs

# The page's order, and which probes read the MLM head (no layer) rather than a layer.
PROBE_ORDER = ["fill", "reconstruction", "upos", "deprel", "sst2", "fill_zh"]
HEAD_PROBES = ("fill", "reconstruction", "fill_zh")
OVERALL = "overall"


@dataclass
class Score:
    accuracy: float
    count: int
    seconds: float


@dataclass
class ProbeResults:
    path: str
    # (probe, layer, class, step) -> Score; layer None for the head probes.
    scores: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def probes(self):
        present = {key[0] for key in self.scores}
        return [p for p in PROBE_ORDER if p in present] + sorted(present - set(PROBE_ORDER))

    def steps(self, probe=None):
        return sorted({key[3] for key in self.scores if probe is None or key[0] == probe})

    def layers(self, probe):
        return sorted({key[1] for key in self.scores if key[0] == probe and key[1] is not None})

    def classes(self, probe):
        """The probe's classes, most items first (at the newest step that has them), overall last."""
        counts = {}
        for (p, _, name, step), score in self.scores.items():
            if p == probe and name != OVERALL:
                counts[name] = max(counts.get(name, (0, 0)), (step, score.count))
        named = sorted(counts, key=lambda name: (-counts[name][1], name))
        return named + ([OVERALL] if any(k[0] == probe and k[2] == OVERALL for k in self.scores) else [])

    def series(self, probe, class_name=OVERALL, layer=None):
        """(steps, accuracies) of one probe × layer × class, ascending step."""
        points = sorted((key[3], score.accuracy) for key, score in self.scores.items()
                        if key[0] == probe and key[1] == layer and key[2] == class_name)
        return [s for s, _ in points], [a for _, a in points]

    def grid(self, probe, class_name=OVERALL):
        """(layers, steps, rows): rows[i][j] the accuracy of layers[i] at steps[j], NaN where none."""
        layers, steps = self.layers(probe), self.steps(probe)
        rows = [[math.nan] * len(steps) for _ in layers]
        column = {s: j for j, s in enumerate(steps)}
        row = {layer: i for i, layer in enumerate(layers)}
        for (p, layer, name, step), score in self.scores.items():
            if p == probe and name == class_name and layer is not None:
                rows[row[layer]][column[step]] = score.accuracy
        return layers, steps, rows

    def get(self, probe, step, class_name=OVERALL, layer=None):
        return self.scores.get((probe, layer, class_name, step))


def _record_fields(record):
    """(probe, layer, class, step, Score), or a reason the record is not one."""
    if not isinstance(record, dict):
        return "not a JSON object"
    step, probe, layer, name = record.get("step"), record.get("probe"), record.get("layer"), record.get("class")
    accuracy, count, seconds = record.get("accuracy"), record.get("count"), record.get("seconds", 0)
    if isinstance(step, bool) or not isinstance(step, int):
        return "no integer \"step\" field"
    if not isinstance(probe, str) or not probe or not isinstance(name, str) or not name:
        return "no \"probe\" or \"class\" name"
    if layer is not None and (isinstance(layer, bool) or not isinstance(layer, int)):
        return "\"layer\" is neither null nor an integer"
    if isinstance(accuracy, bool) or not isinstance(accuracy, (int, float)) or not 0 <= accuracy <= 1:
        return "no \"accuracy\" between 0 and 1"
    if isinstance(count, bool) or not isinstance(count, int):
        return "no integer \"count\" field"
    if not isinstance(seconds, (int, float)):
        seconds = math.nan
    return probe, layer, name, step, Score(float(accuracy), count, float(seconds))


def read_probes(path):
    """The records of a probes.jsonl; a missing file has none."""
    results = ProbeResults(path)
    for number, value in runs.read_jsonl(path, results.notes, "the prober"):
        fields = _record_fields(value)
        if isinstance(fields, str):
            results.notes.append("%s:%d: %s; line skipped" % (path, number, fields))
            continue
        probe, layer, name, step, score = fields
        results.scores[(probe, layer, name, step)] = score
    return results
