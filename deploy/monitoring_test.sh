#!/usr/bin/env bash
# The monitoring files against Debian's Prometheus (deploy/README.md):
#   1. promtool accepts deploy/prometheus/prometheus.yml and alerts.yml, and the alert unit
#      tests (alerts_test.yml) pass;
#   2. a metrics source serves a short training run on a free 127.0.0.1 port; a Prometheus
#      on another free 127.0.0.1 port scrapes it every second and evaluates alerts.yml;
#   3. every query of every panel of deploy/grafana/dashboards/cloze.json returns data, the
#      `run` variable lists the run, every alert rule evaluates without error, and the
#      EXPECTATIONS below hold (deploy/check_dashboard.py polls until all do, or fails).
# About 10 s; needs /usr/bin/prometheus and /usr/bin/promtool (Debian's `prometheus`,
# installed by deploy/setup.sh).
set -uo pipefail

# --- What to point at `cloze train` later -------------------------------------------------
# The metrics source: a command that serves cloze_* metrics with run="$RUN" on 127.0.0.1,
# on a port of its choosing (port 0), and writes that port to "$PORT_FILE" once serving.
# "$START_FILE" appears once Prometheus scrapes the source; the demo waits for it before its
# first step, so that the one-off events below are scraped before and after; a source that
# ignores it must take a few seconds to get to them. Evaluated with eval, so "$PORT_FILE",
# "$START_FILE" and "$RUN" may appear in it. For `cloze train`, add //cli:cloze to the
# sh_test's data in deploy/BUILD and set, for instance (flag names to be settled):
#   METRICS_SOURCE='cli/cloze train configs/train-test.textproto --output="$TEST_TMPDIR/run" \
#     --run_name="$RUN" --metrics_listen=127.0.0.1:0 --metrics_port_file="$PORT_FILE"'
RUN=${RUN:-monitoring-test}
METRICS_SOURCE=${METRICS_SOURCE:-'trainer/training_metrics_demo --listen=127.0.0.1:0 --port_file="$PORT_FILE" --run="$RUN" --steps=30 --step_ms=500 --skip_step=4 --checkpoint_step=6 --eval_step=8 --start_file="$START_FILE" --hold_s=60'}
# PromQL queries that must return data besides the dashboard's: Prometheus has a few scrapes,
# and what the demo run does once (a skipped NaN step, a checkpoint, an evaluation) came
# through, the NaN as a NaN, and the non-finite-loss alert saw it. A source that does not
# skip or checkpoint in its first seconds needs fewer of these.
EXPECTATIONS=(
  "count_over_time(cloze_train_step{run=\"$RUN\"}[5m]) >= 5"
  "cloze_train_skipped_steps_total{run=\"$RUN\"} >= 1"
  "cloze_train_checkpoints_total{run=\"$RUN\"} >= 1"
  "count_over_time((cloze_train_loss{run=\"$RUN\"} != cloze_train_loss{run=\"$RUN\"})[5m:1s]) > 0"
  "ALERTS{alertname=\"ClozeNonFiniteLoss\", alertstate=\"firing\", run=\"$RUN\"}"
)
TIMEOUT_S=${TIMEOUT_S:-30}  # for all queries to pass, from Prometheus' start
# -------------------------------------------------------------------------------------------

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
tmp=${TEST_TMPDIR:-$(mktemp -d)}
PROMETHEUS=${PROMETHEUS:-$(command -v prometheus)}
PROMTOOL=${PROMTOOL:-$(command -v promtool)}
if [ -z "$PROMETHEUS" ] || [ -z "$PROMTOOL" ]; then
  echo "FAIL: prometheus and promtool are needed (Debian package prometheus; run deploy/setup.sh)"
  exit 1
fi

"$PROMTOOL" check config deploy/prometheus/prometheus.yml || fail "promtool check config"
"$PROMTOOL" check rules deploy/prometheus/alerts.yml || fail "promtool check rules"
"$PROMTOOL" test rules deploy/prometheus/alerts_test.yml || fail "promtool test rules"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for SECONDS PID DESCRIPTION COMMAND...: polls COMMAND until it succeeds; fails early
# if PID has exited.
wait_for() {
  local seconds=$1 pid=$2 what=$3
  shift 3
  for ((i = 0; i < seconds * 10; i++)); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || { echo "FAIL: $what: the process exited"; return 1; }
    sleep 0.1
  done
  echo "FAIL: $what: not after $seconds s"
  return 1
}

PORT_FILE=$tmp/metrics_port
START_FILE=$tmp/scraped
rm -f "$PORT_FILE" "$START_FILE"
eval "exec $METRICS_SOURCE" >"$tmp/metrics_source.log" 2>&1 &  # exec: $! is the source itself
pids+=($!)
if ! wait_for 20 "${pids[0]}" "metrics source writes $PORT_FILE" test -s "$PORT_FILE"; then
  cat "$tmp/metrics_source.log"
  exit 1
fi
metrics_port=$(cat "$PORT_FILE")
echo "metrics source (run \"$RUN\") on 127.0.0.1:$metrics_port"

cp deploy/prometheus/alerts.yml "$tmp/alerts.yml"
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [alerts.yml]
scrape_configs:
  - job_name: cloze
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
EOF
prometheus_port=$(free_port)
"$PROMETHEUS" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prometheus-data" \
  --web.listen-address="127.0.0.1:$prometheus_port" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
url=http://127.0.0.1:$prometheus_port
if ! wait_for 20 "${pids[1]}" "prometheus ready on $url" \
  python3 -c "import urllib.request; urllib.request.urlopen('$url/-/ready', timeout=1)" 2>/dev/null; then
  tail -20 "$tmp/prometheus.log"
  exit 1
fi
# Non-empty result for an instant query (exit status 0), else 1.
query_has_data() {
  python3 - "$url" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = sys.argv[1] + "/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[2]})
try:
    sys.exit(0 if json.load(urllib.request.urlopen(url, timeout=2))["data"]["result"] else 1)
except OSError:
    sys.exit(1)
PY
}
if ! wait_for 20 "${pids[1]}" "prometheus scrapes the metrics source" query_has_data 'up{job="cloze"} == 1'; then
  tail -20 "$tmp/prometheus.log"
  exit 1
fi
touch "$START_FILE"
echo "prometheus on $url scrapes the metrics source"

expect_flags=()
for e in "${EXPECTATIONS[@]}"; do expect_flags+=("--expect=$e"); done
start=$SECONDS
if ! python3 deploy/check_dashboard.py --prometheus="$url" --dashboard=deploy/grafana/dashboards/cloze.json \
  --datasources=deploy/grafana/provisioning/datasources/prometheus.yml --var="run=$RUN" \
  "${expect_flags[@]}" --rules --timeout="$TIMEOUT_S"; then
  fail "dashboard queries (metrics source log and prometheus log follow)"
  tail -5 "$tmp/metrics_source.log"
  tail -20 "$tmp/prometheus.log"
fi
echo "queries checked after $((SECONDS - start)) s"

[ $failures -eq 0 ] && echo "all monitoring checks passed"
exit $failures
