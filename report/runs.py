"""Reading one cloze run folder's files: metrics.jsonl, eval_results.json, seeds_summary.json,
train_config.pb.txt and checkpoints/. Standard library only, so that the reading is tested
without matplotlib.

Bad input is never fatal: what cannot be read becomes a note naming the file and line, shown
on the page, and the rest is plotted. A torn last line (a run killed mid-write) is expected and
only noted.
"""

import json
import math
import os
import re
from dataclasses import dataclass, field


@dataclass
class MetricsLog:
    """<run>/metrics.jsonl: one record per optimizer step, as trainer/ writes it
    (metrics/metrics_log.h): step, loss, lr, grad_norm, tokens_per_s, tokens, skipped, seconds,
    the head's terms (pretraining: mlm_loss, sop_loss, mlm_acc, sop_acc; fine-tuning: acc, or
    mlm_loss and mlm_acc in older runs), and on evaluation steps eval_loss with eval_mlm_acc and
    eval_sop_acc (pretraining) or eval_<metric> and eval_degenerate (fine-tuning). Non-finite
    values are null there; here they are NaN."""
    path: str
    records: list = field(default_factory=list)  # dicts, ascending step, one per step
    notes: list = field(default_factory=list)    # problems met, each naming file and line

    def steps(self):
        return [r["step"] for r in self.records]

    def series(self, key):
        """(steps, values) of the records that have `key`; null reads as NaN."""
        steps, values = [], []
        for r in self.records:
            if key in r:
                steps.append(r["step"])
                values.append(_number(r[key]))
        return steps, values

    def has(self, key):
        return any(key in r for r in self.records)

    def skipped_steps(self):
        return [r["step"] for r in self.records if r.get("skipped") is True]


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


def read_jsonl(path, notes, writer):
    """(line number, value) for each JSON line of `path`. A missing file has none; an
    unreadable file, a line that is not JSON, and a last line cut short (`writer`, e.g. "the
    run", was stopped while writing it) each add a note naming the file and line instead."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return
    except OSError as e:
        notes.append("%s: cannot read: %s" % (path, e.strerror))
        return
    lines = data.split(b"\n")
    ends_with_newline = data.endswith(b"\n")
    if ends_with_newline:
        lines.pop()  # the empty string after the last newline
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            if number == len(lines) and not ends_with_newline:
                notes.append("%s:%d: the last line is cut short (%s was stopped while writing it); ignored"
                             % (path, number, writer))
            else:
                notes.append("%s:%d: not a JSON object (%s); line skipped" % (path, number, e))
            continue
        yield number, value


def read_metrics(path):
    """The records of a metrics.jsonl. A missing file gives an empty log; a torn last line is
    dropped with a note, as trainer/ drops it on resume; any other unreadable line is skipped
    with a note naming its line number. When a step appears twice the later line wins (a
    resumed run rewrites the steps after its checkpoint)."""
    log = MetricsLog(path)
    by_step = {}
    for number, record in read_jsonl(path, log.notes, "the run"):
        step = record.get("step") if isinstance(record, dict) else None
        if isinstance(step, bool) or not isinstance(step, int):
            log.notes.append("%s:%d: no integer \"step\" field; line skipped" % (path, number))
            continue
        if "nonfinite" in record:
            log.notes.append("%s:%d: step %d had non-finite values (%s)" % (path, number, step, record["nonfinite"]))
        by_step[step] = record
    log.records = [by_step[s] for s in sorted(by_step)]
    return log


def read_json(path, notes):
    """A JSON file's value, or None when it is missing or unreadable (then a note says why)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        notes.append("%s: unreadable (%s); not used" % (path, e))
        return None


@dataclass
class TrainConfig:
    """The fields of train_config.pb.txt the page uses (text proto, read by pattern)."""
    task: str = ""                 # finetune { task: ... }: set for a fine-tuning run
    init: str = ""                 # finetune { init: ... }
    model_type: str = ""
    total_steps: int = 0
    max_consecutive_skips: int = 5  # trainer/train_config.cc's default
    seed: int = 0


def _field(text, name):
    match = re.search(r"^\s*%s:\s*(\"(?:[^\"\\]|\\.)*\"|\S+)" % name, text, re.MULTILINE)
    if not match:
        return None
    value = match.group(1)
    return value[1:-1] if value.startswith('"') else value


def read_train_config(run_dir):
    config = TrainConfig()
    try:
        with open(os.path.join(run_dir, "train_config.pb.txt"), encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return config
    config.task = _field(text, "task") or ""
    config.init = _field(text, "init") or ""
    config.model_type = _field(text, "model_type") or ""
    for name in ("total_steps", "max_consecutive_skips", "seed"):
        value = _field(text, name)
        if value is not None and value.isdigit():
            setattr(config, name, int(value))
    return config


def is_finetune_config(run_dir):
    return bool(read_train_config(run_dir).task)


CHECKPOINT = re.compile(r"^step-(\d+)$")
DAMAGED_CHECKPOINT = re.compile(r"^step-(\d+)\.damaged-\d+$")


def checkpoint_steps(run_dir):
    """(steps of the checkpoints still on disk, steps of those moved aside as damaged), each
    ascending (checkpoint/checkpoint.cc names them step-%09d; checkpoint_fallback.h renames a
    damaged one step-N.damaged-<time>)."""
    kept, damaged = [], []
    try:
        names = os.listdir(os.path.join(run_dir, "checkpoints"))
    except OSError:
        return kept, damaged
    for name in names:
        if CHECKPOINT.match(name):
            kept.append(int(CHECKPOINT.match(name).group(1)))
        elif DAMAGED_CHECKPOINT.match(name):
            damaged.append(int(DAMAGED_CHECKPOINT.match(name).group(1)))
    return sorted(kept), sorted(damaged)


def rollback_steps(log, max_consecutive_skips):
    """The steps where the loss guard rolled back. metrics.jsonl has no rollback field; the
    guard (trainer/loss_guard.cc) rolls back at the max_consecutive_skips-th skipped step in a
    row and starts counting again, and every skip is a record with "skipped": true, so the
    runs of skipped records give the rollbacks exactly. A step missing from the log (a line
    lost) ends a run."""
    if max_consecutive_skips <= 0:
        return []
    rollbacks, run, previous = [], 0, None
    for r in log.records:
        contiguous = previous is not None and r["step"] == previous + 1
        previous = r["step"]
        if r.get("skipped") is not True:
            run = 0
            continue
        run = run + 1 if contiguous or run == 0 else 1
        if run == max_consecutive_skips:
            rollbacks.append(r["step"])
            run = 0
    return rollbacks
