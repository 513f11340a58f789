#!/bin/bash
# cloze report end to end, in a real browser: the page of report/testdata/run (a pretraining run
# and an evaluation with runs from scratch, sliced from real runs: testdata/make_fixtures.py) is
# self-contained, opens in headless Chromium without a console message or a script error, and
# every figure in it is decoded at a nonzero size; a page with one broken figure and one script
# error is caught by the same check. The screenshot and the page are kept as the test's outputs.
# Also: the path printed last, an empty run, bad usage, and no Python with matplotlib.
#
# How the browser check works: Chromium's --dump-dom prints the DOM once the page has loaded.
# A copy of the page gets a script at the top of its <head> that records errors (the window's
# error events, resource errors included, and console.error/warn), and on load looks at every
# <img>/<svg>: its verdict becomes the document title, which the dumped DOM carries. Independently,
# --enable-logging=stderr prints every console message Chromium sees as a CONSOLE line: the page
# itself has no script, so any such line fails the test.
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

chromium_bin="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$chromium_bin" ] || fail "no chromium on PATH (Debian's chromium; deploy/setup.sh installs it)"

# browser ARGS...: headless Chromium, no network, its own profile; stderr to $work/chromium.log.
browser() {
  timeout 60 "$chromium_bin" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$work/profile" --proxy-server=127.0.0.1:9 --enable-logging=stderr --v=0 \
    "$@" 2>>"$work/chromium.log"
}

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

# --- in the browser --------------------------------------------------------------------------
checker='<script>
window.reportErrors = [];
window.addEventListener("error", e => reportErrors.push(e.message || "resource " + (e.target.src || "").slice(0, 40)), true);
for (const level of ["error", "warn"]) {
  const original = console[level];
  console[level] = (...args) => { reportErrors.push(level + ": " + args.join(" ")); original.apply(console, args); };
}
window.addEventListener("load", () => {
  const figures = [...document.querySelectorAll("img, svg")];
  const broken = figures.filter(f => f.tagName === "IMG"
      ? !(f.complete && f.naturalWidth > 0 && f.naturalHeight > 0 && f.getBoundingClientRect().height > 0)
      : !(f.getBoundingClientRect().width > 0));
  const verdict = broken.length || reportErrors.length ? "REPORT-FAIL" : "REPORT-OK";
  document.title = verdict + " figures=" + figures.length + " broken=" + broken.length + " height=" +
      document.documentElement.scrollHeight + " errors=" + JSON.stringify(reportErrors);
});
</script>'
# with_checker PAGE OUT: PAGE with the checker first in its <head>.
with_checker() {
  python3 - "$1" "$2" "$checker" <<'PY'
import sys
page, out, checker = sys.argv[1:4]
text = open(page, encoding="utf-8").read()
assert "<head>" in text
open(out, "w", encoding="utf-8").write(text.replace("<head>", "<head>" + checker, 1))
PY
}
# verdict PAGE: the title the checker set.
verdict() {
  browser --window-size=1300,1000 --virtual-time-budget=10000 --dump-dom "file://$1" >"$work/dom.html" || fail "chromium --dump-dom failed"
  python3 -c 'import html, re, sys
m = re.search(r"<title>(.*?)</title>", open(sys.argv[1], encoding="utf-8").read(), re.S)
print(html.unescape(m.group(1)) if m else "no title")' "$work/dom.html"
}

with_checker "$page" "$work/checked.html"
: >"$work/chromium.log"
result="$(verdict "$work/checked.html")"
echo "browser: $result"
case "$result" in
  "REPORT-OK figures=13 broken=0 "*) ;;
  *) fail "the page in Chromium: $result" ;;
esac
if grep -q "CONSOLE" "$work/chromium.log"; then fail "console messages: $(grep CONSOLE "$work/chromium.log")"; fi
height="$(sed -n 's/.* height=\([0-9]*\) .*/\1/p' <<<"$result")"

# The check can fail: one figure's SVG cut short and a script error are both caught.
python3 - "$page" "$work/broken.html" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
start = text.index("data:image/svg+xml;base64,") + len("data:image/svg+xml;base64,")
text = text[:start] + "PHN2Zz4=" + text[text.index('"', start):]  # "<svg>": not a whole SVG
text = text.replace("</body>", "<script>undefinedFunction();</script></body>")
open(sys.argv[2], "w", encoding="utf-8").write(text)
PY
with_checker "$work/broken.html" "$work/broken_checked.html"
: >"$work/chromium.log"
result="$(verdict "$work/broken_checked.html")"
case "$result" in
  "REPORT-FAIL figures=13 broken=1 "*undefinedFunction*) ;;
  *) fail "a broken page was not caught: $result" ;;
esac
grep -q "CONSOLE.*Uncaught ReferenceError: undefinedFunction" "$work/chromium.log" ||
  fail "Chromium's log did not show the script error: $(cat "$work/chromium.log")"

# The screenshot: the whole page (its height as the browser measured it), kept as an output.
browser --screenshot="$outputs/report.png" --window-size="1300,${height:-4000}" "file://$page" >/dev/null ||
  fail "chromium --screenshot failed"
[ -s "$outputs/report.png" ] || fail "no screenshot"
echo "screenshot: $outputs/report.png (1300x${height})"

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
