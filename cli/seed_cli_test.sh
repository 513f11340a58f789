#!/usr/bin/env bash
# --seed seeds what its help says. cloze train and cloze launch take it over the config's
# seed (the run's saved config records it, and the run starts from other parameters than
# the config's seed gives); without the flag the config's seed stands. cloze worker refuses
# it (exit status 2): a job's workers share the seed of its config.
set -uo pipefail
cloze=cli/cloze
work=$TEST_TMPDIR
source tests/distributed/common.sh
prepare_data "$work/data"
write_config "$work/job.textproto" "$work/data" 4 5 "seed: 11"

first_loss() { sed -n '1s/.*"loss": *\([-0-9.e]*\).*/\1/p' "$1/metrics.jsonl"; }
train() {  # train RUN_DIR FLAGS...
  $cloze train --config="$work/job.textproto" --run_dir="$work/$1" --metrics_address= "${@:2}" >"$work/$1.log" 2>&1 ||
    { fail "cloze train $*"; tail -n 5 "$work/$1.log"; }
}
train config_seed
train flag_seed --seed=7
grep -q "^seed: 11$" "$work/config_seed/train_config.pb.txt" || fail "without --seed the config's seed is not kept"
grep -q "^seed: 7$" "$work/flag_seed/train_config.pb.txt" || fail "train: the saved config does not record --seed=7"
[ "$(first_loss "$work/config_seed")" != "$(first_loss "$work/flag_seed")" ] || fail "train: --seed=7 changed nothing"
echo "first losses: seed 11 $(first_loss "$work/config_seed"), seed 7 $(first_loss "$work/flag_seed")"

$cloze launch --config="$work/job.textproto" --run_dir="$work/launched" --workers=1 --seed=7 \
  --metrics_address=127.0.0.1:0 >"$work/launched.log" 2>&1 || { fail "cloze launch --seed=7"; tail -n 5 "$work/launched.log"; }
grep -q "^seed: 7$" "$work/launched/job_config.pb.txt" || fail "launch: the job's config does not record --seed=7"
[ "$(first_loss "$work/launched")" = "$(first_loss "$work/flag_seed")" ] ||
  fail "launch --seed=7 and train --seed=7 differ at the first step"

log=$($cloze worker --coordinator=127.0.0.1:1 --job_token_file=/dev/null --seed=7 2>&1)
status=$?
[ "$status" -eq 2 ] && grep -q "seed" <<<"$log" || fail "worker --seed: exit status $status, $log"

[ "$failures" -eq 0 ] && echo PASS || { echo "$failures failures"; exit 1; }
