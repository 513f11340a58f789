#!/usr/bin/env bash
# The `probe {}` block of a training config (issue 13): `cloze launch` (one worker) runs a
# micro-ALBERT pretraining of 6 steps with a checkpoint every 2 and a prober beside it
# (`cloze probe --follow`, logs/probe.log), which never holds the job's run.lock; when the
# job has finished the prober has probed every checkpoint, the last included, and is gone.
# `cloze train` with a prober that cannot run (a UD folder that does not exist) trains to the
# end and exits 0, saying why the prober stopped; a probe block without a tokenizer is
# refused naming the field.
set -uo pipefail
source cli/testing/common.sh
require_spm
probe_slices

probe_block() {
  echo "probe { tokenizer: \"spm-albert:$spm\" ud_dir: \"$1\" probes: \"fill\" probes: \"upos\" max_sentences: 12"
  echo "  max_train_sentences: 60 batch_size: 16 poll_seconds: 0.2 final_wait_seconds: 280 }"
}
pretrain_micro_config 6 "every_steps: 2 keep_last: 10" "$(probe_block "$work/ud")"
cp "$work/pretrain.textproto" "$work/probed.textproto"

run=$work/launched
$cloze launch --config="$work/probed.textproto" --run_dir="$run" --workers=1 --threads=1 --metrics_address= \
  >"$work/launch.log" 2>&1 &
launch=$!
# While it runs, the prober (the PID in probe.lock) must not hold the launch's run.lock:
# cloze launch starts it without the descriptors its coordinator and workers inherit.
prober_fds=""
prober_seen() {  # sets prober_fds to the descriptors of the PID in probe.lock, once it runs
  prober=$(awk '{ print $2 }' "$run/probe.lock" 2>/dev/null)
  [ -n "$prober" ] && prober_fds=$(ls -l "/proc/$prober/fd" 2>/dev/null) && [ -n "$prober_fds" ]
}
wait_while_running $launch 0.02 prober_seen
wait $launch || fail "launch with a prober: $(tail -5 "$work/launch.log")"
[ -n "$prober_fds" ] || fail "the launched prober was never seen running (probe.lock: $(cat "$run/probe.lock" 2>&1))"
grep -q "probe.lock" <<<"$prober_fds" || fail "the prober's descriptors lack its own probe.lock: $prober_fds"
! grep -q "run.lock" <<<"$prober_fds" || fail "the launched prober holds the job's run.lock: $prober_fds"
grep -q "prober: cloze probe --follow (log .*logs/probe.log)" "$work/launch.log" &&
  grep -q "prober: finished" "$work/launch.log" || fail "the prober's events: $(cat "$work/launch.log")"
python3 - "$run/probes.jsonl" <<'PY' || fail "probes.jsonl of the launched run: $(tail -3 "$run/logs/probe.log")"
import collections, json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
keys = collections.Counter((r["step"], r["probe"], r["layer"], r["class"]) for r in records)
assert max(keys.values()) == 1
by_step = collections.defaultdict(set)
for r in records:
    by_step[r["step"]].add(r["probe"])
assert dict(by_step) == {2: {"fill", "upos"}, 4: {"fill", "upos"}, 6: {"fill", "upos"}}, dict(by_step)
PY
flock -n "$run/probe.lock" true || fail "a prober still holds $run/probe.lock after the launch"
flock -n "$run/run.lock" true || fail "something still holds $run/run.lock after the launch"

# A prober that cannot run never fails the training.
sed "s|ud_dir: \"$work/ud\"|ud_dir: \"$work/no_ud\"|" "$work/probed.textproto" >"$work/bad_probe.textproto"
$cloze train --config="$work/bad_probe.textproto" --run_dir="$work/trained" --metrics_address= >"$work/train.log" 2>&1 ||
  fail "train beside a failing prober: $(tail -5 "$work/train.log")"
grep -q "prober: exited with status 2, a setting to mend; not restarted: .*no_ud" "$work/train.log" ||
  fail "the failing prober's cause: $(cat "$work/train.log")"
[ -d "$work/trained/checkpoints/step-000000006" ] || fail "the training beside a failing prober did not finish"
[ ! -e "$work/trained/probes.jsonl" ] || fail "the failing prober wrote probes.jsonl"

# Bad settings are refused before anything runs.
sed 's|tokenizer: "[^"]*"||' "$work/probed.textproto" >"$work/no_tokenizer.textproto"
log=$($cloze train --config="$work/no_tokenizer.textproto" --run_dir="$work/refused" --metrics_address= 2>&1)
[ $? -eq 2 ] && grep -q "TrainConfig.probe.tokenizer: missing" <<<"$log" || fail "a probe block without tokenizer: $log"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "PASS"
