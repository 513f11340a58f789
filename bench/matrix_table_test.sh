#!/usr/bin/env bash
# bench/matrix_table.py on evaluation.json files written here in cloze evaluate's layout: GLUE
# metrics are fractions shown in percent, SQuAD's are percent already, one seed has no std,
# degenerate seeds are listed, a folder without scratch runs is skipped, the GLUE tasks'
# average is taken per seed over the tasks' scores (SQuAD left out), and no folder at all is
# an error.
set -uo pipefail
table="/usr/bin/python3 bench/matrix_table.py"
work=$TEST_TMPDIR
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# side MEAN STD VALUES DEGENERATE SCORES: one side's final and best, the same numbers; SCORES
# are the task's per-seed scores in percent (cloze evaluate's "score").
side() {
  local stat="{\"mean\": $1, \"std\": $2, \"values\": [$3], \"min\": 0, \"max\": 1, \"median\": $1}"
  local one="{\"degenerate_seeds\": [$4], \"metrics\": {\"$METRIC\": $stat}, \"score\": {\"values\": [$5]}}"
  echo "{\"final\": $one, \"best\": $one}"
}
mkdir -p "$work/m/RTE" "$work/m/STS-B" "$work/m/squad" "$work/m/alone"
METRIC=accuracy
cat >"$work/m/RTE/evaluation.json" <<JSON
{"tasks": [{"task": "RTE", "seeds": [1, 2], "init": $(side 0.55 0.01 "0.54, 0.56" "" "54, 56"),
            "scratch": $(side 0.5 0.02 "0.48, 0.52" "2" "48, 52")}]}
JSON
METRIC=pearson
cat >"$work/m/STS-B/evaluation.json" <<JSON
{"tasks": [{"task": "STS-B", "seeds": [1, 2], "init": $(side 0.15 0.07 "0.1, 0.2" "" "10, 20"),
            "scratch": $(side 0.06 0.01 "0.05, 0.07" "" "5, 7")}]}
JSON
METRIC=f1
cat >"$work/m/squad/evaluation.json" <<JSON
{"tasks": [{"task": "squad", "seeds": [1], "init": $(side 7.84 null "7.84" "" "7.84"),
            "scratch": $(side 8.53 null "8.53" "" "8.53")}]}
JSON
echo '{"tasks": [{"task": "CoLA", "seeds": [1], "init": {}}]}' >"$work/m/alone/evaluation.json"

out=$($table "$work/m" 2>"$work/err") || fail "table failed: $(cat "$work/err")"
grep -qF '| RTE | accuracy | 2 | 55.00 ± 1.00 (54.00, 56.00) | 50.00 ± 2.00 (48.00, 52.00) |' <<<"$out" ||
  fail "RTE row: $out"
grep -qF '| none / 2 |' <<<"$out" || fail "degenerate seeds: $out"
grep -qF '| squad | f1 | 1 | 7.84 | 8.53 | 7.84 | 8.53 | none / none |' <<<"$out" || fail "squad row: $out"
grep -q 'alone/evaluation.json: no runs from scratch, skipped' "$work/err" || fail "no skip notice: $(cat "$work/err")"
grep -q CoLA <<<"$out" && fail "a folder without scratch runs made a row: $out"
# Per seed: checkpoint (54+10)/2, (56+20)/2 = 32, 38; scratch (48+5)/2, (52+7)/2 = 26.5, 29.5.
grep -qF 'GLUE tasks average (2 of 9: STS-B, RTE; per seed, then mean ± std over 2 seeds): final, checkpoint 35.00 ± 4.24, scratch 28.00 ± 2.12;' <<<"$out" ||
  fail "GLUE average: $out"

mkdir -p "$work/empty"
$table "$work/empty" 2>"$work/err" && fail "an empty folder was accepted"
grep -q 'no \*/evaluation.json under' "$work/err" || fail "empty folder message: $(cat "$work/err")"

[ "$failures" -eq 0 ] && echo PASS
exit "$failures"
