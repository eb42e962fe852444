#!/usr/bin/env bash
# skip_reading.sh - with bodies unwanted (mbx-httplog -n), a side whose bytes can
# no longer matter (an opaque tunnel after CONNECT or 101, a response body read
# until close) stops being read; the transactions logged must be the same as
# when every byte is read (the lengths of bodies until close then come from
# the engine's byte counters).  The full-read results of these traces are
# themselves checked against Zeek's baselines by zeek_baselines.sh.
set -u
B=${MBX_BUILD:?}; SH=${MBX_SHARED:?}
LOG=$B/examples/c/mbx-httplog
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0
[ -x "$LOG" ] || { echo "FAIL: $LOG not built"; exit 1; }
key() {  # the http records, one line each: flow tx method url status length
    python3 -c '
import sys, json
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["event_type"] == "http":
        h = r["http"]
        print(r["flow_id"], r["tx_id"], h.get("http_method"), h.get("url"), h.get("status"),
              h["length"], h["response_body_len"])' "$1" | sort
}
for t in byteranges connect-with-header connect-with-smtp websocket http-single-conn-22 \
         putty-upload docker-http-upgrade; do
    pcap=$SH/corpora/zeek/Traces/http/$t.pcap
    if ! "$LOG" -r "$pcap" -o "$T/full.json"; then
        echo "FAIL $t: full run"; fails=$((fails + 1)); continue
    fi
    "$LOG" -n -s -r "$pcap" -o "$T/skip.json" 2>"$T/stats" \
        || { echo "FAIL $t: -n run"; fails=$((fails + 1)); continue; }
    stopped=$(sed -n 's/.*no longer read after headers *//p' "$T/stats")
    if [ -z "$stopped" ] || [ "$stopped" -lt 1 ]; then
        echo "FAIL $t: no side stopped being read"; fails=$((fails + 1)); continue
    fi
    if ! diff <(key "$T/full.json") <(key "$T/skip.json") >"$T/diff"; then
        echo "FAIL $t: records differ when reading stops:"; cat "$T/diff"; fails=$((fails + 1))
        continue
    fi
    echo "ok   $t: $stopped side(s) stopped, $(key "$T/full.json" | wc -l) transaction(s) the same"
done
echo "skip_reading: $fails failure(s)"
[ "$fails" -eq 0 ]
