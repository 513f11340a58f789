#!/usr/bin/env bash
# Documents, sentences, examples, fill and sentence-order balance of `cloze prepare` on every
# pretraining corpus in shared/data and the demo corpus, at max_seq_length 128 and 512, with
# the official ALBERT SentencePiece model (bench/RESULTS.md, "Corpora as users have them").
#
#   bench/corpus_health.sh            # formats detected
#   FORMAT=bert bench/corpus_health.sh  # every file read as one sentence per line (before issue 16)
#
# Prints one markdown row per corpus and length. Masking is left to read time
# (--dynamic_masking): it changes none of these numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared/data}
FORMAT=${FORMAT:-auto}
THREADS=${THREADS:-2}
WORK=${WORK:-$(mktemp -d)}
cloze=bazel-bin/cli/cloze
[ -x "$cloze" ] || bazel build //cli:cloze >&2

xz -dc "$SHARED/books/en-gutenberg.tar.xz" | tar -xf - -C "$WORK"
corpora=(
  "WikiText-2 valid (tokenized)|$SHARED/wikitext-2/valid.txt"
  "WikiText-2 test (tokenized)|$SHARED/wikitext-2/test.txt"
  "WikiText-2 test (raw)|$SHARED/wikitext-2-raw/wiki.test.raw"
  "28 Gutenberg books|$WORK/en-gutenberg"
  "Pride and Prejudice|$WORK/en-gutenberg/pg1342-pride-and-prejudice.txt"
  "Alice in Wonderland|$WORK/en-gutenberg/pg11-alices-adventures-in-wonderland.txt"
  "3 Chinese novels|$SHARED/books/zh-classics"
  "红楼梦|$SHARED/books/zh-classics/zh-hongloumeng.txt"
  "CMRC 2018 passages|$SHARED/zh-cmrc2018/cmrc2018_dev_trial_contexts.txt"
  "demo corpus (corpus/demo)|corpus/demo"
)

echo "| corpus | format | max_seq_length | documents | sentences | examples | fill | SOP swapped | one-sentence chunks |"
echo "|---|---|---|---|---|---|---|---|---|"
for entry in "${corpora[@]}"; do
  name=${entry%%|*}
  input=${entry#*|}
  for length in 128 512; do
    rm -rf "$WORK/out"
    log=$($cloze prepare --input="$input" --output="$WORK/out" --input_format="$FORMAT" \
      --tokenizer="spm-albert:$SHARED/vocab/albert-base-v2-spiece.model" --max_seq_length="$length" \
      --dynamic_masking --shards=1 --threads="$THREADS")
    formats=$(grep -oP '^format: .*: \K[a-z]+(?= \()' <<<"$log" | sort | uniq -c | awk '{printf "%s%s", sep, $2; sep="+"}')
    documents=$(grep -oP '^input: .* \K[0-9]+(?= documents)' <<<"$log")
    sentences=$(grep -oP '^input: .* \K[0-9]+(?= sentences)' <<<"$log")
    examples=$(grep -oP '^examples: \K[0-9]+' <<<"$log")
    fill=$(grep -oP '^fill: \K[0-9.]+%' <<<"$log")
    swapped=$(grep -oP '^sentence labels: \K[0-9.]+%' <<<"$log")
    single=$(grep -oP 'swapped \(\K[0-9.]+%' <<<"$log")
    echo "| $name | $formats | $length | $documents | $sentences | $examples | $fill | $swapped | $single |"
  done
done
rm -rf "$WORK"
