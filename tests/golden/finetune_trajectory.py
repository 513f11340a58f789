#!/usr/bin/env python3
"""Writes albert_seqcls_trajectory.safetensors: 20 fine-tuning steps of HF's
AlbertForSequenceClassification (3 labels) with torch.optim.AdamW, as HF's Trainer runs
them, from the weights of albert_seqcls_golden.safetensors.

Each step, exactly as transformers.Trainer's training step (no gradient accumulation):
  loss = model(batch[k % 4]).loss         eval mode (no dropout), mean cross-entropy
  loss.backward()
  torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
      global L2 norm n of all gradients; every gradient × min(1, 1.0 / (n + 1e-6))
  optimizer.step()                         torch.optim.AdamW (below)
  scheduler.step()                         get_linear_schedule_with_warmup(opt, 2, 20)
  model.zero_grad()

AdamW: torch.optim.AdamW (always bias-corrected; the single-tensor implementation, which
is torch's default on CPU), lr = 1e-3, betas = (0.9, 0.999), eps = 1e-6, each rounded to
float32 (cloze's OptimizerConfig fields are float), amsgrad off. Two parameter groups as
Trainer.create_optimizer builds them: weight_decay 0.01 for the names of
Trainer.get_decay_parameter_names (all but the parameters of nn.LayerNorm modules and names
containing "bias" or a norm), 0.0 for the others (every LayerNorm / full_layer_layer_norm
weight and bias and every bias: exactly the tensors whose names contain "LayerNorm",
"layer_norm" or "bias", cloze's NamedTensor::weight_decay = false; asserted below). Per
element, at step t (1-based), with lr the step's scheduled value:
  p ← p · (1 − lr · weight_decay)
  m ← m.lerp(g, 1 − β1)                     = β1·m + (1 − β1)·g up to rounding
  v ← β2·v + (1 − β2)·g²
  p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)

Schedule (HF get_linear_schedule_with_warmup, a LambdaLR stepped after each update), for
the update after s completed steps, W = 2, T = 20:
  s < W:  lr = peak · s / W                  (so step 0 has lr 0: only the moments move)
  else:   lr = peak · max(0, (T − s) / (T − W))

The four batches (B = 3, S = 12, padding and two segments; batch 0 is exactly
albert_seqcls_golden's, so step 0's loss is that fixture's loss) are cycled.

Tensors (NAME: every parameter by HF name, K: batch 0..3):
  param.NAME                 float32, the starting weights (= albert_seqcls_golden's)
  final.NAME                 float32, the weights after the 20 steps
  final.exp_avg.NAME, final.exp_avg_sq.NAME   float32, AdamW's moments after the 20 steps
  input.batchK.input_ids, input.batchK.token_type_ids, input.batchK.attention_mask
                             int32 (B, S)
  input.batchK.labels        int32 (B)
  output.step_loss           float64 (20): each step's loss, before its update
  output.grad_norm           float64 (20): each step's pre-clip global norm (float32 in torch)
  output.learning_rate       float64 (20): each step's learning rate
Metadata: format, config, torch, transformers, seed, and every hyperparameter above
(floats as Python reprs of the float32 values); no_decay: the undecayed names, JSON.

    python3 tests/golden/finetune_trajectory.py   # also run by generate_head_golden.py
"""

import json
import os
import sys

import numpy as np
import torch
import transformers
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from tests.golden.generate_golden import HERE, fixture_metadata, i32, make_encoder_inputs  # noqa: E402
from tests.golden.generate_head_golden import (  # noqa: E402
    FIXTURES, build_randomized, make_labels, run_head)

FORMAT = "cloze-finetune-trajectory-v1"
INIT_FIXTURE = "albert_seqcls_golden"
OUTPUT = "albert_seqcls_trajectory"

F32 = lambda x: float(np.float32(x))  # noqa: E731  (a float32 value, as a Python float)
LEARNING_RATE = F32(1e-3)
BETA1, BETA2 = F32(0.9), F32(0.999)
EPSILON = F32(1e-6)
WEIGHT_DECAY = F32(0.01)
MAX_GRAD_NORM = 1.0
WARMUP_STEPS, TOTAL_STEPS = 2, 20
# Examples' lengths of batches 1..3 (batch 0 is the init fixture's batch).
EXTRA_BATCH_LENGTHS = [[10, 12, 5], [8, 6, 12], [12, 11, 4]]

CLOZE_NO_DECAY = ["LayerNorm", "layer_norm", "bias"]  # trainer/parameter_layout.cc's rule


def make_batches(config, generator, head, options, first_batch):
    """Batch 0 is `first_batch`; the others come from `generator`."""
    batches = [first_batch]
    for lengths in EXTRA_BATCH_LENGTHS:
        encoder_inputs = make_encoder_inputs(config, generator, lengths)
        batches.append((encoder_inputs, make_labels(head, options, generator, lengths)))
    return batches


def make_optimizer(model):
    """torch.optim.AdamW with the parameter groups of transformers.Trainer.create_optimizer;
    returns (optimizer, names without weight decay)."""
    # get_decay_parameter_names does not use the Trainer's state.
    decay = set(transformers.Trainer.get_decay_parameter_names(None, model))
    names = [n for n, _ in model.named_parameters()]
    no_decay = [n for n in names if n not in decay]
    cloze_no_decay = [n for n in names if any(word in n for word in CLOZE_NO_DECAY)]
    assert no_decay == cloze_no_decay, (no_decay, cloze_no_decay)
    groups = [
        {"params": [p for n, p in model.named_parameters() if n in decay],
         "weight_decay": WEIGHT_DECAY},
        {"params": [p for n, p in model.named_parameters() if n not in decay],
         "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=LEARNING_RATE, betas=(BETA1, BETA2), eps=EPSILON,
                                  foreach=False)  # torch's default on CPU
    return optimizer, no_decay


def generate_trajectory():
    torch.use_deterministic_algorithms(True)
    name, config_name, head, options, seed = next(f for f in FIXTURES if f[0] == INIT_FIXTURE)
    config, model, generator = build_randomized(config_name, head, options, seed)
    first_batch = (make_encoder_inputs(config, generator), make_labels(head, options, generator))
    init = load_file(os.path.join(HERE, INIT_FIXTURE + ".safetensors"))
    tensors = {}
    for n, p in model.named_parameters():
        assert torch.equal(p.detach(), init["param." + n]), n
        tensors["param." + n] = p.detach().clone().contiguous()
    batches = make_batches(config, generator, head, options, first_batch)
    for k, ((input_ids, token_type_ids, attention_mask), labels) in enumerate(batches):
        tensors.update({
            f"input.batch{k}.input_ids": i32(input_ids),
            f"input.batch{k}.token_type_ids": i32(token_type_ids),
            f"input.batch{k}.attention_mask": i32(attention_mask),
            f"input.batch{k}.labels": i32(labels["labels"]),
        })

    optimizer, no_decay = make_optimizer(model)
    scheduler = transformers.get_linear_schedule_with_warmup(optimizer, WARMUP_STEPS, TOTAL_STEPS)
    losses, norms, rates = [], [], []
    for step in range(TOTAL_STEPS):
        encoder_inputs, labels = batches[step % len(batches)]
        out = run_head(model, head, encoder_inputs, labels)
        out.loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
        model.zero_grad()
        losses.append(out.loss.item())
        norms.append(float(norm))
    assert losses[0] == init["output.loss"].item(), (losses[0], init["output.loss"])
    assert rates[0] == 0.0 and rates[WARMUP_STEPS] == LEARNING_RATE, rates

    for n, p in model.named_parameters():
        state = optimizer.state[p]
        assert int(state["step"]) == TOTAL_STEPS
        tensors["final." + n] = p.detach().clone().contiguous()
        tensors["final.exp_avg." + n] = state["exp_avg"].clone().contiguous()
        tensors["final.exp_avg_sq." + n] = state["exp_avg_sq"].clone().contiguous()
    tensors["output.step_loss"] = torch.tensor(losses, dtype=torch.float64)
    tensors["output.grad_norm"] = torch.tensor(norms, dtype=torch.float64)
    tensors["output.learning_rate"] = torch.tensor(rates, dtype=torch.float64)

    metadata = fixture_metadata(
        FORMAT, config, seed,
        init_fixture=INIT_FIXTURE,
        optimizer="torch.optim.AdamW(foreach=False, amsgrad=False, maximize=False)",
        bias_correction="true",
        learning_rate=repr(LEARNING_RATE),
        beta1=repr(BETA1),
        beta2=repr(BETA2),
        epsilon=repr(EPSILON),
        weight_decay=repr(WEIGHT_DECAY),
        no_decay=json.dumps(no_decay),
        max_grad_norm=repr(MAX_GRAD_NORM),
        clip="torch.nn.utils.clip_grad_norm_(norm_type=2): grads *= min(1, max / (norm + 1e-6))",
        schedule="transformers.get_linear_schedule_with_warmup",
        warmup_steps=str(WARMUP_STEPS),
        total_steps=str(TOTAL_STEPS),
        steps=str(TOTAL_STEPS),
        batches=str(len(batches)),
    )
    path = os.path.join(HERE, OUTPUT + ".safetensors")
    save_file(tensors, path, metadata=metadata)
    print(f"{path}: loss {losses[0]:.6f} -> {losses[-1]:.6f}, grad norms "
          f"{min(norms):.3f}..{max(norms):.3f}, {len(tensors)} tensors, "
          f"{os.path.getsize(path)} bytes")


if __name__ == "__main__":
    sys.exit(generate_trajectory())
