#!/usr/bin/env bash
# The small real pretraining (issue 12): one command that prepares WikiText-2 (raw test
# split), the 28 English public-domain books and the 3 Chinese classics of ../shared/data
# into runs/small/data (a 16,000-piece SentencePiece model trained on them, sequences of 64
# pieces, dynamic masking, sentence order), then pretrains configs/train-small.textproto on
# them with `cloze train` into runs/small/train (5,800 steps; its time and results are in
# bench/RESULTS.md, "The small real pretraining"). Running it again resumes where it stopped:
# a finished dataset is kept, the training resumes from its last checkpoint.
#
#   bash deploy/pretrain_small.sh [--threads=N]      # SHARED=... if the data is elsewhere
#
# The config names its dataset (runs/small/data), so the folder is fixed: move runs/small
# aside to start over. bench/embryology_run.sh prepares the same corpus (at the same length) for
# its own config through CONFIG, RUN_DIR, MAX_SEQ_LENGTH and MAX_PREDICTIONS (the config's
# dataset must be RUN_DIR/data).
# CONFIG=configs/train-small-2x128.textproto RUN_DIR=runs/small-2x128: the 2-layer model that
# leaves the MLM plateau in its 20,000 steps (bench/RESULTS.md "A smaller model, more steps").
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-configs/train-small.textproto}
RUN_DIR=${RUN_DIR:-runs/small}
MAX_SEQ_LENGTH=${MAX_SEQ_LENGTH:-64}
MAX_PREDICTIONS=${MAX_PREDICTIONS:-10}
SHARED=${SHARED:-../shared/data}
for source in "$SHARED/wikitext-2-raw/wiki.test.raw" "$SHARED/books/en-gutenberg.tar.xz" "$SHARED/books/zh-classics"; do
  [ -e "$source" ] || { echo "pretrain_small.sh: $source is missing (set SHARED to the shared data folder)" >&2; exit 2; }
done
bazel build //cli:cloze
cloze=bazel-bin/cli/cloze

if [ ! -d "$RUN_DIR/data" ]; then
  echo "== unpacking the English books into $RUN_DIR/corpus"
  rm -rf "$RUN_DIR/corpus" "$RUN_DIR/data.partial"  # left by an interrupted earlier run
  mkdir -p "$RUN_DIR/corpus"
  xz -dc "$SHARED/books/en-gutenberg.tar.xz" | tar -xf - -C "$RUN_DIR/corpus"
  echo "== preparing WikiText-2, the books and the Chinese classics into $RUN_DIR/data"
  $cloze prepare --input="$SHARED/wikitext-2-raw/wiki.test.raw,$RUN_DIR/corpus/en-gutenberg,$SHARED/books/zh-classics" \
    --output="$RUN_DIR/data.partial" --tokenizer=spm-train:16000 --max_seq_length="$MAX_SEQ_LENGTH" \
    --max_predictions_per_seq="$MAX_PREDICTIONS" --dynamic_masking --shards=8 "$@"
  mv "$RUN_DIR/data.partial" "$RUN_DIR/data"  # only a complete dataset gets the real name
  rm -rf "$RUN_DIR/corpus"
  $cloze inspect "$RUN_DIR/data" --examples=1 --verify
fi

echo "== pretraining ($CONFIG) in $RUN_DIR/train; metrics: $RUN_DIR/train/metrics.jsonl"
$cloze train --config="$CONFIG" --run_dir="$RUN_DIR/train" "$@"
