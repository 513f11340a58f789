#!/usr/bin/env python3
"""Writes the golden fixtures of the fine-tuning heads from Hugging Face transformers.

For the tiny ALBERT and BERT of albert_golden.textproto / bert_golden.textproto it builds
each task model of HF, in eval mode (no dropout), with fixed random weights (the same
randomize() as generate_golden.py), runs one forward and backward pass in float32 on a
padded two-segment batch and saves <name>.safetensors:

  <arch>_seqcls_golden       {Albert,Bert}ForSequenceClassification, 3 labels, cross-entropy
  <arch>_regression_golden   {Albert,Bert}ForSequenceClassification, num_labels=1, MSE
  <arch>_tokcls_golden       {Albert,Bert}ForTokenClassification, 5 labels, -100 ignored
  <arch>_qa_golden           {Albert,Bert}ForQuestionAnswering, start/end cross-entropy

Tensors (B = 3 examples, S = 12 positions, L = labels):
  param.NAME, grad.NAME    every parameter and its gradient by HF name. The token and QA
                           models have no pooler (HF builds their encoder with
                           add_pooling_layer=False), so no albert.pooler / bert.pooler.*
  input.input_ids, input.token_type_ids, input.attention_mask   int32 (B, S)
  input.labels             int32 (B) class ids                      (seqcls)
  input.targets            float32 (B) regression targets           (regression)
  input.token_labels       int32 (B, S), -100 = not counted          (tokcls)
  input.start_positions, input.end_positions   int32 (B)            (qa)
  output.logits            float32 (B, L); (B, 1) for regression; (B, S, L) for tokcls
  output.start_logits, output.end_logits       float32 (B, S)       (qa)
  output.start_loss, output.end_loss           float64 (1)          (qa)
  output.loss              float64 (1)
Metadata: format, config (JSON), torch, transformers, seed, head, hf_class, num_labels,
problem_type (sequence classification only).

What HF computes, which cloze's heads must reproduce (each is also asserted below against
a plain recomputation):
  * sequence classification: logits = classifier(tanh(pooler(h[:, 0]))); cross-entropy
    averaged over the batch, or with num_labels = 1 MSE of logits[:, 0] against targets.
  * token classification: logits = classifier(h) at every position, padding included;
    cross-entropy averaged over the positions whose label is not -100 (every padding
    position and a few real ones here).
  * question answering: [start | end] = qa_outputs(h); each cross-entropy is over all S
    positions, padding included (HF does not mask the logits); loss = (start + end) / 2.

Also writes the fine-tuning trajectory (finetune_trajectory.py):
albert_seqcls_trajectory.safetensors.

    pip install torch transformers safetensors
    python3 tests/golden/generate_head_golden.py   # rewrites the files above

The fixture format is versioned (metadata "format"); bump it when the layout changes.
"""

import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from tests.golden.generate_golden import (  # noqa: E402
    HERE, LENGTHS, SEQ, fixture_metadata, i32, make_encoder_inputs, parameters_and_gradients,
    randomize)
from tests.hf_reference import HEAD_CLASSES, build_model, read_textproto  # noqa: E402

FORMAT = "cloze-golden-head-v1"
IGNORED = -100  # HF's ignore_index for token labels

# name, config, head, HF config options, seed.
FIXTURES = [
    ("albert_seqcls_golden", "albert_golden", "sequence_classification",
     dict(num_labels=3, problem_type="single_label_classification"), 2101),
    ("albert_regression_golden", "albert_golden", "sequence_classification",
     dict(num_labels=1, problem_type="regression"), 2102),
    ("albert_tokcls_golden", "albert_golden", "token_classification", dict(num_labels=5), 2103),
    ("albert_qa_golden", "albert_golden", "question_answering", dict(), 2104),
    ("bert_seqcls_golden", "bert_golden", "sequence_classification",
     dict(num_labels=3, problem_type="single_label_classification"), 2201),
    ("bert_regression_golden", "bert_golden", "sequence_classification",
     dict(num_labels=1, problem_type="regression"), 2202),
    ("bert_tokcls_golden", "bert_golden", "token_classification", dict(num_labels=5), 2203),
    ("bert_qa_golden", "bert_golden", "question_answering", dict(), 2204),
]


def build_randomized(config_name, head, options, seed):
    """(config, model, generator): the HF head model of tests/golden/<config_name>.textproto
    in eval mode with randomize()'s weights from `seed`; the generator continues from
    there (the batch is drawn from it)."""
    config = read_textproto(os.path.join(HERE, config_name + ".textproto"))
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = build_model(config, training=False, head=head, **options).float()
    model.eval()  # no dropout (build_model(training=False) sets every probability to 0 too)
    randomize(model, generator)
    return config, model, generator


def make_labels(head, options, generator, lengths=LENGTHS):
    """The labels of `head` for a batch of `lengths`, as HF's keyword arguments."""
    batch = len(lengths)
    if head == "sequence_classification":
        if options["num_labels"] == 1:
            return {"labels": torch.randn(batch, generator=generator)}
        return {"labels": torch.randint(0, options["num_labels"], (batch,), generator=generator)}
    if head == "token_classification":
        labels = torch.randint(0, options["num_labels"], (batch, SEQ), generator=generator)
        for b, length in enumerate(lengths):
            labels[b, length:] = IGNORED  # padding
            labels[b, 0] = IGNORED  # [CLS], as a tagger labels only word-initial pieces
            labels[b, length // 2] = IGNORED  # an inner piece, not padding
        return {"labels": labels}
    if head == "question_answering":
        # Spans inside each example's second segment; the last example's is a one-token
        # span at the final real position.
        starts, ends = [], []
        for length in lengths:
            start = int(torch.randint(length // 2, length, (1,), generator=generator))
            end = int(torch.randint(start, length, (1,), generator=generator))
            starts.append(start)
            ends.append(end)
        starts[-1] = ends[-1] = lengths[-1] - 1
        return {"start_positions": torch.tensor(starts), "end_positions": torch.tensor(ends)}
    raise ValueError(head)


def run_head(model, head, encoder_inputs, labels):
    """HF's forward with loss on one batch; returns its output."""
    input_ids, token_type_ids, attention_mask = encoder_inputs
    return model(input_ids=input_ids, token_type_ids=token_type_ids,
                 attention_mask=attention_mask, **labels)


def check_loss(head, options, out, labels):
    """The loss recomputed plainly from HF's logits, as cloze's heads define it; returns the
    extra output tensors of the fixture."""
    extra = {}
    if head == "sequence_classification" and options["num_labels"] == 1:
        expected = ((out.logits[:, 0] - labels["labels"]) ** 2).mean()
    elif head == "sequence_classification":
        expected = F.cross_entropy(out.logits, labels["labels"])
    elif head == "token_classification":
        flat = labels["labels"].reshape(-1)
        counted = flat >= 0
        expected = F.cross_entropy(out.logits.reshape(flat.numel(), -1)[counted], flat[counted])
    else:
        start = F.cross_entropy(out.start_logits, labels["start_positions"])
        end = F.cross_entropy(out.end_logits, labels["end_positions"])
        expected = (start + end) / 2
        extra = {"output.start_loss": start.detach().double().reshape(1),
                 "output.end_loss": end.detach().double().reshape(1)}
    assert torch.allclose(out.loss, expected, rtol=1e-6, atol=0), (out.loss, expected)
    return extra


def label_tensors(head, options, labels):
    if head == "sequence_classification" and options["num_labels"] == 1:
        return {"input.targets": labels["labels"].float().contiguous()}
    if head == "sequence_classification":
        return {"input.labels": i32(labels["labels"])}
    if head == "token_classification":
        return {"input.token_labels": i32(labels["labels"])}
    return {"input.start_positions": i32(labels["start_positions"]),
            "input.end_positions": i32(labels["end_positions"])}


def output_tensors(head, out):
    if head == "question_answering":
        return {"output.start_logits": out.start_logits.detach().contiguous(),
                "output.end_logits": out.end_logits.detach().contiguous()}
    return {"output.logits": out.logits.detach().contiguous()}


def generate(name, config_name, head, options, seed):
    config, model, generator = build_randomized(config_name, head, options, seed)
    encoder_inputs = make_encoder_inputs(config, generator)
    labels = make_labels(head, options, generator)
    out = run_head(model, head, encoder_inputs, labels)
    model.zero_grad()
    out.loss.backward()

    tensors = parameters_and_gradients(model)
    input_ids, token_type_ids, attention_mask = encoder_inputs
    tensors.update({
        "input.input_ids": i32(input_ids),
        "input.token_type_ids": i32(token_type_ids),
        "input.attention_mask": i32(attention_mask),
        "output.loss": out.loss.detach().double().reshape(1),
    })
    tensors.update(label_tensors(head, options, labels))
    tensors.update(output_tensors(head, out))
    tensors.update(check_loss(head, options, out, labels))
    extra = {"head": head, "hf_class": HEAD_CLASSES[config["model_type"]][head],
             "num_labels": str(model.config.num_labels)}
    if head == "sequence_classification":
        extra["problem_type"] = model.config.problem_type
    path = os.path.join(HERE, name + ".safetensors")
    save_file(tensors, path, metadata=fixture_metadata(FORMAT, config, seed, **extra))
    print(f"{path}: loss {out.loss.item():.6f}, {len(tensors)} tensors, "
          f"{os.path.getsize(path)} bytes")


def main():
    torch.use_deterministic_algorithms(True)
    for fixture in FIXTURES:
        generate(*fixture)
    from tests.golden.finetune_trajectory import generate_trajectory  # noqa: E402
    generate_trajectory()


if __name__ == "__main__":
    sys.exit(main())
