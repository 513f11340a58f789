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
