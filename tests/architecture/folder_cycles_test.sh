#!/bin/bash
# No cycle between the repository's top-level folders (folder_cycles.py says how they are
# read). The script finds the source tree through its own symlink, since the BUILD files
# and sources of every package cannot all be declared as this test's inputs; hence the
# test is tagged never to be cached.
set -euo pipefail
script="$(dirname "$0")/folder_cycles.py"
exec python3 "$script"
