#!/usr/bin/env python3
"""Times the pretraining step of bench/cpu_step_bench.cc in PyTorch: Hugging Face
AlbertForPreTraining / BertForPreTraining built from the same ModelConfig text proto,
eager attention, float32 (or bf16 autocast: --precision=bf16), zero_grad + forward +
backward on the same synthetic batch.

    OMP_NUM_THREADS=2 python3 bench/torch_step.py --config=configs/albert-base.textproto \
        --mlm_head=full

--mlm_head=full is the stock model: MLM logits at all B*T positions, cross-entropy over
the masked ones (labels -100 elsewhere). --mlm_head=masked gathers the hidden states at
the masked positions first and applies the MLM head (model.predictions /
model.cls.predictions) to those rows only, which is what cloze does.

The thread count is OMP_NUM_THREADS (torch.set_num_threads gets the same number), so the
two programs run under the same setting. Prints a summary and then one JSON line with
the keys of cpu_step_bench's; batch_checksum must equal cpu_step_bench's for the same
flags, which shows that both timed the same inputs.
"""

import argparse
import json
import os
import re
import sys
import time

import torch
import transformers

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tests.hf_reference import build_model, read_textproto  # noqa: E402

MASK64 = (1 << 64) - 1
CLS_ID = 2
FIRST_ORDINARY_ID = 5  # ALBERT's vocabulary: <pad> <unk> [CLS] [SEP] [MASK]


class SplitMix64:
    """model/synthetic_batch.cc's generator, bit for bit."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def draw(self, k):
        return self.next() % k


def make_batch(vocab_size, batch_size, seq_len, predictions_per_seq, seed):
    """The batch of model/synthetic_batch.h (see the recipe there), as flat int lists."""
    rng = SplitMix64(seed)
    ordinary = vocab_size - FIRST_ORDINARY_ID
    lengths = [max(2, seq_len - (b % 4) * (seq_len // 32)) for b in range(batch_size)]
    tokens = batch_size * seq_len
    input_ids, token_type_ids, attention_mask = [0] * tokens, [0] * tokens, [0] * tokens
    for b, length in enumerate(lengths):
        for t in range(length):
            i = b * seq_len + t
            input_ids[i] = CLS_ID if t == 0 else FIRST_ORDINARY_ID + rng.draw(ordinary)
            token_type_ids[i] = 1 if t >= length // 2 else 0
            attention_mask[i] = 1
    masked_positions, masked_labels = [], []
    for b, length in enumerate(lengths):
        picks = min(predictions_per_seq, length - 1)
        candidates = list(range(1, length))
        for i in range(picks):
            j = i + rng.draw(length - 1 - i)
            candidates[i], candidates[j] = candidates[j], candidates[i]
        for t in sorted(candidates[:picks]):
            masked_positions.append(b * seq_len + t)
            masked_labels.append(FIRST_ORDINARY_ID + rng.draw(ordinary))
        masked_positions += [0] * (predictions_per_seq - picks)
        masked_labels += [-1] * (predictions_per_seq - picks)
    sentence_labels = [b % 2 for b in range(batch_size)]
    return {
        "input_ids": input_ids,
        "token_type_ids": token_type_ids,
        "attention_mask": attention_mask,
        "masked_positions": masked_positions,
        "masked_labels": masked_labels,
        "sentence_labels": sentence_labels,
    }


def batch_checksum(batch):
    """model/synthetic_batch.cc's BatchChecksum: FNV-1a 64 over 8-byte little-endian ints."""
    value = 0xCBF29CE484222325
    for field in ("input_ids", "token_type_ids", "attention_mask", "masked_positions",
                  "masked_labels", "sentence_labels"):
        for v in batch[field]:
            bits = v & MASK64
            for byte in range(8):
                value ^= (bits >> (8 * byte)) & 0xFF
                value = (value * 0x100000001B3) & MASK64
    return value


def to_tensors(batch, batch_size, seq_len):
    shape = (batch_size, seq_len)
    counted = [(p, l) for p, l in zip(batch["masked_positions"], batch["masked_labels"]) if l >= 0]
    labels = torch.full((batch_size * seq_len,), -100, dtype=torch.long)
    for position, label in counted:
        labels[position] = label
    return {
        "input_ids": torch.tensor(batch["input_ids"]).reshape(shape),
        "token_type_ids": torch.tensor(batch["token_type_ids"]).reshape(shape),
        "attention_mask": torch.tensor(batch["attention_mask"]).reshape(shape),
        "labels": labels.reshape(shape),
        "masked_positions": torch.tensor([p for p, _ in counted]),
        "masked_labels": torch.tensor([l for _, l in counted]),
        "sentence_labels": torch.tensor(batch["sentence_labels"]),
    }


def step_loss(model, albert, inputs, mlm_head):
    """The pretraining loss, mean MLM cross-entropy + mean sentence cross-entropy."""
    encoder_inputs = dict(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                          token_type_ids=inputs["token_type_ids"])
    if mlm_head == "full":
        sentence_kw = "sentence_order_label" if albert else "next_sentence_label"
        return model(**encoder_inputs, labels=inputs["labels"],
                     **{sentence_kw: inputs["sentence_labels"]}).loss
    encoder = model.albert if albert else model.bert
    sequence_output, pooled_output = encoder(**encoder_inputs, return_dict=False)[:2]
    hidden = sequence_output.reshape(-1, sequence_output.shape[-1])[inputs["masked_positions"]]
    if albert:
        mlm_logits = model.predictions(hidden)
        sentence_logits = model.sop_classifier(pooled_output)
    else:
        mlm_logits = model.cls.predictions(hidden)
        sentence_logits = model.cls.seq_relationship(pooled_output)
    cross_entropy = torch.nn.functional.cross_entropy
    return (cross_entropy(mlm_logits, inputs["masked_labels"])
            + cross_entropy(sentence_logits, inputs["sentence_labels"]))


def summarize(ms):
    """Median, min and nearest-rank p90, as cpu_step_bench.cc computes them."""
    ms = sorted(ms)
    n = len(ms)
    median = ms[n // 2] if n % 2 == 1 else 0.5 * (ms[n // 2 - 1] + ms[n // 2])
    rank = (9 * n + 9) // 10
    return median, ms[0], ms[max(rank, 1) - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/albert-base.textproto")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--seq_len", type=int, default=128)
    parser.add_argument("--predictions_per_seq", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--training", type=int, choices=(0, 1), default=1,
                        help="1: dropout as configured, model.train(); 0: no dropout, model.eval()")
    parser.add_argument("--mlm_head", choices=("full", "masked"), default="full")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="bf16: the forward under torch.autocast('cpu', dtype=torch.bfloat16), "
                             "fp32 master weights (what a PyTorch user picks on AVX512-BF16 CPUs)")
    parser.add_argument("--optimizer", choices=("none", "adamw"), default="none",
                        help="adamw: the whole training step, clip_grad_norm_(1.0) and torch.optim.AdamW "
                             "(lr 1e-4, weight decay 0.01 except LayerNorm and biases), as cpu_step_bench")
    args = parser.parse_args()
    if args.batch_size <= 0 or args.seq_len < 2 or args.predictions_per_seq < 0 or \
            args.warmup < 0 or args.steps <= 0:
        parser.error("need batch_size > 0, seq_len >= 2, predictions_per_seq >= 0, warmup >= 0, steps > 0")

    threads = int(os.environ.get("OMP_NUM_THREADS", "0")) or torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)
    config = read_textproto(args.config)
    albert = config["model_type"] == "albert"
    model = build_model(config, bool(args.training)).float()
    model.train(bool(args.training))
    batch = make_batch(config["vocab_size"], args.batch_size, args.seq_len,
                       args.predictions_per_seq, args.seed)
    inputs = to_tensors(batch, args.batch_size, args.seq_len)
    padding = batch["attention_mask"].count(0)
    counted = int(inputs["masked_positions"].numel())
    checksum = batch_checksum(batch)

    optimizer = None
    if args.optimizer == "adamw":
        decayed = [p for n, p in model.named_parameters() if not ("LayerNorm" in n or n.endswith("bias"))]
        others = [p for n, p in model.named_parameters() if "LayerNorm" in n or n.endswith("bias")]
        optimizer = torch.optim.AdamW([{"params": decayed, "weight_decay": 0.01},
                                       {"params": others, "weight_decay": 0.0}],
                                      lr=1e-4, betas=(0.9, 0.999), eps=1e-6)

    ms, first_loss = [], None
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        model.zero_grad()  # set_to_none: backward allocates fresh gradients
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            loss = step_loss(model, albert, inputs, args.mlm_head)
        loss.backward()
        if optimizer is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        end = time.perf_counter()
        if step == 0:
            first_loss = loss.item()
        if step >= args.warmup:
            ms.append((end - start) * 1000.0)
    median, minimum, p90 = summarize(ms)
    tokens_per_s = args.batch_size * args.seq_len / (median / 1000.0)
    parameters = sum(p.numel() for p in model.parameters())

    print(f"torch_step: PyTorch {torch.__version__}, transformers {transformers.__version__}, "
          f"zero_grad + forward + backward, MLM head at {args.mlm_head} positions, {args.precision}")
    print(f"  config     {args.config} ({config['model_type']}: {config['num_hidden_layers']} layers, "
          f"hidden {config['hidden_size']}, embedding {config['embedding_size']}, intermediate "
          f"{config['intermediate_size']}, heads {config['num_attention_heads']}, vocab "
          f"{config['vocab_size']}; {parameters / 1e6:.2f}M parameters)")
    print(f"  batch      {args.batch_size} x {args.seq_len} tokens, {padding} padding, {counted} masked "
          f"predictions, checksum {checksum:016x}")
    print(f"  threads    {torch.get_num_threads()} (torch.get_num_threads)")
    print(f"  steps      {args.warmup} warmup + {args.steps} timed, training {'on' if args.training else 'off'}")
    print(f"  loss       {first_loss:.4f} at the first step")
    print(f"  ms/step    median {median:.1f}  min {minimum:.1f}  p90 {p90:.1f}")
    print(f"  tokens/s   {tokens_per_s:.1f} (at the median)")
    print(json.dumps({
        "bench": "cpu_step", "impl": "torch", "precision": args.precision, "mlm_head": args.mlm_head,
        "optimizer": args.optimizer,
        "config": args.config,
        "model_type": config["model_type"], "threads": torch.get_num_threads(),
        "batch_size": args.batch_size, "seq_len": args.seq_len, "masked_predictions": counted,
        "padding_tokens": padding, "batch_checksum": f"{checksum:016x}", "warmup": args.warmup,
        "steps": args.steps, "training": bool(args.training), "first_loss": round(first_loss, 6),
        "median_ms": round(median, 3), "min_ms": round(minimum, 3), "p90_ms": round(p90, 3),
        "tokens_per_s": round(tokens_per_s, 2), "times_ms": [round(t, 3) for t in ms],
        "torch": torch.__version__, "transformers": transformers.__version__,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
