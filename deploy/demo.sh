#!/usr/bin/env bash
# The README's main job: set up, build, prepare the shipped demo corpus into a sharded
# dataset (with its own SentencePiece model), then pretrain ALBERT-tiny on it for a few
# minutes as a distributed job of 2 workers (configs/train-demo.textproto, cloze launch)
# and print a summary. Pretraining and fine-tuning run their matrix products in bf16 where
# the CPU has AVX512-BF16 (fp32 elsewhere; each log's "precision:" line says which ran).
# Running it again resumes the job from its last committed checkpoint (and finishes at
# once if it is complete); delete runs/demo to start over.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_DIR=${RUN_DIR:-runs/demo}
bash deploy/setup.sh
bazel build //cli:cloze
cloze=bazel-bin/cli/cloze

if [ ! -d "$RUN_DIR/data" ]; then
  echo "== preparing corpus/demo into $RUN_DIR/data"
  rm -rf "$RUN_DIR/data.partial"  # left by an interrupted earlier run
  $cloze prepare --input=corpus/demo --output="$RUN_DIR/data.partial" --tokenizer=spm-train:8000 \
    --max_seq_length=128 --max_predictions_per_seq=20 --shards=4
  mv "$RUN_DIR/data.partial" "$RUN_DIR/data"  # only a complete dataset gets the real name
  $cloze inspect "$RUN_DIR/data" --examples=1 --verify
fi

echo "== pretraining ALBERT-tiny with 2 workers (configs/train-demo.textproto) in $RUN_DIR/train"
echo "   metrics: $RUN_DIR/train/metrics.jsonl; Prometheus: the coordinator on 127.0.0.1:9400,"
echo "   the workers on 9401 and 9402 (deploy/README.md); logs: $RUN_DIR/train/logs/"
echo "   precision: bf16 matrix products where the CPU has AVX512-BF16, else fp32 (the workers' log says which)"
$cloze launch --config=configs/train-demo.textproto --run_dir="$RUN_DIR/train" --metrics_address=127.0.0.1:9400

# What the pretraining was for: the final checkpoint fine-tuned on a GLUE task against the
# same model trained from scratch (its random initialisation, same seed, data and steps).
# STS-B (sentence similarity, Pearson/Spearman) ships with the repository in corpus/glue.
echo
echo "== fine-tuning on STS-B: the final checkpoint against scratch (cloze evaluate --with_scratch)"
$cloze evaluate --init="$RUN_DIR/train" --tokenizer="spm:$RUN_DIR/data/tokenizer.model" \
  --run_dir="$RUN_DIR/eval" --suite=glue --tasks=STS-B --data_dir=corpus/glue --seeds=1 --with_scratch \
  --epochs=3 --learning_rate=1e-4 --batch_size=32 --max_seq_length=128 --group_by_length --precision=bf16 \
  --metrics_address=127.0.0.1:9400

echo
echo "== the fill-in-the-blank the model was trained on (cloze fill-mask)"
$cloze fill-mask --init="$RUN_DIR/train" --tokenizer="spm:$RUN_DIR/data/tokenizer.model" --top_k=5 \
  "The [MASK] of the war was signed in 1919." "She opened the [MASK] and walked into the garden."

echo
echo "== the report page (pretraining curves, the STS-B table, pretrained against scratch)"
$cloze report "$RUN_DIR"
