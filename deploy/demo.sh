#!/usr/bin/env bash
# The README's main job, today: set up, build, prepare the shipped demo corpus into a
# sharded dataset (training its own SentencePiece model on it), inspect the result, check
# every shipped model config, and run forward+backward passes of ALBERT-tiny.
# (Pretraining on the dataset arrives with `cloze train`; this script grows into that job.)
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_DIR=${RUN_DIR:-runs/demo}
bash deploy/setup.sh
bazel build //cli:cloze
cloze=bazel-bin/cli/cloze

echo "== preparing corpus/demo into $RUN_DIR/data"
rm -rf "$RUN_DIR/data"  # this job's own output; prepare never overwrites anything else
$cloze prepare --input=corpus/demo --output="$RUN_DIR/data" --tokenizer=spm-train:8000 \
  --max_seq_length=128 --max_predictions_per_seq=20 --shards=4
echo "== inspecting $RUN_DIR/data"
$cloze inspect "$RUN_DIR/data" --examples=2 --verify
echo "== model configs"
$cloze config configs/*.textproto
echo "== ALBERT-tiny, forward and backward on a synthetic batch of 8 x 128 tokens"
$cloze step configs/albert-tiny.textproto --batch_size=8 --seq_len=128 --steps=3
