#!/usr/bin/env python3
"""Where cpu_step_bench spends its CPU time, by op, from a `perf record --call-graph dwarf`
profile. Reads `perf script` text on stdin:

    OMP_NUM_THREADS=1 perf record -F 149 --call-graph dwarf,16384 -o /tmp/step.data \
        bazel-bin/bench/cpu_step_bench --warmup=1 --steps=3
    perf script -i /tmp/step.data | python3 bench/perf_breakdown.py

Each sample goes to the op of its innermost cloze::cpu frame (OpenBLAS frames below it are
that op's GEMM). Setup (parameter initialisation, the first step's buffer allocation,
program start and exit) is counted separately and left out of the percentages, which are
shares of the CPU time of the steps, summed over threads.
"""

import collections
import re
import sys

OP = re.compile(r"cloze::cpu::(\w+)")
SETUP = re.compile(r"InitializeParameterBuffer|ResizeActivations|cloze::Model::Model|cloze::Model::~Model|_dl_")
IN_STEP = re.compile(r"cloze::Model::(Forward|Backward|ZeroGradients)")
BLAS = re.compile(r"sgemm|cblas_|openblas", re.I)

CATEGORIES = {
    "matmul_forward": "GEMM, dense layers (forward)",
    "matmul_backward": "GEMM, dense layers (backward)",
    "bias_forward": "bias add / bias gradient",
    "bias_backward": "bias add / bias gradient",
    "gelu_tanh_forward": "activation (GELU etc.)",
    "gelu_tanh_backward": "activation (GELU etc.)",
    "gelu_erf_forward": "activation (GELU etc.)",
    "gelu_erf_backward": "activation (GELU etc.)",
    "relu_forward": "activation (GELU etc.)",
    "relu_backward": "activation (GELU etc.)",
    "activation_forward": "activation (GELU etc.)",
    "activation_backward": "activation (GELU etc.)",
    "masked_softmax_forward": "attention: masked softmax",
    "masked_softmax_backward": "attention: masked softmax",
    "layernorm_forward": "layer norm",
    "layernorm_backward": "layer norm",
    "softmax_cross_entropy_forward": "softmax cross-entropy (MLM vocab, SOP)",
    "softmax_cross_entropy_backward": "softmax cross-entropy (MLM vocab, SOP)",
    "embedding_forward": "embeddings",
    "embedding_backward": "embeddings",
    "gather_rows_forward": "gather / scatter rows",
    "gather_rows_backward": "gather / scatter rows",
    "tanh_forward": "pooler tanh",
    "tanh_backward": "pooler tanh",
}


def classify(frames):
    """The category of one sample, leaf frame first; None for setup."""
    if any(SETUP.search(f) for f in frames):
        return None
    saw_blas = False
    for frame in frames:
        if BLAS.search(frame):
            saw_blas = True
        match = OP.search(frame)
        if match:
            op = match.group(1)
            if op.startswith("attention_"):
                return "attention: QK^T and PV products" if saw_blas else "attention: other (loops, dropout)"
            return CATEGORIES.get(op, "other ops (residual, dropout, accumulate)")
    if frames and "libgomp" in frames[0]:
        return "OpenMP runtime (barriers, idle spinning)"
    if any(IN_STEP.search(f) for f in frames):
        if frames and "memset" in frames[0]:
            return "zeroing (ZeroGradients, gradient scratch)"
        if any("Summarize" in f for f in frames):
            return "loss summary (argmax over logits, model.cc)"
        return "other, in the step"
    if any(BLAS.search(f) for f in frames):
        return "GEMM on OpenBLAS worker threads (caller not visible)"
    return "other, outside the step"


def samples(lines):
    frames = []
    for line in lines:
        if line.startswith((" ", "\t")):
            frames.append(line.strip())
        elif frames or not line.strip():
            if frames:
                yield frames
            frames = []
    if frames:
        yield frames


def main():
    counts = collections.Counter()
    setup = 0
    for frames in samples(sys.stdin):
        category = classify(frames)
        if category is None:
            setup += 1
        else:
            counts[category] += 1
    total = sum(counts.values())
    if total == 0:
        print("perf_breakdown.py: no samples in the step (was the profile recorded with "
              "--call-graph dwarf?)", file=sys.stderr)
        return 1
    print(f"{total} samples in the steps, {setup} in setup (left out)\n")
    print("| where | share of step CPU time |")
    print("|---|---|")
    for category, count in counts.most_common():
        print(f"| {category} | {100.0 * count / total:.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
