#!/usr/bin/env bash
# Installs the Debian 12 packages cloze builds and tests against, and the Python tools that
# Debian lacks in a venv at /opt/cloze-tools (kubernetes-validate for
# deploy/kubernetes/kubernetes_test). Idempotent: what is present already is only checked.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap          # Bazel 4.2.3, works offline with the stand-ins in third_party/
  build-essential pkg-config
  protobuf-compiler libprotobuf-dev
  protobuf-compiler-grpc libgrpc++-dev
  libabsl-dev
  librocksdb-dev
  libopenmpi-dev openmpi-bin
  prometheus-cpp-dev
  libgtest-dev libgmock-dev
  libsentencepiece-dev
  nlohmann-json3-dev
  libicu-dev libssl-dev    # Unicode tables (ICU) and SHA-256 (OpenSSL) for data/
  liblzma-dev              # .xz task files (UD treebank, SQuAD) read directly by tasks/
  libopenblas-openmp-dev   # the OpenMP build of OpenBLAS (third_party/system/pkg_config.bzl)
  libdnnl-dev              # oneDNN: bf16 matrix products on AVX512-BF16 CPUs (kernels/cpu/bf16_gemm.h)
  python3
  python3-matplotlib       # cloze report's figures
  python3-sklearn          # probe/softmax_regression_test: the linear probe against scikit-learn
  chromium                 # report/report_browser_test opens the page in headless Chromium
  xz-utils                 # xz -dc: eval/ tests read the SQuAD dev set as shared/data ships it
  prometheus               # server and promtool for deploy/monitoring_test.sh (Debian starts
                           # its service on :9090 where systemd runs; the test uses its own)
  slurmctld slurmd munge slurm-client
                           # a one-node Slurm for deploy/slurm/slurm_test.sh (the test starts
                           # and stops its own daemons; Debian's services stay unused)
  python3-yaml python3-venv
                           # deploy/kubernetes/kubernetes_test reads the manifests (PyYAML)
                           # and validates them from a venv (below)
)

# Python packages Debian does not ship, pinned, in a venv of their own (Debian's python3).
TOOLS_VENV=/opt/cloze-tools
TOOLS=(kubernetes-validate==1.37.0) # the Kubernetes API schemas, offline

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
else
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The venv: made once; pip is asked only when a pinned version is not there yet.
if [ ! -x "$TOOLS_VENV/bin/pip" ]; then
  echo "setup: making the venv $TOOLS_VENV"
  $SUDO /usr/bin/python3 -m venv "$TOOLS_VENV"
fi
for tool in "${TOOLS[@]}"; do
  if [ "$("$TOOLS_VENV/bin/pip" show "${tool%%==*}" 2>/dev/null | sed -n 's/^Version: //p')" != "${tool##*==}" ]; then
    echo "setup: installing $tool into $TOOLS_VENV"
    $SUDO "$TOOLS_VENV/bin/pip" install -q "$tool"
  fi
done
echo "setup: done"
