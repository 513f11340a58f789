#!/usr/bin/env bash
# Issue 11's matrix: the main job's pretrained checkpoint (runs/demo, made by deploy/demo.sh)
# and the same model from scratch, fine-tuned with cloze evaluate --with_scratch, one
# evaluation folder per task (its own hyperparameters, seeds and table, RUN/TASK/evaluation.md):
# the GLUE tasks in ../shared/data/glue, UD English-EWT POS and SQuAD v1.1. The command
# resumes: run again after an interruption, it redoes no finished (task, seed) run.
#
# shared/ holds only SQuAD v1.1's dev set: its first 24 articles (5,696 questions) become the
# training file and the other 24 (4,874 questions) the evaluation file, written once into
# RUN/squad-split (python3, no packages).
#
#   bash bench/finetune_matrix.sh [--threads=2] [--seeds=3] [--build=1] [TASK ...]
#   TASK: CoLA MRPC STS-B RTE SST-2 pos squad (default all, in that order)
#   env: DEMO=runs/demo  RUN=runs/matrix  SHARED=../shared/data  SQUAD_SEEDS=1
#   (DEMO: any run folder with train/ and data/tokenizer.model, e.g. runs/small from
#   deploy/pretrain_small.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: bash bench/finetune_matrix.sh [--threads=N] [--seeds=3] [--build=0|1] [TASK ...]"
ALL_TASKS=(CoLA MRPC STS-B RTE SST-2 pos squad)  # run_group's cases, in the default order
THREADS=2 SEEDS=3 BUILD=1 GROUPS_TO_RUN=()
for arg in "$@"; do
  case "$arg" in
    --threads=*) THREADS=${arg#*=} ;;
    --seeds=*) SEEDS=${arg#*=} ;;
    --build=*) BUILD=${arg#*=} ;;
    -*) echo "$usage" >&2; exit 2 ;;
    *) GROUPS_TO_RUN+=("$arg") ;;
  esac
done
[ ${#GROUPS_TO_RUN[@]} -gt 0 ] || GROUPS_TO_RUN=("${ALL_TASKS[@]}")
for group in "${GROUPS_TO_RUN[@]}"; do
  [[ " ${ALL_TASKS[*]} " == *" $group "* ]] || { echo "unknown task $group; $usage" >&2; exit 2; }
done
SQUAD_SEEDS=${SQUAD_SEEDS:-1}
DEMO=${DEMO:-runs/demo} RUN=${RUN:-runs/matrix} SHARED=${SHARED:-../shared/data}
[ "$BUILD" = 1 ] && bazel build //cli:cloze
C=bazel-bin/cli/cloze
if [ ! -d "$DEMO/train" ]; then
  echo "no pretraining in $DEMO/train: run bash deploy/demo.sh first (or set DEMO=)" >&2
  exit 2
fi
mkdir -p "$RUN"

if [ ! -f "$RUN/squad-split/dev-v1.1.json" ]; then
  mkdir -p "$RUN/squad-split.partial"
  python3 - "$SHARED/squad-v1.1/dev-v1.1.json.xz" "$RUN/squad-split.partial" <<'EOF'
import json, lzma, sys
source, out = sys.argv[1], sys.argv[2]
with lzma.open(source, "rt", encoding="utf-8") as f:
    squad = json.load(f)
articles = squad["data"]
half = len(articles) // 2
for name, part in (("train-v1.1.json", articles[:half]), ("dev-v1.1.json", articles[half:])):
    with open(f"{out}/{name}", "w", encoding="utf-8") as f:
        json.dump({"version": squad["version"], "data": part}, f, ensure_ascii=False)
    questions = sum(len(p["qas"]) for a in part for p in a["paragraphs"])
    print(f"squad-split: {name}: {len(part)} articles, {questions} questions")
EOF
  rm -rf "$RUN/squad-split" && mv "$RUN/squad-split.partial" "$RUN/squad-split"
fi

# What every group shares: the checkpoint, its tokenizer, the scratch twin, seeds and the
# HF-style defaults (AdamW, 10% linear warmup then linear decay).
COMMON=(--init="$DEMO/train" --tokenizer="spm:$DEMO/data/tokenizer.model" --with_scratch
        --seed=1 --threads="$THREADS" --learning_rate=1e-4 --batch_size=32
        --metrics_address=)

evaluate() {  # GROUP, then that group's flags
  local group=$1; shift
  echo "== $group: $(date -u +%H:%M:%S)"
  $C evaluate "${COMMON[@]}" --run_dir="$RUN/$group" "$@" 2>&1 | grep -v '^\[cloze\] step' | tail -30
}

run_group() {  # one evaluation folder per task: its hyperparameters, seeds and table
  case "$1" in
    CoLA|MRPC|STS-B|RTE)  # the small GLUE tasks: 3 epochs at length 128, dev every 100 steps
      evaluate "$1" --seeds="$SEEDS" --suite=glue --data_dir="$SHARED/glue" --tasks="$1" \
        --epochs=3 --max_seq_length=128 --eval_every_steps=100 --group_by_length ;;
    SST-2)  # 67,349 sentences of ~10 words: one epoch, batched by length
      evaluate SST-2 --seeds="$SEEDS" --suite=glue --data_dir="$SHARED/glue" --tasks=SST-2 \
        --epochs=1 --max_seq_length=128 --eval_every_steps=500 --group_by_length ;;
    pos)  # UD English-EWT UPOS: 2 epochs
      evaluate pos --seeds="$SEEDS" --suite=pos --ud_dir="$SHARED/ud-english-ewt" \
        --epochs=2 --max_seq_length=128 --eval_every_steps=400 ;;
    squad)  # the split above: windows of 256 every 128 tokens, one epoch, SQUAD_SEEDS seeds
      evaluate squad --seeds="$SQUAD_SEEDS" --suite=squad --squad_dir="$RUN/squad-split" \
        --epochs=1 --max_seq_length=256 --doc_stride=128 --eval_every_steps=200 ;;
  esac
}

for group in "${GROUPS_TO_RUN[@]}"; do run_group "$group"; done

echo "== done: $(date -u +%H:%M:%S); each task's table is in $RUN/TASK/evaluation.md; all of them:"
python3 bench/matrix_table.py "$RUN"
