#!/usr/bin/env bash
# The monitoring files against Debian's Prometheus (deploy/README.md):
#   1. promtool accepts deploy/prometheus/prometheus.yml and alerts.yml, and the alert unit
#      tests (alerts_test.yml) pass;
#   2. a metrics source serves a short training run on a free 127.0.0.1 port, a
#      distributed job (`cloze launch`, 1 worker) serves its coordinator's metrics on
#      another, and a prober following that job (`cloze probe --follow`) its gauges on a
#      third; a Prometheus on a fourth scrapes them every second and evaluates alerts.yml;
#   3. every query of every panel of deploy/grafana/dashboards/cloze.json returns data, the
#      `run` variable lists the run, every alert rule evaluates without error, and the
#      EXPECTATIONS below hold (deploy/check_dashboard.py polls until all do, or fails).
# About 15 s; needs /usr/bin/prometheus and /usr/bin/promtool (Debian's `prometheus`,
# installed by deploy/setup.sh).
set -uo pipefail

# --- The metrics source ----------------------------------------------------------------
# A real `cloze train` run on a small dataset prepared here (a tiny ALBERT, about 0.1 s a
# step, long enough to outlast the checks), with an evaluation and a checkpoint every 50
# steps and, by fault injection, NaN losses that the guard must skip at steps spread
# geometrically, so that some come after Prometheus' first scrape however fast the machine.
# Any command serving cloze_* metrics with run="$RUN" on 127.0.0.1 and writing its port to
# "$PORT_FILE" will do (metrics/training_metrics_demo is a stand-in without a model).
RUN=${RUN:-monitoring-test}
METRICS_SOURCE=${METRICS_SOURCE:-'cli/cloze train --config="$tmp/train.textproto" --run_dir="$tmp/run" --run_name="$RUN" --metrics_address=127.0.0.1:0 --metrics_port_file="$PORT_FILE" --testing_nonfinite_loss_steps=25,50,100,200,400,800,1600,3200'}
# PromQL queries that must return data besides the dashboard's: Prometheus has a few scrapes,
# the skipped steps, a checkpoint and an evaluation came through, and the non-finite-loss
# alert fired.
EXPECTATIONS=(
  "count_over_time(cloze_train_step{run=\"$RUN\"}[5m]) >= 5"
  "cloze_train_skipped_steps_total{run=\"$RUN\"} >= 2"
  "cloze_train_nonfinite_losses_total{run=\"$RUN\"} >= 2"
  "cloze_train_checkpoints_total{run=\"$RUN\"} >= 1"
  "cloze_eval_loss{run=\"$RUN\"}"
  "ALERTS{alertname=\"ClozeNonFiniteLoss\", alertstate=\"firing\", run=\"$RUN\"}"
  "cloze_coordinator_workers_alive{run=\"$RUN\"} >= 1"
  "cloze_coordinator_last_checkpoint_step{run=\"$RUN\"} >= 10"
  "cloze_probe_accuracy{run=\"$RUN\", probe=\"fill\", class=\"overall\"}"
)
TIMEOUT_S=${TIMEOUT_S:-150}  # the most to wait for all queries to pass, from Prometheus' start (a loaded machine needs minutes; a quiet one passes in seconds)
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
START_FILE=$tmp/scraped  # for a source that waits for Prometheus (the stand-in does)
rm -f "$PORT_FILE" "$START_FILE"
rm -rf "$tmp/data" "$tmp/eval" "$tmp/run"
# Train and held-out data with one tokenizer (trained on the training text).
cli/cloze prepare --input=corpus/demo/frankenstein.txt --output="$tmp/data" --tokenizer=spm-train:1000 \
  --max_seq_length=64 --max_predictions_per_seq=10 --shards=2 --threads=2 >"$tmp/prepare.log" 2>&1 ||
  { cat "$tmp/prepare.log"; echo "FAIL: prepare"; exit 1; }
head -n 400 corpus/demo/wikitext-2-test.txt >"$tmp/heldout.txt"
cli/cloze prepare --input="$tmp/heldout.txt" --output="$tmp/eval" --tokenizer="spm:$tmp/data/tokenizer.model" \
  --max_seq_length=64 --max_predictions_per_seq=10 --shards=1 --threads=2 >>"$tmp/prepare.log" 2>&1 ||
  { cat "$tmp/prepare.log"; echo "FAIL: prepare held-out"; exit 1; }
cat >"$tmp/train.textproto" <<EOF
model {
  model_type: "albert" vocab_size: 1000 embedding_size: 32 hidden_size: 64 num_hidden_layers: 2
  num_attention_heads: 2 intermediate_size: 128 num_hidden_groups: 1 inner_group_num: 1
  hidden_act: "gelu_new" max_position_embeddings: 64 type_vocab_size: 2 layer_norm_eps: 1e-12
  initializer_range: 0.02
}
dataset: "$tmp/data"
eval_dataset: "$tmp/eval"
eval_every_steps: 50
eval_batches: 2
batch_size: 16
seq_len: 64
max_predictions_per_seq: 10
total_steps: 100000
optimizer { kind: LAMB learning_rate: 0.005 }
schedule { warmup_steps: 20 }
checkpoint { every_steps: 50 keep_last: 2 }
EOF
eval "exec $METRICS_SOURCE" >"$tmp/metrics_source.log" 2>&1 &  # exec: $! is the source itself
pids+=($!)
if ! wait_for 20 "${pids[0]}" "metrics source writes $PORT_FILE" test -s "$PORT_FILE"; then
  cat "$tmp/metrics_source.log"
  exit 1
fi
metrics_port=$(cat "$PORT_FILE")
echo "metrics source (run \"$RUN\") on 127.0.0.1:$metrics_port"

# The distributed job: its run directory's name is the coordinator's `run` label. Small
# batches and one thread, so that it takes little from the training run beside it.
JOB_DIR=$tmp/job/$RUN
rm -rf "$tmp/job"
sed -e 's/^batch_size: .*/batch_size: 2/' -e 's/every_steps: 50 keep_last/every_steps: 10 keep_last/' \
  -e '/^eval_/d' "$tmp/train.textproto" >"$tmp/job.textproto"
cli/cloze launch --config="$tmp/job.textproto" --run_dir="$JOB_DIR" --workers=1 --threads=1 --metrics_address=127.0.0.1:0 \
  >"$tmp/job.log" 2>&1 &
pids+=($!)
if ! wait_for 30 "${pids[1]}" "cloze launch writes its coordinator's metrics port" test -s "$JOB_DIR/coordinator.metrics_port"; then
  cat "$tmp/job.log"
  exit 1
fi
job_port=$(cat "$JOB_DIR/coordinator.metrics_port")
echo "job coordinator (run \"$RUN\") on 127.0.0.1:$job_port"

# A prober following the job (cloze probe --follow) on a few UD English-EWT sentences: the
# Embryology row's gauges; niced, as a side job should be, so that it slows the runs little.
ud=../shared_data/ud-english-ewt
mkdir -p "$tmp/ud"
first_sentences() { awk -v n="$1" '{ print } /^$/ { if (++count >= n) exit }'; }
xz -dc "$ud/en_ewt-ud-train.conllu.xz" | first_sentences 20 >"$tmp/ud/en_ewt-ud-train.conllu"
first_sentences 8 <"$ud/en_ewt-ud-dev.conllu" >"$tmp/ud/en_ewt-ud-dev.conllu"
first_sentences 8 <"$ud/en_ewt-ud-test.conllu" >"$tmp/ud/en_ewt-ud-test.conllu"
rm -f "$tmp/probe_port"
nice -n 10 cli/cloze probe --follow="$JOB_DIR" --tokenizer="spm:$tmp/data/tokenizer.model" --ud_dir="$tmp/ud" --probes=fill,upos \
  --max_seq_length=64 --batch_size=8 --poll_seconds=1 --threads=1 --metrics_address=127.0.0.1:0 \
  --metrics_port_file="$tmp/probe_port" >"$tmp/probe.log" 2>&1 &
pids+=($!)
if ! wait_for 30 "${pids[2]}" "cloze probe --follow writes its metrics port" test -s "$tmp/probe_port"; then
  cat "$tmp/probe.log"
  exit 1
fi
probe_port=$(cat "$tmp/probe_port")
echo "prober (run \"$RUN\") on 127.0.0.1:$probe_port"

cp deploy/prometheus/alerts.yml "$tmp/alerts.yml"
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [alerts.yml]
scrape_configs:
  - job_name: cloze
    static_configs:
      - targets: ["127.0.0.1:$metrics_port", "127.0.0.1:$job_port", "127.0.0.1:$probe_port"]
EOF
prometheus_port=$(free_port)
"$PROMETHEUS" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/prometheus-data" \
  --web.listen-address="127.0.0.1:$prometheus_port" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
url=http://127.0.0.1:$prometheus_port
if ! wait_for 20 "${pids[3]}" "prometheus ready on $url" \
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
if ! wait_for 20 "${pids[3]}" "prometheus scrapes the metrics sources" query_has_data 'count(up{job="cloze"} == 1) == 3'; then
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
  fail "dashboard queries (metrics source log, job log, prober log and prometheus log follow)"
  tail -5 "$tmp/metrics_source.log"
  tail -5 "$tmp/probe.log"
  tail -n 5 "$tmp/job.log" "$JOB_DIR"/logs/*.log
  tail -20 "$tmp/prometheus.log"
fi
echo "queries checked after $((SECONDS - start)) s"

[ $failures -eq 0 ] && echo "all monitoring checks passed"
exit $failures
