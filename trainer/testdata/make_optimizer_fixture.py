#!/usr/bin/env python3
"""Writes trainer/testdata/optimizer_fixture.safetensors: a few optimizer steps by
independent references, which trainer/optimizer_parity_test.cc requires cloze to match.

  * AdamW: torch.optim.AdamW itself (decay and no-decay parameter groups).
  * LAMB: a line-by-line port of ALBERT's LAMBOptimizer.apply_gradients
    (google-research/albert lamb_optimizer.py) to torch float32 tensors.
  * The learning rate: a port of ALBERT's create_optimizer schedule
    (google-research/albert optimization.py: polynomial_decay, then linear warmup).
  * Clipping: tf.clip_by_global_norm's rule at max_grad_norm, with the norm in float64
    (cross-checked against torch.nn.utils.clip_grad_norm_).

The starting point is the tiny ALBERT of tests/golden (albert_golden.textproto): its
parameters and gradients from albert_golden.safetensors, by Hugging Face name, with two
edits that exercise LAMB's edge cases, and the gradient of step k derived from the golden
gradient by exact power-of-two multiplications (so the C++ test derives bit-identical
gradients without storing them):

  initial param = golden param, except ZERO_PARAM (all zeros: LAMB's ‖p‖ = 0, ratio 1)
  grad[k][i]    = golden grad[i] * PATTERN[(i + 3k) % 5] * STEP_SCALE[k]
                  (i: row-major index within the tensor), except ZERO_GRAD (all zeros:
                  LAMB's update is weight_decay·p alone)

Weight decay (and, for LAMB, the trust ratio) applies unless a name matches ALBERT's
exclude_from_weight_decay = ["LayerNorm", "layer_norm", "bias"].

Hyperparameters are float32 values (the C++ config is float), written to the metadata.
Stored: the learning rate, pre-clip norm and whether it clipped, per step; both
optimizers' parameters after every step with a non-zero learning rate (step 0 has lr 0
and must leave them unchanged); both optimizers' moments after the last step.

    pip install torch safetensors numpy
    python3 trainer/testdata/make_optimizer_fixture.py
"""

import os
import re

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

FORMAT = "cloze-optimizer-v1"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
GOLDEN = os.path.join(ROOT, "tests", "golden", "albert_golden.safetensors")
OUTPUT = os.path.join(HERE, "optimizer_fixture.safetensors")

F32 = lambda x: float(np.float32(x))  # noqa: E731  (a float32 value, as a Python float)
LEARNING_RATE = F32(0.01)
BETA1, BETA2 = F32(0.9), F32(0.999)
EPSILON = F32(1e-6)
WEIGHT_DECAY = F32(0.01)
MAX_GRAD_NORM = F32(1.0)
WARMUP_STEPS, TOTAL_STEPS, POWER, END_LEARNING_RATE = 2, 8, F32(1.0), F32(0.001)
STEPS = 5

PATTERN = [1.0, -1.0, 0.5, -2.0, 2.0]
STEP_SCALE = [1.0, 1.0 / 16, 2.0, 1.0 / 16, 1.0]  # clipped, not, clipped, not, clipped
ZERO_PARAM = "sop_classifier.classifier.weight"
ZERO_GRAD = "albert.embeddings.token_type_embeddings.weight"
EXCLUDE_FROM_WEIGHT_DECAY = ["LayerNorm", "layer_norm", "bias"]


def decayed(name):
    return not any(re.search(r, name) for r in EXCLUDE_FROM_WEIGHT_DECAY)


def albert_learning_rate(step):
    """create_optimizer's learning rate at global_step = step (completed steps)."""
    # tf.train.polynomial_decay(init_lr, global_step, num_train_steps, end, power, cycle=False)
    p = min(step, TOTAL_STEPS) / TOTAL_STEPS
    learning_rate = (LEARNING_RATE - END_LEARNING_RATE) * (1 - p) ** POWER + END_LEARNING_RATE
    if WARMUP_STEPS:
        warmup_learning_rate = LEARNING_RATE * (step / WARMUP_STEPS)
        is_warmup = 1.0 if step < WARMUP_STEPS else 0.0
        learning_rate = (1.0 - is_warmup) * learning_rate + is_warmup * warmup_learning_rate
    return F32(learning_rate)


def gradient(golden_grad, name, step):
    g = golden_grad.reshape(-1)
    if name == ZERO_GRAD:
        return np.zeros_like(golden_grad)
    factors = np.array([PATTERN[(i + 3 * step) % 5] * STEP_SCALE[step] for i in range(g.size)],
                       dtype=np.float32)
    return (g * factors).reshape(golden_grad.shape)


def clip(grads):
    """tf.clip_by_global_norm at MAX_GRAD_NORM; returns (clipped grads, pre-clip norm)."""
    norm = float(np.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads.values())))
    holders = []
    for g in grads.values():
        holders.append(torch.nn.Parameter(torch.zeros(g.shape)))
        holders[-1].grad = torch.tensor(g)
    torch_norm = float(torch.nn.utils.clip_grad_norm_(holders, MAX_GRAD_NORM, foreach=False))
    assert abs(torch_norm - norm) <= 1e-6 * norm, (torch_norm, norm)
    if norm <= MAX_GRAD_NORM:
        return grads, norm, False
    scale = np.float32(MAX_GRAD_NORM / norm)
    return {k: (g * scale).astype(np.float32) for k, g in grads.items()}, norm, True


class AlbertLamb:
    """google-research/albert lamb_optimizer.py, LAMBOptimizer.apply_gradients, per tensor."""

    def __init__(self, params):
        self.m = {k: torch.zeros_like(p) for k, p in params.items()}
        self.v = {k: torch.zeros_like(p) for k, p in params.items()}

    def apply_gradients(self, grads, params, learning_rate):
        for name, param in params.items():
            grad = grads[name]
            m, v = self.m[name], self.v[name]
            # Python floats become float32 constants, as in the TF graph.
            next_m = torch.mul(torch.tensor(BETA1), m) + torch.mul(torch.tensor(F32(1.0 - BETA1)), grad)
            next_v = torch.mul(torch.tensor(BETA2), v) + torch.mul(
                torch.tensor(F32(1.0 - BETA2)), torch.square(grad))
            update = next_m / (torch.sqrt(next_v) + torch.tensor(EPSILON))
            if WEIGHT_DECAY and decayed(name):  # _do_use_weight_decay
                update = update + torch.tensor(WEIGHT_DECAY) * param
            ratio = 1.0
            if decayed(name):  # _do_layer_adaptation: exclusions default to weight decay's
                w_norm = float(torch.linalg.norm(param.double()))  # float64 here, float32 in TF
                g_norm = float(torch.linalg.norm(update.double()))
                ratio = (w_norm / g_norm if g_norm > 0 else 1.0) if w_norm > 0 else 1.0
            update_with_lr = torch.tensor(F32(ratio * learning_rate)) * update
            next_param = param - update_with_lr
            params[name] = next_param
            self.m[name], self.v[name] = next_m, next_v


def main():
    golden = load_file(GOLDEN)
    names = sorted(k[len("param."):] for k in golden if k.startswith("param."))
    initial = {n: golden["param." + n].copy() for n in names}
    initial[ZERO_PARAM][...] = 0
    assert decayed(ZERO_PARAM) and decayed(ZERO_GRAD)

    # AdamW: torch.optim.AdamW itself.
    adamw_params = {n: torch.nn.Parameter(torch.tensor(initial[n])) for n in names}
    adamw = torch.optim.AdamW(
        [{"params": [adamw_params[n] for n in names if decayed(n)], "weight_decay": WEIGHT_DECAY},
         {"params": [adamw_params[n] for n in names if not decayed(n)], "weight_decay": 0.0}],
        lr=LEARNING_RATE, betas=(BETA1, BETA2), eps=EPSILON, foreach=False)
    lamb_params = {n: torch.tensor(initial[n]) for n in names}
    lamb = AlbertLamb(lamb_params)

    out = {}
    rates, norms, clipped = [], [], []
    for step in range(STEPS):
        grads = {n: gradient(golden["grad." + n], n, step) for n in names}
        grads, norm, was_clipped = clip(grads)
        lr = albert_learning_rate(step)
        rates.append(lr)
        norms.append(norm)
        clipped.append(int(was_clipped))

        for group in adamw.param_groups:
            group["lr"] = lr
        for n in names:
            adamw_params[n].grad = torch.tensor(grads[n])
        adamw.step()
        lamb.apply_gradients({n: torch.tensor(g) for n, g in grads.items()}, lamb_params, lr)

        if lr == 0:
            # Step 0 of a warmup: both leave the parameters exactly as they were (only the
            # moments move); the C++ test checks that itself instead of storing a copy.
            for n in names:
                assert np.array_equal(adamw_params[n].detach().numpy(), initial[n]), n
                assert np.array_equal(lamb_params[n].numpy(), initial[n]), n
            continue
        for n in names:
            out[f"adamw.step{step}.param.{n}"] = adamw_params[n].detach().numpy().copy()
            out[f"lamb.step{step}.param.{n}"] = lamb_params[n].numpy().copy()
    for n in names:
        state = adamw.state[adamw_params[n]]
        assert int(state["step"]) == STEPS
        out[f"adamw.exp_avg.{n}"] = state["exp_avg"].numpy().copy()
        out[f"adamw.exp_avg_sq.{n}"] = state["exp_avg_sq"].numpy().copy()
        out[f"lamb.exp_avg.{n}"] = lamb.m[n].numpy().copy()
        out[f"lamb.exp_avg_sq.{n}"] = lamb.v[n].numpy().copy()
    out["schedule.learning_rate"] = np.array(rates, dtype=np.float32)
    out["grad_norm"] = np.array(norms, dtype=np.float64)
    out["clipped"] = np.array(clipped, dtype=np.int32)
    assert 0 < sum(clipped) < STEPS, "the fixture must clip some steps and not others"

    metadata = {
        "format": FORMAT,
        "torch": torch.__version__,
        "learning_rate": repr(LEARNING_RATE),
        "beta1": repr(BETA1),
        "beta2": repr(BETA2),
        "epsilon": repr(EPSILON),
        "weight_decay": repr(WEIGHT_DECAY),
        "max_grad_norm": repr(MAX_GRAD_NORM),
        "warmup_steps": str(WARMUP_STEPS),
        "total_steps": str(TOTAL_STEPS),
        "power": repr(POWER),
        "end_learning_rate": repr(END_LEARNING_RATE),
        "steps": str(STEPS),
        "zero_param": ZERO_PARAM,
        "zero_grad": ZERO_GRAD,
    }
    save_file(out, OUTPUT, metadata=metadata)
    os.chmod(OUTPUT, 0o644)
    print(f"wrote {OUTPUT}: {len(out)} tensors; grad norms {norms}; learning rates {rates}")


if __name__ == "__main__":
    main()
