# Sourced by the cli/*_cli_test.sh scripts: the binary, a scratch folder, the official ALBERT
# SentencePiece model from shared data, failure counting, and the micro-ALBERT fine-tune on
# the RTE slice (cli/testdata/finetune) that several of them run.
cloze=cli/cloze
work=$TEST_TMPDIR
spm=../shared_data/vocab/albert-base-v2-spiece.model
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
require_spm() { [ -f "$spm" ] || { echo "FAIL: missing $spm (shared data)"; exit 1; }; }

# The flags of a from-scratch micro-ALBERT run on the RTE slice; the caller adds the learning
# rate, epochs, seed and cadences.
micro_rte=(--init=scratch --tokenizer=spm-albert:$spm --model_config=cli/testdata/finetune/albert-micro.textproto
  --max_seq_length=64 --batch_size=8)

# wait_while_running PID SECONDS COMMAND...: runs COMMAND every SECONDS until it succeeds
# (status 0) or PID has exited (status 1). No time bound: a loaded machine may take long to get
# there, and bazel's test timeout bounds the test.
wait_while_running() {
  local pid=$1 seconds=$2
  shift 2
  until "$@"; do
    kill -0 "$pid" 2>/dev/null || return 1
    sleep "$seconds"
  done
}

# kill_at_checkpoint STEP RUN_DIR LOG COMMAND...: runs COMMAND in the background (itself, not a
# subshell, so that the kill reaches it) with its output in LOG, and SIGKILLs it once RUN_DIR
# has the checkpoint of STEP. Fails (status 1) when the run ended before.
kill_at_checkpoint() {
  local step=$1 run_dir=$2 log=$3
  shift 3
  "$@" >"$log" 2>&1 &
  local pid=$!
  local checkpoint
  checkpoint=$(printf '%s/checkpoints/step-%09d' "$run_dir" "$step")
  wait_while_running $pid 0.01 test -d "$checkpoint"
  kill -9 $pid 2>/dev/null || { fail "the run ended before it could be killed: $(cat "$log")"; return 1; }
  wait $pid 2>/dev/null
  return 0
}

# figures_after STEP METRICS_JSONL: every figure of the steps after STEP, timings aside, one
# line per step with sorted keys, for a bitwise comparison of two runs.
figures_after() {
  python3 -c '
import json, sys
for line in open(sys.argv[2]):
    r = json.loads(line)
    if r["step"] > int(sys.argv[1]):
        r.pop("seconds"); r.pop("tokens_per_s")
        print(json.dumps(r, sort_keys=True))
' "$1" "$2"
}

# same_after_resume STEP STRAIGHT_RUN RESUMED_RUN MIN_STEPS: a run killed after its STEP
# checkpoint and started again (RESUMED_RUN) ended as the uninterrupted one (STRAIGHT_RUN),
# bit for bit: every figure of the steps after STEP (at least MIN_STEPS of them, timings
# aside), eval_results.json ("finished" aside) and predictions_dev.jsonl. Counts a failure
# for each difference.
same_after_resume() {
  local step=$1 straight=$2 resumed=$3 min_steps=$4
  figures_after "$step" "$straight/metrics.jsonl" >"$work/straight_figures.txt"
  figures_after "$step" "$resumed/metrics.jsonl" >"$work/resumed_figures.txt"
  local steps
  steps=$(wc -l <"$work/straight_figures.txt")
  [ "$steps" -ge "$min_steps" ] || fail "$straight logged $steps steps after $step, want at least $min_steps"
  diff "$work/straight_figures.txt" "$work/resumed_figures.txt" ||
    fail "$resumed: the steps after $step differ from the uninterrupted run's"
  diff <(grep -v '"finished"' "$straight/eval_results.json") <(grep -v '"finished"' "$resumed/eval_results.json") ||
    fail "$resumed: eval_results.json differs from the uninterrupted run's"
  cmp "$straight/predictions_dev.jsonl" "$resumed/predictions_dev.jsonl" ||
    fail "$resumed: dev predictions differ from the uninterrupted run's"
}

# pretrain_micro_config STEPS CHECKPOINT_FIELDS [MORE]: the dataset ($work/data, the first
# 20,000 bytes of Frankenstein) and config ($work/pretrain.textproto) of the micro ALBERT
# (cli/testdata/finetune) pretrained with LAMB for STEPS steps, its checkpoint block holding
# CHECKPOINT_FIELDS (e.g. "every_steps: 2 keep_last: 5"), MORE appended to the config. Ends
# the test when prepare fails.
pretrain_micro_config() {
  local steps=$1 checkpoint=$2 more=${3:-}
  head -c 20000 corpus/demo/frankenstein.txt >"$work/corpus.txt"
  $cloze prepare --input="$work/corpus.txt" --output="$work/data" --tokenizer=spm-albert:$spm --max_seq_length=64 \
    --max_predictions_per_seq=10 --shards=1 --threads=1 >"$work/prepare.log" 2>&1 ||
    { cat "$work/prepare.log"; echo "FAIL: prepare"; exit 1; }
  {
    echo "model {"
    grep -v '^#' cli/testdata/finetune/albert-micro.textproto
    echo "}"
    cat <<CONFIG
dataset: "$work/data"
batch_size: 8
seq_len: 64
max_predictions_per_seq: 10
total_steps: $steps
optimizer { kind: LAMB learning_rate: 0.005 }
schedule { warmup_steps: 1 }
checkpoint { $checkpoint }
$more
CONFIG
  } >"$work/pretrain.textproto"
}

# pretrain_micro STEPS CHECKPOINT_FIELDS: that run (pretrain_micro_config) trained into
# $work/pre. Ends the test when a step fails.
pretrain_micro() {
  pretrain_micro_config "$@"
  $cloze train --config="$work/pretrain.textproto" --run_dir="$work/pre" --metrics_address= >"$work/pretrain.log" 2>&1 ||
    { tail -5 "$work/pretrain.log"; echo "FAIL: pretraining"; exit 1; }
}

# refused_while_held RUN_DIR WHAT COMMAND...: COMMAND runs in the background until it holds
# RUN_DIR's lock ($lock_file, run.lock unless set), is stopped there (SIGSTOP, so that it cannot finish first), and the same
# COMMAND again must be refused with exit status 1 naming WHAT (e.g. "cloze finetune") and the
# holder's PID. The holder is killed after.
refused_while_held() {
  local run_dir=$1 what=$2
  shift 2
  "$@" >/dev/null 2>&1 &
  local held=$!
  wait_while_running $held 0.01 grep -qs " $held " "$run_dir/${lock_file:-run.lock}"
  kill -STOP $held
  local log status
  log=$("$@" 2>&1)
  status=$?
  kill -9 $held
  wait $held 2>/dev/null
  [ $status -eq 1 ] && grep -q "in use by $what on host $(hostname), PID $held" <<<"$log" ||
    fail "a second $what on a folder in use (exit $status): $log"
}

# probe_slices: slices of UD English-EWT (60 train, 20 dev, 12 test sentences) in $work/ud
# and of SST-2 (120 train, 40 dev) in $work/glue, and probe_flags, cloze probe's flags for
# them with the ALBERT tokenizer and small sizes. Ends the test when shared data is missing.
probe_slices() {
  local ud=../shared_data/ud-english-ewt glue=../shared_data/glue
  [ -f "$ud/en_ewt-ud-dev.conllu" ] && [ -f "$glue/SST-2/dev.tsv" ] || { echo "FAIL: missing UD-EWT or SST-2 (shared data)"; exit 1; }
  mkdir -p "$work/ud" "$work/glue/SST-2"
  xz -dc "$ud/en_ewt-ud-train.conllu.xz" | sentences 60 >"$work/ud/en_ewt-ud-train.conllu"
  sentences 20 <"$ud/en_ewt-ud-dev.conllu" >"$work/ud/en_ewt-ud-dev.conllu"
  sentences 12 <"$ud/en_ewt-ud-test.conllu" >"$work/ud/en_ewt-ud-test.conllu"
  head -n 121 "$glue/SST-2/train.tsv" >"$work/glue/SST-2/train.tsv"
  head -n 41 "$glue/SST-2/dev.tsv" >"$work/glue/SST-2/dev.tsv"
  probe_flags=(--tokenizer=spm-albert:$spm --ud_dir="$work/ud" --glue_dir="$work/glue" --max_sentences=12
    --max_train_sentences=60 --max_seq_length=64 --batch_size=16)
}

# The first N sentences of a CoNLL-U stream (sentences end with a blank line).
sentences() { awk -v n="$1" '{ print } /^$/ { if (++count >= n) exit }'; }

# micro_pretrain_config FILE DATASET VOCAB STEPS WARMUP CHECKPOINT_EVERY: a 2-layer ALBERT of
# width 64 pretraining on DATASET (sequences of 64, batch 8, LAMB), which trains in seconds:
# the checkpoints that the fill-mask and probe tests read.
micro_pretrain_config() {
  cat >"$1" <<CONFIG
model {
  model_type: "albert" vocab_size: $3 embedding_size: 32 hidden_size: 64 num_hidden_layers: 2
  num_attention_heads: 2 intermediate_size: 128 num_hidden_groups: 1 inner_group_num: 1
  hidden_act: "gelu_new" max_position_embeddings: 64 type_vocab_size: 2 layer_norm_eps: 1e-12
  initializer_range: 0.02
}
dataset: "$2"
batch_size: 8
seq_len: 64
max_predictions_per_seq: 10
total_steps: $4
optimizer { kind: LAMB learning_rate: 0.005 }
schedule { warmup_steps: $5 }
checkpoint { every_steps: $6 keep_last: 5 }
CONFIG
}
