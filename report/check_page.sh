#!/bin/bash
# Opens a `cloze report` page in headless Chromium and says whether it renders: no script
# error, no console message, every figure decoded at a nonzero size. The browser test runs it
# on its fixture; run it on any run's page the same way:
#
#   report/check_page.sh runs/small/report.html [--screenshot=FILE.png]
#
# Prints one line, "REPORT-OK figures=N broken=0 height=H errors=[]" or "REPORT-FAIL ...",
# then each console message Chromium logged ("CONSOLE ..."); exit 0 only for REPORT-OK
# without console messages, 1 otherwise, 2 on bad usage or no Chromium.
#
# How: a copy of the page gets a script at the top of its <head> that records errors (the
# window's error events, resource errors included, and console.error/warn) and, on load, looks
# at every <img>/<svg>; its verdict becomes the document title, which Chromium's --dump-dom
# prints. Independently, --enable-logging=stderr prints every console message Chromium sees as
# a CONSOLE line: a report page has no script, so any such line is a failure. The copy and the
# browser's profile live in a temporary folder, removed on exit; no network (a dead proxy).
set -euo pipefail

usage() {
  echo "usage: report/check_page.sh PAGE.html [--screenshot=FILE.png]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
page="$1"
shift
screenshot=""
for arg in "$@"; do
  case "$arg" in
    --screenshot=*) screenshot="${arg#--screenshot=}" ;;
    *) usage ;;
  esac
done
[ -f "$page" ] || { echo "check_page.sh: $page: no such file" >&2; exit 2; }
page="$(cd "$(dirname "$page")" && pwd)/$(basename "$page")"
chromium_bin="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$chromium_bin" ] || { echo "check_page.sh: no chromium on PATH (Debian's chromium; deploy/setup.sh installs it)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_CACHE_HOME="$work/home/.cache"
mkdir -p "$HOME"

# browser ARGS...: headless Chromium, no network, its own profile; stderr to $work/chromium.log.
browser() {
  timeout 60 "$chromium_bin" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$work/profile" --proxy-server=127.0.0.1:9 --enable-logging=stderr --v=0 \
    "$@" 2>>"$work/chromium.log"
}

python3 - "$page" "$work/checked.html" <<'PY'
import sys
page, out = sys.argv[1:3]
checker = """<script>
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
</script>"""
text = open(page, encoding="utf-8").read()
if "<head>" not in text:
    sys.exit(f"check_page.sh: {page} has no <head>: not a cloze report page")
open(out, "w", encoding="utf-8").write(text.replace("<head>", "<head>" + checker, 1))
PY

: >"$work/chromium.log"
browser --window-size=1300,1000 --virtual-time-budget=10000 --dump-dom "file://$work/checked.html" >"$work/dom.html" ||
  { echo "REPORT-FAIL chromium --dump-dom failed: $(tail -n 3 "$work/chromium.log")"; exit 1; }
result="$(python3 -c 'import html, re, sys
m = re.search(r"<title>(.*?)</title>", open(sys.argv[1], encoding="utf-8").read(), re.S)
print(html.unescape(m.group(1)) if m else "REPORT-FAIL the checker did not run (no title)")' "$work/dom.html")"
echo "$result"
console="$(grep "CONSOLE" "$work/chromium.log" || true)"
[ -z "$console" ] || echo "$console"

if [ -n "$screenshot" ]; then  # the whole page, at the height the browser measured
  height="$(sed -n 's/.* height=\([0-9]*\) .*/\1/p' <<<"$result")"
  browser --screenshot="$screenshot" --window-size="1300,${height:-4000}" "file://$page" >/dev/null &&
    [ -s "$screenshot" ] || { echo "REPORT-FAIL no screenshot written to $screenshot"; exit 1; }
fi
case "$result" in
  REPORT-OK*) [ -z "$console" ] ;;
  *) exit 1 ;;
esac
