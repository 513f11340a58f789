"""cloze report RUN_DIR: one self-contained HTML page of what RUN_DIR holds.

`cloze report` (cli/report_command.cc) runs this script, embedded in the binary, with a Python 3
that has matplotlib, and passes --context: a JSON file of what the C++ side knows and this side
must not copy (the GLUE tasks and their human baselines, eval/glue_score.h).

Usage: main.py --run_dir=DIR --output=FILE.html [--context=FILE.json]
Prints what it found, then the page's absolute path as its last line. Exit status 0 when the
page is written (also when nothing was found: the page says so), 1 when it cannot be, 2 on bad
usage.
"""

import argparse
import datetime
import json
import os
import sys


def load_context(path):
    if not path:
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_atomically(path, text):
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temporary, path)


def main(argv):
    parser = argparse.ArgumentParser(prog="cloze report")
    parser.add_argument("--run_dir", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--context", default="")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.run_dir):
        print("cloze report: %s: not a folder" % args.run_dir, file=sys.stderr)
        return 2

    if "MPLCONFIGDIR" not in os.environ and not os.access(os.path.expanduser("~"), os.W_OK):
        # matplotlib warns when it has nowhere to keep its font cache; this run's folder will do.
        os.environ["MPLCONFIGDIR"] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "matplotlib")
    import discovery  # after the checks: matplotlib loads with the figures
    import page

    found = discovery.discover(args.run_dir, load_context(args.context))
    generated = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    text = page.render(found, generated)
    output = os.path.abspath(args.output)
    try:
        write_atomically(output, text)
    except OSError as e:
        print("cloze report: %s: cannot write: %s" % (output, e.strerror), file=sys.stderr)
        return 1
    for note in found.notes():
        print("report: note: %s" % note, file=sys.stderr)
    sys.stderr.flush()
    for f in found.found:
        print("report: %s: %s" % (page.display_name(args.run_dir, f.path), page.describe(f)))
    if not found.found:
        print("report: no run found in %s; the page says what was looked for" % args.run_dir)
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
