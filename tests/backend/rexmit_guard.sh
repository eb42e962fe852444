#!/bin/bash
# examples/rexmit_guard.mbx built with mbxc: exactly one alert on Zeek's quantum
# insert trace, on the connection expected/rexmit_guard-qi.tsv names (Zeek's
# baseline), and no alert on the netem-http captures (retransmissions, but of the
# same bytes).
. "$(dirname "$0")/lib.sh"
QI=$CORPORA/zeek/Traces/tcp/qi_internet_SYNACK_curl_jsonip.pcap
need "$QI" "$CORPORA/netem-http/client.pcap"
build "$MBX_SRC/examples/rexmit_guard.mbx" "$TMP/rg"

"$TMP/rg" -r "$QI" -o "$TMP/qi.json" || fail "run on QI"
python3 - "$TMP/qi.json" "$(dirname "$0")/expected/rexmit_guard-qi.tsv" <<'PY' || fail "QI alert"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
exp = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if not l.startswith("#")]
got = [[e["src_ip"], str(e["src_port"]), e["dest_ip"], str(e["dest_port"]), e["mbx"]["side"]]
       for e in ev if e["event_type"] == "alert"]
assert got == exp, (got, exp)
a = [e for e in ev if e["event_type"] == "alert"][0]
assert a["alert"] == {"signature": "tcp.inconsistent_rexmit", "module": "rexmit_guard"}, a
print("ok: one alert", got[0])
PY
for cap in client server; do
    "$TMP/rg" -r "$CORPORA/netem-http/$cap.pcap" -o "$TMP/$cap.json" || fail "run on $cap"
    n=$(grep -c '"event_type":"alert"' "$TMP/$cap.json")
    [ "$n" -eq 0 ] && pass "no alert on netem-http/$cap.pcap" || fail "$n alerts on netem-http/$cap.pcap"
    # the heartbeat: every 10s on packet time; the capture lasts under 10 s
    [ "$(grep -c '"event_type":"log"' "$TMP/$cap.json")" -eq 0 ] || fail "heartbeat in a < 10 s capture"
done
# --set period=100ms: heartbeats at first + k*100ms up to the last packet (LANGUAGE.md §8)
"$TMP/rg" -r "$CORPORA/netem-http/client.pcap" --set rexmit_guard.period=100ms -o "$TMP/hb.json"
want=$(tshark -r "$CORPORA/netem-http/client.pcap" -T fields -e frame.time_epoch 2>/dev/null |
       python3 -c 'import sys; t=[float(x) for x in sys.stdin]; print(int((t[-1]-t[0])/0.1))')
got=$(grep -c '"rexmit_guard alive"' "$TMP/hb.json")
[ "$got" = "$want" ] && pass "$got heartbeats (tshark duration / 100ms)" || fail "heartbeats $got, want $want"
finish
