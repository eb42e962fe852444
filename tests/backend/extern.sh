#!/bin/bash
# examples/ext: an extern module written in C (bulk.c) built into a program with
# mbxc.  bulk_report logs every connection whose server sent >= min_mib MiB of
# payload (retransmissions included, as mbx_half_info.payload counts), with
# bytes = that payload: the truth is tshark's sum of tcp.len per connection from
# the server (port 80) side.
. "$(dirname "$0")/lib.sh"
CAP=$CORPORA/netem-http/client.pcap
need "$CAP"
build "$MBX_SRC/examples/ext/bulk.mbx" "$TMP/bulk" "$MBX_SRC/examples/ext/bulk.c"
for mib in 1 0; do
    "$TMP/bulk" -r "$CAP" --set bulk_report.min_mib=$mib -o "$TMP/out.json" || fail "run"
    python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    assert e["log"] == {"message": "bulk transfer", "module": "bulk_report"}, e
    print(e["src_port"], e["mbx"]["bytes"], e["mbx"]["mib"])' "$TMP/out.json" | sort > "$TMP/got"
    tshark -r "$CAP" -Y "tcp.srcport == 80" -T fields -e tcp.dstport -e tcp.len 2>/dev/null |
        awk -v mib=$mib '{b[$1] += $2} END {for (p in b) if (b[p] >= 65536 && b[p] >= mib * 1048576)
            print p, b[p], int(b[p] / 1048576)}' | sort > "$TMP/want"
    if [ -s "$TMP/want" ] && cmp -s "$TMP/got" "$TMP/want"; then
        pass "min_mib=$mib: $(wc -l < "$TMP/got") bulk transfers as tshark counts them"
    else
        fail "min_mib=$mib"; diff "$TMP/got" "$TMP/want" >&2
    fi
done
finish
