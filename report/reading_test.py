"""The report's reading of run folders, on small fixtures written here in the formats trainer/
and cli/ write (metrics/metrics_log.cc, trainer/seeds_summary.cc, eval/evaluation_report.h)."""

import json
import math
import os
import tempfile
import unittest

import discovery
import evaluation
import probes
import run_folders
import runs

CONTEXT = {"glue_tasks": ["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI"],
           "human_scores": {"CoLA": 66.4, "SST-2": 97.8, "MRPC": 83.35, "RTE": 93.6}}


def pretraining_line(step, skipped=False, loss=7.5):
    return json.dumps({"step": step, "loss": loss, "mlm_loss": loss - 0.7, "sop_loss": 0.7, "mlm_acc": 0.1,
                       "sop_acc": 0.5, "lr": 0.001, "grad_norm": 2.0, "tokens_per_s": 4000.0, "tokens": 1900,
                       "skipped": skipped, "seconds": 0.5})


def finetune_line(step, loss, eval_accuracy=None, degenerate=False):
    record = {"step": step, "loss": loss, "acc": 0.5, "lr": 1e-5, "grad_norm": 1.0, "tokens_per_s": 900.0,
              "tokens": 400, "skipped": False, "seconds": 0.4}
    if eval_accuracy is not None:
        record.update({"eval_loss": 0.69, "eval_accuracy": eval_accuracy, "eval_degenerate": degenerate})
    return json.dumps(record)


def eval_results(task, metric, final, best, degenerate=False):
    extra = {"f1": final} if task == "MRPC" else {}
    return {"task": task, "eval_split": "dev", "primary_metric": metric, "finished": True,
            "final": dict({"step": 40, "loss": 0.6, metric: final, "degenerate": degenerate}, **extra),
            "best": dict({"step": 20, "loss": 0.5, metric: best, "degenerate": False}, **extra),
            "degenerate": degenerate}


class Fixture(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.root = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def write(self, relative, text):
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text if isinstance(text, str) else json.dumps(text))
        return path

    def pretraining_run(self, relative, steps=10):
        self.write(relative + "/metrics.jsonl", "".join(pretraining_line(s) + "\n" for s in range(1, steps + 1)))
        self.write(relative + "/checkpoints/step-000000010/manifest.pb.txt", "")

    def finetune_seed(self, relative, task, seed, final, best, degenerate=False):
        metric = "matthews_corrcoef" if task == "CoLA" else "accuracy"
        self.write(relative + "/metrics.jsonl",
                   finetune_line(1, 0.7) + "\n" + finetune_line(20, 0.6, best) + "\n" + finetune_line(40, 0.5, final)
                   + "\n")
        self.write(relative + "/eval_results.json", eval_results(task, metric, final, best, degenerate))
        self.write(relative + "/train_config.pb.txt",
                   'seed: %d\nfinetune {\n  task: "%s"\n  init: "runs/demo/train"\n}\n' % (seed, task))


class MetricsLogTest(Fixture):
    def test_a_torn_last_line_is_dropped_with_a_note(self):
        path = self.write("m.jsonl", pretraining_line(1) + "\n" + pretraining_line(2) + "\n" + pretraining_line(3)[:40])
        log = runs.read_metrics(path)
        self.assertEqual(log.steps(), [1, 2])
        self.assertEqual(len(log.notes), 1)
        self.assertIn("m.jsonl:3: the last line is cut short", log.notes[0])

    def test_a_bad_line_inside_is_skipped_and_named(self):
        path = self.write("m.jsonl", pretraining_line(1) + "\n{oops\n" + json.dumps({"loss": 1}) + "\n"
                          + pretraining_line(4) + "\n")
        log = runs.read_metrics(path)
        self.assertEqual(log.steps(), [1, 4])
        self.assertIn("m.jsonl:2: not a JSON object", log.notes[0])
        self.assertIn("m.jsonl:3: no integer \"step\" field", log.notes[1])

    def test_nulls_read_as_nan_and_the_nonfinite_field_is_noted(self):
        record = json.loads(pretraining_line(2))
        record.update({"loss": None, "grad_norm": None, "nonfinite": "loss nan grad_norm nan"})
        path = self.write("m.jsonl", pretraining_line(1) + "\n" + json.dumps(record) + "\n")
        log = runs.read_metrics(path)
        steps, losses = log.series("loss")
        self.assertEqual(steps, [1, 2])
        self.assertTrue(math.isnan(losses[1]))
        self.assertIn("step 2 had non-finite values (loss nan grad_norm nan)", log.notes[0])

    def test_a_repeated_step_keeps_its_later_line(self):
        path = self.write("m.jsonl", pretraining_line(2, loss=9) + "\n" + pretraining_line(1) + "\n"
                          + pretraining_line(2, loss=5) + "\n")
        log = runs.read_metrics(path)
        self.assertEqual(log.steps(), [1, 2])
        self.assertEqual(log.series("loss")[1], [7.5, 5])

    def test_missing_and_empty_files_are_empty_logs(self):
        self.assertEqual(runs.read_metrics(os.path.join(self.root, "none.jsonl")).records, [])
        empty = runs.read_metrics(self.write("empty.jsonl", ""))
        self.assertEqual((empty.records, empty.notes), ([], []))

    def test_series_of_a_key_some_records_lack(self):
        path = self.write("m.jsonl", finetune_line(1, 0.7) + "\n" + finetune_line(2, 0.6, 0.55) + "\n")
        self.assertEqual(runs.read_metrics(path).series("eval_accuracy"), ([2], [0.55]))


class GuardMarksTest(Fixture):
    def log_with_skips(self, skipped, last=40):
        text = "".join(pretraining_line(s, skipped=s in skipped) + "\n" for s in range(1, last + 1))
        return runs.read_metrics(self.write("m.jsonl", text))

    def test_every_fifth_skip_in_a_row_is_a_rollback(self):
        log = self.log_with_skips(set(range(10, 15)) | set(range(20, 23)) | set(range(30, 40)))
        self.assertEqual(runs.rollback_steps(log, 5), [14, 34, 39])
        self.assertEqual(runs.rollback_steps(log, 3), [12, 22, 32, 35, 38])
        self.assertEqual(len(log.skipped_steps()), 18)

    def test_a_gap_in_the_log_breaks_a_run_of_skips(self):
        text = "".join(pretraining_line(s, skipped=True) + "\n" for s in (1, 2, 3, 5, 6))
        self.assertEqual(runs.rollback_steps(runs.read_metrics(self.write("m.jsonl", text)), 4), [])

    def test_checkpoints_kept_and_moved_aside(self):
        for name in ("step-000000100", "step-000000020", "step-000000300.damaged-1700000000", "step-000000400.tmp"):
            self.write("run/checkpoints/%s/manifest.pb.txt" % name, "")
        self.assertEqual(runs.checkpoint_steps(os.path.join(self.root, "run")), ([20, 100], [300]))

    def test_the_guard_limit_comes_from_the_run_config(self):
        self.write("run/train_config.pb.txt", "total_steps: 40\nguard {\n  max_consecutive_skips: 2\n}\n")
        text = "".join(pretraining_line(s, skipped=s in (5, 6)) + "\n" for s in range(1, 9))
        self.write("run/metrics.jsonl", text)
        run = run_folders.read_pretraining(os.path.join(self.root, "run"))
        self.assertEqual((run.rollbacks, run.skipped, run.config.total_steps), ([6], [5, 6], 40))


class FinetuneTest(Fixture):
    def test_one_seed_run(self):
        self.finetune_seed("rte", "RTE", 7, final=0.55, best=0.6, degenerate=True)
        run = run_folders.read_finetune(os.path.join(self.root, "rte"))
        self.assertEqual((run.task, run.primary_metric, run.init), ("RTE", "accuracy", "runs/demo/train"))
        self.assertEqual([s.seed for s in run.seeds], [7])
        self.assertEqual(run.seeds[0].dev_metric("accuracy"), ([20, 40], [0.6, 0.55], [False, False]))
        self.assertEqual(run.seeds[0].train_loss(), ([1, 20, 40], [0.7, 0.6, 0.5]))

    def test_seeds_run(self):
        for seed in (1, 2, 3):
            self.finetune_seed("cola/seed-%d" % seed, "CoLA", seed, final=0.1 * seed, best=0.1 * seed)
        self.write("cola/seeds_summary.json",
                   {"task": "CoLA", "primary_metric": "matthews_corrcoef", "seeds": [1, 2, 3]})
        path = os.path.join(self.root, "cola")
        self.assertTrue(run_folders.is_finetune_folder(path))
        run = run_folders.read_finetune(path)
        self.assertEqual([s.seed for s in run.seeds], [1, 2, 3])
        self.assertEqual(run.primary_metric, "matthews_corrcoef")

    def test_a_run_still_in_its_first_steps(self):
        self.write("sst/train_config.pb.txt", 'finetune {\n  task: "SST-2"\n}\n')
        self.write("sst/metrics.jsonl", finetune_line(1, 0.7) + "\n" + finetune_line(2, 0.69)[:30])
        run = run_folders.read_finetune(os.path.join(self.root, "sst"))
        self.assertEqual((run.task, run.primary_metric, len(run.seeds[0].metrics.records)), ("SST-2", "", 1))
        self.assertIn("cut short", run.notes[0])


class EvaluationTest(Fixture):
    def evaluation_folders(self):
        for prefix, scale in (("eval", 1.0), ("eval/scratch", 0.5)):
            for seed in (1, 2):
                self.finetune_seed("%s/CoLA/seed-%d" % (prefix, seed), "CoLA", seed, final=0.3 * scale * seed,
                                   best=0.4 * scale * seed, degenerate=prefix.endswith("scratch") and seed == 2)
                self.finetune_seed("%s/MRPC/seed-%d" % (prefix, seed), "MRPC", seed, final=0.7 * scale,
                                   best=0.75 * scale)
        return os.path.join(self.root, "eval")

    def test_the_table_from_the_task_folders(self):
        path = self.evaluation_folders()
        self.assertTrue(evaluation.is_evaluation_folder(path, CONTEXT["glue_tasks"]))
        folder = evaluation.read_evaluation(path, CONTEXT)
        self.assertIn("no evaluation.json", folder.source)
        self.assertEqual([r.task for r in folder.rows], ["CoLA", "MRPC"])
        cola, mrpc = folder.rows
        self.assertAlmostEqual(cola.final.mean, 45.0)
        self.assertAlmostEqual(cola.final.std, math.sqrt(2 * 15.0 ** 2))
        self.assertAlmostEqual(cola.scratch_final.mean, 22.5)
        self.assertAlmostEqual(cola.relative_to_human, 45.0 / 66.4)
        self.assertEqual(cola.degenerate, ["from scratch, final: seeds 2"])
        self.assertAlmostEqual(mrpc.final.mean, 70.0)  # GLUE: the mean of F1 and accuracy
        self.assertAlmostEqual(mrpc.final.std, 0.0)
        self.assertEqual(folder.glue.tasks, ["CoLA", "MRPC"])
        self.assertIn("SST-2", folder.glue.missing)
        self.assertAlmostEqual(folder.glue.final, (45.0 + 70.0) / 2)
        self.assertAlmostEqual(folder.glue.human, (66.4 + 83.35) / 2)
        self.assertEqual(sorted(folder.scratch_runs), ["CoLA", "MRPC"])

    def test_the_table_from_evaluation_json(self):
        path = self.evaluation_folders()

        def cell(mean, std, relative=None, degenerate=()):
            score = {"mean": mean, "median": mean, "std": std, "min": mean, "max": mean, "values": [mean]}
            out = {"metrics": {}, "score": score, "degenerate_seeds": list(degenerate), "top_seed": 1}
            if relative is not None:
                out["relative_to_human"] = relative
            return out

        self.write("eval/evaluation.json", {
            "init": "runs/demo/train", "init_resolved": "runs/demo/train/checkpoints/step-000000600",
            "suite": "glue", "skipped": [{"task": "QQP", "reason": "../glue/QQP/train.tsv: missing"}],
            "tasks": [
                {"task": "CoLA", "seeds": [1, 2], "human_score": 66.4,
                 "init": {"final": cell(41.0, 2.0, 0.62), "best": cell(43.0, None)},
                 "scratch": {"final": cell(20.0, 1.0, 0.3, degenerate=[2]), "best": cell(21.0, 1.0)}},
                {"task": "MRPC", "seeds": [1, 2], "init": {"final": {"metrics": {}}}}],
            "glue": {"tasks": ["CoLA"], "missing": ["SST-2"], "partial": True, "human_score": 66.4,
                     "init": {"final": 41.0, "best": 43.0}, "scratch": {"final": 20.0, "best": 21.0}}})
        folder = evaluation.read_evaluation(path, CONTEXT)
        self.assertEqual(folder.source, "evaluation.json")
        self.assertEqual(folder.init, "runs/demo/train/checkpoints/step-000000600")
        self.assertEqual([r.task for r in folder.rows], ["CoLA"])
        cola = folder.rows[0]
        self.assertEqual((cola.final.mean, cola.final.std, cola.best.std), (41.0, 2.0, None))
        self.assertEqual((cola.human, cola.relative_to_human, cola.scratch_final.mean), (66.4, 0.62, 20.0))
        self.assertEqual(cola.degenerate, ["from scratch, final: seeds 2"])
        self.assertIn("tasks[1] (MRPC): no init.final.score", folder.notes[0])
        self.assertEqual(folder.skipped, [("QQP", "../glue/QQP/train.tsv: missing")])
        self.assertEqual((folder.glue.final, folder.glue.scratch_best, folder.glue.missing), (41.0, 21.0, ["SST-2"]))
        self.assertIn("CoLA", folder.runs)  # the curves still come from the task folders

    def test_an_unreadable_evaluation_json_falls_back_to_the_folders(self):
        path = self.evaluation_folders()
        self.write("eval/evaluation.json", "{\"tasks\": [")
        folder = evaluation.read_evaluation(path, CONTEXT)
        self.assertIn("no evaluation.json", folder.source)
        self.assertIn("evaluation.json: unreadable", folder.notes[0])
        self.assertEqual(len(folder.rows), 2)


def probe_line(step, probe, class_name, accuracy, layer=None, count=10):
    return json.dumps({"step": step, "checkpoint": "/r/checkpoints/step-%09d" % step, "probe": probe,
                       "layer": layer, "class": class_name, "accuracy": accuracy, "count": count, "seconds": 2.5})


class ProbesTest(Fixture):
    def test_classes_series_and_the_layer_by_step_grid(self):
        lines = []
        for step in (200, 100):  # in any order, as a prober resuming out of order might leave them
            lines += [probe_line(step, "fill", "NOUN", step / 1000, count=30),
                      probe_line(step, "fill", "DET", step / 500, count=40),
                      probe_line(step, "fill", "overall", step / 800, count=70)]
            lines += [probe_line(step, "upos", "overall", 0.5 + layer / 10, layer=layer) for layer in (0, 1, 2)]
        lines.append(probe_line(300, "upos", "overall", 0.9, layer=2))
        results = probes.read_probes(self.write("probes.jsonl", "\n".join(lines) + "\n"))
        self.assertEqual(results.notes, [])
        self.assertEqual(results.probes(), ["fill", "upos"])
        self.assertEqual(results.steps(), [100, 200, 300])
        self.assertEqual(results.classes("fill"), ["DET", "NOUN", "overall"])  # most items first
        self.assertEqual(results.series("fill", "NOUN"), ([100, 200], [0.1, 0.2]))
        layers, steps, rows = results.grid("upos")
        self.assertEqual((layers, steps), ([0, 1, 2], [100, 200, 300]))
        self.assertEqual(rows[2][:2], [0.7, 0.7])
        self.assertTrue(math.isnan(rows[0][2]))  # layer 0 not probed at step 300
        self.assertEqual(results.get("upos", 300, layer=2).accuracy, 0.9)

    def test_bad_lines_are_named_and_a_repeated_record_keeps_the_later(self):
        path = self.write("probes.jsonl", "\n".join([
            probe_line(10, "fill", "overall", 0.1),
            "{oops",
            json.dumps({"step": 10, "probe": "fill", "class": "overall", "accuracy": 1.5, "count": 3}),
            json.dumps({"step": 10, "probe": "upos", "layer": "two", "class": "overall", "accuracy": 0.5, "count": 3}),
            probe_line(10, "fill", "overall", 0.3),
            probe_line(20, "fill", "overall", 0.4)[:30]]))
        results = probes.read_probes(path)
        self.assertEqual(results.series("fill"), ([10], [0.3]))
        self.assertEqual(len(results.notes), 4)
        self.assertIn("probes.jsonl:2: not a JSON object", results.notes[0])
        self.assertIn("probes.jsonl:3: no \"accuracy\" between 0 and 1", results.notes[1])
        self.assertIn("probes.jsonl:4: \"layer\" is neither null nor an integer", results.notes[2])
        self.assertIn("probes.jsonl:6: the last line is cut short", results.notes[3])

    def test_a_missing_file_has_no_records(self):
        results = probes.read_probes(os.path.join(self.root, "none.jsonl"))
        self.assertEqual((results.scores, results.notes, results.steps()), ({}, [], []))


class DiscoveryTest(Fixture):
    def test_a_folder_of_several_runs(self):
        self.pretraining_run("small/train")
        self.write("small/train/probes.jsonl", "{}\n")
        self.write("small/data/shard-00000-of-00001", "")
        for seed in (1, 2):
            self.finetune_seed("small/eval/RTE/seed-%d" % seed, "RTE", seed, 0.5, 0.6)
        self.finetune_seed("small/ft/CoLA-demo", "CoLA", 1, 0.1, 0.2)
        os.makedirs(os.path.join(self.root, "small/empty"))
        found = discovery.discover(os.path.join(self.root, "small"), CONTEXT)
        self.assertEqual([(os.path.relpath(f.path, self.root), f.kind) for f in found.found],
                         [("small/train", "pretraining"), ("small/ft/CoLA-demo", "finetune"),
                          ("small/eval", "evaluation"), ("small/data", "dataset")])
        self.assertEqual(found.probes, [os.path.join(self.root, "small/train/probes.jsonl")])
        pretraining = found.found[0].run
        self.assertEqual((len(pretraining.metrics.records), pretraining.checkpoints), (10, [10]))

    def test_a_folder_of_differently_named_fine_tunes_is_not_an_evaluation(self):
        self.finetune_seed("measure/CoLA-demo", "CoLA", 1, 0.1, 0.2)
        self.finetune_seed("measure/CoLA-scratch", "CoLA", 1, 0.05, 0.1)
        found = discovery.discover(os.path.join(self.root, "measure"), CONTEXT)
        self.assertEqual([f.kind for f in found.found], ["finetune", "finetune"])

    def test_an_empty_run(self):
        self.write("run/metrics.jsonl", "")
        found = discovery.discover(os.path.join(self.root, "run"), CONTEXT)
        self.assertEqual([f.kind for f in found.found], ["pretraining"])
        self.assertEqual((found.found[0].run.metrics.records, found.notes()), ([], []))

    def test_an_empty_folder(self):
        self.assertEqual(discovery.discover(self.root, CONTEXT).found, [])


if __name__ == "__main__":
    unittest.main()
