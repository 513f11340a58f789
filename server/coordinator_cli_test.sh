#!/bin/bash
# The coordinator process: port file, saved state, SIGTERM (exit 1, state kept), bad input (2).
set -euo pipefail
bin="$TEST_SRCDIR/$TEST_WORKSPACE/server/coordinator_main_for_test"
dir="$TEST_TMPDIR/job"
mkdir -p "$dir"
printf 'test-token-0123456789abcdef\n' > "$dir/token"
{ cat "$TEST_SRCDIR/$TEST_WORKSPACE/configs/train-demo.textproto"
  printf 'distributed { workers: 2 heartbeat_interval_seconds: 0.1 }\n'; } > "$dir/train.textproto"

"$bin" --config="$dir/train.textproto" --run_dir="$dir/run" --job_token_file="$dir/token" \
  --port_file="$dir/port" --metrics_address=127.0.0.1:0 --metrics_port_file="$dir/metrics_port" 2> "$dir/log" &
pid=$!
for _ in $(seq 100); do [[ -s "$dir/port" && -s "$dir/metrics_port" ]] && break; sleep 0.1; done
[[ -s "$dir/port" ]] || { cat "$dir/log"; echo "FAIL: no port file"; exit 1; }
grep -q 'generation: 1' "$dir/run/coordinator/state.pb.txt" || { echo "FAIL: no saved state"; exit 1; }
metrics_port=$(cat "$dir/metrics_port")
if command -v curl > /dev/null; then
  curl -fsS "http://127.0.0.1:$metrics_port/metrics" | grep -q 'cloze_coordinator_generation{run="run"} 1' \
    || { echo "FAIL: metrics"; exit 1; }
fi
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[[ $status -eq 1 ]] || { cat "$dir/log"; echo "FAIL: SIGTERM exit status $status, want 1"; exit 1; }
grep -q 'stopped; the state is saved' "$dir/log" || { cat "$dir/log"; echo "FAIL: log"; exit 1; }

printf 'distributed { workers: -3 nonsense: 1 }\n' > "$dir/bad.textproto"
status=0
"$bin" --config="$dir/bad.textproto" --run_dir="$dir/run" --job_token_file="$dir/token" 2> "$dir/bad.log" || status=$?
[[ $status -eq 2 ]] || { echo "FAIL: bad config exit status $status, want 2"; exit 1; }
grep -q 'bad.textproto' "$dir/bad.log" || { cat "$dir/bad.log"; echo "FAIL: the error names the file"; exit 1; }
echo PASS
