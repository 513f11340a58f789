#!/usr/bin/env bash
# The command of every cloze pod on Kubernetes (deploy/kubernetes/*.yaml): maps the pod's
# environment to cloze's flags, so that the manifests hold settings, not command lines.
# Shipped in the ConfigMap cloze-entrypoint, mounted at /opt/cloze/entrypoint.sh:
#   kubectl create configmap cloze-entrypoint --from-file=entrypoint.sh=deploy/kubernetes/entrypoint.sh
#
#   entrypoint.sh            runs cloze (as a child: see "Stopping" below)
#   entrypoint.sh --print    prints the command, one argument a line, and exits 0 (the test)
#
# The environment (set in the manifests; JOB_COMPLETION_INDEX by the Indexed Job itself):
#   CLOZE_ROLE               coordinator, ps or worker
#   JOB_COMPLETION_INDEX     ps, worker: the pod's index in its Indexed Job, which becomes its
#                            rank (--rank), so ranks are 0..completions-1 and a replaced pod
#                            takes over its predecessor's rank
#   CLOZE_COORDINATOR        ps, worker: HOST:PORT of the coordinator (the headless Service)
#   CLOZE_COORDINATOR_PORT   coordinator: the port it listens on (default 7000)
#   CLOZE_JOB_TOKEN_FILE     the job token (the Secret cloze-job-token, mounted read-only)
#   CLOZE_CONFIG, CLOZE_RUN_DIR   coordinator: the TrainConfig and the run folder (on the
#                            shared volume; the workers learn the run folder from it)
#   CLOZE_WORKERS, CLOZE_PS  coordinator: the job's workers and parameter servers (the
#                            config's distributed block is overridden)
#   CLOZE_DEVICE             cpu (default) or cuda; a cuda worker trains on the one GPU its pod
#                            is given (--gpu=0)
#   CLOZE_METRICS_PORT       the Prometheus port of every pod (default 9400; the pods'
#                            prometheus.io/port annotation)
#   POD_IP                   ps: the address the server listens on and tells the workers
#   CLOZE_PS_PORT            ps: its gRPC port (default 7100)
#   CLOZE_BINARY             default: cloze on PATH
#   CLOZE_EXTRA_FLAGS        worker: more flags, split at spaces (e.g. --gpu_precision=fp32)
#
# Exit status: cloze's (util/exit_status.h: 75 start again, 2/65/66 permanent, which the
# Jobs' podFailurePolicy acts on); 2 when the environment is incomplete.
set -uo pipefail

die() { echo "entrypoint.sh: $1" >&2; exit 2; }
need() { [ -n "${!1:-}" ] || die "$1 is not set (role $role): see deploy/kubernetes/entrypoint.sh"; }
number() { [[ ${!1} =~ ^[0-9]+$ ]] || die "$1=${!1}: want a number"; }

print=''
for arg in "$@"; do
  case $arg in
    --print) print=1 ;;
    *) die "unexpected argument \"$arg\" (only --print)" ;;
  esac
done

role=${CLOZE_ROLE:-}
cloze=${CLOZE_BINARY:-cloze}
device=${CLOZE_DEVICE:-cpu}
metrics_port=${CLOZE_METRICS_PORT:-9400}
case $device in cpu | cuda) ;; *) die "CLOZE_DEVICE=$device: want cpu or cuda" ;; esac
number metrics_port
need CLOZE_JOB_TOKEN_FILE
token=(--job_token_file="$CLOZE_JOB_TOKEN_FILE")

case $role in
  coordinator)
    need CLOZE_CONFIG
    need CLOZE_RUN_DIR
    need CLOZE_WORKERS
    port=${CLOZE_COORDINATOR_PORT:-7000}
    number port
    number CLOZE_WORKERS
    cmd=("$cloze" coordinator --config="$CLOZE_CONFIG" --run_dir="$CLOZE_RUN_DIR" --workers="$CLOZE_WORKERS"
      --ps="${CLOZE_PS:-0}" --device="$device" --listen="0.0.0.0:$port" --metrics_address="0.0.0.0:$metrics_port"
      "${token[@]}")
    ;;
  ps | worker)
    need JOB_COMPLETION_INDEX
    need CLOZE_COORDINATOR
    number JOB_COMPLETION_INDEX
    rank=$JOB_COMPLETION_INDEX
    if [ "$role" = ps ]; then
      need POD_IP
      ps_port=${CLOZE_PS_PORT:-7100}
      number ps_port
      cmd=("$cloze" ps --coordinator="$CLOZE_COORDINATOR" "${token[@]}" --rank="$rank" --listen="$POD_IP:$ps_port"
        --metrics_address="0.0.0.0:$metrics_port")
    else
      # cloze worker serves rank r's metrics on PORT + r (many workers on one machine); a pod
      # has an address of its own, so every worker pod is given PORT - r to serve on PORT.
      [ "$rank" -le "$metrics_port" ] || die "JOB_COMPLETION_INDEX=$rank above CLOZE_METRICS_PORT=$metrics_port"
      cmd=("$cloze" worker --coordinator="$CLOZE_COORDINATOR" "${token[@]}" --rank="$rank"
        --metrics_address="0.0.0.0:$((metrics_port - rank))" --device="$device")
      [ "$device" = cpu ] || cmd+=(--gpu=0) # the pod's one GPU (nvidia.com/gpu: 1)
      read -r -a extra <<<"${CLOZE_EXTRA_FLAGS:-}"
      cmd+=("${extra[@]}")
    fi
    ;;
  '') die "CLOZE_ROLE is not set: want coordinator, ps or worker" ;;
  *) die "CLOZE_ROLE=$role: want coordinator, ps or worker" ;;
esac

if [ -n "$print" ]; then
  printf '%s\n' "${cmd[@]}"
  exit 0
fi

# Stopping: Kubernetes sends SIGTERM when it takes the pod away (a drained node, a
# preemption). cloze then commits a checkpoint and exits 0, which would mark this index of
# the Job as done; the entrypoint turns that into 75 (start again), which the Jobs'
# podFailurePolicy ignores, so the replacement pod resumes from that checkpoint.
stopping=''
"${cmd[@]}" &
child=$!
trap 'stopping=1; kill -TERM "$child" 2>/dev/null' TERM INT
while :; do
  wait "$child"
  status=$?
  kill -0 "$child" 2>/dev/null || break # else a signal interrupted the wait: wait again
done
if [ -n "$stopping" ] && [ "$status" -eq 0 ]; then
  echo "entrypoint.sh: stopped by SIGTERM at a checkpoint; exiting 75 so that the pod is started again" >&2
  exit 75
fi
exit "$status"
