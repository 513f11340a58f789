"""The two kinds of training run folder, read whole: a pretraining run (`cloze train`,
`cloze launch`) and a fine-tuning run (`cloze finetune`, one seed or --seeds=N)."""

import os
import re
from dataclasses import dataclass, field

import runs


@dataclass
class PretrainingRun:
    path: str
    metrics: runs.MetricsLog
    config: runs.TrainConfig
    checkpoints: list = field(default_factory=list)          # steps still on disk
    damaged_checkpoints: list = field(default_factory=list)  # steps moved aside
    skipped: list = field(default_factory=list)              # steps the guard skipped
    rollbacks: list = field(default_factory=list)            # steps the guard rolled back at
    notes: list = field(default_factory=list)

    def sentence_task(self):
        """The sentence task's key prefix in metrics.jsonl: "sop" as trainer/ writes it for
        SOP and NSP alike, "nsp" should a log name it so."""
        return "nsp" if self.metrics.has("nsp_loss") and not self.metrics.has("sop_loss") else "sop"


def read_pretraining(path):
    metrics = runs.read_metrics(os.path.join(path, "metrics.jsonl"))
    config = runs.read_train_config(path)
    kept, damaged = runs.checkpoint_steps(path)
    return PretrainingRun(path=path, metrics=metrics, config=config, checkpoints=kept, damaged_checkpoints=damaged,
                          skipped=metrics.skipped_steps(),
                          rollbacks=runs.rollback_steps(metrics, config.max_consecutive_skips),
                          notes=list(metrics.notes))


@dataclass
class SeedRun:
    """One fine-tuning run folder: the run itself (one seed) or one seed-K of --seeds=N."""
    path: str
    seed: int
    metrics: runs.MetricsLog
    results: dict = None  # eval_results.json: task, primary_metric, finished, final, best

    def train_loss(self):
        return self.metrics.series("loss")

    def dev_metric(self, name):
        """(steps, values, degenerate flags) of the dev evaluations of metric `name`."""
        steps, values, degenerate = [], [], []
        for r in self.metrics.records:
            if "eval_" + name in r:
                steps.append(r["step"])
                values.append(runs._number(r["eval_" + name]))
                degenerate.append(r.get("eval_degenerate") is True)
        return steps, values, degenerate

    def dev_metric_names(self):
        names = []
        for r in self.metrics.records:
            for key in r:
                name = key[len("eval_"):]
                if key.startswith("eval_") and name not in ("loss", "degenerate", "mlm_acc", "sop_acc") \
                        and name not in names:
                    names.append(name)
        return names


@dataclass
class FinetuneRun:
    path: str
    task: str
    primary_metric: str
    init: str
    seeds: list = field(default_factory=list)  # SeedRun, ascending seed
    summary: dict = None                        # seeds_summary.json (--seeds=N)
    notes: list = field(default_factory=list)


SEED_FOLDER = re.compile(r"^seed-(\d+)$")


def seed_folders(path):
    """{seed: folder} of the seed-K subfolders of a --seeds=N run."""
    found = {}
    try:
        names = os.listdir(path)
    except OSError:
        return found
    for name in names:
        match = SEED_FOLDER.match(name)
        if match and os.path.isdir(os.path.join(path, name)):
            found[int(match.group(1))] = os.path.join(path, name)
    return found


def is_finetune_folder(path):
    """Whether `path` is a fine-tuning run: its results, its config's finetune block, or seed
    subfolders that are fine-tuning runs themselves."""
    if any(os.path.exists(os.path.join(path, name)) for name in ("eval_results.json", "seeds_summary.json")):
        return True
    if runs.is_finetune_config(path):
        return True
    return any(is_finetune_folder(folder) for folder in seed_folders(path).values())


def _read_seed(path, seed, notes):
    metrics = runs.read_metrics(os.path.join(path, "metrics.jsonl"))
    notes.extend(metrics.notes)
    results = runs.read_json(os.path.join(path, "eval_results.json"), notes)
    if seed is None:
        seed = runs.read_train_config(path).seed
    return SeedRun(path=path, seed=seed, metrics=metrics, results=results if isinstance(results, dict) else None)


def read_finetune(path):
    notes = []
    summary = runs.read_json(os.path.join(path, "seeds_summary.json"), notes)
    summary = summary if isinstance(summary, dict) else None
    folders = seed_folders(path)
    if folders:
        seeds = [_read_seed(folders[s], s, notes) for s in sorted(folders)]
    else:
        seeds = [_read_seed(path, None, notes)]
    config_dir = folders[min(folders)] if folders else path
    config = runs.read_train_config(config_dir)
    task = config.task
    primary = ""
    for source in [summary] + [s.results for s in seeds]:
        if source:
            task = task or str(source.get("task", ""))
            primary = primary or str(source.get("primary_metric", ""))
    if not primary:
        names = [n for s in seeds for n in s.dev_metric_names()]
        primary = names[0] if names else ""
    return FinetuneRun(path=path, task=task or os.path.basename(path), primary_metric=primary, init=config.init,
                       seeds=seeds, summary=summary, notes=notes)
