#!/usr/bin/env bash
# End-to-end throughput and peak memory of `cloze prepare` on a corpus of at least 100 MB:
# the shipped demo corpus (English and Chinese) repeated, built in a temporary folder.
#
#   bench/prepare_bench.sh                  # spm-albert (official ALBERT model), 1 and 2 threads
#   TOKENIZERS="spm-albert wordpiece" THREADS="1 2" REPEAT=55 bench/prepare_bench.sh
#   PARTS=2 THREADS=2 bench/prepare_bench.sh  # also: 2 parts at once (THREADS/PARTS threads
#                                             # each) + the merge, against one process
#
# Prints one markdown row per run: tokenizer, threads, input MB, seconds, MB/s, MB/s per
# thread, examples, peak RSS (from cloze's own VmHWM line). With PARTS=N, a second table:
# one process with THREADS threads against N `cloze prepare --part` processes started
# together, then `--merge`; both with --unit_bytes=UNIT_BYTES (default 8 MiB, so the parts
# get even shares of this small corpus; it shapes the dataset, so both runs use it).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared/data}
TOKENIZERS=${TOKENIZERS:-"spm-albert"}
THREADS=${THREADS:-"1 2"}
REPEAT=${REPEAT:-55}
MAX_SEQ_LENGTH=${MAX_SEQ_LENGTH:-512}
WORK=${WORK:-$(mktemp -d)}
PARTS=${PARTS:-}
UNIT_BYTES=${UNIT_BYTES:-$((8 << 20))}

bazel build ${BAZEL_CONFIG:---config=cpu} //cli:cloze >&2
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

[ -n "$PARTS" ] || { rm -rf "$WORK"; exit 0; }
threads=$(echo $THREADS | awk '{print $NF}')
per_part=$(( threads / PARTS > 0 ? threads / PARTS : 1 ))
now() { date +%s.%N; }
echo
echo "| tokenizer | how | threads in all | parts s | merge s | total s | MB/s | examples |"
echo "|---|---|---|---|---|---|---|---|"
for tok in $TOKENIZERS; do
  flags=(--input="$WORK/corpus" --tokenizer="$(spec "$tok")" --max_seq_length="$MAX_SEQ_LENGTH" --shards=8
    --unit_bytes="$UNIT_BYTES")
  rm -rf "$WORK/one"
  start=$(now)
  log=$(bazel-bin/cli/cloze prepare "${flags[@]}" --output="$WORK/one" --threads="$threads")
  secs=$(echo "$(now) - $start" | bc -l)
  input_mb=$(grep -oP 'input: [0-9]+ files, \K[0-9.]+' <<<"$log")
  examples=$(grep -oP 'examples: \K[0-9]+' <<<"$log")
  printf '| %s | 1 process | %s | | | %.1f | %.2f | %s |\n' "$tok" "$threads" "$secs" \
    "$(echo "$input_mb / $secs" | bc -l)" "$examples"
  rm -rf "$WORK/split"
  start=$(now)
  pids=()
  for ((p = 0; p < PARTS; p++)); do
    bazel-bin/cli/cloze prepare "${flags[@]}" --output="$WORK/split" --threads="$per_part" --part=$p \
      --parts="$PARTS" >"$WORK/part-$p.log" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  parts_done=$(now)
  log=$(bazel-bin/cli/cloze prepare --merge --parts="$PARTS" --output="$WORK/split")
  end=$(now)
  cat "$WORK"/part-*.log >&2
  echo "$log" >&2
  examples=$(grep -oP 'examples: \K[0-9]+' <<<"$log")
  printf '| %s | %s parts + merge | %s | %.1f | %.1f | %.1f | %.2f | %s |\n' "$tok" "$PARTS" "$((per_part * PARTS))" \
    "$(echo "$parts_done - $start" | bc -l)" "$(echo "$end - $parts_done" | bc -l)" "$(echo "$end - $start" | bc -l)" \
    "$(echo "$input_mb / ($end - $start)" | bc -l)" "$examples"
done
rm -rf "$WORK"
