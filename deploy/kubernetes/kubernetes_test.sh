#!/usr/bin/env bash
# The Kubernetes manifests (deploy/kubernetes/): (1) every one validates against the API
# schemas of Kubernetes 1.37 (kubernetes-validate, in the venv deploy/setup.sh makes at
# /opt/cloze-tools), also with --strict (no unknown fields), and a misspelt field is caught;
# (2) for every Job and completion index, the environment its pod gets, through
# entrypoint.sh --print, gives exactly the flags cloze reads, and those commands are
# accepted by the real cloze against a real coordinator (check_pods.py); (3) entrypoint.sh
# refuses an incomplete environment with exit 2, naming the variable; (4) a negative --rank
# is refused with exit 2; (5) the split data preparation (prepare.yaml, prepare-merge.yaml):
# every part pod and the merge pod run on the real cloze give a one-machine prepare's dataset
# (check_prepare.py).
set -uo pipefail
cloze=$(realpath "${CLOZE:-cli/cloze}")
validate=${KUBERNETES_VALIDATE:-/opt/cloze-tools/bin/kubernetes-validate}
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/cloze-k8s.XXXXXX")
source tests/distributed/common.sh
failures=0
manifests=(deploy/kubernetes/common.yaml deploy/kubernetes/cpu.yaml deploy/kubernetes/gpu.yaml)
prepare_manifests=(deploy/kubernetes/prepare.yaml deploy/kubernetes/prepare-merge.yaml)
entrypoint=deploy/kubernetes/entrypoint.sh

# (1) The schemas (the split preparation's manifests too).
[ -x "$validate" ] || { echo "FAIL: no $validate: run deploy/setup.sh (it makes the venv /opt/cloze-tools)"; exit 1; }
for strict in '' --strict; do
  "$validate" $strict --quiet "${manifests[@]}" "${prepare_manifests[@]}" ||
    fail "kubernetes-validate $strict: a manifest does not validate"
done
sed 's/^  backoffLimit: 20$/  backoffLimit: 20\n  backoffLimt: 20/' deploy/kubernetes/cpu.yaml >"$work/misspelt.yaml"
if "$validate" --strict --quiet "$work/misspelt.yaml" >"$work/misspelt.out" 2>&1 || ! grep -q backoffLimt "$work/misspelt.out"; then
  fail "kubernetes-validate --strict took a misspelt field"
fi

# (2) The pods' environments and the real cloze. The pods' /data is $work/data here.
mkdir -p "$work/data/configs"
write_config "$work/data/configs/job.textproto" "$work/data/dataset" 4 100
/usr/bin/python3 deploy/kubernetes/check_pods.py --cloze="$cloze" --entrypoint="$entrypoint" --work="$work" \
  "${manifests[@]}" || fail "check_pods.py"

# (5) Split data preparation: every part pod, then the merge pod, on the real cloze; the
# pods' /data/corpus is a demo book, /data/tokenizer ALBERT's SentencePiece model.
mkdir -p "$work/data/corpus" "$work/data/tokenizer"
cp corpus/demo/frankenstein.txt "$work/data/corpus/"
cp ../shared_data/vocab/albert-base-v2-spiece.model "$work/data/tokenizer/tokenizer.model"
/usr/bin/python3 deploy/kubernetes/check_prepare.py --cloze="$cloze" --work="$work" \
  deploy/kubernetes/prepare.yaml deploy/kubernetes/prepare-merge.yaml || fail "check_prepare.py"

# (3) An incomplete environment.
refused() { # refused VARIABLE ENV...: entrypoint.sh --print exits 2 naming VARIABLE
  local out status
  out=$(env -i PATH="$PATH" "${@:2}" "$entrypoint" --print 2>&1)
  status=$?
  [ "$status" -eq 2 ] && grep -q "$1" <<<"$out" || fail "entrypoint.sh with ${*:2}: want exit 2 naming $1, got $status: $out"
}
refused CLOZE_ROLE CLOZE_JOB_TOKEN_FILE=/t
refused CLOZE_ROLE CLOZE_JOB_TOKEN_FILE=/t CLOZE_ROLE=launcher
refused CLOZE_JOB_TOKEN_FILE CLOZE_ROLE=worker
refused JOB_COMPLETION_INDEX CLOZE_JOB_TOKEN_FILE=/t CLOZE_ROLE=worker CLOZE_COORDINATOR=c:7000
refused JOB_COMPLETION_INDEX CLOZE_JOB_TOKEN_FILE=/t CLOZE_ROLE=worker CLOZE_COORDINATOR=c:7000 JOB_COMPLETION_INDEX=x
refused POD_IP CLOZE_JOB_TOKEN_FILE=/t CLOZE_ROLE=ps CLOZE_COORDINATOR=c:7000 JOB_COMPLETION_INDEX=0
refused CLOZE_WORKERS CLOZE_JOB_TOKEN_FILE=/t CLOZE_ROLE=coordinator CLOZE_CONFIG=c CLOZE_RUN_DIR=r
refused CLOZE_DEVICE CLOZE_JOB_TOKEN_FILE=/t CLOZE_ROLE=worker CLOZE_DEVICE=tpu

# (4) A negative --rank is a usage error before anything is reached.
for role in worker ps; do
  out=$("$cloze" "$role" --coordinator=127.0.0.1:1 --job_token_file=/nonexistent --rank=-2 2>&1)
  status=$?
  [ "$status" -eq 2 ] && grep -q -- "--rank=-2" <<<"$out" || fail "cloze $role --rank=-2: want exit 2 naming it, got $status: $out"
done

rm -rf "$work"
[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failure(s)"; exit 1; }
