#!/bin/bash
# cloze's exported HF folders, loaded by transformers, give cloze's logits (hf_parity_test.py).
#
# Needs a Python with torch and transformers: $PYTHON, or python3. Without them the test is
# skipped (exit 0, saying so), as in CI until it installs them. To run it here:
#   bazel test //interop:hf_parity_test --test_env=PYTHON=/tmp/goldenheads_venv/bin/python
set -euo pipefail

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import torch, transformers" 2>/dev/null; then
  echo "skipped: transformers not installed (for $PYTHON; set PYTHON to a Python with torch and transformers)"
  exit 0
fi

writer="interop/hf_parity_writer"
albert_spiece="../shared_data/vocab/albert-base-v2-spiece.model"
bert_vocab="../shared_data/vocab/bert-base-uncased-vocab.txt"
for f in "$albert_spiece" "$bert_vocab"; do
  [[ -f "$f" ]] || { echo "missing $f (shared/data, see third_party/shared_data/shared_data.bzl)"; exit 1; }
done

cases="${TEST_TMPDIR:-$(mktemp -d)}/hf_parity_cases"
rm -rf "$cases" && mkdir -p "$cases"
"$writer" "$cases" "$albert_spiece" "$bert_vocab"
"$PYTHON" interop/hf_parity_test.py "$cases"
