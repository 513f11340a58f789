#!/bin/bash
# cloze report end to end, in a real browser: the page of report/testdata/run (a pretraining run
# and an evaluation with runs from scratch, sliced from real runs: testdata/make_fixtures.py) is
# self-contained, opens in headless Chromium without a console message or a script error, and
# every figure in it is decoded at a nonzero size; a page with one broken figure and one script
# error is caught by the same check. The screenshot and the page are kept as the test's outputs.
# Also: the path printed last, an empty run, bad usage, and no Python with matplotlib.
#
# The browser check is report/check_page.sh (how it works: its header), which users run on
# their own runs' pages; this test also shows it catching a broken page.
set -euo pipefail

cloze="$PWD/cli/cloze"
fixture="$PWD/report/testdata/run"
work="${TEST_TMPDIR:-$(mktemp -d)}"
outputs="${TEST_UNDECLARED_OUTPUTS_DIR:-$work/outputs}"
mkdir -p "$outputs"
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_CACHE_HOME="$work/home/.cache"
mkdir -p "$HOME"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

check_page="$PWD/report/check_page.sh"

# --- the page --------------------------------------------------------------------------------
page="$work/report.html"
"$cloze" report "$fixture" --output="$page" >"$work/stdout" 2>"$work/stderr" ||
  fail "cloze report exited $?: $(cat "$work/stderr")"
[ "$(tail -n 1 "$work/stdout")" = "$page" ] || fail "the last line printed is not the page's path: $(cat "$work/stdout")"
grep -q "train: pretraining run, 300 steps recorded (last: 300), 3 checkpoints on disk" "$work/stdout" ||
  fail "the pretraining run was not found: $(cat "$work/stdout")"
grep -q "eval: evaluation: CoLA, RTE, with runs from scratch; table from evaluation.json" "$work/stdout" ||
  fail "the evaluation was not found: $(cat "$work/stdout")"
cp "$page" "$outputs/report.html"

for expected in "Pretraining: train" "Evaluation: eval" "GLUE (partial: 2 of 9)" "Against the human baseline" \
  "CoLA: pretrained against scratch" "RTE: pretrained against scratch" "150, 201, 202, 203, 204, 205" \
  "metrics.jsonl:150: step 150 had non-finite values" "Probing: train/probes.jsonl" \
  "6 checkpoints probed: 50, 100, 150, 200, 250, 300" "The newest checkpoint (step 300)" \
  "Fill-in by word class" "Reconstruction by word class" "UPOS (part of speech): layer × step" \
  "Dependency relation (syntax): layer × step" "SST-2 sentiment (semantics): layer × step"; do
  grep -qF "$expected" "$page" || fail "the page lacks \"$expected\""
done
# Rollbacks: the guard rolls back at the 5th skip in a row (201-205); checkpoints 100, 200, 300.
grep -qF "<td>rollbacks</td><td>205</td>" "$page" || fail "the rollback at step 205 is not reported"
grep -qF "<td>checkpoints on disk</td><td>100, 200, 300</td>" "$page" || fail "the checkpoints are not listed"

# Self-contained: nothing is fetched (every src and href a data: URI), no script, no stylesheet link.
outside="$(grep -oE '(src|href)="[^"]{0,40}' "$page" | grep -v '="data:' || true)"
[ -z "$outside" ] || fail "the page refers to outside files: $outside"
if grep -qiE '<script|<link|url\(' "$page"; then fail "the page has a script, a link or a CSS url()"; fi
figures="$(grep -o '<img ' "$page" | wc -l)"
[ "$figures" -eq 13 ] ||
  fail "expected 13 figures (5 pretraining, the human chart, 2 comparisons, 5 probing), found $figures"

# --- in the browser (report/check_page.sh, which users run on their own pages) ---------------
status=0
bash "$check_page" "$page" --screenshot="$outputs/report.png" >"$work/verdict" 2>&1 || status=$?
echo "browser: $(head -n 1 "$work/verdict")"
[ "$status" -eq 0 ] || fail "the page in Chromium (exit $status): $(cat "$work/verdict")"
grep -q "^REPORT-OK figures=13 broken=0 " "$work/verdict" || fail "the page in Chromium: $(cat "$work/verdict")"
[ -s "$outputs/report.png" ] || fail "no screenshot"
echo "screenshot: $outputs/report.png"

# The check can fail: one figure's SVG cut short and a script error are both caught.
python3 - "$page" "$work/broken.html" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
start = text.index("data:image/svg+xml;base64,") + len("data:image/svg+xml;base64,")
text = text[:start] + "PHN2Zz4=" + text[text.index('"', start):]  # "<svg>": not a whole SVG
text = text.replace("</body>", "<script>undefinedFunction();</script></body>")
open(sys.argv[2], "w", encoding="utf-8").write(text)
PY
status=0
bash "$check_page" "$work/broken.html" >"$work/verdict" 2>&1 || status=$?
[ "$status" -eq 1 ] && grep -q "^REPORT-FAIL figures=13 broken=1 .*undefinedFunction" "$work/verdict" ||
  fail "a broken page was not caught (exit $status): $(cat "$work/verdict")"
grep -q "CONSOLE.*Uncaught ReferenceError: undefinedFunction" "$work/verdict" ||
  fail "Chromium's log did not show the script error: $(cat "$work/verdict")"
status=0
bash "$check_page" "$work/no_such_page.html" >"$work/verdict" 2>&1 || status=$?
[ "$status" -eq 2 ] && grep -qF "no_such_page.html: no such file" "$work/verdict" ||
  fail "a missing page: exit $status, $(cat "$work/verdict")"

# --- an empty run, bad usage, no matplotlib ----------------------------------------------------
mkdir -p "$work/empty_run"
: >"$work/empty_run/metrics.jsonl"
"$cloze" report "$work/empty_run" >"$work/stdout" 2>&1 || fail "an empty run: exit $?: $(cat "$work/stdout")"
grep -qF "No steps recorded yet" "$work/empty_run/report.html" || fail "the empty run's page does not say so"
mkdir -p "$work/nothing"
"$cloze" report "$work/nothing" >"$work/stdout" 2>&1 || fail "an empty folder: exit $?"
grep -qF "Nothing to report here" "$work/nothing/report.html" || fail "the empty folder's page does not say so"

status=0
"$cloze" report "$work/no_such_run" >"$work/stdout" 2>&1 || status=$?
[ "$status" -eq 2 ] && grep -qF "no_such_run: no such folder" "$work/stdout" ||
  fail "a missing RUN_DIR: exit $status, $(cat "$work/stdout")"

# A Python without matplotlib (-S: no site packages) and no Python at all.
printf '#!/bin/sh\nexec python3 -S "$@"\n' >"$work/bare_python"
chmod +x "$work/bare_python"
status=0
CLOZE_PYTHON="$work/bare_python" "$cloze" report "$fixture" --output="$work/x.html" >"$work/stdout" 2>&1 || status=$?
[ "$status" -eq 1 ] && grep -qF "bare_python has no matplotlib" "$work/stdout" &&
  grep -qF "python3-matplotlib" "$work/stdout" || fail "no matplotlib: exit $status, $(cat "$work/stdout")"
status=0
CLOZE_PYTHON="$work/no_python" "$cloze" report "$fixture" --output="$work/x.html" >"$work/stdout" 2>&1 || status=$?
[ "$status" -eq 1 ] && grep -qF "no_python: No such file or directory" "$work/stdout" ||
  fail "no Python: exit $status, $(cat "$work/stdout")"
[ ! -e "$work/x.html" ] || fail "a page was written without matplotlib"

echo "PASS"
