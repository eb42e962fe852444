#!/usr/bin/env bash
# groundtruth.sh - mbx-httplog's files against the sha256 of what was really served.
#
# 1. The stored netem-http corpus (../shared/corpora/netem-http): 10 downloads
#    over 3 keep-alive connections; client.pcap is captured after 2% loss, 5%
#    reorder and 5 ms delay (holes, retransmissions, out of order), server.pcap
#    before.  On both, every manifest.tsv body must be one fileinfo record
#    (name, size, sha256, CLOSED) and one http record whose status, client port
#    and length agree with transfers.tsv.
# 2. A capture made now by ../shared/testbed/gen_http_trace.sh with a fresh
#    seed (needs root for network namespaces; without root this part is
#    reported as not run, and part 1 still decides the result).
set -u
B=${MBX_BUILD:?}; SH=${MBX_SHARED:?}; SRC=${MBX_SRC:?}
LOG=$B/examples/c/mbx-httplog
CHECK="python3 $SRC/tests/http/manifest_check.py"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0
[ -x "$LOG" ] || { echo "FAIL: $LOG not built"; exit 1; }

NE=$SH/corpora/netem-http
for cap in client server; do
    if ! "$LOG" -r "$NE/$cap.pcap" -o "$T/netem-$cap.json"; then
        echo "FAIL netem $cap.pcap: mbx-httplog exited non-zero"; fails=$((fails + 1)); continue
    fi
    echo "netem $cap.pcap:"
    $CHECK "$T/netem-$cap.json" "$NE/manifest.tsv" "$NE/transfers.tsv" || fails=$((fails + 1))
done

if [ "$(id -u)" -ne 0 ]; then
    echo "fresh capture: not run (needs root for network namespaces)"
else
    SEED=${MBX_SEED:-$(( (RANDOM << 15 | RANDOM) % 1000000 + 1 ))}
    echo "fresh capture: seed $SEED (rerun with MBX_SEED=$SEED)"
    export TB_BIN=$B/testbed-bin
    if ! timeout 180 bash "$SH/testbed/gen_http_trace.sh" -n 8 -s 1K,64K,1M -p 3 -l 2 -r 5 -d 5 \
            -S "$SEED" -o "$T/fresh" -P "ht$((SEED % 10000))" -x >"$T/gen.log" 2>&1; then
        echo "FAIL gen_http_trace.sh (seed $SEED):"; tail -20 "$T/gen.log"; fails=$((fails + 1))
    else
        for cap in client server; do
            if ! "$LOG" -r "$T/fresh/$cap.pcap" -o "$T/fresh-$cap.json"; then
                echo "FAIL fresh $cap.pcap: mbx-httplog exited non-zero"; fails=$((fails + 1))
                continue
            fi
            echo "fresh $cap.pcap:"
            $CHECK "$T/fresh-$cap.json" "$T/fresh/manifest.tsv" "$T/fresh/transfers.tsv" \
                || fails=$((fails + 1))
        done
    fi
fi
echo "groundtruth: $fails failure(s)"
[ "$fails" -eq 0 ]
