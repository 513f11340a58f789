#!/usr/bin/env python3
"""Writes eval/testdata/metric_fixtures.json: every metric of //eval computed by independent
implementations (scikit-learn, scipy, numpy, and the official SQuAD evaluation scripts' logic)
on predictions derived from the real dev sets in shared/data.

    pip install scikit-learn scipy numpy
    python3 eval/generate_metric_fixtures.py [--shared_data=../shared/data]

CI does not have these packages: the fixture is checked in, and eval/metrics_reference_test.cc
reads it. Every prediction set here is deterministic (fixed rules and seeded generators), so
running the script again gives the same file. NaN is written as null (JSON has no NaN).

The SQuAD functions below follow evaluate-v1.1.py and evaluate-v2.0.py as published on
rajpurkar.github.io/SQuAD-explorer (normalize_answer, f1_score / compute_f1, exact match, the
max over gold answers, percentages); they are written out here because the scripts cannot be
downloaded in this environment. The SQuAD predictions are rules the C++ test applies again to
the dev file (see SquadPrediction in the test); a sample of them is stored so that the test
checks it built the same strings.
"""

import argparse
import collections
import json
import lzma
import os
import re
import string
import sys

import numpy as np
import scipy
import scipy.stats
import sklearn
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

# ---------------------------------------------------------------------------------------------
# SQuAD v1.1 / v2.0 official logic.


def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def v1_f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def v1_exact_match_score(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    return max(metric_fn(prediction, gt) for gt in ground_truths)


def v1_evaluate(questions, predictions):
    """evaluate-v1.1.py's evaluate(): a missing prediction counts in total with score 0."""
    f1 = exact_match = total = 0
    for q in questions:
        total += 1
        if q["id"] not in predictions:
            continue
        ground_truths = q["answers"]
        prediction = predictions[q["id"]]
        exact_match += metric_max_over_ground_truths(
            v1_exact_match_score, prediction, ground_truths)
        f1 += metric_max_over_ground_truths(v1_f1_score, prediction, ground_truths)
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


def v2_get_tokens(s):
    if not s:
        return []
    return normalize_answer(s).split()


def v2_compute_exact(a_gold, a_pred):
    return int(normalize_answer(a_gold) == normalize_answer(a_pred))


def v2_compute_f1(a_gold, a_pred):
    gold_toks = v2_get_tokens(a_gold)
    pred_toks = v2_get_tokens(a_pred)
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def v2_gold_answers(answers):
    gold = [a for a in answers if normalize_answer(a)]
    return gold if gold else [""]


def v2_evaluate(questions, predictions):
    """evaluate-v2.0.py's main() without a no-answer probability file (threshold 1.0, all
    probabilities 0): exact/f1 over all questions and the HasAns/NoAns split."""
    exact, f1 = {}, {}
    for q in questions:
        gold = v2_gold_answers(q["answers"])
        pred = predictions[q["id"]]
        exact[q["id"]] = max(v2_compute_exact(a, pred) for a in gold)
        f1[q["id"]] = max(v2_compute_f1(a, pred) for a in gold)

    def make_eval(qids):
        return (100.0 * sum(exact[k] for k in qids) / len(qids),
                100.0 * sum(f1[k] for k in qids) / len(qids), len(qids))

    out = {}
    out["exact"], out["f1"], out["total"] = make_eval([q["id"] for q in questions])
    has = [q["id"] for q in questions if q["answers"]]
    no = [q["id"] for q in questions if not q["answers"]]
    out["HasAns_exact"], out["HasAns_f1"], out["HasAns_total"] = make_eval(has)
    out["NoAns_exact"], out["NoAns_f1"], out["NoAns_total"] = make_eval(no)
    return out, exact, f1


# ---------------------------------------------------------------------------------------------
# SQuAD predictions: rules simple enough that the C++ test rebuilds them byte for byte (only
# ASCII delimiters, byte offsets are character offsets for them).


def first_sentence(context):
    end = context.find(". ")
    return context if end < 0 else context[: end + 1]


def truncated(answer):
    cut = answer.rfind(" ")
    return "" if cut < 0 else answer[:cut]


SQUAD_V1_RULES = ["first_gold", "article_punctuation", "truncated", "first_sentence", "empty",
                  "odd_missing"]
SQUAD_V2_RULES = ["oracle", "first_sentence", "empty", "truncated"]
SQUAD_SAMPLE_STRIDE = 97  # per-question values are stored for every 97th question
V2_UNANSWERABLE_STRIDE = 3  # derived v2 set: question i is unanswerable when i % 3 == 2


def squad_prediction(rule, index, q):
    answers = q["answers"]
    if rule == "first_gold":
        return answers[0]
    if rule == "article_punctuation":
        return "The " + answers[0] + "."
    if rule == "truncated":
        return truncated(answers[0]) if answers else ""
    if rule == "first_sentence":
        return first_sentence(q["context"])
    if rule == "empty":
        return ""
    if rule == "odd_missing":
        return None if index % 2 == 1 else answers[0]
    if rule == "oracle":
        return answers[0] if answers else ""
    raise ValueError(rule)


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def squad_fixture(shared):
    path = os.path.join(shared, "squad-v1.1/dev-v1.1.json.xz")
    with lzma.open(path, "rt", encoding="utf-8") as f:
        dataset = json.load(f)["data"]
    questions, context_hashes = [], []
    for article in dataset:
        for paragraph in article["paragraphs"]:
            context_hashes.append(fnv1a64(normalize_answer(paragraph["context"])))
            for qa in paragraph["qas"]:
                questions.append({"id": qa["id"], "context": paragraph["context"],
                                  "answers": [a["text"] for a in qa["answers"]]})
    out = {"dev_file": "squad-v1.1/dev-v1.1.json.xz", "questions": len(questions),
           "normalized_context_fnv1a64": context_hashes, "sample_stride": SQUAD_SAMPLE_STRIDE,
           "v1": [], "v2_unanswerable_stride": V2_UNANSWERABLE_STRIDE, "v2": []}
    for rule in SQUAD_V1_RULES:
        predictions = {}
        for i, q in enumerate(questions):
            p = squad_prediction(rule, i, q)
            if p is not None:
                predictions[q["id"]] = p
        result = v1_evaluate(questions, predictions)
        sample = []
        for i in range(0, len(questions), SQUAD_SAMPLE_STRIDE):
            q = questions[i]
            p = predictions.get(q["id"])
            sample.append({"index": i, "id": q["id"], "prediction": p,
                           "exact_match": 0.0 if p is None else float(metric_max_over_ground_truths(
                               v1_exact_match_score, p, q["answers"])),
                           "f1": 0.0 if p is None else float(metric_max_over_ground_truths(
                               v1_f1_score, p, q["answers"]))})
        out["v1"].append({"rule": rule, "answered": len(predictions), **result, "sample": sample})
    v2_questions = [dict(q, answers=[] if i % V2_UNANSWERABLE_STRIDE == 2 else q["answers"])
                    for i, q in enumerate(questions)]
    for rule in SQUAD_V2_RULES:
        predictions = {q["id"]: squad_prediction(rule, i, q) for i, q in enumerate(v2_questions)}
        result, exact, f1 = v2_evaluate(v2_questions, predictions)
        sample = [{"index": i, "id": q["id"], "prediction": predictions[q["id"]],
                   "exact": float(exact[q["id"]]), "f1": float(f1[q["id"]])}
                  for i, q in enumerate(v2_questions) if i % SQUAD_SAMPLE_STRIDE == 0]
        out["v2"].append({"rule": rule, **result, "sample": sample})
    return out


# Hand-made strings for the parts of normalize_answer that the dev set barely exercises:
# Unicode case, Unicode whitespace, \b next to non-ASCII word characters, ASCII-only punctuation.
SQUAD_STRING_CASES = [
    ("The Eiffel Tower", ["Eiffel tower!"]),
    ("an apple, a pear and the plum", ["apple pear and plum"]),
    ("theatre anthem", ["the theatre an anthem"]),
    ("CAFÉ ÉCOLE Ørsted ÀÉÎÕÜ Ÿ", ["café école ørsted àéîõü ÿ"]),
    ("Łódź Škoda Ğ ǅ Ǳ", ["łódź škoda ğ ǆ ǳ"]),
    ("ΑΘΗΝΑ Москва ÇA", ["αθηνα москва ça"]),
    ("naïve—the test", ["naïve the test"]),
    ("“the” answer’s «a»", ["answer’s «»"]),
    ("the\u00a0answer\u2009is\u3000here\u2028now", ["answer is here now"]),
    ("éthe the_a a1 1a ä-the", ["éthe the_a a1 1a ä"]),
    ("İstanbul", ["i̇stanbul"]),
    ("½ the ² a", ["½ ²"]),
    ("", [""]),
    ("the a an", ["", "a"]),
    ("!!!", ["the"]),
    ("1,000 km", ["1000 km", "1 000 km"]),
    ("New York New York city", ["New York city", "york"]),
    ("tab\tsep\nline\rreturn\x0bvt\x1cfs", ["tab sep line return vt fs"]),
]


def squad_string_cases():
    out = []
    for prediction, golds in SQUAD_STRING_CASES:
        out.append({
            "prediction": prediction, "golds": golds,
            "normalized": normalize_answer(prediction),
            "normalized_golds": [normalize_answer(g) for g in golds],
            "v1_exact": float(
                metric_max_over_ground_truths(v1_exact_match_score, prediction, golds)),
            "v1_f1": float(metric_max_over_ground_truths(v1_f1_score, prediction, golds)),
            "v2_exact": float(max(v2_compute_exact(g, prediction) for g in v2_gold_answers(golds))),
            "v2_f1": float(max(v2_compute_f1(g, prediction) for g in v2_gold_answers(golds))),
        })
    return out


# ---------------------------------------------------------------------------------------------
# GLUE dev sets and baseline predictions.


def read_tsv(path, header):
    with open(path, encoding="utf-8-sig") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    return rows[1:] if header else rows


def words(text):
    return set(text.lower().split())


def jaccard(a, b):
    wa, wb = words(a), words(b)
    return len(wa & wb) / len(wa | wb) if wa | wb else 0.0


NEGATIVE_WORDS = {"not", "no", "n't", "bad", "worst", "dull", "boring", "never", "nothing",
                  "too", "mess", "fails", "lacks", "neither"}


def glue_tasks(shared):
    """(task, labels, {rule name: predictions}) for the binary and 3-class tasks."""
    glue = os.path.join(shared, "glue")
    tasks = []
    cola = read_tsv(os.path.join(glue, "CoLA/dev.tsv"), header=False)
    labels = [int(r[1]) for r in cola]
    # CoLA rule: sentences of 6+ words or with a comma tend to be acceptable; a weak signal.
    tasks.append(("CoLA", labels, {
        "keyword": [1 if (len(r[3].split()) >= 6 or "," in r[3]) else 0 for r in cola]}))
    sst = read_tsv(os.path.join(glue, "SST-2/dev.tsv"), header=True)
    tasks.append(("SST-2", [int(r[1]) for r in sst], {
        "keyword": [0 if words(r[0]) & NEGATIVE_WORDS else 1 for r in sst]}))
    mrpc = read_tsv(os.path.join(glue, "MRPC/dev.tsv"), header=True)
    tasks.append(("MRPC", [int(r[0]) for r in mrpc], {
        "word_overlap": [1 if jaccard(r[3], r[4]) >= 0.5 else 0 for r in mrpc]}))
    rte = read_tsv(os.path.join(glue, "RTE/dev.tsv"), header=True)
    rte_label = {"entailment": 0, "not_entailment": 1}  # the order of HF's GLUE RTE labels

    def covered(premise, hypothesis):
        h = words(hypothesis)
        return len(h & words(premise)) / len(h) if h else 0.0

    tasks.append(("RTE", [rte_label[r[3]] for r in rte], {
        "word_overlap": [0 if covered(r[1], r[2]) >= 0.75 else 1 for r in rte]}))
    stsb = read_tsv(os.path.join(glue, "STS-B/dev.tsv"), header=True)
    bins = lambda score: 0 if score < 5 / 3 else (1 if score < 10 / 3 else 2)
    tasks.append(("STS-B-3class", [bins(float(r[9])) for r in stsb], {
        "word_overlap": [bins(5 * jaccard(r[7], r[8])) for r in stsb]}))
    for name, labels, rules in tasks:
        n = len(labels)
        classes = 3 if name == "STS-B-3class" else 2
        majority = collections.Counter(labels).most_common(1)[0][0]
        rules["majority"] = [majority] * n
        rules["minority"] = [next(c for c in range(classes) if c != majority)] * n
        rule = next(k for k in rules if k not in ("majority", "minority"))
        rules["inverted_" + rule] = [(classes - 1) - p for p in rules[rule]]
        rules["gold"] = list(labels)
        for seed in range(5):
            rng = np.random.default_rng(seed)
            rules["random_seed%d" % seed] = [int(x) for x in rng.integers(0, classes, n)]
    return tasks


def classification_fixture(shared):
    out = []
    for task, labels, rules in glue_tasks(shared):
        sets = []
        for rule, predictions in rules.items():
            y, p = np.array(labels), np.array(predictions)
            binary = task != "STS-B-3class"
            sets.append({
                "rule": rule, "predictions": predictions,
                "accuracy": float(accuracy_score(y, p)),
                "matthews": float(matthews_corrcoef(y, p)),
                "f1": float(f1_score(y, p, pos_label=1, average="binary", zero_division=0))
                if binary else None,
                "macro_f1": float(f1_score(y, p, average="macro", zero_division=0)),
                "degenerate": len(set(predictions)) == 1,
            })
        out.append({"task": task, "labels": labels, "sets": sets})
    return out


def nan_to_none(x):
    x = float(x)
    return None if x != x else x


def correlation_fixture(shared):
    stsb = read_tsv(os.path.join(shared, "glue/STS-B/dev.tsv"), header=True)
    labels = [float(r[9]) for r in stsb]
    n = len(labels)
    sets = {
        "word_overlap": [round(5 * jaccard(r[7], r[8]), 3) for r in stsb],
        # Integer scores: hundreds of ties in every rank.
        "word_overlap_rounded": [float(round(5 * jaccard(r[7], r[8]))) for r in stsb],
        "sentence_length_difference": [float(abs(len(r[7].split()) - len(r[8].split())))
                                       for r in stsb],
        "gold": list(labels),
        "constant": [2.5] * n,
    }
    for seed in range(3):
        rng = np.random.default_rng(100 + seed)
        sets["random_seed%d" % seed] = [round(float(x), 3) for x in rng.uniform(0, 5, n)]
    out = []
    for rule, predictions in sets.items():
        out.append({"rule": rule, "predictions": predictions,
                    "pearson": nan_to_none(scipy.stats.pearsonr(labels, predictions)[0]),
                    "spearman": nan_to_none(scipy.stats.spearmanr(labels, predictions)[0])})
    # The other way round too: a constant gold vector against varying predictions.
    small = {"rule": "constant_labels", "labels": [1.0] * 5,
             "predictions": [1.0, 2.0, 3.0, 2.0, 1.0]}
    small["pearson"] = nan_to_none(scipy.stats.pearsonr(small["labels"], small["predictions"])[0])
    small["spearman"] = nan_to_none(scipy.stats.spearmanr(small["labels"], small["predictions"])[0])
    return {"labels": labels, "sets": out, "extra": [small]}


def read_conllu_upos(path, opener=open):
    sentences, current = [], []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if current:
                    sentences.append(current)
                current = []
                continue
            if line.startswith("#"):
                continue
            cols = line.split("\t")
            if "-" in cols[0] or "." in cols[0]:
                continue
            current.append((cols[1], cols[3]))
    if current:
        sentences.append(current)
    return sentences


TAGGING_SENTENCES = 600  # the first 600 dev sentences keep the fixture small


def tagging_fixture(shared):
    ud = os.path.join(shared, "ud-english-ewt")
    train = read_conllu_upos(os.path.join(ud, "en_ewt-ud-train.conllu.xz"), lzma.open)
    dev = read_conllu_upos(os.path.join(ud, "en_ewt-ud-dev.conllu"))[:TAGGING_SENTENCES]
    tags = sorted({t for s in train for _, t in s})
    tag_id = {t: i for i, t in enumerate(tags)}
    by_form = collections.defaultdict(collections.Counter)
    for s in train:
        for form, tag in s:
            by_form[form.lower()][tag] += 1
    # Most frequent train tag of the lower-cased form, NOUN for unseen forms. Words longer than
    # 7 characters get a second (sub-word) position labelled -100, as a tokenizer that splits
    # them would produce, with a prediction that must be ignored.
    labels, predictions = [], []
    for s in dev:
        for form, tag in s:
            counts = by_form.get(form.lower())
            guess = counts.most_common(1)[0][0] if counts else "NOUN"
            labels.append(tag_id[tag])
            predictions.append(tag_id[guess])
            if len(form) > 7:
                labels.append(-100)
                predictions.append(tag_id["X"])
    y, p = np.array(labels), np.array(predictions)
    mask = y >= 0
    return {"tags": tags, "sentences": len(dev), "labels": labels, "predictions": predictions,
            "token_accuracy": float(np.mean(p[mask] == y[mask])), "words": int(mask.sum())}


def seed_stats_fixture(classification):
    out = []
    for task in classification:
        for metric in ("accuracy", "matthews", "macro_f1"):
            values = [s[metric] for s in task["sets"] if s["rule"].startswith("random_seed")]
            v = np.array(values)
            out.append({"name": "%s/random/%s" % (task["task"], metric), "values": values,
                        "mean": float(np.mean(v)), "median": float(np.median(v)),
                        "std": float(np.std(v, ddof=1)), "min": float(v.min()),
                        "max": float(v.max())})
    even = [3.0, 1.0, 4.0, 1.5]  # an even count: the median is the mean of the middle two
    v = np.array(even)
    out.append({"name": "even_count", "values": even, "mean": float(v.mean()),
                "median": float(np.median(v)), "std": float(np.std(v, ddof=1)),
                "min": float(v.min()), "max": float(v.max())})
    return out


def glue_fixture(classification, correlation):
    """Task scores as the GLUE server computes them, from the fixture's own sklearn/scipy values
    for the tasks present here (MRPC, STS-B, CoLA, SST-2, RTE; 'rule' predictions)."""
    metric = {}
    for task in classification:
        rule_set = next(s for s in task["sets"]
                        if s["rule"] in ("keyword", "word_overlap"))
        metric[task["task"]] = rule_set
    stsb = next(s for s in correlation["sets"] if s["rule"] == "word_overlap")
    tasks = {
        "CoLA": [metric["CoLA"]["matthews"]],
        "SST-2": [metric["SST-2"]["accuracy"]],
        "MRPC": [metric["MRPC"]["f1"], metric["MRPC"]["accuracy"]],
        "STS-B": [stsb["pearson"], stsb["spearman"]],
        "RTE": [metric["RTE"]["accuracy"]],
    }
    scores = {t: 100.0 * float(np.mean(v)) for t, v in tasks.items()}
    return {"metrics": tasks, "scores": scores,
            "average": float(np.mean(list(scores.values())))}


def main():
    parser = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--shared_data", default=os.path.join(here, "..", "..", "shared", "data"))
    parser.add_argument("--output", default=os.path.join(here, "testdata", "metric_fixtures.json"))
    args = parser.parse_args()
    classification = classification_fixture(args.shared_data)
    correlation = correlation_fixture(args.shared_data)
    fixture = {
        "generator": "eval/generate_metric_fixtures.py",
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__,
                     "scipy": scipy.__version__, "sklearn": sklearn.__version__},
        "classification": classification,
        "correlation": correlation,
        "tagging": tagging_fixture(args.shared_data),
        "seed_stats": seed_stats_fixture(classification),
        "glue": glue_fixture(classification, correlation),
        "squad_strings": squad_string_cases(),
        "squad": squad_fixture(args.shared_data),
    }
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        f.write("\n")
    print("wrote", args.output)


if __name__ == "__main__":
    main()
