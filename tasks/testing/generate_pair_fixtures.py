#!/usr/bin/env python3
"""Writes tasks/testdata/features/pair_truncation_hf.jsonl: MRPC and RTE dev pairs encoded
by Hugging Face's fast tokenizers as `[CLS] a [SEP] b [SEP]` with truncation
"longest_first", for tasks/features_test.cc.

Needs: pip install transformers tokenizers sentencepiece protobuf. Run from the repository
root:

    python3 tasks/testing/generate_pair_fixtures.py [--shared ../shared/data]

Each line after the first (metadata) is one case:
  {"task", "line", "text_a", "text_b", "max_seq_length",
   "albert": {"hf": [ids...], "bert_rule": [ids...]},
   "bert":   {"hf": [ids...], "bert_rule": [ids...]}}
`hf` is what the fast tokenizer gives; `bert_rule` is the same untruncated ids cut with the
original BERT's _truncate_seq_pair (one token at a time from the longer; b on a tie), which
cloze implements. The two differ only when both sequences are cut and the budget
(max_seq_length - 3) is odd: BERT's rule then leaves a the extra token, HF's Rust code the
longer input (b on a tie). The generator asserts that this is the only difference.

The tokenizers run without added tokens (as data/testing/generate_offset_fixtures.py does),
so their ids equal cloze's "spm-albert:" and "wordpiece:" ids; [CLS]/[SEP] are added here.
"""

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile

import tokenizers
import transformers

ALBERT_MODEL = "vocab/albert-base-v2-spiece.model"
BERT_VOCAB = "vocab/bert-base-uncased-vocab.txt"
PAIRS_PER_TASK = 50
MAX_SEQ_LENGTHS = [24, 41, 128]  # budgets 21 (odd), 38 (even), 125 (mostly no cut)


def without_added_tokens(fast):
    config = json.loads(fast.backend_tokenizer.to_str())
    config["added_tokens"] = []
    config["post_processor"] = None
    return tokenizers.Tokenizer.from_str(json.dumps(config))


def read_pairs(path, col_a, col_b):
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    # 1-based file line of each data row (the header is line 1)
    return [(i + 2, row[col_a], row[col_b]) for i, row in enumerate(rows[1:PAIRS_PER_TASK + 1])]


def bert_rule(a, b, budget):
    a, b = list(a), list(b)
    while len(a) + len(b) > budget:
        if len(a) > len(b):
            a.pop()
        else:
            b.pop()
    return a, b


def encode(backend, cls_id, sep_id, text_a, text_b, max_seq_length):
    full_a = backend.encode(text_a).ids
    full_b = backend.encode(text_b).ids
    budget = max_seq_length - 3
    backend.enable_truncation(max_length=budget, strategy="longest_first")
    hf = backend.encode(text_a, text_b)
    backend.no_truncation()
    hf_a = [i for i, s in zip(hf.ids, hf.type_ids) if s == 0]
    hf_b = [i for i, s in zip(hf.ids, hf.type_ids) if s == 1]
    rule_a, rule_b = bert_rule(full_a, full_b, budget)
    if (hf_a, hf_b) != (rule_a, rule_b):
        both_cut = len(rule_a) < len(full_a) and len(rule_b) < len(full_b)
        assert both_cut and budget % 2 == 1, (text_a, text_b, max_seq_length)
        assert len(rule_a) == len(hf_a) + 1 and len(rule_b) == len(hf_b) - 1
    def join(a, b):
        return [cls_id] + a + [sep_id] + b + [sep_id]
    return {"hf": join(hf_a, hf_b), "bert_rule": join(rule_a, rule_b)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", default="../shared/data")
    parser.add_argument("--out", default="tasks/testdata/features/pair_truncation_hf.jsonl")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(os.path.join(args.shared, ALBERT_MODEL), os.path.join(folder, "spiece.model"))
        albert_fast = transformers.AlbertTokenizerFast.from_pretrained(folder)
    bert_fast = transformers.BertTokenizerFast(os.path.join(args.shared, BERT_VOCAB), do_lower_case=True)
    tokenizers_ = {
        "albert": (without_added_tokens(albert_fast), albert_fast.cls_token_id, albert_fast.sep_token_id),
        "bert": (without_added_tokens(bert_fast), bert_fast.cls_token_id, bert_fast.sep_token_id),
    }
    pairs = [("MRPC", *p) for p in read_pairs(os.path.join(args.shared, "glue/MRPC/dev.tsv"), 3, 4)]
    pairs += [("RTE", *p) for p in read_pairs(os.path.join(args.shared, "glue/RTE/dev.tsv"), 1, 2)]

    differs = 0
    with open(args.out, "w", encoding="utf-8") as out:
        meta = {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                "albert": ALBERT_MODEL, "bert": BERT_VOCAB, "truncation": "longest_first"}
        out.write(json.dumps(meta) + "\n")
        for task, line, a, b in pairs:
            for max_seq_length in MAX_SEQ_LENGTHS:
                case = {"task": task, "line": line, "text_a": a, "text_b": b,
                        "max_seq_length": max_seq_length}
                for name, (backend, cls_id, sep_id) in tokenizers_.items():
                    case[name] = encode(backend, cls_id, sep_id, a, b, max_seq_length)
                    differs += case[name]["hf"] != case[name]["bert_rule"]
                out.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"{len(pairs) * len(MAX_SEQ_LENGTHS)} cases, {differs} encodings where HF's rule differs",
          file=sys.stderr)


if __name__ == "__main__":
    main()
