#!/usr/bin/env python3
"""Times the training step of bench/gpu_step_bench.cc in PyTorch on the GPU: Hugging Face
AlbertForPreTraining / BertForPreTraining built from the same ModelConfig text proto, bf16
autocast over fp32 master weights, zero_grad + forward + backward + clip_grad_norm_(1.0) +
AdamW (fused where available), eager and torch.compile, on the same shapes and the same
synthetic batch (batch_checksum equals gpu_step_bench's for the same case and seed).

    python3 bench/gpu/torch_step.py                         # the four default cases
    python3 bench/gpu/torch_step.py --cases=bert-base:128:128 --modes=eager

--mlm_head=full (default) is the stock model: MLM logits at all B*T positions, loss over
the masked ones; --mlm_head=masked applies the MLM head only at the masked positions, as
cloze does. Attention is Hugging Face's default for the installed version ("sdpa" where the
model supports it) unless --attn_implementation says otherwise. Prints one key=value line
per case and mode ("case name=... impl=torch_eager|torch_compile ..."), the format of
gpu_step_bench; a case that fails (out of memory, a compile error) prints error="...".
Run from the repository root (configs/ and tests/ are read from there).
"""

import argparse
import importlib.util
import os
import sys
import time

import torch
import transformers

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, ROOT)
from tests.hf_reference import build_model, read_textproto  # noqa: E402

# bench/torch_step.py (the CPU comparison) holds the batch recipe and the loss; loaded by
# path, since this file has the same module name.
_spec = importlib.util.spec_from_file_location("cpu_torch_step", os.path.join(ROOT, "bench", "torch_step.py"))
_cpu_torch_step = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cpu_torch_step)
batch_checksum, make_batch = _cpu_torch_step.batch_checksum, _cpu_torch_step.make_batch
step_loss, to_tensors = _cpu_torch_step.step_loss, _cpu_torch_step.to_tensors

DEFAULT_CASES = "albert-base:128:128,albert-base:512:32,bert-base:128:128,bert-base:512:32"


def make_optimizer(model):
    decayed = [p for n, p in model.named_parameters() if not ("LayerNorm" in n or n.endswith("bias"))]
    others = [p for n, p in model.named_parameters() if "LayerNorm" in n or n.endswith("bias")]
    groups = [{"params": decayed, "weight_decay": 0.01}, {"params": others, "weight_decay": 0.0}]
    try:
        return torch.optim.AdamW(groups, lr=1e-4, betas=(0.9, 0.999), eps=1e-6, fused=True), "fused"
    except (TypeError, RuntimeError):
        return torch.optim.AdamW(groups, lr=1e-4, betas=(0.9, 0.999), eps=1e-6), "foreach"


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 == 1 else 0.5 * (values[n // 2 - 1] + values[n // 2])


def run_case(args, name, seq_len, batch_size, mode):
    config = read_textproto(os.path.join(ROOT, "configs", name + ".textproto"))
    albert = config["model_type"] == "albert"
    predictions = args.predictions_per_seq or seq_len * 5 // 32
    torch.manual_seed(args.seed)
    model = build_model(config, training=True, attn_implementation=args.attn_implementation).cuda().train()
    batch = make_batch(config["vocab_size"], batch_size, seq_len, predictions, args.seed)
    inputs = {k: v.cuda() for k, v in to_tensors(batch, batch_size, seq_len).items()}
    optimizer, optimizer_kind = make_optimizer(model)

    def loss_of(batch_inputs):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            return step_loss(model, albert, batch_inputs, args.mlm_head)

    forward = torch.compile(loss_of) if mode == "compile" else loss_of
    times, first_loss = [], None
    for step in range(args.warmup + args.steps):
        torch.cuda.synchronize()
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = forward(inputs)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        torch.cuda.synchronize()
        end = time.perf_counter()
        if step == 0:
            first_loss = loss.item()
        if step >= args.warmup:
            times.append(end - start)
    step_s = median(times)
    attn = getattr(model.config, "_attn_implementation", "?")
    print(f"case name={name}_seq{seq_len} impl=torch_{mode} config=configs/{name}.textproto "
          f"batch_size={batch_size} seq_len={seq_len} predictions_per_seq={predictions} precision=bf16_autocast "
          f"optimizer=adamw_{optimizer_kind} mlm_head={args.mlm_head} attention={attn} "
          f"batch_checksum={batch_checksum(batch):016x} steps={args.steps} step_ms={step_s * 1e3:.3f} "
          f"min_ms={min(times) * 1e3:.3f} tokens_per_s={batch_size * seq_len / step_s:.1f} "
          f"first_loss={first_loss:.4f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=DEFAULT_CASES, help="NAME:SEQ_LEN:BATCH_SIZE, comma-separated")
    parser.add_argument("--predictions_per_seq", type=int, default=0, help="0: seq_len*5/32, as gpu_step_bench")
    parser.add_argument("--modes", default="eager,compile")
    parser.add_argument("--mlm_head", choices=("full", "masked"), default="full")
    parser.add_argument("--attn_implementation", default="default", help="default, sdpa or eager")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps (torch.compile compiles in the first)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("torch_step: torch.cuda.is_available() is false", file=sys.stderr)
        return 1
    print(f"torch device=\"{torch.cuda.get_device_name(0)}\" torch={torch.__version__} "
          f"transformers={transformers.__version__}", flush=True)
    failed = 0
    for item in args.cases.split(","):
        name, seq_len, batch_size = item.split(":")
        for mode in args.modes.split(","):
            try:
                run_case(args, name, int(seq_len), int(batch_size), mode)
            except Exception as error:  # noqa: BLE001 (one failed case must not hide the others)
                message = str(error).splitlines()[0].replace('"', "'") if str(error) else type(error).__name__
                print(f"case name={name}_seq{seq_len} impl=torch_{mode} error=\"{message[:200]}\"", flush=True)
                failed = 1
            torch.cuda.empty_cache()
            if mode == "compile":
                torch._dynamo.reset()
    return failed


if __name__ == "__main__":
    sys.exit(main())
