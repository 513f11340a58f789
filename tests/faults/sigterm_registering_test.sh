#!/usr/bin/env bash
# A worker stopped (SIGTERM, as Slurm, Kubernetes or cloze launch stop it) while it is still
# joining the job exits at once with status 0 and says so, instead of waiting up to its
# registration timeout (10 minutes): (1) while the coordinator waits for the job's second
# worker, (2) while the coordinator is unreachable and the worker keeps retrying.
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=$TEST_TMPDIR
source tests/faults/common.sh
printf 'test-token-0123456789abcdef\n' >"$work/token"
chmod 600 "$work/token"
write_config "$work/job.textproto" "$work/unused-data" 4 100
PATIENCE_S=60  # far beyond a stop check (0.5 s): it catches a worker that waits on, not a slow machine

JOINING_COMMAND=($cloze worker --job_token_file="$work/token" --metrics_address=)  # stop_while_joining (common.sh) starts it

# (1) A coordinator of a 2-worker job; the one worker waits for the other in Register.
$cloze coordinator --config="$work/job.textproto" --run_dir="$work/run" --workers=2 --job_token_file="$work/token" \
  --listen=127.0.0.1:0 --port_file="$work/port" --metrics_address= >"$work/coordinator.log" 2>&1 &
coordinator=$!
trap 'kill $coordinator 2>/dev/null; wait $coordinator 2>/dev/null' EXIT
until [ -s "$work/port" ]; do kill -0 $coordinator 2>/dev/null || break; sleep 0.1; done  # no time bound
[ -s "$work/port" ] || { cat "$work/coordinator.log"; fail "the coordinator wrote no port file"; exit 1; }
port=$(cat "$work/port")
registered() { grep -q "member_id" "$work/run/coordinator/state.pb.txt" 2>/dev/null; }
stop_while_joining forming "127.0.0.1:$port" "stopped before joining the job" registered
registered || fail "forming: the worker never registered (the coordinator's state lists no member)"

# (2) Nobody listens: the worker retries UNAVAILABLE for its reconnect window (60 s).
free=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
stop_while_joining unreachable "127.0.0.1:$free" "stopped before joining the job" true

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
