# Shared by the distributed tests: a small dataset, a tiny ALBERT config, and comparisons of
# metrics.jsonl files. Sourced; expects $cloze and $work.
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

prepare_data() {  # prepare_data OUTPUT
  $cloze prepare --input=corpus/demo/frankenstein.txt --output="$1" --tokenizer=spm-train:1000 --max_seq_length=64 \
    --max_predictions_per_seq=10 --shards=2 --threads=2 >"$work/prepare.log" 2>&1 ||
    { cat "$work/prepare.log"; echo "FAIL: prepare"; exit 1; }
}

write_config() {  # write_config FILE DATASET BATCH_SIZE TOTAL_STEPS [EXTRA [DISTRIBUTED_EXTRA]]
  cat >"$1" <<CONFIG
model {
  model_type: "albert" vocab_size: 1000 embedding_size: 32 hidden_size: 64 num_hidden_layers: 2
  num_attention_heads: 2 intermediate_size: 128 num_hidden_groups: 1 inner_group_num: 1
  hidden_act: "gelu_new" max_position_embeddings: 64 type_vocab_size: 2 layer_norm_eps: 1e-12
  initializer_range: 0.02 classifier_dropout_prob: 0.1 hidden_dropout_prob: 0.1
  attention_probs_dropout_prob: 0.1
}
dataset: "$2"
batch_size: $3
seq_len: 64
max_predictions_per_seq: 10
total_steps: $4
optimizer { kind: LAMB learning_rate: 0.005 max_grad_norm: 1.0 }
schedule { warmup_steps: 5 }
checkpoint { every_steps: 5 keep_last: 50 }
log_every_steps: 5
distributed { heartbeat_interval_seconds: 0.2 failure_timeout_seconds: 3 ${6:-} }
${5:-}
CONFIG
}

# Compares the "loss" of every step of two metrics.jsonl files: prints the largest relative
# difference; fails (exit 1) above TOLERANCE (0: bitwise) or when the steps differ. A
# non-finite loss (null in the file) must be non-finite in both.
launch() {  # launch CONFIG RUN_DIR FLAGS...: a cloze launch job, its logs shown if it fails
  local config=$1 run=$2
  shift 2
  $cloze launch --config="$config" --run_dir="$run" --metrics_address=127.0.0.1:0 "$@" >"$run.log" 2>&1 ||
    { fail "cloze launch $* ($run)"; tail -n 30 "$run.log"; for f in "$run"/logs/*.log; do echo "== $f"; tail -n 20 "$f"; done; }
}

compare_losses() {  # compare_losses A B TOLERANCE
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
def losses(path):
    out = {}
    for line in open(path):
        record = json.loads(line)
        if "loss" in record and "step" in record:
            out[record["step"]] = record["loss"]
    return out
a, b, tolerance = losses(sys.argv[1]), losses(sys.argv[2]), float(sys.argv[3])
if sorted(a) != sorted(b) or not a:
    print(f"steps differ: {sorted(a)[:3]}..{len(a)} vs {sorted(b)[:3]}..{len(b)}")
    sys.exit(1)
mismatched = [s for s in a if (a[s] is None) != (b[s] is None)]
if mismatched:
    print(f"steps {mismatched}: a non-finite loss in one run only")
    sys.exit(1)
worst = max((abs(a[s] - b[s]) / max(abs(a[s]), 1e-30) for s in a if a[s] is not None), default=0)
print(f"{len(a)} steps ({sum(a[s] is None for s in a)} non-finite in both), largest relative difference {worst:.3g}")
sys.exit(0 if worst <= tolerance else 1)
PY
}

# Every committed checkpoint is whole: its manifest lists files whose sizes and SHA-256
# match. Prints the number checked.
verify_checkpoints() {  # verify_checkpoints RUN_DIR
  python3 - "$1" <<'PY'
import hashlib, os, re, sys
root = os.path.join(sys.argv[1], "checkpoints")
checked = 0
for name in sorted(os.listdir(root)):
    if not re.fullmatch(r"step-\d{9,}", name):
        continue
    manifest = open(os.path.join(root, name, "manifest.pb.txt")).read()
    files = re.findall(r'files \{\s*name: "([^"]+)"\s*bytes: (\d+)\s*sha256: "([0-9a-f]+)"', manifest)
    assert any(f[0].startswith("model") for f in files), f"{name}: no model file listed"
    for file, size, sha in files:
        data = open(os.path.join(root, name, file), "rb").read()
        assert len(data) == int(size), f"{name}/{file}: {len(data)} bytes, manifest {size}"
        assert hashlib.sha256(data).hexdigest() == sha, f"{name}/{file}: SHA-256 differs"
    checked += 1
print(f"{checked} checkpoints verified")
sys.exit(0 if checked else 1)
PY
}
