#!/usr/bin/env bash
# Configuration errors found by the workers are permanent failures: a config whose model
# does not fit the dataset (vocab_size), or that names a missing dataset, fails at once
# with exit status 2; a config whose model does not fit the run's checkpoint (it cannot be
# loaded, and falling back to an older one would drop training done) fails at once with 66
# (EX_NOINPUT) naming the checkpoint. None is restarted; the console gives the workers' own
# error lines; nothing outlives the job.
set -uo pipefail
cloze=${CLOZE:-cli/cloze}
work=$TEST_TMPDIR
source tests/faults/common.sh
prepare_data "$work/data"
write_job "$work/job.textproto" 40

sed 's/vocab_size: 1000/vocab_size: 500/' "$work/job.textproto" >"$work/vocab.textproto"
expect_permanent_failure "$work/vocab.textproto" "$work/vocab-run" 2 \
  "$work/data: made with a tokenizer of 1000 ids .* but TrainConfig.model.vocab_size is 500" --workers=2

sed "s#dataset: \"$work/data\"#dataset: \"$work/nowhere\"#" "$work/job.textproto" >"$work/missing.textproto"
expect_permanent_failure "$work/missing.textproto" "$work/missing-run" 2 \
  "dataset $work/nowhere: NotFound: no such file or directory" --workers=2

run="$work/resumed"
$cloze train --config="$work/job.textproto" --run_dir="$run" --stop_after_step=2 --metrics_address= \
  >"$work/train.log" 2>&1 || { fail "cloze train"; cat "$work/train.log"; }
sed 's/intermediate_size: 128/intermediate_size: 96/' "$work/job.textproto" >"$work/other_model.textproto"
expect_permanent_failure "$work/other_model.textproto" "$run" 66 \
  "$run/checkpoints/step-000000002/model.safetensors: .*written for another model config" --workers=2
ls -d "$run"/checkpoints/step-000000002 >/dev/null || fail "the checkpoint was moved or deleted"

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
