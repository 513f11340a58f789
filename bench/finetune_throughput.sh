#!/usr/bin/env bash
# Fine-tuning throughput on SST-2 with ALBERT-base: `cloze finetune` against Hugging Face's
# AlbertForSequenceClassification in a plain PyTorch loop (bench/finetune_throughput_hf.py),
# same batches, same thread count. Runs in the repository root wherever it is called from:
#
#   PYTHON=/path/to/venv/bin/python bench/finetune_throughput.sh            # all cores, 3 + 20 steps
#   PYTHON=... bench/finetune_throughput.sh --threads=2 --warmup=3 --steps=20
#   PYTHON=... bench/finetune_throughput.sh --steps=5 --build=0             # a quick check
#   PYTHON=... bench/finetune_throughput.sh --precision=bf16                # both sides in bf16
#
# PYTHON needs torch, transformers (with tokenizers), sentencepiece and protobuf; PyPI's
# wheels do (CPU or CUDA builds alike):
#   python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install torch transformers sentencepiece protobuf
#
# Flags (defaults in brackets):
#   --threads=N          [all cores] OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS
#                        for both programs; torch.set_num_threads(N) for PyTorch, cloze
#                        finetune's --threads=N.
#   --warmup=N [3]       untimed steps first (allocation, OpenMP start-up, caches)
#   --steps=N [20]       timed steps
#   --seed=N [1]         the data order's seed (both sides take the same batches)
#   --batch_size=N [32], --max_seq_length=N [128]
#   --attn=IMPL [default] PyTorch attention: default (sdpa), eager or sdpa
#   --precision=P [fp32] fp32, or bf16 on both sides: cloze finetune --precision=bf16 (bf16
#                        matrix products, kernels/cpu/bf16_gemm.h) against PyTorch's forward
#                        under torch.autocast("cpu", dtype=torch.bfloat16)
#   --padded_tokens=0|1 [0] cloze runs every position, pads included (cloze finetune
#                        --padded_tokens) instead of the real tokens only: the packed
#                        encoder's gain, on the same batches
#   --build=0|1 [1]      bazel build --config=cpu //cli:cloze first
#   --keep=DIR           keep cloze's run folder and both JSON results in DIR
#
# What is timed: the same N steps on both sides, each step being: collate the next 32 SST-2
# examples of the shuffled train split, padded to the longest of them (dynamic padding);
# zero the gradients; forward in training mode (the config's dropout) with the
# classification loss; backward; clip the gradient norm at 1.0; AdamW update (lr 2e-5,
# linear warmup schedule). cloze's step times are its metrics.jsonl "seconds" (taken inside
# the training loop: start-up, featurising the split and model init are outside them);
# PyTorch's are time.perf_counter around the same work. Tokenisation is outside both.
# Throughput = timed examples (or tokens) / the sum of the timed steps' seconds.
#
# Same batches: the HF script rebuilds cloze's shuffle (trainer/task_batch_source.cc) and
# the script refuses to report if any step's non-padding token count differs between the
# two (the per-step "tokens" of metrics.jsonl against the HF batches'). Padded tokens are the
# HF batches' B x longest, which are cloze's too when the batches are the same.
#
# Prints a markdown table; ratio = cloze examples/s / PyTorch examples/s (above 1: cloze
# faster). Results go to bench/RESULTS.md by hand, with the command, machine and date.
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
THREADS=$(nproc)
WARMUP=3
STEPS=20
SEED=1
BATCH=32
MAXLEN=128
ATTN=default
PRECISION=fp32
BUILD=1
PADDED=0
KEEP=
for arg in "$@"; do
  case $arg in
    --threads=*) THREADS=${arg#*=} ;;
    --warmup=*) WARMUP=${arg#*=} ;;
    --steps=*) STEPS=${arg#*=} ;;
    --seed=*) SEED=${arg#*=} ;;
    --batch_size=*) BATCH=${arg#*=} ;;
    --max_seq_length=*) MAXLEN=${arg#*=} ;;
    --attn=*) ATTN=${arg#*=} ;;
    --precision=*) PRECISION=${arg#*=} ;;
    --build=*) BUILD=${arg#*=} ;;
    --padded_tokens=*) PADDED=${arg#*=} ;;
    --keep=*) KEEP=${arg#*=} ;;
    *) echo "finetune_throughput.sh: unknown argument $arg (see the comment at the top)" >&2; exit 2 ;;
  esac
done
for flag in "threads=$THREADS" "warmup=$WARMUP" "steps=$STEPS" "seed=$SEED" "batch_size=$BATCH" \
  "max_seq_length=$MAXLEN"; do
  [[ "${flag#*=}" =~ ^[0-9]+$ ]] || { echo "finetune_throughput.sh: --$flag: want a whole number" >&2; exit 2; }
done
[[ "$PRECISION" == fp32 || "$PRECISION" == bf16 ]] ||
  { echo "finetune_throughput.sh: --precision=$PRECISION: want fp32 or bf16" >&2; exit 2; }
(( THREADS > 0 && STEPS > 0 )) ||
  { echo "finetune_throughput.sh: --threads and --steps must be positive" >&2; exit 2; }

PYTHON=${PYTHON:-python3}
SHARED=${SHARED:-../shared/data}
CONFIG=configs/albert-base.textproto
SPIECE=$SHARED/vocab/albert-base-v2-spiece.model
"$PYTHON" -c 'import torch, transformers, sentencepiece, tokenizers' 2>/dev/null ||
  { echo "finetune_throughput.sh: $PYTHON lacks torch, transformers, tokenizers or sentencepiece;" \
      "set PYTHON (see the top)" >&2; exit 2; }
[[ -f "$SHARED/glue/SST-2/train.tsv" && -f "$SPIECE" ]] ||
  { echo "finetune_throughput.sh: no $SHARED/glue/SST-2/train.tsv or $SPIECE; set SHARED" >&2; exit 2; }

if [[ "$BUILD" != 0 ]]; then
  bazel build --config=cpu //cli:cloze >&2
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS

echo "== cloze finetune, $THREADS thread(s), $PRECISION, $WARMUP + $STEPS steps" >&2
start=$(date +%s.%N)
bazel-bin/cli/cloze finetune --task=SST-2 --data_dir="$SHARED/glue" --init=scratch --model_config="$CONFIG" \
  --tokenizer="spm-albert:$SPIECE" --run_dir="$WORK/cloze" --batch_size="$BATCH" --max_seq_length="$MAXLEN" \
  --seed="$SEED" --threads="$THREADS" --precision="$PRECISION" --stop_after_step=$((WARMUP + STEPS)) --metrics_address= --padded_tokens=$([ "$PADDED" = 1 ] && echo true || echo false) >"$WORK/cloze.log" 2>&1 ||
  { cat "$WORK/cloze.log" >&2; echo "finetune_throughput.sh: cloze finetune failed" >&2; exit 1; }
end=$(date +%s.%N)
echo "  wall clock $(echo "$end - $start" | bc -l | xargs printf '%.1f') s (start-up and featurising included)" >&2

echo "== Hugging Face (PyTorch), $THREADS thread(s), $PRECISION, $WARMUP + $STEPS steps" >&2
"$PYTHON" bench/finetune_throughput_hf.py --config="$CONFIG" --data_dir="$SHARED/glue/SST-2" --spiece="$SPIECE" \
  --batch_size="$BATCH" --max_seq_length="$MAXLEN" --seed="$SEED" --warmup="$WARMUP" --steps="$STEPS" \
  --threads="$THREADS" --precision="$PRECISION" --attn_implementation="$ATTN" >"$WORK/hf.json"

if [[ -n "$KEEP" ]]; then
  mkdir -p "$KEEP"
  cp -r "$WORK/cloze" "$WORK/cloze.log" "$WORK/hf.json" "$KEEP/"
fi

python3 - "$WORK/cloze/metrics.jsonl" "$WORK/hf.json" "$PRECISION" "$WARMUP" "$STEPS" "$BATCH" "$THREADS" "$PADDED" <<'EOF'
import json, sys
metrics, hf_path, precision, warmup, steps, batch, threads = *sys.argv[1:4], *map(int, sys.argv[4:8])
records = [json.loads(line) for line in open(metrics, encoding="utf-8")]
records = [r for r in records if "seconds" in r]
hf = json.loads(open(hf_path, encoding="utf-8").read().strip().splitlines()[-1])
if len(records) != warmup + steps:
    sys.exit(f"finetune_throughput.sh: {metrics} has {len(records)} steps, want {warmup + steps}")
cloze_tokens = [r["tokens"] for r in records]
if cloze_tokens != hf["tokens"]:
    first = next(i for i, (a, b) in enumerate(zip(cloze_tokens, hf["tokens"])) if a != b)
    sys.exit(f"finetune_throughput.sh: the two sides trained on different batches: step {first + 1} has "
             f"{cloze_tokens[first]} tokens in cloze, {hf['tokens'][first]} in PyTorch")
timed = slice(warmup, warmup + steps)
real, padded = sum(hf["tokens"][timed]), sum(hf["padded_tokens"][timed])

def row(name, seconds):
    total = sum(seconds[timed])
    ms = sorted(1000 * s for s in seconds[timed])
    median = ms[len(ms) // 2] if len(ms) % 2 else 0.5 * (ms[len(ms) // 2 - 1] + ms[len(ms) // 2])
    rate = steps * batch / total
    print(f"| {name} | {precision} | {threads} | {rate:.2f} | {real / total:.1f} | {padded / total:.1f} | {median:.0f} |")
    return rate

print(f"\nSST-2 train, ALBERT-base ({hf['attention']} attention in PyTorch), batch {batch}, "
      f"{warmup} warmup + {steps} timed steps; {real} real tokens in {padded} padded "
      f"({real / padded:.0%}); PyTorch {hf['torch']}, transformers {hf['transformers']}.\n")
print("| impl | precision | threads | examples/s | tokens/s (real) | tokens/s (padded) | median ms/step |")
print("|---|---|---|---|---|---|---|")
cloze_rate = row("cloze (padded)" if sys.argv[8] == "1" else "cloze (packed)", [r["seconds"] for r in records])
hf_rate = row("PyTorch (HF)", hf["seconds"])
print(f"\nRatio cloze / PyTorch: {cloze_rate / hf_rate:.2f}x (target: 1.5x)")
EOF
