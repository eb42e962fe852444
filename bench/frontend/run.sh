#!/usr/bin/env bash
# run.sh - time `mbxc check` on a generated 50,000-line program (a benchmark,
# not a test).  Usage: bench/frontend/run.sh [BUILD_DIR] [LINES]
# The target (issue 3) is under 0.5 s; the result is printed, best of 5 runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
lines=${2:-50000}
mbxc=$build/compiler/mbxc
prog=$(mktemp --suffix=.mbx)
trap 'rm -f "$prog"' EXIT
python3 "$here/gen.py" "$lines" >"$prog"
echo "program: $(wc -l <"$prog") lines, $(wc -c <"$prog") bytes"
"$mbxc" check --stdlib="$here/../../stdlib" "$prog" # must be clean
best=999
for _ in 1 2 3 4 5; do
  t0=$(date +%s.%N)
  "$mbxc" check --stdlib="$here/../../stdlib" "$prog"
  t1=$(date +%s.%N)
  best=$(python3 -c "print(min($best, $t1 - $t0))")
done
printf 'mbxc check: best of 5 = %.3f s (target < 0.5 s)\n' "$best"
