#!/usr/bin/env bash
# bench/http/run.sh - issue 5's benchmark: examples/http_log.mbx (compiled by
# mbxc; every request and response logged, every body decoded and SHA-256
# hashed: EVE http + fileinfo records) against `tcpflow -e http` (reassembles
# and writes every HTTP body to DIR) on the gen_perf_trace.sh capture, in one
# run, one core each (taskset -c 1), capture from the page cache, CPU seconds
# (user + sys: the machine is shared), best of RUNS interleaved runs.  Not a test.
# Prints a Markdown table: packets/s, Gbit/s (capture bytes), HTTP transactions/s;
# with, for where the time goes, mbx-httplog -n (HTTP parsed and logged, bodies
# neither decoded nor hashed), mbx-streams --count (reassembly alone) and the
# time SHA-256 of the bodies takes alone at this core's `openssl speed`.
# usage: bench/http/run.sh [PERF.pcap]
# env:   MBX_BUILD (default build), RUNS (default 1), MBX_BENCH_DIR (/var/tmp/mbx-perf)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); SRC=$(cd "$HERE/../.." && pwd)
BUILD=${MBX_BUILD:-$SRC/build}; SHARED=${MBX_SHARED:-$SRC/../shared}; RUNS=${RUNS:-1}
DIR=${MBX_BENCH_DIR:-/var/tmp/mbx-perf}; BIN=$DIR/http-bin; mkdir -p "$BIN"
PERF=${1:-$DIR/perf.pcap}
[ -s "$PERF" ] || bash "$SHARED/testbed/gen_perf_trace.sh" -o "$DIR" >&2
"$BUILD/compiler/mbxc" build "$SRC/examples/http_log.mbx" -o "$BIN/http_log"
# the capture as read from disk (see bench/run.sh): dropped from the page cache, read once
sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || echo "bench: cannot drop caches" >&2
cat "$PERF" > /dev/null
declare -A BEST
run() { # run NAME CMD...: best CPU time (user + sys) of the runs
  local name=$1 t; shift
  /usr/bin/time -o "$BIN/time" -f "%U %S" taskset -c 1 "$@" > /dev/null 2>&1 || true
  t=$(awk '{print $1 + $2}' "$BIN/time")
  if [ -z "${BEST[$name]:-}" ] || (( $(echo "$t < ${BEST[$name]}" | bc -l) )); then
    BEST[$name]=$t
  fi
}
HL=$BUILD/examples/c/mbx-httplog
for _ in $(seq "$RUNS"); do
  run http_log "$BIN/http_log" -r "$PERF" -o "$BIN/eve.json"
  run "mbx-httplog -n" "$HL" -n -r "$PERF" -o /dev/null
  run "mbx-streams --count" "$BUILD/examples/c/mbx-streams" --count -r "$PERF"
  rm -rf "$BIN/tcpflow"; mkdir -p "$BIN/tcpflow"
  run tcpflow tcpflow -e http -r "$PERF" -o "$BIN/tcpflow"
done
PK=$(capinfos -c -M "$PERF" | awk -F': *' '/Number of packets/ {print $2}')
BYTES=$(stat -c %s "$PERF")
TX=$(grep -c '"event_type":"http"' "$BIN/eve.json")
FILES=$(grep -c '"event_type":"fileinfo"' "$BIN/eve.json")
TF=$(find "$BIN/tcpflow" -type f -name '*HTTPBODY*' | wc -l)
rm -rf "$BIN/tcpflow"
# the hash bound: SHA-256 of every decoded body byte at this core's speed
BODY=$(grep '"event_type":"fileinfo"' "$BIN/eve.json" | grep -o '"size":[0-9]*' | awk -F: '{s += $2} END {print s + 0}')
SHA=$(taskset -c 1 openssl speed -seconds 2 -bytes 16384 -evp sha256 2>/dev/null | awk '/^sha256/ {sub("k", "", $2); print $2 * 1000}')
BEST["SHA-256 of the bodies alone"]=$(echo "$BODY / $SHA" | bc -l)
echo "capture: $(basename "$PERF"), $PK packets, $BYTES bytes; http_log: $TX transactions," \
  "$FILES files hashed ($BODY body bytes); tcpflow: $TF bodies written;" \
  "SHA-256 (openssl speed, 16 KiB blocks): $SHA bytes/s"
echo
echo "| tool | CPU s | packets/s | Gbit/s | HTTP transactions/s | packet rate / tcpflow's |"
echo "|---|---|---|---|---|---|"
for t in http_log "mbx-httplog -n" "mbx-streams --count" "SHA-256 of the bodies alone" tcpflow; do
  c=${BEST[$t]}
  printf "| %s | %.2f | %.0f | %.2f | %.0f | %.1f |\n" "$t" "$c" "$(echo "$PK / $c" | bc -l)" \
    "$(echo "$BYTES * 8 / $c / 1000000000" | bc -l)" "$(echo "$TX / $c" | bc -l)" \
    "$(echo "${BEST[tcpflow]} / $c" | bc -l)"
done
