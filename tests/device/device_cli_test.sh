#!/usr/bin/env bash
# --device on the command line: a bad value is a usage error; --device=cuda where the GPU
# asked for is not usable (no GPU, no driver, a CPU-only build, an index past the GPUs)
# makes cloze train fail at once, naming the reason, before it touches the run directory;
# cloze launch --device=cuda refuses parameter servers with several GPU workers (NCCL
# all-reduce only); and cloze launch --device=cuda gives up with the worker's reason in its message.
# GPU index 999 is unusable everywhere, so that check holds on a GPU machine too; the
# default GPU (train and launch) is checked only where nvidia-smi finds none.
set -uo pipefail
cloze=cli/cloze
work=$TEST_TMPDIR
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Never opened: the device is checked first.
cat >"$work/config.textproto" <<'CONFIG'
model {
  model_type: "albert" vocab_size: 1000 embedding_size: 32 hidden_size: 64 num_hidden_layers: 2
  num_attention_heads: 2 intermediate_size: 128 num_hidden_groups: 1 inner_group_num: 1
  hidden_act: "gelu_new" max_position_embeddings: 64 type_vocab_size: 2 layer_norm_eps: 1e-12
  initializer_range: 0.02
}
dataset: "/nonexistent/dataset"
batch_size: 8
seq_len: 64
max_predictions_per_seq: 10
total_steps: 10
optimizer { kind: LAMB learning_rate: 0.005 }
schedule { warmup_steps: 2 }
CONFIG

expect() {  # expect NAME WANTED_STATUS MESSAGE_PART -- COMMAND...
  local name=$1 want=$2 part=$3
  shift 4
  "$@" >"$work/$name.out" 2>&1
  local status=$?
  if [[ $want == nonzero ]]; then
    [[ $status -ne 0 ]] || fail "$name: exit status 0, want non-zero"
  elif [[ $status -ne $want ]]; then
    fail "$name: exit status $status, want $want"
  fi
  grep -qF -- "$part" "$work/$name.out" || { fail "$name: no \"$part\" in its output:"; cat "$work/$name.out"; }
}

expect bad_device 2 "--device=tpu: want cpu or cuda" -- \
  $cloze train --config="$work/config.textproto" --run_dir="$work/run_tpu" --device=tpu --metrics_address=
expect bad_precision 2 "--gpu_precision=fp8: want bf16 or fp32" -- \
  $cloze train --config="$work/config.textproto" --run_dir="$work/run_fp8" --device=cuda --gpu_precision=fp8 \
  --metrics_address=
expect bad_attention 2 "--gpu_attention=flash: want unfused or fused" -- \
  $cloze train --config="$work/config.textproto" --run_dir="$work/run_flash" --device=cuda --gpu_attention=flash \
  --metrics_address=
expect gpu_999 1 "--device=cuda: no usable GPU: " -- \
  $cloze train --config="$work/config.textproto" --run_dir="$work/run_999" --device=cuda --gpu=999 --metrics_address=
[[ ! -e $work/run_999 ]] || fail "gpu_999: the run directory was created"

expect gpu_with_ps 2 "--device=cuda with 2 workers and parameter servers: not supported" -- \
  $cloze launch --config="$work/config.textproto" --run_dir="$work/launch_ps" --device=cuda --workers=2 --ps=1 \
  --metrics_address=

if ! nvidia-smi -L >/dev/null 2>&1; then
  expect no_gpu 1 "--device=cuda: no usable GPU: " -- \
    $cloze train --config="$work/config.textproto" --run_dir="$work/run_cuda" --device=cuda --metrics_address=
  [[ ! -e $work/run_cuda ]] || fail "no_gpu: the run directory was created"

  # The launch's worker fails the same way; with no restarts allowed it gives up, quoting it.
  expect launch_no_gpu 1 "--device=cuda: no usable GPU: " -- \
    timeout 120 $cloze launch --config="$work/config.textproto" --run_dir="$work/launch" --device=cuda \
    --workers=1 --max_restarts=0 --metrics_address=
  grep -qF "gpu 0: " "$work/launch/logs/workers.log" || fail "launch: the worker's lines do not say its GPU"
fi

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "PASS"
