#!/usr/bin/env bash
# End-to-end throughput and peak memory of `cloze prepare` on a corpus of at least 100 MB:
# the shipped demo corpus (English and Chinese) repeated, built in a temporary folder.
#
#   bench/prepare_bench.sh                  # spm-albert (official ALBERT model), 1 and 2 threads
#   TOKENIZERS="spm-albert wordpiece" THREADS="1 2" REPEAT=55 bench/prepare_bench.sh
#
# Prints one markdown row per run: tokenizer, threads, input MB, seconds, MB/s, MB/s per
# thread, examples, peak RSS (from cloze's own VmHWM line).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared/data}
TOKENIZERS=${TOKENIZERS:-"spm-albert"}
THREADS=${THREADS:-"1 2"}
REPEAT=${REPEAT:-55}
MAX_SEQ_LENGTH=${MAX_SEQ_LENGTH:-512}
WORK=${WORK:-$(mktemp -d)}

bazel build //cli:cloze >&2
mkdir -p "$WORK/corpus"
for i in $(seq 1 "$REPEAT"); do
  for f in corpus/demo/*.txt; do
    # One file per copy, so documents stay separated and files are read in order.
    cp "$f" "$WORK/corpus/$(printf '%03d' "$i")-$(basename "$f")"
  done
done
mb=$(du -sm --apparent-size "$WORK/corpus" | cut -f1)
echo "corpus: $mb MB in $WORK/corpus" >&2

spec() {
  case $1 in
    spm-albert) echo "spm-albert:$SHARED/vocab/albert-base-v2-spiece.model" ;;
    wordpiece) echo "wordpiece:$SHARED/vocab/bert-base-uncased-vocab.txt" ;;
    *) echo "unknown tokenizer $1" >&2; exit 2 ;;
  esac
}

echo "| tokenizer | threads | input MB | seconds | MB/s | MB/s per thread | examples | peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|"
for tok in $TOKENIZERS; do
  for t in $THREADS; do
    rm -rf "$WORK/out"
    start=$(date +%s.%N)
    log=$(bazel-bin/cli/cloze prepare --input="$WORK/corpus" --output="$WORK/out" --tokenizer="$(spec "$tok")" \
      --max_seq_length="$MAX_SEQ_LENGTH" --shards=8 --threads="$t")
    end=$(date +%s.%N)
    echo "$log" >&2
    secs=$(echo "$end - $start" | bc -l)
    input_mb=$(grep -oP 'input: [0-9]+ files, \K[0-9.]+' <<<"$log")
    examples=$(grep -oP 'examples: \K[0-9]+' <<<"$log")
    rss=$(grep -oP 'peak memory: \K[0-9]+' <<<"$log")
    printf '| %s | %s | %s | %.1f | %.2f | %.2f | %s | %s |\n' "$tok" "$t" "$input_mb" "$secs" \
      "$(echo "$input_mb / $secs" | bc -l)" "$(echo "$input_mb / $secs / $t" | bc -l)" "$examples" "$rss"
  done
done
rm -rf "$WORK"
