#!/usr/bin/env bash
# The project's one GPU script: build the GPU checks where the toolkit is, run them where
# the GPU is.
#
#   bench/gpu/run_gpu_checks.sh --build   # on the build machine (CUDA toolkit, no GPU needed)
#   bench/gpu/run_gpu_checks.sh --run     # on the GPU machine, from the repository root copy
#
# --build compiles every test tagged "gpu" (and every cc_binary tagged "gpu_bench": the
# benchmark hook, none yet) with --config=cuda -c opt, statically against Bazel's own
# libraries, and packs the binaries plus the shared libraries a stock CUDA machine may
# lack into .device/bundle.tar.gz (gzip: OpenBLAS alone is 36 MB raw, 11 MB packed).
# Not packed: glibc's parts and libcuda (the GPU machine's driver must be used), and
# libstdc++/libgcc_s, because Debian 12's copies need glibc 2.36 and would not load on
# Ubuntu 22.04, whose own are new enough (GLIBCXX_3.4.29); cudart is linked statically.
# Nor the CUDA 13 math and communication libraries (cuBLAS, cuBLASLt, cuDNN, NCCL): cuBLASLt
# alone is 540 MB, far over what travels to the GPU machine, whose image has the CUDA 13
# toolkit and PyTorch's cu13 wheels; --run looks for them there (binaries also carry an
# rpath to /usr/local/cuda/lib64).
# --run unpacks it, runs each test then each benchmark with LD_LIBRARY_PATH pointing at
# the packed libraries (bench/gpu_step_bench: cloze's GPU training step, tokens/s and MFU),
# then bench/gpu/torch_step.py where python3 has torch and transformers (the same step in
# Hugging Face PyTorch, eager and torch.compile), keeps logs in $GPU_LOG_DIR (default
# .device/logs), and prints a summary table, then LAST the benchmark table (cloze tok/s and
# MFU with the unfused and with the fused attention, torch eager and torch.compile tok/s,
# ratios). It exits non-zero if anything of cloze failed or SKIPPED: on the GPU machine a
# skip means the GPU was not usable, so nothing was checked.
#
# On a GPU machine that gets a copy of the working tree, copy .device/ along too (it is
# git-ignored) and run, for instance, with logs kept where they come back:
#   GPU_LOG_DIR=$OUT/gpu-logs bench/gpu/run_gpu_checks.sh --run
set -euo pipefail
cd "$(dirname "$0")/../.."
BUNDLE=.device/bundle.tar.gz
SYSTEM_LIBS='/(libc|libm|libpthread|libdl|librt|libcuda|libstdc\+\+|libgcc_s|libcublas|libcublasLt|libcudnn[a-z_]*|libnccl)\.so|/ld-linux'

build() {
  local tests benches stage
  tests=$(bazel query --noshow_progress "attr(tags, '\\bgpu\\b', tests(//...))")
  benches=$(bazel query --noshow_progress "attr(tags, '\\bgpu_bench\\b', kind(cc_binary, //...))")
  # --dynamic_mode=off: one self-contained binary per target, no _solib_ folder to carry.
  # shellcheck disable=SC2086 # one label per word
  bazel build --config=cuda -c opt --dynamic_mode=off $tests $benches
  stage=$(mktemp -d)
  mkdir -p "$stage/tests" "$stage/bench" "$stage/lib"
  for label in $tests $benches; do
    local bin="bazel-bin/${label#//}"
    bin="${bin/://}"
    local kind=bench
    # bazel query prints one label per line: match whole lines.
    grep -qxF "$label" <<<"$tests" && kind=tests
    cp "$bin" "$stage/$kind/"
    # ldd's "name => /path" lines, minus what every GPU machine has (see the header).
    ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | { grep -Ev "$SYSTEM_LIBS" || true; } |
      while read -r lib; do cp -L "$lib" "$stage/lib/"; done
  done
  rm -rf .device && mkdir -p .device
  tar -C "$stage" -czf "$BUNDLE" tests bench lib
  rm -rf "$stage"
  tar -tzvf "$BUNDLE"
  du -h "$BUNDLE"
}

run() {
  local work logs rows="" failed=0 bin name log flags start secs result
  [[ -f $BUNDLE ]] || { echo "no $BUNDLE: run --build on the build machine first" >&2; exit 1; }
  work=$(mktemp -d)
  # shellcheck disable=SC2064 # $work is local to run(): expand it now, not at exit
  trap "rm -rf '$work'" EXIT
  tar -C "$work" -xzf "$BUNDLE"
  logs=${GPU_LOG_DIR:-.device/logs}
  mkdir -p "$logs"
  # The GPU machine's own CUDA 13 libraries (not packed, see the header): the toolkit's,
  # then those of the nvidia-* wheels beside PyTorch, where either exists.
  local cuda_dirs=/usr/local/cuda/lib64 wheel_dirs
  wheel_dirs=$(python3 -c 'import glob, os, nvidia; print(":".join(sorted({os.path.dirname(p) for d in nvidia.__path__ for p in glob.glob(d + "/**/lib*.so*", recursive=True)})))' 2>/dev/null || true)
  [[ -n $wheel_dirs ]] && cuda_dirs+=":$wheel_dirs"
  export LD_LIBRARY_PATH="$work/lib:$cuda_dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader ||
    echo "nvidia-smi failed or is missing"
  # Tests first, then the benchmark hook: every binary packed under bench/ runs the same way.
  for bin in "$work"/tests/* "$work"/bench/*; do
    [[ -x $bin ]] || continue
    name=$(basename "$bin")
    log="$logs/$name.log"
    flags=()
    [[ $bin == */tests/* ]] && flags=(--gtest_color=no)
    start=$(date +%s.%N)
    if ldd "$bin" | grep -q 'not found'; then
      ldd "$bin" >"$log" 2>&1
      result=FAIL
    elif "$bin" "${flags[@]}" >"$log" 2>&1; then
      # gtest exits 0 when tests skip; its summary names them.
      if grep -q '^\[  SKIPPED \]' "$log"; then result=SKIP; else result=PASS; fi
    else
      result=FAIL
    fi
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    case $result in
      FAIL) failed=1; echo "---- $name failed; end of $log:"; tail -n 25 "$log" ;;
      SKIP) failed=1; echo "---- $name skipped:"; grep -m1 -A1 ': Skipped$' "$log" ;;
    esac
    rows+=$(printf '%-36s %-5s %7ss' "$name" "$result" "$secs")$'\n'
  done
  # The PyTorch comparison (bench/gpu/torch_step.py), where python3 has torch with CUDA and
  # transformers. Its failures show in the table but do not decide the exit status: they say
  # nothing about cloze.
  log="$logs/torch_step.log"
  if python3 -c 'import sys, torch, transformers; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    start=$(date +%s.%N)
    if python3 bench/gpu/torch_step.py >"$log" 2>&1; then result=PASS; else result=FAIL; fi
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    [[ $result == FAIL ]] && { echo "---- torch_step.py failed; end of $log:"; tail -n 25 "$log"; }
    rows+=$(printf '%-36s %-5s %7ss' "torch_step.py" "$result" "$secs")$'\n'
  else
    echo "no python3 with torch (CUDA) and transformers here: no PyTorch comparison" | tee "$log"
  fi
  echo
  printf '%-36s %-5s %8s\n' "binary" "result" "time"
  printf '%s' "$rows"
  [[ -n $rows ]] || { echo "nothing to run in $BUNDLE"; failed=1; }
  comparison_table "$logs/gpu_step_bench.log" "$log"
  return "$failed"
}

# The benchmark table, printed last: per case, cloze's tokens/s and MFU with each attention
# (gpu_step_bench: impl=cloze unfused, impl=cloze_fused flash-style), PyTorch's eager and
# torch.compile tokens/s (torch_step.py), and the ratio of cloze's faster variant to each.
# Reads the "case key=value ..." lines of both logs; a missing number prints as "-".
comparison_table() {
  echo
  cat "$@" 2>/dev/null | grep -E '^(gemm|torch) device=' || true
  cat "$@" 2>/dev/null | awk '
    $1 == "case" {
      delete kv
      for (i = 2; i <= NF; i++) if (split($i, part, "=") == 2) kv[part[1]] = part[2]
      name = kv["name"]
      if (!(name in seen)) { seen[name] = 1; order[++n] = name }
      if (kv["impl"] == "cloze") { cloze[name] = kv["tokens_per_s"]; mfu[name] = kv["mfu"] }
      if (kv["impl"] == "cloze_fused") { fused[name] = kv["tokens_per_s"]; fused_mfu[name] = kv["mfu"] }
      if (kv["impl"] == "torch_eager") eager[name] = kv["tokens_per_s"]
      if (kv["impl"] == "torch_compile") compiled[name] = kv["tokens_per_s"]
    }
    function show(x) { return x == "" ? "-" : x }
    function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
    function percent(x) { return x == "" ? "-" : sprintf("%.1f%%", 100 * x) }
    function best(a, b) { return a == "" ? b : (b == "" || a + 0 >= b + 0 ? a : b) }
    END {
      printf "%-18s %11s %6s %11s %6s %11s %13s %11s %13s\n", "case", "cloze tok/s", "MFU", "fused tok/s",
             "MFU", "eager tok/s", "compile tok/s", "best/eager", "best/compile"
      if (n == 0) print "(no benchmark results)"
      for (i = 1; i <= n; i++) {
        c = order[i]
        b = best(cloze[c], fused[c])
        printf "%-18s %11s %6s %11s %6s %11s %13s %11s %13s\n", c, show(cloze[c]), percent(mfu[c]),
               show(fused[c]), percent(fused_mfu[c]), show(eager[c]), show(compiled[c]), ratio(b, eager[c]),
               ratio(b, compiled[c])
      }
    }'
}

case "${1:-}" in
  --build) build ;;
  --run) run ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
esac
