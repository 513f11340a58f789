#!/usr/bin/env bash
# Issue 13's "BERT embryology" run, start to finish on one machine: prepares WikiText-2, the
# books and the Chinese classics at sequence length 64 (deploy/pretrain_small.sh with
# configs/train-embryology.textproto), pretrains 1,200 steps with a checkpoint every 100 while
# `cloze probe --follow` probes each one beside it (the config's probe {} block), probes
# whatever the follower had not finished when training ended, and writes the report page with
# the per-class fill-in figure and the layer x step heatmaps (cloze report). Resumable: each
# stage keeps what is done (the dataset, the checkpoints, probes.jsonl's lines).
#
#   bash bench/embryology_run.sh [--threads=N]     # SHARED=... if the data is elsewhere
#
# Afterwards: runs/embryology/report.html (cloze report), runs/embryology/train/probes.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared/data}
RUN_DIR=runs/embryology
CONFIG=configs/train-embryology.textproto RUN_DIR=$RUN_DIR MAX_SEQ_LENGTH=64 MAX_PREDICTIONS=10 SHARED=$SHARED \
  bash deploy/pretrain_small.sh "$@"

echo "== probing the checkpoints the follower left (probes.jsonl's finished lines are kept)"
bazel-bin/cli/cloze probe --init="$RUN_DIR/train" --tokenizer="spm:$RUN_DIR/data/tokenizer.model" \
  --ud_dir="$SHARED/ud-english-ewt" --glue_dir="$SHARED/glue" --max_seq_length=64 \
  --max_sentences=300 --max_train_sentences=1000

echo "== the report page"
bazel-bin/cli/cloze report "$RUN_DIR"
