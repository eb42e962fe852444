#!/bin/bash
# examples/flow_logger.mbx built with mbxc: exactly one "tcp connection" record per
# TCP connection, for the connections tshark sees open with a SYN (client first),
# and one "udp flow" record per UDP flow with the first datagram's payload length
# (tshark udp.length - 8).
. "$(dirname "$0")/lib.sh"
DNS=$CORPORA/zeek/Traces/dns/dns-binds.pcap
QI=$CORPORA/zeek/Traces/tcp/qi_internet_SYNACK_curl_jsonip.pcap
need "$CORPORA/netem-http/client.pcap" "$DNS" "$QI"
build "$MBX_SRC/examples/flow_logger.mbx" "$TMP/fl"

for cap in "$CORPORA/netem-http/client.pcap" "$CORPORA/netem-http/server.pcap" "$QI"; do
    "$TMP/fl" -r "$cap" -o "$TMP/out.json" || fail "run on $cap"
    tshark -r "$cap" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" -T fields -e ip.src \
        -e tcp.srcport -e ip.dst -e tcp.dstport 2>/dev/null | sort -u > "$TMP/want.tsv"
    python3 - "$TMP/out.json" > "$TMP/got.tsv" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["log"]["message"] == "tcp connection":
        m = e["mbx"]
        assert m["client"] == e["src_ip"] and m["how"] in ("closed", "timeout"), e
        print("%s\t%d\t%s\t%d" % (m["client"], m["client_port"], m["server"], m["server_port"]))
PY
    if sort "$TMP/got.tsv" | cmp -s - "$TMP/want.tsv" && [ "$(wc -l < "$TMP/got.tsv")" -eq "$(wc -l < "$TMP/want.tsv")" ]; then
        pass "$(wc -l < "$TMP/got.tsv") connection records = tshark's SYNs in $(basename "$cap")"
    else
        fail "connections of $cap"; diff <(sort "$TMP/got.tsv") "$TMP/want.tsv" >&2
    fi
done

"$TMP/fl" -r "$DNS" -o "$TMP/dns.json" || fail "run on dns"
want=$(tshark -r "$DNS" -c 1 -T fields -e ip.src -e udp.srcport -e udp.length 2>/dev/null |
       awk '{print $1 " " $2 " " $3 - 8}')
got=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l); m = e["mbx"]
    if e["log"]["message"] == "udp flow": print(m["client"], m["client_port"], m["first_len"])
' "$TMP/dns.json")
[ "$got" = "$want" ] && pass "udp flow: $got" || fail "udp flow: got '$got' want '$want'"
finish
