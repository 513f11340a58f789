#!/usr/bin/env python3
"""The Hugging Face side of bench/finetune_throughput.sh: fine-tuning steps of
AlbertForSequenceClassification on the SST-2 train split, in a plain PyTorch loop, on the
batches `cloze finetune` trains on with the same seed.

    OMP_NUM_THREADS=2 python3 bench/finetune_throughput_hf.py --seed=1 --warmup=3 --steps=20

Same batches as cloze: epoch 0's order is trainer/task_batch_source.cc's (Fisher-Yates
with util::Rng keyed by the seed, ported below bit for bit), each batch is cut from that
stream and padded to its longest member with the tokenizer's pad id (what
DataCollatorWithPadding does). The features are `[CLS] sentence [SEP]`, truncated to
--max_seq_length, tokenised before the loop (cloze, too, featurises the split before its
first step). The script prints each step's non-padding token count so that the caller can
check them against cloze's metrics.jsonl.

Tokenisation is cloze's "spm-albert:" (data/tokenizer.h): the AlbertTokenizer's normaliser,
whitespace split, then SentencePiece's own encode of the same spiece.model, as
data/testdata/make_tokenizer_fixtures.py defines it. transformers 5's AlbertTokenizer itself
splits differently around punctuation (" story ." -> "story", "." where SentencePiece gives
"story", "_", "."; "mean-spirited" gains a "_"): about 3% fewer tokens on SST-2, so its
batches would not be cloze's.

A timed step is what cloze's metrics.jsonl "seconds" covers: collating the batch, zero_grad,
forward (train mode, the config's dropout), backward, clip_grad_norm_(1.0), AdamW (lr 2e-5,
eps 1e-8, weight decay 0: cloze finetune's defaults and Trainer's) and the linear warmup
schedule's step. The model starts from HF's random init (throughput does not depend on it).

Precision: --precision=fp32 (default) or bf16, which runs the forward under
torch.autocast("cpu", dtype=torch.bfloat16) (backward follows the forward's dtypes), as
PyTorch recommends for CPU mixed precision; the fp32 master weights and AdamW stay fp32.

Threads: --threads, else OMP_NUM_THREADS, else torch's default; torch.set_num_threads gets
it. Prints a summary to stderr and one JSON line to stdout.
"""

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time

import sentencepiece
import tokenizers
import torch
import transformers

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tests.hf_reference import build_model, read_textproto  # noqa: E402

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
TASK_ORDER_KEY = 0x7461736B6F72646F  # "taskord", task_batch_source.cc


def mix64(z):
    """util::Mix64."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def mix_key(seed, a, b=0, c=0):
    """util::MixKey."""
    k = mix64((seed + GOLDEN) & MASK64)
    k = mix64(k ^ ((a + 0x632BE59BD9B4E019) & MASK64))
    k = mix64(k ^ ((b + 0x8CB92BA72F3D8DD7) & MASK64))
    return mix64(k ^ ((c + 0xD1B54A32D192ED03) & MASK64))


class Rng:
    """util::Rng: xoshiro256** seeded by SplitMix64."""

    def __init__(self, key):
        self.state = []
        for _ in range(4):
            key = (key + GOLDEN) & MASK64
            self.state.append(mix64(key))

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK64

    def next(self):
        s = self.state
        result = (self._rotl((s[1] * 5) & MASK64, 7) * 9) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform_int(self, lo, hi):
        span = hi - lo + 1
        limit = MASK64 - MASK64 % span
        while True:
            x = self.next()
            if x < limit:
                return lo + x % span


def task_order(n, seed, epoch=0):
    """TaskBatchSource::Order: epoch `epoch`'s permutation of range(n)."""
    order = list(range(n))
    rng = Rng(mix_key(seed, TASK_ORDER_KEY, epoch))
    for i in range(n - 1, 0, -1):
        j = rng.uniform_int(0, i)
        order[i], order[j] = order[j], order[i]
    return order


def read_sst2_train(path):
    """(sentence, label) of each line of GLUE's SST-2 train.tsv after the header."""
    examples = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header[:2] != ["sentence", "label"]:
            sys.exit(f"{path}:1: want the header 'sentence<TAB>label', got {header}")
        for number, line in enumerate(f, start=2):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 2 or fields[1] not in ("0", "1"):
                sys.exit(f"{path}:{number}: want 'sentence<TAB>0|1', got {line!r}")
            examples.append((fields[0], int(fields[1])))
    return examples


class SpmAlbert:
    """cloze's "spm-albert:" tokenizer in Python (see the module comment): encode(text) gives
    `[CLS] pieces [SEP]` cut to max_length; `hf` is the AlbertTokenizer of the same model,
    whose normaliser, special ids and pad() (DataCollatorWithPadding) are used."""

    def __init__(self, spiece):
        with tempfile.TemporaryDirectory() as folder:
            shutil.copy(spiece, os.path.join(folder, "spiece.model"))
            self.hf = transformers.AlbertTokenizer.from_pretrained(folder)
        self.sp = sentencepiece.SentencePieceProcessor(model_file=spiece)
        self.normalizer = self.hf.backend_tokenizer.normalizer
        self.words = tokenizers.pre_tokenizers.WhitespaceSplit()

    def encode(self, text, max_length):
        normalized = self.normalizer.normalize_str(text)
        pieces = self.sp.encode(" ".join(w for w, _ in self.words.pre_tokenize_str(normalized)))
        return [self.hf.cls_token_id] + pieces[:max_length - 2] + [self.hf.sep_token_id]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/albert-base.textproto")
    parser.add_argument("--data_dir", default="../shared/data/glue/SST-2")
    parser.add_argument("--spiece", default="../shared/data/vocab/albert-base-v2-spiece.model")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--max_seq_length", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="bf16: the forward under torch.autocast('cpu', dtype=torch.bfloat16)")
    parser.add_argument("--attn_implementation", default="default",
                        help="default (what transformers picks, sdpa for ALBERT), eager or sdpa")
    args = parser.parse_args()
    if args.batch_size <= 0 or args.max_seq_length < 3 or args.warmup < 0 or args.steps <= 0:
        parser.error("need batch_size > 0, max_seq_length >= 3, warmup >= 0, steps > 0")

    threads = args.threads or int(os.environ.get("OMP_NUM_THREADS", "0")) or torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)

    examples = read_sst2_train(os.path.join(args.data_dir, "train.tsv"))
    total = args.warmup + args.steps
    order = task_order(len(examples), args.seed)
    if total * args.batch_size > len(examples):
        parser.error(f"{total} steps of {args.batch_size} examples need more than one epoch "
                     f"of {len(examples)} examples")
    tokenizer = SpmAlbert(args.spiece)
    batches = []
    for step in range(total):
        features = []
        for i in order[step * args.batch_size:(step + 1) * args.batch_size]:
            text, label = examples[i]
            ids = tokenizer.encode(text, args.max_seq_length)
            features.append({"input_ids": ids, "token_type_ids": [0] * len(ids), "attention_mask": [1] * len(ids),
                             "labels": label})
        batches.append(features)

    config = read_textproto(args.config)
    if config["model_type"] != "albert":
        parser.error(f"{args.config}: this benchmark is for ALBERT, got model_type {config['model_type']}")
    model = build_model(config, training=True, attn_implementation=args.attn_implementation,
                        head="sequence_classification", num_labels=2).float()
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    total_steps = -(-3 * len(examples) // args.batch_size)  # cloze finetune's default 3 epochs
    scheduler = transformers.get_linear_schedule_with_warmup(optimizer, math.ceil(0.1 * total_steps),
                                                             total_steps)
    collator = transformers.DataCollatorWithPadding(tokenizer.hf, padding="longest", return_tensors="pt")

    seconds, real_tokens, padded_tokens, losses = [], [], [], []
    for step, features in enumerate(batches):
        start = time.perf_counter()
        batch = collator(features)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        loss_value = loss.item()
        end = time.perf_counter()
        seconds.append(end - start)
        real_tokens.append(int(batch["attention_mask"].sum()))
        padded_tokens.append(int(batch["input_ids"].numel()))
        losses.append(loss_value)

    timed = slice(args.warmup, total)
    time_sum = sum(seconds[timed])
    examples_per_s = args.steps * args.batch_size / time_sum
    real_per_s = sum(real_tokens[timed]) / time_sum
    padded_per_s = sum(padded_tokens[timed]) / time_sum
    ms = sorted(1000 * s for s in seconds[timed])
    median = ms[len(ms) // 2] if len(ms) % 2 else 0.5 * (ms[len(ms) // 2 - 1] + ms[len(ms) // 2])
    attention = getattr(model.config, "_attn_implementation", args.attn_implementation)
    print(f"finetune_throughput_hf: PyTorch {torch.__version__}, transformers {transformers.__version__}, "
          f"{torch.get_num_threads()} threads, attention {attention}, {args.precision}", file=sys.stderr)
    print(f"  {args.warmup} warmup + {args.steps} timed steps of {args.batch_size}; "
          f"{examples_per_s:.2f} examples/s, {real_per_s:.1f} tokens/s (padded {padded_per_s:.1f}), "
          f"median {median:.1f} ms/step, loss {losses[0]:.4f} -> {losses[-1]:.4f}", file=sys.stderr)
    print(json.dumps({
        "impl": "hf", "threads": torch.get_num_threads(), "attention": attention, "precision": args.precision,
        "seed": args.seed,
        "batch_size": args.batch_size, "max_seq_length": args.max_seq_length, "warmup": args.warmup,
        "steps": args.steps, "examples_per_s": round(examples_per_s, 3), "tokens_per_s": round(real_per_s, 2),
        "padded_tokens_per_s": round(padded_per_s, 2), "median_ms": round(median, 3),
        "seconds": [round(s, 6) for s in seconds], "tokens": real_tokens, "padded_tokens": padded_tokens,
        "losses": [round(l, 6) for l in losses],
        "torch": torch.__version__, "transformers": transformers.__version__,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
