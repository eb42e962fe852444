#!/usr/bin/env bash
# workers_dispatch.sh - --workers N on inputs the workers cannot each read
# (stdin, pipes, live interfaces, DPDK ports) goes through the dispatcher
# (mbx.h section 4, "Dispatcher"; dispatch_workers.c) and gives what one worker
# reading the capture file gives:
#  - compiled programs (examples/*.mbx): `cat CAPTURE | prog -r - --workers 2|3`
#    writes whole JSON lines, the same sorted records (flow_id aside) and the
#    same statistics (the summed counters, dispatch_dropped 0) as
#    `prog -r CAPTURE --workers 1`, on the captures workers.sh uses (the crafted
#    many-pairs capture spreads the connections over every worker).  Timers run
#    in every worker on the dispatcher's time marks: rexmit_guard's heartbeat
#    comes N times as often, at the same times, and does come.
#  - a pipe given as a file (-r /dev/fd/N) goes the same way.
#  - mbx-streams -r - --workers 2|3: the same stream files, flows.jsonl records
#    (flow_id aside) and statistics as mbx-streams -r CAPTURE.
#  - DPDK (when libmbx has it): a program on a net_pcap port replaying a capture
#    with --workers 2 gives the same events as -r with one worker; mbx-streams
#    --dpdk --workers 2 the same stream files; --inline with --workers 2 exits 2.
#  - live: prog -i lo --workers 2 captures a connection made on lo, stops on
#    SIGINT with exit 0, its statistics and the connection's record written.
. "$(dirname "$0")/lib/common.sh"
MBXC=$MBX_BUILD/compiler/mbxc
[ -x "$MBXC" ] || { echo "FAIL: $MBXC not built"; exit 1; }

python3 "$MBX_SRC/tests/data/gen_many_pairs.py" "$T/many.pcap"
CAPS=("$T/many.pcap")
for c in netem-http/client.pcap zeek/Traces/wikipedia.pcap zeek/Traces/http/bro.org.pcap \
    zeek/Traces/irc-dcc-send.pcapng zeek/Traces/tcp/retransmit-timeout.pcapng \
    suricata-verify/bug-4376/syn_retransmit_with_ts.pcap \
    suricata-verify/eve-payload-05-tcp-data-gap/tcp-simple-gap2.pcap scan/portscan-nmap.pcap; do
    [ -f "$CORPORA/$c" ] && CAPS+=("$CORPORA/$c")
done
noid() { sed 's/"flow_id":[0-9]*,//' "$1" | sort; }
HEART='"message":"rexmit_guard alive"'

# ---------------------------------------------------------------- compiled programs
PROGS=(portscan rexmit_guard flow_logger http_log guard)
for p in "${PROGS[@]}"; do
    "$MBXC" build "$MBX_SRC/examples/$p.mbx" -o "$T/$p" 2> "$T/$p.build" || bad "mbxc build $p: $(head -1 "$T/$p.build")"
done
# run NAME PROG ARGS...: output into $T/NAME.json, stats into $T/NAME.stats, sorted
# records without heartbeats into $T/NAME.sorted
run() {
    local name=$1 p=$2
    shift 2
    "$T/$p" "$@" --stats -o "$T/$name.json" 2> "$T/$name.err" || bad "$p $*: exit $?"
    { grep -v '^table ' "$T/$name.err" || true; } > "$T/$name.stats"
    { grep -vF "$HEART" "$T/$name.json" || true; } | noid /dev/stdin > "$T/$name.sorted"
}
beats=0
for p in "${PROGS[@]}"; do
    [ -x "$T/$p" ] || continue
    before=$FAILS
    for cap in "${CAPS[@]}"; do
        name="$p $(basename "$cap")"
        run one "$p" -r "$cap" --workers 1
        h1=$(grep -cF "$HEART" "$T/one.json" || true)
        beats=$((beats + h1))
        for n in 2 3; do
            "$T/$p" -r - --workers $n --stats -o "$T/d$n.json" < "$cap" 2> "$T/d$n.err" ||
                bad "$name: -r - --workers $n exit $?"
            { grep -v '^table ' "$T/d$n.err" || true; } > "$T/d$n.stats"
            { grep -vF "$HEART" "$T/d$n.json" || true; } | noid /dev/stdin > "$T/d$n.sorted"
            python3 -c '
import json, sys
for line in open(sys.argv[1], "rb"):
    assert line.endswith(b"\n") and isinstance(json.loads(line), dict)
' "$T/d$n.json" || bad "$name: --workers $n: a torn or broken line"
            cmp -s "$T/one.sorted" "$T/d$n.sorted" ||
                bad "$name: stdin --workers $n: events differ: $(diff "$T/one.sorted" "$T/d$n.sorted" | head -3)"
            cmp -s "$T/one.stats" "$T/d$n.stats" ||
                bad "$name: stdin --workers $n: statistics differ: $(diff "$T/one.stats" "$T/d$n.stats" | head -3)"
            hn=$(grep -cF "$HEART" "$T/d$n.json" || true)
            [ "$hn" -eq $((h1 * n)) ] || bad "$name: $hn heartbeats with $n workers, $h1 with one"
            # every worker's heartbeats at the times one worker has them
            if [ "$h1" -gt 0 ]; then
                grep -F "$HEART" "$T/one.json" | sort > "$T/h1"
                for k in $(seq $n); do cat "$T/h1"; done | sort > "$T/hn.want"
                grep -F "$HEART" "$T/d$n.json" | sort > "$T/hn.got"
                cmp -s "$T/hn.want" "$T/hn.got" || bad "$name: heartbeats at other times with $n workers"
            fi
        done
    done
    [ "$FAILS" -eq "$before" ] &&
        ok "$p: ${#CAPS[@]} captures on stdin, --workers 2/3 = -r FILE --workers 1: events, statistics"
done
[ "$beats" -gt 0 ] && ok "rexmit_guard's heartbeat fired ($beats times with one worker)" ||
    bad "no heartbeat fired: the timer check proves nothing"
grep -q "frames dropped by the dispatcher" "$T/d2.stats" && ok "--stats shows dispatch_dropped" ||
    bad "--stats has no dispatch_dropped line"

# the connections of the crafted capture really are spread over 3 workers
"$T/flow_logger" -r - --workers 3 -o "$T/spread.json" < "$T/many.pcap"
python3 - "$T/spread.json" <<'PY' && ok "many.pcap on stdin: 3 workers share the flows, ids unique" || bad "stdin: flows not spread"
import json, sys, collections
ids = [json.loads(l)["flow_id"] for l in open(sys.argv[1]) if '"flow_id"' in l]
assert len(ids) == len(set(ids)) and len(ids) > 150, len(ids)
by = collections.Counter((i - 1) % 3 for i in ids)
assert len(by) == 3 and min(by.values()) >= len(ids) // 10, by
PY

# a pipe as a file name
run one http_log -r "$T/many.pcap"
run pipe http_log -r <(cat "$T/many.pcap") --workers 2
cmp -s "$T/one.sorted" "$T/pipe.sorted" && cmp -s "$T/one.stats" "$T/pipe.stats" &&
    ok "http_log -r /dev/fd/N (a pipe) --workers 2: same events, statistics" || bad "pipe --workers 2 differs"

# ---------------------------------------------------------------- mbx-streams
for cap in "$T/many.pcap" "$CORPORA/netem-http/client.pcap" "$CORPORA/zeek/Traces/irc-dcc-send.pcapng"; do
    [ -f "$cap" ] || continue
    name=$(basename "$cap")
    rm -rf "$T/s1"
    "$STREAMS" -r "$cap" -d "$T/s1" --stats 2> "$T/s1.err" || bad "$name: mbx-streams exit $?"
    noid "$T/s1/flows.jsonl" > "$T/s1.flows"
    for n in 2 3; do
        rm -rf "$T/s$n"
        "$STREAMS" -r - -d "$T/s$n" --workers $n --stats < "$cap" 2> "$T/s$n.err" ||
            bad "$name: mbx-streams -r - --workers $n exit $?"
        noid "$T/s$n/flows.jsonl" > "$T/s$n.flows"
        nfiles=$(ls "$T/s1" | wc -l)
        if diff -r -x flows.jsonl -x stats.json "$T/s1" "$T/s$n" > /dev/null && cmp -s "$T/s1.flows" "$T/s$n.flows" &&
            cmp -s "$T/s1.err" "$T/s$n.err"; then
            ok "$name: mbx-streams -r - --workers $n: the same $nfiles files, flows and statistics"
        else bad "$name: mbx-streams -r - --workers $n differs: $(diff "$T/s1.err" "$T/s$n.err" | head -2)"; fi
    done
    "$STREAMS" -r - --count --workers 2 < "$cap" | grep -v '^seconds' > "$T/c2"
    "$STREAMS" -r "$cap" --count | grep -v '^seconds' > "$T/c1"
    cmp -s "$T/c1" "$T/c2" || bad "$name: mbx-streams --count totals differ on stdin"
done

# ---------------------------------------------------------------- DPDK
P=$T/portscan
set +e
"$P" --dpdk --no-huge -- --inline 0:1 --workers 2 > /dev/null 2> "$T/inl.err"; rc=$?
set -e
[ $rc -eq 2 ] && grep -q -- "--inline runs one worker" "$T/inl.err" &&
    ok "--dpdk --inline with --workers 2: exit 2, says why" || bad "--inline --workers 2: exit $rc: $(cat "$T/inl.err")"
nm "$MBX_BUILD/runtime/libmbx.a" > "$T/nm" 2> /dev/null || true
if grep -q " U rte_eal_init" "$T/nm"; then
    EAL=(--no-huge -m 512 --no-pci --log-level=lib.eal:error)
    i=0
    for pc in "portscan:$CORPORA/scan/portscan-nmap.pcap" "rexmit_guard:$T/many.pcap" \
        "http_log:$CORPORA/netem-http/client.pcap"; do
        p=${pc%%:*}; cap=${pc#*:}
        [ -f "$cap" ] || continue
        i=$((i + 1))
        run one "$p" -r "$cap"
        "$T/$p" --dpdk "${EAL[@]}" --file-prefix=mbxwd$$_$i "--vdev=net_pcap0,rx_pcap=$cap" -- \
            --port 0 --workers 2 --stats -o "$T/dp.json" 2> "$T/dp.err" || bad "$p: DPDK --workers 2: exit $?"
        { grep -v '^table ' "$T/dp.err" | grep -v 'EAL\|TELEMETRY' || true; } > "$T/dp.stats"
        { grep -vF "$HEART" "$T/dp.json" || true; } | noid /dev/stdin > "$T/dp.sorted"
        h1=$(grep -cF "$HEART" "$T/one.json" || true)
        h2=$(grep -cF "$HEART" "$T/dp.json" || true)
        if [ -s "$T/one.sorted" ] && cmp -s "$T/one.sorted" "$T/dp.sorted" && [ "$h2" -eq $((2 * h1)) ]; then
            ok "$p on $(basename "$cap"): DPDK --workers 2 = -r, one worker ($(wc -l < "$T/one.sorted") records)"
        else bad "$p $(basename "$cap"): DPDK --workers 2 differs: $(diff "$T/one.sorted" "$T/dp.sorted" | head -3) heartbeats $h1 $h2"; fi
        grep -q "packets read" "$T/dp.stats" && diff <(grep -v "frames dropped" "$T/one.stats") \
            <(grep -v "frames dropped" "$T/dp.stats") > /dev/null || bad "$p: DPDK --workers 2: statistics differ"
    done
    cap=$CORPORA/netem-http/client.pcap
    if [ -f "$cap" ]; then
        rm -rf "$T/sd1" "$T/sd2"
        "$STREAMS" -r "$cap" -d "$T/sd1"
        "$STREAMS" --dpdk "${EAL[@]}" --file-prefix=mbxwd$$_s "--vdev=net_pcap0,rx_pcap=$cap" -- \
            -d "$T/sd2" --workers 2 2> "$T/sd.err" || bad "mbx-streams --dpdk --workers 2: exit $?"
        if diff -r -x flows.jsonl "$T/sd1" "$T/sd2" > /dev/null && cmp -s <(noid "$T/sd1/flows.jsonl") <(noid "$T/sd2/flows.jsonl"); then
            ok "mbx-streams --dpdk --workers 2: the same stream files and flows as -r"
        else bad "mbx-streams --dpdk --workers 2 differs"; fi
    fi
else
    echo "note: libmbx without DPDK: the DPDK runs are skipped"
fi

# ---------------------------------------------------------------- live
if [ -x "$T/flow_logger" ] && ip link show lo > /dev/null 2>&1; then
    "$T/flow_logger" -i lo --workers 2 --stats -o "$T/live.json" 2> "$T/live.err" &
    pid=$!
    sleep 1.5
    port=$(python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
port = s.getsockname()[1]
c = socket.create_connection(("127.0.0.1", port)); a, _ = s.accept()
c.sendall(b"hello dispatcher"); a.recv(100); a.sendall(b"bye"); c.recv(10)
c.close(); a.close(); s.close()
print(port)
PY
)
    sleep 1
    kill -INT $pid
    set +e
    wait $pid; rc=$?
    set -e
    if grep -q "live capture not permitted\|Operation not permitted\|permission" "$T/live.err"; then
        echo "note: no permission for live capture here: that part is skipped"
    else
        check_eq "$rc" 0 "-i lo --workers 2: exit status after SIGINT"
        grep -q "packets read" "$T/live.err" && ok "-i lo --workers 2: statistics printed" ||
            bad "-i lo --workers 2: no statistics: $(head -2 "$T/live.err")"
        grep -q "\"dest_port\":$port" "$T/live.json" && ok "-i lo --workers 2: the connection on port $port logged" ||
            bad "-i lo --workers 2: connection on port $port not in the output: $(head -c 300 "$T/live.json")"
    fi
fi

# ---------------------------------------------------------------- bad combinations
set +e
"$P" --workers 0 -r - < "$T/many.pcap" > /dev/null 2>&1; rc1=$?
"$P" --workers 2 -i mbx-no-such-if0 > /dev/null 2> "$T/nif.err"; rc2=$?
"$P" --workers 2 -r - -i lo < /dev/null > /dev/null 2>&1; rc3=$?
set -e
check_eq "$rc1" 2 "--workers 0 on stdin: exit"
check_eq "$rc2" 2 "--workers 2 -i on a missing interface: exit"
check_eq "$rc3" 2 "--workers 2 with two kinds of input: exit"
finish
