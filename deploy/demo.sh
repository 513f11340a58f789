#!/usr/bin/env bash
# The README's main job, today: set up, build, check every shipped model config against
# its expected size, then run forward+backward passes of ALBERT-tiny on a synthetic batch.
# (Preparing the shipped corpus and pretraining on it arrive with the data pipeline and
# `cloze train`; this script grows into that job.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup.sh
bazel build //cli:cloze
cloze=bazel-bin/cli/cloze
echo "== model configs"
$cloze config configs/*.textproto
echo "== ALBERT-tiny, forward and backward on a synthetic batch of 8 x 128 tokens"
$cloze step configs/albert-tiny.textproto --batch_size=8 --seq_len=128 --steps=3
