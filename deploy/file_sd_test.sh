#!/usr/bin/env bash
# Prometheus finds a job's processes through the run's file_sd targets file: a real
# `cloze launch` of 2 workers writes <run_dir>/prometheus_targets.json (the coordinator and
# both workers, labelled run, role, rank); a real Prometheus configured with nothing but a
# file_sd_configs glob over the runs folder scrapes all three. A worker killed with
# SIGKILL is restarted by the launcher (a new generation, new ports): the file is rewritten
# with the new processes' addresses and Prometheus scrapes those, dropping the old ones.
# About a minute; needs /usr/bin/prometheus (Debian's `prometheus`, deploy/setup.sh).
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=${TEST_TMPDIR:-$(mktemp -d)}
source tests/distributed/common.sh
PROMETHEUS=${PROMETHEUS:-$(command -v prometheus)}
[ -n "$PROMETHEUS" ] || { echo "FAIL: prometheus is needed (Debian package prometheus; run deploy/setup.sh)"; exit 1; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
}
trap cleanup EXIT
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))  # by the clock: a check may itself take seconds
  while [ "$SECONDS" -lt "$deadline" ]; do
    "$@" && return 0
    sleep 0.2
  done
  fail "$what: not after $seconds s"
  return 1
}
show_logs() {
  tail -n 20 "$work/launch.log"
  for f in "$run"/logs/*.log; do echo "== $f"; tail -n 10 "$f"; done
  tail -n 10 "$work/prometheus.log"
}

prepare_data "$work/data"
# Long enough to outlast the checks; stopped with SIGTERM at the end.
write_config "$work/job.textproto" "$work/data" 2 100000
run=$work/runs/file-sd
targets=$run/prometheus_targets.json
$cloze launch --config="$work/job.textproto" --run_dir="$run" --workers=2 --threads=1 --metrics_address=127.0.0.1:0 \
  >"$work/launch.log" 2>&1 &
launcher=$!
pids+=("$launcher")

# The targets of one role in the file, "host:port rank" a line, sorted.
file_targets() {
  python3 - "$targets" "$1" <<'PY'
import json, sys
try:
    groups = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(0)
for g in groups:
    if g["labels"]["role"] == sys.argv[2]:
        assert g["labels"]["run"] == "file-sd", g
        print(g["targets"][0], g["labels"]["rank"])
PY
}
job_listed() {  # the coordinator and workers 0 and 1
  [ -n "$(file_targets coordinator)" ] && [ "$(file_targets worker | cut -d' ' -f2 | sort | tr '\n' ' ')" = "0 1 " ]
}
wait_for 90 "the targets file lists the coordinator and workers 0 and 1" job_listed ||
  { show_logs; cat "$targets"; exit 1; }
first_workers=$(file_targets worker | sort)
echo "targets file: coordinator $(file_targets coordinator | cut -d' ' -f1); workers: $(echo $first_workers)"

# Prometheus with no target of its own: only the file_sd glob (refreshed every second as
# well as on inotify's word, so that the test does not depend on inotify in a sandbox).
cat >"$work/prometheus.yml" <<CONFIG
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: cloze
    honor_labels: true
    file_sd_configs:
      - files: ["$work/runs/file-sd/prometheus_targets.json"]
        refresh_interval: 1s
CONFIG
prometheus_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PROMETHEUS" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus-data" \
  --web.listen-address="127.0.0.1:$prometheus_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)
url=http://127.0.0.1:$prometheus_port

# Prometheus' active targets, "address role rank health" a line, sorted.
active_targets() {
  python3 - "$url" <<'PY'
import json, sys, urllib.request
try:
    data = json.load(urllib.request.urlopen(sys.argv[1] + "/api/v1/targets?state=active", timeout=2))
except OSError:
    sys.exit(0)
lines = [f'{t["labels"]["instance"]} {t["labels"].get("role")} {t["labels"].get("rank")} {t["health"]}'
         for t in data["data"]["activeTargets"]]
print("\n".join(sorted(lines)))
PY
}
# Every target of the file, and only those, scraped successfully by Prometheus.
expected_targets() {
  { for role in coordinator worker; do file_targets $role | sed "s/ / $role /; s/\$/ up/"; done; } | sort
}
prometheus_scrapes_the_file() {
  local want got
  want=$(expected_targets)
  got=$(active_targets)
  [ -n "$want" ] && [ "$want" = "$got" ]
}
# Every worker's training metrics arrived, labelled with its rank.
worker_metrics_scraped() {
  python3 - "$url" <<'PY'
import json, sys, urllib.parse, urllib.request
query = 'count by (rank) (cloze_train_step{role="worker", run="file-sd"})'
try:
    data = json.load(urllib.request.urlopen(sys.argv[1] + "/api/v1/query?" + urllib.parse.urlencode({"query": query}), timeout=2))
except OSError:
    sys.exit(1)
sys.exit(0 if sorted(r["metric"].get("rank") for r in data["data"]["result"]) == ["0", "1"] else 1)
PY
}
wait_for 60 "Prometheus scrapes every target of the file" prometheus_scrapes_the_file ||
  { echo "want:"; expected_targets; echo "got:"; active_targets; show_logs; exit 1; }
wait_for 30 "Prometheus has both workers' cloze_train_step" worker_metrics_scraped || { show_logs; exit 1; }
echo "Prometheus scrapes:"; active_targets

# A worker killed: the launcher restarts the worker group, which forms a new generation.
coordinator_port=$(cat "$run/coordinator.port")
victim=''
for pid in $(pgrep -f -- "worker --coordinator=127.0.0.1:$coordinator_port"); do
  [ "$(cat /proc/$pid/comm 2>/dev/null)" = cloze ] && victim=$pid && break
done
[ -n "$victim" ] || { fail "no worker process found"; show_logs; exit 1; }
kill -9 "$victim"
echo "killed worker pid $victim"
workers_replaced() {
  local now
  now=$(file_targets worker | sort)
  # The ranks sorted on their own: the lines are sorted by address, and a new port may sort either way.
  [ "$(echo "$now" | cut -d' ' -f2 | sort | tr '\n' ' ')" = "0 1 " ] && [ "$now" != "$first_workers" ]
}
wait_for 90 "the targets file lists the restarted workers" workers_replaced ||
  { show_logs; cat "$targets"; exit 1; }
echo "targets file after the restart: workers $(file_targets worker | sort | tr '\n' ' ')"
grep -q "generation 2" "$run/logs/coordinator.log" || fail "the coordinator's log shows no generation 2"
wait_for 60 "Prometheus scrapes the restarted workers and no longer the old ones" prometheus_scrapes_the_file ||
  { echo "want:"; expected_targets; echo "got:"; active_targets; show_logs; exit 1; }
echo "Prometheus scrapes:"; active_targets
[ ! -e "$targets.tmp" ] || fail "a temporary targets file was left behind"

kill -TERM "$launcher"
wait "$launcher" || fail "cloze launch did not stop cleanly on SIGTERM (see below)"
[ "$failures" -eq 0 ] && echo PASS || { show_logs; echo "$failures failures"; exit 1; }
