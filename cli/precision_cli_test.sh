#!/usr/bin/env bash
# Which precision a run's matrix products ran at, and the fp32 fallback of `precision: BF16`
# on a CPU without AVX512-BF16, forced on any CPU by capping oneDNN's instruction set
# (ONEDNN_MAX_CPU_ISA=AVX512_CORE, kernels/cpu/bf16_gemm.h): the log says it once, every
# metrics.jsonl line records what ran ("precision"), and the fallback's losses are fp32's.
set -uo pipefail
source cli/testing/common.sh

$cloze prepare --input=corpus/demo/frankenstein.txt --output="$work/data" --tokenizer=spm-train:1000 \
  --max_seq_length=64 --max_predictions_per_seq=10 --shards=1 --threads=2 >"$work/prepare.log" 2>&1 ||
  { cat "$work/prepare.log"; echo "FAIL: prepare"; exit 1; }

config() {  # config FILE PRECISION: the micro-ALBERT, 3 steps
  micro_pretrain_config "$1" "$work/data" 1000 3 1 10
  echo "precision: $2" >>"$1"
}

train() {  # train NAME PRECISION [ENV...]: the run's log in $work/NAME.log
  local name=$1 precision=$2
  shift 2
  config "$work/$name.textproto" "$precision"
  env "$@" $cloze train --config="$work/$name.textproto" --run_dir="$work/$name" --metrics_address= --threads=1 \
    >"$work/$name.log" 2>&1 || fail "$name: $(tail -5 "$work/$name.log")"
}

# Every metrics.jsonl line of a run records the precision that ran.
check_recorded() {  # check_recorded NAME PRECISION
  local lines recorded
  lines=$(wc -l <"$work/$1/metrics.jsonl")
  recorded=$(grep -c "\"precision\": \"$2\"" "$work/$1/metrics.jsonl")
  [ "$lines" -eq 3 ] && [ "$recorded" -eq 3 ] || fail "$1: $recorded of $lines metrics lines record $2"
}

# The fallback, forced: said once, recorded as fp32.
train fallback BF16 ONEDNN_MAX_CPU_ISA=AVX512_CORE
[ "$(grep -c 'precision: fp32, not the config.s BF16: this CPU has no AVX512-BF16' "$work/fallback.log")" -eq 1 ] ||
  fail "the fallback is not said once in the log: $(cat "$work/fallback.log")"
check_recorded fallback fp32
grep -q "^precision: BF16" "$work/fallback/train_config.pb.txt" || fail "the run's config lost the BF16 it asked for"

# fp32 asked for: said and recorded as fp32.
train fp32 FP32
grep -q '^\[cloze\] precision: fp32$' "$work/fp32.log" || fail "fp32 not said: $(cat "$work/fp32.log")"
check_recorded fp32 fp32

# The fallback's products are fp32's (its element-wise passes are the bf16 path's fused ones,
# so equal within float rounding, not bit for bit).
losses() { sed -n 's/.*"loss": \([^,]*\),.*/\1/p' "$work/$1/metrics.jsonl"; }
paste <(losses fallback) <(losses fp32) | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1e-6 * $2) bad = 1 }
  END { exit bad }' || fail "the fallback's losses are not fp32's: $(paste <(losses fallback) <(losses fp32))"

# Without the cap: bf16 where this CPU has AVX512-BF16, else the fallback.
train native BF16
if grep -qw avx512_bf16 /proc/cpuinfo; then
  grep -q '^\[cloze\] precision: bf16 matrix products' "$work/native.log" || fail "bf16 not said: $(cat "$work/native.log")"
  check_recorded native bf16
else
  check_recorded native fp32
fi

[ "$failures" -eq 0 ] && echo PASS
exit $((failures > 0))
