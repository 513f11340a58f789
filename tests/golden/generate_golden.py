#!/usr/bin/env python3
"""Writes the golden parity fixtures from Hugging Face transformers (an independent
implementation of ALBERT and BERT).

For each tiny config in this folder it builds AlbertForPreTraining / BertForPreTraining
with fixed random weights, runs one forward and backward pass in float32 on a fixed
batch, and saves weights, inputs, logits, losses and every parameter gradient to
<name>.safetensors. tests/golden/golden_test.cc loads the file and requires cloze's
model to agree.

    pip install torch transformers safetensors
    python3 tests/golden/generate_golden.py        # rewrites tests/golden/*.safetensors

The fixture format is versioned (metadata "format"); bump it when the layout changes.
generate_head_golden.py writes the fine-tuning heads' fixtures with the helpers here
(randomize, make_encoder_inputs, parameters_and_gradients, fixture_metadata).
"""

import json
import os
import re
import sys

import torch
import transformers
from safetensors.torch import save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from tests.hf_reference import build_model, read_textproto  # noqa: E402

FORMAT = "cloze-golden-v1"
HERE = os.path.dirname(os.path.abspath(__file__))
BATCH, SEQ = 3, 12


def randomize(model, generator):
    """Weights far from the usual init, so every gradient is large and distinct:
    matrices N(0, 0.2), biases N(0, 0.1), layer-norm scales 1 + N(0, 0.1)."""
    with torch.no_grad():
        for name, param in model.named_parameters():
            noise = torch.randn(param.shape, generator=generator)
            if "LayerNorm" in name and name.endswith("weight"):
                param.copy_(1.0 + 0.1 * noise)
            elif name.endswith("bias"):
                param.copy_(0.1 * noise)
            else:
                param.copy_(0.2 * noise)


# Tokens per example of the golden batch: examples 1 and 2 end in padding.
LENGTHS = [SEQ, 9, 7]


def make_encoder_inputs(config, generator, lengths=LENGTHS):
    """input_ids, token_type_ids and attention_mask of a (len(lengths), SEQ) batch: random
    ids (>= 5), two segments (the second from length // 2), padding (id 0, mask 0) after
    each example's length."""
    batch = len(lengths)
    input_ids = torch.randint(5, config["vocab_size"], (batch, SEQ), generator=generator)
    token_type_ids = torch.zeros(batch, SEQ, dtype=torch.long)
    attention_mask = torch.ones(batch, SEQ, dtype=torch.long)
    for b, length in enumerate(lengths):
        token_type_ids[b, length // 2 : length] = 1
        attention_mask[b, length:] = 0
        input_ids[b, length:] = 0
    return input_ids, token_type_ids, attention_mask


def make_batch(config, generator):
    vocab = config["vocab_size"]
    input_ids, token_type_ids, attention_mask = make_encoder_inputs(config, generator)
    # Masked positions (never [CLS] at 0, never padding), flat index b * SEQ + t.
    picks = [[1, 4, 5, 10], [2, 3, 8], [6]]
    labels = torch.full((BATCH, SEQ), -100, dtype=torch.long)
    positions, masked_labels = [], []
    for b, ts in enumerate(picks):
        for t in ts:
            labels[b, t] = int(torch.randint(0, vocab, (1,), generator=generator))
            positions.append(b * SEQ + t)
            masked_labels.append(int(labels[b, t]))
    # One padding entry of the prediction list: label -1 is ignored by cloze (HF never sees it).
    positions.append(0)
    masked_labels.append(-1)
    sentence_labels = torch.tensor([0, 1, 1])
    return {
        "input_ids": input_ids,
        "token_type_ids": token_type_ids,
        "attention_mask": attention_mask,
        "labels": labels,
        "positions": torch.tensor(positions),
        "masked_labels": torch.tensor(masked_labels),
        "sentence_labels": sentence_labels,
    }


def i32(tensor):
    """Integer inputs are stored as int32 (cloze's Batch)."""
    return tensor.to(torch.int32).contiguous()


def parameters_and_gradients(model):
    """"param.NAME" and "grad.NAME" for every parameter by its Hugging Face name (tied
    weights appear once), after a backward pass."""
    tensors = {}
    for param_name, param in model.named_parameters():
        tensors["param." + param_name] = param.detach().clone().contiguous()
        tensors["grad." + param_name] = param.grad.detach().clone().contiguous()
    return tensors


def fixture_metadata(fixture_format, config, seed, **extra):
    """The metadata every fixture carries: its format, the model config as JSON, the
    library versions that wrote it and its seed, plus `extra` (strings)."""
    return {
        "format": fixture_format,
        "config": json.dumps(config, sort_keys=True),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "seed": str(seed),
        **extra,
    }


def generate(name, seed):
    config = read_textproto(os.path.join(HERE, name + ".textproto"))
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = build_model(config, training=False).float()  # no dropout
    model.eval()  # no dropout (the configs have none anyway)
    randomize(model, generator)
    batch = make_batch(config, generator)

    albert = config["model_type"] == "albert"
    sentence_kw = "sentence_order_label" if albert else "next_sentence_label"
    out = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        token_type_ids=batch["token_type_ids"],
        labels=batch["labels"],
        **{sentence_kw: batch["sentence_labels"]},
    )
    model.zero_grad()
    out.loss.backward()

    mlm_logits = out.prediction_logits.reshape(BATCH * SEQ, -1)[batch["positions"][:-1]]
    sentence_logits = out.sop_logits if albert else out.seq_relationship_logits
    vocab = config["vocab_size"]
    flat_labels = batch["labels"].reshape(-1)
    mlm_loss = torch.nn.functional.cross_entropy(
        out.prediction_logits.reshape(-1, vocab), flat_labels, ignore_index=-100)
    sentence_loss = torch.nn.functional.cross_entropy(sentence_logits, batch["sentence_labels"])

    tensors = parameters_and_gradients(model)
    tensors.update({
        "input.input_ids": i32(batch["input_ids"]),
        "input.token_type_ids": i32(batch["token_type_ids"]),
        "input.attention_mask": i32(batch["attention_mask"]),
        "input.masked_positions": i32(batch["positions"]),
        "input.masked_labels": i32(batch["masked_labels"]),
        "input.sentence_labels": i32(batch["sentence_labels"]),
        "output.mlm_logits": mlm_logits.detach().contiguous(),
        "output.sentence_logits": sentence_logits.detach().contiguous(),
        "output.loss": out.loss.detach().double().reshape(1),
        "output.mlm_loss": mlm_loss.detach().double().reshape(1),
        "output.sentence_loss": sentence_loss.detach().double().reshape(1),
    })
    metadata = fixture_metadata(FORMAT, config, seed)
    path = os.path.join(HERE, name + ".safetensors")
    save_file(tensors, path, metadata=metadata)
    print(f"{path}: loss {out.loss.item():.6f} (mlm {mlm_loss.item():.6f}, "
          f"sentence {sentence_loss.item():.6f}), {len(tensors)} tensors")


def main():
    torch.use_deterministic_algorithms(True)
    generate("albert_golden", seed=1234)
    generate("bert_golden", seed=5678)


if __name__ == "__main__":
    sys.exit(main())
