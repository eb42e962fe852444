#!/bin/bash
# examples/web_firewall.mbx, compiled by mbxc, on netem-http's server.pcap:
#   - monitor mode, uri_prefix=/f000: one alert per connection, on its first
#     request whose URI starts with /f000, per tshark's requests (independent)
#   - monitor mode, host=10.201.0.2 (uri_prefix off): one web_firewall.host alert
#     per connection that sends a request, per tshark; a host nobody asks for:
#     no alert; bad config values: a message and a non-zero exit
#   - inline over DPDK net_pcap (--inline 0:1, rx_pcap/tx_pcap vdevs),
#     uri_prefix=/f0004: the packets forwarded (capinfos on the tx_pcap) are
#     exactly the capture's minus that connection's packets from the blocking
#     request on (tshark's frame numbers), and forwarded + dropped = all.
. "$MBX_SRC/tests/backend/lib.sh"
SRV=$CORPORA/netem-http/server.pcap
need "$SRV"
build "$MBX_SRC/examples/web_firewall.mbx" "$TMP/wf"

alerts() { # alerts FILE SIG: "srcport uri host" of each alert, checking its shape
    python3 - "$1" "$2" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event_type"] == "alert":
        assert e["alert"] == {"signature": sys.argv[2], "module": "web_firewall"}, e
        print(e["src_port"], e["mbx"]["uri"], e["mbx"]["host"])
PY
}
"$TMP/wf" -r "$SRV" --set web_firewall.uri_prefix=/f000 -o "$TMP/uri.json" || fail "run (uri)"
alerts "$TMP/uri.json" web_firewall.uri > "$TMP/got"
tshark -r "$SRV" -Y 'http.request.uri matches "^/f000"' -T fields -e tcp.srcport \
    -e http.request.uri -e http.host 2>/dev/null | awk '!seen[$1]++ {print $1, $2, $3}' > "$TMP/want"
[ -s "$TMP/want" ] && cmp -s "$TMP/got" "$TMP/want" &&
    pass "uri_prefix=/f000: $(wc -l < "$TMP/got") alerts, first match per connection" ||
    { fail "uri_prefix alerts"; diff "$TMP/got" "$TMP/want" >&2; }

"$TMP/wf" -r "$SRV" --set web_firewall.uri_prefix= --set web_firewall.host=10.201.0.2 \
    -o "$TMP/host.json" || fail "run (host)"
alerts "$TMP/host.json" web_firewall.host > "$TMP/got"
tshark -r "$SRV" -Y 'http.host == "10.201.0.2"' -T fields -e tcp.srcport -e http.request.uri \
    -e http.host 2>/dev/null | awk '!seen[$1]++ {print $1, $2, $3}' > "$TMP/want"
[ -s "$TMP/want" ] && cmp -s "$TMP/got" "$TMP/want" &&
    pass "host=10.201.0.2: $(wc -l < "$TMP/got") alerts, first request per connection" ||
    { fail "host alerts"; diff "$TMP/got" "$TMP/want" >&2; }
"$TMP/wf" -r "$SRV" --set web_firewall.host=nobody.example -o "$TMP/none.json" || fail "run"
n=$(grep -c web_firewall.host "$TMP/none.json")
[ "$n" -eq 0 ] && pass "host=nobody.example: no host alert" || fail "$n alerts for an absent host"
"$TMP/wf" -r "$SRV" --set web_firewall.nosuch=1 -o /dev/null 2>"$TMP/err"; rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && [ -s "$TMP/err" ] && pass "unknown config: exit $rc" ||
    fail "unknown config: exit $rc"

# inline over DPDK
if ! nm "$MBX_BUILD/runtime/libmbx.a" 2>/dev/null | grep -q " U rte_eal_init"; then
    echo "skip: libmbx was built without DPDK (MBX_WITH_DPDK=OFF)"
    exit 77
fi
command -v capinfos > /dev/null || { echo "skip: no capinfos"; exit 77; }
python3 -c 'import struct,sys; open(sys.argv[1],"wb").write(struct.pack("<IHHiIII",0xa1b2c3d4,2,4,0,0,65535,1))' \
    "$TMP/empty.pcap"
"$TMP/wf" --dpdk --no-huge -m 512 --no-pci --log-level=lib.eal:error --file-prefix=mbxwf$$ \
    "--vdev=net_pcap0,rx_pcap=$SRV,tx_pcap=$TMP/out0.pcap" \
    "--vdev=net_pcap1,rx_pcap=$TMP/empty.pcap,tx_pcap=$TMP/out1.pcap" -- --inline 0:1 \
    --set web_firewall.uri_prefix=/f0004 --stats -o "$TMP/inline.json" 2>"$TMP/stats" ||
    fail "inline run: $(tail -3 "$TMP/stats")"
read -r req port < <(tshark -r "$SRV" -Y 'http.request.uri == "/f0004_1M.bin"' -T fields \
    -e frame.number -e tcp.srcport 2>/dev/null | head -1)
total=$(capinfos -c -M "$SRV" | awk -F': *' '/Number of packets/ {print $2}')
want=$(tshark -r "$SRV" -Y "not (tcp.port == $port and frame.number >= $req)" 2>/dev/null | wc -l)
fwd=$(capinfos -c -M "$TMP/out1.pcap" | awk -F': *' '/Number of packets/ {print $2}')
drop=$(awk '/packets dropped by actions/ {print $NF}' "$TMP/stats")
late=$(tshark -r "$TMP/out1.pcap" -Y "tcp.port == $port and http.request.uri == \"/f0004_1M.bin\"" \
    2>/dev/null | wc -l)
if [ "$fwd" -eq "$want" ] && [ $((fwd + drop)) -eq "$total" ] && [ "$late" -eq 0 ] &&
    grep -q web_firewall.uri "$TMP/inline.json"; then
    pass "inline: $fwd forwarded (= $want, all but port $port from frame $req on), $drop dropped"
else
    fail "inline: $fwd forwarded (want $want), $drop dropped, total $total, late $late"
fi
finish
