#!/usr/bin/env bash
# bench/memory.sh - memory per tracked connection: a synthetic SYN flood of N connections
# (bench/synflood.py), all live at the end, read by mbx-flowstat-like counting with
# `mbx-streams --count --max-flows N`; prints peak RSS and bytes per connection, minus the
# RSS of the same run over an empty capture (the fixed cost).  Not a test.
# usage: bench/memory.sh [N]   (default 1000000)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); SRC=$(cd "$HERE/.." && pwd)
BUILD=${MBX_BUILD:-$SRC/build}; N=${1:-1000000}; DIR=${MBX_BENCH_DIR:-/var/tmp/mbx-perf}; mkdir -p "$DIR"
STREAMS=$BUILD/examples/c/mbx-streams
CAP=$DIR/synflood-$N.pcap; ONE=$DIR/synflood-1.pcap
[ -s "$CAP" ] || python3 "$HERE/synflood.py" "$N" "$CAP"
[ -s "$ONE" ] || python3 "$HERE/synflood.py" 1 "$ONE"
rss() { /usr/bin/time -f "%M" "$STREAMS" --count --max-flows "$N" -r "$1" 2>&1 >/dev/null | tail -1; }
base=$(rss "$ONE"); full=$(rss "$CAP")
echo "connections: $N; peak RSS: $((full / 1024)) MiB (1 connection: $((base / 1024)) MiB)"
echo "bytes per connection: $(( (full - base) * 1024 / N ))"
