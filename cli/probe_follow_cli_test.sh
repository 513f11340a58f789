#!/usr/bin/env bash
# cloze probe --follow end to end: a prober started beside a micro-ALBERT pretraining (8
# steps, a checkpoint every 2) on slices of UD English-EWT and SST-2. The probe of step 4
# fails on purpose: retried, then given up with a message. The prober is killed (SIGKILL)
# once its first records are in and started again: it finishes the rest, exits 0 once the run
# has finished, and probes.jsonl holds every wanted checkpoint × probe × layer × class once.
# It never holds run.lock; a second prober is refused by probe.lock; SIGTERM stops it with
# exit 0; its Prometheus gauges are served; --every_checkpoints=2 probes steps 4 and 8 only.
set -uo pipefail
source cli/testing/common.sh
require_spm
probe_slices

pretrain_micro_config 8 "every_steps: 2 keep_last: 10"
pre=$work/pre
probes=$pre/probes.jsonl
follow=($cloze probe --follow="$pre" "${probe_flags[@]}" --probes=fill,upos --poll_seconds=0.2 --max_attempts=2
  --testing_fail_step=4)

log=$($cloze probe --follow="$work/nothing" "${probe_flags[@]}" 2>&1)
[ $? -eq 2 ] && grep -q "nothing: no such run folder" <<<"$log" || fail "--follow on a missing folder: $log"

# The prober first, waiting for the run; training beside it (the run folder exists first).
mkdir -p "$pre"
"${follow[@]}" >"$work/follow1.log" 2>&1 &
prober=$!
$cloze train --config="$work/pretrain.textproto" --run_dir="$pre" --metrics_address= >"$work/pretrain.log" 2>&1 ||
  { tail -5 "$work/pretrain.log"; fail "training beside the prober"; }
# Killed once the first checkpoint's first records are in.
wait_while_running $prober 0.05 grep -qs '"step":2,' "$probes"
kill -9 $prober 2>/dev/null || fail "the prober ended before it could be killed: $(cat "$work/follow1.log")"
wait $prober 2>/dev/null
! grep -qs "cloze probe" "$pre/run.lock" || fail "the prober took run.lock"

"${follow[@]}" >"$work/follow2.log" 2>&1 || fail "the restarted prober: $(cat "$work/follow2.log")"
grep -q "probing .*step-000000004 failed (attempt 2 of 2)" "$work/follow2.log" &&
  grep -q "gave up on .*step-000000004 after 2 attempts" "$work/follow2.log" ||
  fail "no retry of the failing checkpoint: $(cat "$work/follow2.log")"
grep -q "the run has finished: .*, 0 skipped, 1 given up" "$work/follow2.log" ||
  fail "the restarted prober's summary: $(cat "$work/follow2.log")"
python3 - "$probes" <<'PY' || fail "probes.jsonl after the restart: $(wc -l <"$probes") lines"
import collections, json, sys
records = [json.loads(l) for l in open(sys.argv[1])]
keys = collections.Counter((r["step"], r["probe"], r["layer"], r["class"]) for r in records)
assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1][:5]
assert sorted({r["step"] for r in records}) == [2, 6, 8], sorted({r["step"] for r in records})
for step in (2, 6, 8):
    mine = [r for r in records if r["step"] == step]
    assert sorted({r["probe"] for r in mine}) == ["fill", "upos"], step
    assert {r["layer"] for r in mine if r["probe"] == "upos" and r["class"] == "overall"} == {0, 1, 2}, step
    assert len([r for r in mine if r["probe"] == "fill" and r["class"] == "overall"]) == 1, step
PY
cp "$probes" "$work/probes.after"
"${follow[@]}" >"$work/follow3.log" 2>&1 || fail "a third prober: $(cat "$work/follow3.log")"
cmp -s "$probes" "$work/probes.after" || fail "a prober on a finished, probed run changed probes.jsonl"

# Another copy of the run, unprobed: a second prober is refused while one holds probe.lock.
mkdir -p "$work/copy"
cp -r "$pre/checkpoints" "$pre/train_config.pb.txt" "$work/copy/"
fill=($cloze probe --follow="$work/copy" "${probe_flags[@]}" --probes=fill --poll_seconds=0.2)
lock_file=probe.lock refused_while_held "$work/copy" "cloze probe --follow" "${fill[@]}"

# A run not finished (the config says 100 steps): the prober's gauges, then SIGTERM: the
# probe under way is finished, then exit 0.
sed -i 's/^total_steps: .*/total_steps: 100/' "$work/copy/train_config.pb.txt"
"${fill[@]}" --metrics_address=127.0.0.1:0 --metrics_port_file="$work/probe_port" >"$work/term.log" 2>&1 &
prober=$!
wait_while_running $prober 0.05 grep -q "  fill: overall" "$work/term.log"
python3 - "$(cat "$work/probe_port")" <<'PY' || fail "the prober's gauges"
import re, sys, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode()
overall = re.search(r'cloze_probe_accuracy\{class="overall",layer="mlm_head",probe="fill",run="copy"\} (\S+)', text)
assert overall and 0 <= float(overall.group(1)) <= 1, text
step = re.search(r'cloze_probe_step\{probe="fill",run="copy"\} (\S+)', text)
assert step and float(step.group(1)) in (2, 4, 6, 8), text
PY
kill -TERM $prober
wait $prober
status=$?
[ $status -eq 0 ] && grep -q "stopped: " "$work/term.log" || fail "SIGTERM (exit $status): $(cat "$work/term.log")"

# Every 2nd checkpoint of the schedule, and the last.
rm -f "$work/copy/probes.jsonl"
sed -i 's/^total_steps: .*/total_steps: 8/' "$work/copy/train_config.pb.txt"
"${fill[@]}" --every_checkpoints=2 >"$work/every.log" 2>&1 || fail "--every_checkpoints=2: $(cat "$work/every.log")"
steps=$(python3 -c 'import json,sys; print(sorted({json.loads(l)["step"] for l in open(sys.argv[1])}))' "$work/copy/probes.jsonl")
[ "$steps" == "[4, 8]" ] || fail "--every_checkpoints=2 probed steps $steps"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "PASS"
