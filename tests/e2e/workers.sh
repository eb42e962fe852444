#!/usr/bin/env bash
# workers.sh - --workers N gives what one worker gives (mbx.h section 4, "Workers").
#  - mbx-streams on corpora captures (pcap and pcapng) and on a crafted capture
#    with many address pairs (tests/data/gen_many_pairs.py): --workers 1, 2, 3
#    write the same stream files (every byte, same names), the same flows.jsonl
#    records (as sets, flow_id aside), the same statistics and --count totals;
#    with 3 workers the connections really are spread (flow ids of every
#    residue mod 3, all distinct) and no worker part file is left.
#  - compiled programs (examples/*.mbx through mbxc build): every output line is
#    one whole JSON record, the sorted lines are equal flow_id aside, and the
#    statistics are equal.  Timers run in every worker (tables are per worker):
#    rexmit_guard's heartbeat comes N times, the rest is equal; table entry
#    counts are sums over workers' tables, so they are not compared.
#  - portscan (a table keyed by address) still alerts, on the same 3 scanners
#    of the crafted capture, each pair on its own worker.
#  - the LLVM back end's thread-local variables give the same events.
#  - bad --workers values exit 2 with a message.  (Inputs the workers cannot
#    each read - stdin, pipes, -i, --dpdk - go through the dispatcher:
#    workers_dispatch.sh.)
. "$(dirname "$0")/lib/common.sh"
MBXC=$MBX_BUILD/compiler/mbxc
[ -x "$MBXC" ] || { echo "FAIL: $MBXC not built"; exit 1; }

python3 "$MBX_SRC/tests/data/gen_many_pairs.py" "$T/many.pcap"
CAPS=("$T/many.pcap")
for c in netem-http/client.pcap netem-http/server.pcap zeek/Traces/wikipedia.pcap \
    zeek/Traces/http/bro.org.pcap zeek/Traces/irc-dcc-send.pcapng \
    zeek/Traces/tcp/retransmit-timeout.pcapng zeek/Traces/http/cooper-grill-dvwa.pcapng \
    suricata-verify/bug-4376/syn_retransmit_with_ts.pcap \
    suricata-verify/eve-payload-05-tcp-data-gap/tcp-simple-gap2.pcap scan/portscan-nmap.pcap; do
    [ -f "$CORPORA/$c" ] && CAPS+=("$CORPORA/$c")
done

# sorted records with flow_id taken out
noid() { sed 's/"flow_id":[0-9]*,//' "$1" | sort; }

# ---------------------------------------------------------------- mbx-streams
for cap in "${CAPS[@]}"; do
    name=$(basename "$cap")
    for n in 1 2 3; do
        rm -rf "$T/s$n"
        if ! "$STREAMS" -r "$cap" -d "$T/s$n" --workers $n --stats 2> "$T/s$n.err"; then
            bad "$name: mbx-streams --workers $n exit $?"
        fi
        "$STREAMS" -r "$cap" --count --workers $n | grep -v '^seconds' > "$T/c$n.txt" || bad "$name: --count"
        noid "$T/s$n/flows.jsonl" > "$T/s$n.flows"
    done
    nfiles=$(ls "$T/s1" | wc -l)
    for n in 2 3; do
        if diff -r -x flows.jsonl -x stats.json "$T/s1" "$T/s$n" > /dev/null; then
            ok "$name: --workers $n: the same $nfiles stream files, every byte"
        else bad "$name: --workers $n: stream files differ"; fi
        cmp -s "$T/s1.flows" "$T/s$n.flows" && ok "$name: --workers $n: same flows.jsonl records" \
            || bad "$name: --workers $n: flows.jsonl differs: $(diff "$T/s1.flows" "$T/s$n.flows" | head -2)"
        cmp -s "$T/s1.err" "$T/s$n.err" && ok "$name: --workers $n: same statistics" \
            || bad "$name: --workers $n: statistics differ: $(diff "$T/s1.err" "$T/s$n.err" | head -3)"
        cmp -s "$T/c1.txt" "$T/c$n.txt" && ok "$name: --workers $n: same --count totals" \
            || bad "$name: --workers $n: --count totals differ"
        sed 's/"timestamp":"[^"]*",//' "$T/s1/stats.json" > "$T/st1"
        sed 's/"timestamp":"[^"]*",//' "$T/s$n/stats.json" > "$T/st$n"
        cmp -s "$T/st1" "$T/st$n" || bad "$name: --workers $n: stats.json differs"
    done
    if ls "$T/s3" | grep -q 'worker-'; then bad "$name: worker part files left"; fi
done
# the crafted capture's connections are spread over the 3 workers
"$STREAMS" -r "$T/many.pcap" -d "$T/spread" --workers 3
python3 - "$T/spread/flows.jsonl" <<'PY' && ok "many.pcap: 3 workers share the connections, ids unique" || bad "many.pcap: connections not spread"
import json, sys, collections
ids = [json.loads(l)["flow_id"] for l in open(sys.argv[1])]
assert len(ids) == len(set(ids)) and len(ids) > 150, len(ids)
by = collections.Counter((i - 1) % 3 for i in ids)
assert len(by) == 3 and min(by.values()) >= len(ids) // 10, by
PY

# ---------------------------------------------------------------- compiled programs
PROGS=(portscan rexmit_guard flow_logger http_log guard)
for p in "${PROGS[@]}"; do
    "$MBXC" build "$MBX_SRC/examples/$p.mbx" -o "$T/$p" 2> "$T/$p.build" || bad "mbxc build $p: $(head -1 "$T/$p.build")"
done
"$MBXC" build --backend=llvm "$MBX_SRC/examples/http_log.mbx" -o "$T/llvm_http_log" 2> /dev/null \
    && PROGS+=(llvm_http_log) || echo "note: no LLVM back end here, its run is skipped"
HEART='"message":"rexmit_guard alive"'
for p in "${PROGS[@]}"; do
    [ -x "$T/$p" ] || continue
    before=$FAILS
    for cap in "${CAPS[@]}"; do
        name="$p $(basename "$cap")"
        for n in 1 2 3; do
            "$T/$p" -r "$cap" --workers $n --stats -o "$T/o$n.json" 2> "$T/e$n.txt" || bad "$name: --workers $n exit $?"
            { grep -v '^table ' "$T/e$n.txt" || true; } > "$T/e$n.stats"
            { grep -vF "$HEART" "$T/o$n.json" || true; } | noid /dev/stdin > "$T/o$n.sorted"
        done
        if python3 -c '
import json, sys
for path in sys.argv[1:]:
    for line in open(path, "rb"):
        assert line.endswith(b"\n") and isinstance(json.loads(line), dict), path
' "$T/o1.json" "$T/o2.json" "$T/o3.json"; then :; else bad "$name: a torn or broken line"; fi
        h1=$(grep -cF "$HEART" "$T/o1.json" || true)
        for n in 2 3; do
            if cmp -s "$T/o1.sorted" "$T/o$n.sorted" && cmp -s "$T/e1.stats" "$T/e$n.stats"; then :
            else bad "$name: --workers $n differs: $(diff "$T/o1.sorted" "$T/o$n.sorted" | head -2) $(diff "$T/e1.stats" "$T/e$n.stats" | head -2)"; fi
            hn=$(grep -cF "$HEART" "$T/o$n.json" || true)
            [ "$hn" -eq $((h1 * n)) ] || bad "$name: $hn heartbeats with $n workers, $h1 with one"
        done
    done
    [ "$FAILS" -eq "$before" ] &&
        ok "$p: ${#CAPS[@]} captures, --workers 1/2/3: whole JSON lines, same events and statistics"
done

# a table keyed by address: the crafted capture's 3 scanners, found by 3 workers too
if [ -x "$T/portscan" ]; then
    for n in 1 3; do
        "$T/portscan" -r "$T/many.pcap" --workers $n -o "$T/ps$n.json"
        python3 -c '
import json, sys
print(" ".join(sorted(json.loads(l)["mbx"]["src"] for l in open(sys.argv[1]))))' "$T/ps$n.json" > "$T/ps$n.src"
    done
    check_eq "$(cat "$T/ps3.src")" "192.168.0.66 192.168.1.66 192.168.2.66" "portscan --workers 3: scanners"
    check_eq "$(cat "$T/ps1.src")" "$(cat "$T/ps3.src")" "portscan: scanners with 1 and 3 workers"
fi

# ---------------------------------------------------------------- bad values
P=$T/portscan
for v in 0 65 -1 abc 2x ""; do
    set +e
    "$P" -r "$T/many.pcap" --workers "$v" > /dev/null 2> "$T/bad.err"; rc=$?
    "$STREAMS" -r "$T/many.pcap" --count --workers "$v" > /dev/null 2> "$T/bad2.err"; rc2=$?
    set -e
    [ $rc -eq 2 ] && grep -q -- "--workers needs a number from 1 to 64" "$T/bad.err" \
        && ok "program --workers '$v': exit 2, says why" || bad "program --workers '$v': exit $rc: $(cat "$T/bad.err")"
    [ $rc2 -eq 2 ] && grep -q -- "--workers needs a number from 1 to 64" "$T/bad2.err" \
        && ok "mbx-streams --workers '$v': exit 2, says why" || bad "mbx-streams --workers '$v': exit $rc2"
done
set +e
"$P" -r - --workers 1 < "$T/many.pcap" > /dev/null 2>&1; rc4=$?
set -e
check_eq "$rc4" 0 "--workers 1 reads stdin as before"
"$P" --help | grep -q -- "--workers N" && ok "--help lists --workers" || bad "--help has no --workers"
"$STREAMS" --help | grep -q -- "--workers N" && ok "mbx-streams --help lists --workers" || bad "mbx-streams --help"
finish
