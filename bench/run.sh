#!/usr/bin/env bash
# bench/run.sh - issue 2's benchmark: mbx-streams --count against its peers, side by side
# in one run, one core each (taskset), on one capture from the page cache.
#
# usage: bench/run.sh [CAPTURE]   (default: a fresh ../shared/testbed/gen_perf_trace.sh capture
#                                   in $MBX_BENCH_DIR, default /var/tmp/mbx-perf)
# env:   MBX_BUILD (build dir, default build), RUNS (best of, default 3)
# Prints a markdown table: tool, packets/s, Gbit/s, peak RSS, ratio to mbx.  Not a test.
# One row runs mbx-streams --workers 2 on cores 0 and 1 (taskset -c 0,1); the others one core.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); SRC=$(cd "$HERE/.." && pwd)
BUILD=${MBX_BUILD:-$SRC/build}; SHARED=${MBX_SHARED:-$SRC/../shared}; RUNS=${RUNS:-3}
DIR=${MBX_BENCH_DIR:-/var/tmp/mbx-perf}; mkdir -p "$DIR/bin"
CAP=${1:-$DIR/perf.pcap}
if [ ! -s "$CAP" ]; then
  # tcpdump drops packets when wrk and nginx take both cores (2.2 M of 4 M here):
  # it writes to tmpfs, and wrk and nginx run at the lowest priority
  echo "bench: making $CAP with gen_perf_trace.sh (~1.5 GB, ~1 min)" >&2
  GEN=/dev/shm/mbx-perf-gen; rm -rf "$GEN"
  ( for _ in $(seq 600); do for p in $(pgrep -x wrk) $(pgrep -x nginx); do
      renice -n 19 -p "$p" >/dev/null 2>&1 || true; done; sleep 0.1; done ) & RN=$!
  bash "$SHARED/testbed/gen_perf_trace.sh" -o "$GEN" >&2 || { kill $RN; exit 1; }
  kill $RN 2>/dev/null || true
  mv "$GEN/perf.pcap" "$CAP"; mv "$GEN/perf_stats.txt" "$GEN/manifest.tsv" "$(dirname "$CAP")/"
  rm -rf "$GEN"
fi
gcc -O2 -o "$DIR/bin/readfloor" "$SHARED/tools/readfloor.c"
gcc -O2 -o "$DIR/bin/nids_count" "$HERE/nids_count.c" -lnids -lpcap
STREAMS=$BUILD/examples/c/mbx-streams
[ -x "$STREAMS" ] || { echo "bench: build mbx-streams first ($STREAMS)" >&2; exit 2; }
PKTS=$(capinfos -c -M "$CAP" | awk -F': *' '/Number of packets/ {print $2}')
BYTES=$(capinfos -d -M "$CAP" | awk -F': *' '/Data size/ {print $2+0}')
# The capture as read from disk: dropped from the page cache, then read once.
# (A file just written, by tcpdump or cp, sits in the cache in small pages,
# which makes mapping it several times dearer for every reader; after a read
# from disk the kernel holds it in large folios.)  Needs root; else as it is.
sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || echo "bench: cannot drop caches" >&2
cat "$CAP" > /dev/null

# run NAME CMD...: best wall time of RUNS runs on core 1 (the cores in $CPUS), peak
# RSS and CPU time (user + system: what the tool itself used, less sensitive to a
# busy machine) of the best run
declare -A T R C
CPUS=1
run() {
  local name=$1; shift; local best= rss= cpu=
  for _ in $(seq "$RUNS"); do
    local t0 t1 m u s
    t0=$(date +%s.%N)
    /usr/bin/time -f "%M %U %S" -o "$DIR/rss" taskset -c "$CPUS" "$@" >/dev/null 2>&1 || true
    read -r m u s < <(tail -1 "$DIR/rss")
    t1=$(date +%s.%N)
    local dt; dt=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || (( $(echo "$dt < $best" | bc -l) )); then
      best=$dt; rss=$m; cpu=$(echo "$u + $s" | bc -l)
    fi
  done
  T[$name]=$best; R[$name]=$rss; C[$name]=$cpu
}
run "readfloor touch" "$DIR/bin/readfloor" touch "$CAP"
run "readfloor copy" "$DIR/bin/readfloor" copy "$CAP"
run "mbx-streams --count" "$STREAMS" --count -r "$CAP"
# two workers (threads, one engine each) on two cores: wall time, and CPU of both
CPUS=0,1 run "mbx-streams --count --workers 2 (2 cores)" "$STREAMS" --count --workers 2 -r "$CAP"
run "tcpdump -r -w /dev/null" tcpdump -r "$CAP" -w /dev/null
run "libnids (nids_count)" "$DIR/bin/nids_count" "$CAP"
rm -rf "$DIR/tcpflow.out"; mkdir -p "$DIR/tcpflow.out"
run "tcpflow" tcpflow -r "$CAP" -o "$DIR/tcpflow.out"
rm -rf "$DIR/tcpflow.out"

echo "capture: $CAP, $PKTS packets, $BYTES bytes; best of $RUNS, one core (taskset -c 1); $(date -u +%F)"
echo
echo "| tool | Mpps | Gbit/s | peak RSS (MiB) | mbx-streams is × faster | CPU s | Mpps per CPU s |"
echo "|---|---:|---:|---:|---:|---:|---:|"
M=${T["mbx-streams --count"]}
for name in "readfloor touch" "readfloor copy" "mbx-streams --count" \
            "mbx-streams --count --workers 2 (2 cores)" "tcpdump -r -w /dev/null" \
            "libnids (nids_count)" "tcpflow"; do
  t=${T[$name]}
  c=${C[$name]}; [ "$(echo "$c > 0" | bc -l)" = 1 ] || c=0.001
  printf '| %s | %.2f | %.2f | %.0f | %.2f | %.2f | %.2f |\n' "$name" \
    "$(echo "$PKTS / $t / 1000000" | bc -l)" "$(echo "$BYTES * 8 / $t / 1000000000" | bc -l)" \
    "$(echo "${R[$name]} / 1024" | bc -l)" "$(echo "$t / $M" | bc -l)" "$c" \
    "$(echo "$PKTS / $c / 1000000" | bc -l)"
done
