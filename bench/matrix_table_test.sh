#!/usr/bin/env bash
# bench/matrix_table.py on evaluation.json files written here in cloze evaluate's layout: GLUE
# metrics are fractions shown in percent, SQuAD's are percent already, one seed has no std,
# degenerate seeds are listed, a folder without scratch runs is skipped, and no folder at all
# is an error.
set -uo pipefail
table="/usr/bin/python3 bench/matrix_table.py"
work=$TEST_TMPDIR
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# side MEAN STD VALUES DEGENERATE: one side's final and best, the same numbers.
side() {
  local stat="{\"mean\": $1, \"std\": $2, \"values\": [$3], \"min\": 0, \"max\": 1, \"median\": $1}"
  local one="{\"degenerate_seeds\": [$4], \"metrics\": {\"$METRIC\": $stat}}"
  echo "{\"final\": $one, \"best\": $one}"
}
mkdir -p "$work/m/RTE" "$work/m/squad" "$work/m/alone"
METRIC=accuracy
cat >"$work/m/RTE/evaluation.json" <<JSON
{"tasks": [{"task": "RTE", "seeds": [1, 2], "init": $(side 0.55 0.01 "0.54, 0.56" ""),
            "scratch": $(side 0.5 0.02 "0.48, 0.52" "2")}]}
JSON
METRIC=f1
cat >"$work/m/squad/evaluation.json" <<JSON
{"tasks": [{"task": "squad", "seeds": [1], "init": $(side 7.84 null "7.84" ""),
            "scratch": $(side 8.53 null "8.53" "")}]}
JSON
echo '{"tasks": [{"task": "CoLA", "seeds": [1], "init": {}}]}' >"$work/m/alone/evaluation.json"

out=$($table "$work/m" 2>"$work/err") || fail "table failed: $(cat "$work/err")"
grep -qF '| RTE | accuracy | 2 | 55.00 ± 1.00 (54.00, 56.00) | 50.00 ± 2.00 (48.00, 52.00) |' <<<"$out" ||
  fail "RTE row: $out"
grep -qF '| none / 2 |' <<<"$out" || fail "degenerate seeds: $out"
grep -qF '| squad | f1 | 1 | 7.84 | 8.53 | 7.84 | 8.53 | none / none |' <<<"$out" || fail "squad row: $out"
grep -q 'alone/evaluation.json: no runs from scratch, skipped' "$work/err" || fail "no skip notice: $(cat "$work/err")"
grep -q CoLA <<<"$out" && fail "a folder without scratch runs made a row: $out"

mkdir -p "$work/empty"
$table "$work/empty" 2>"$work/err" && fail "an empty folder was accepted"
grep -q 'no \*/evaluation.json under' "$work/err" || fail "empty folder message: $(cat "$work/err")"

[ "$failures" -eq 0 ] && echo PASS
exit "$failures"
