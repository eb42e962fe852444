#!/bin/bash
# examples/portscan.mbx built with mbxc: at least one alert naming the scanner on
# scan/portscan-nmap.pcap (the scanner per portscan-nmap.expected.json), and none
# on the netem-http captures (normal HTTP; libnids finds no scan there either).
. "$(dirname "$0")/lib.sh"
need "$CORPORA/scan/portscan-nmap.pcap" "$CORPORA/netem-http/client.pcap"
build "$MBX_SRC/examples/portscan.mbx" "$TMP/portscan"

"$TMP/portscan" -r "$CORPORA/scan/portscan-nmap.pcap" -o "$TMP/scan.json" || fail "run on nmap"
python3 - "$TMP/scan.json" "$CORPORA/scan/portscan-nmap.expected.json" <<'PY' || fail "nmap alerts"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
exp = json.load(open(sys.argv[2]))
alerts = [e for e in ev if e["event_type"] == "alert"]
assert alerts, "no alert"
for a in alerts:
    assert a["alert"]["signature"] == "portscan" and a["alert"]["module"] == "portscan", a
    assert a["mbx"]["src"] == exp["scanner"] and a["src_ip"] == exp["scanner"], a
    assert a["dest_ip"] == exp["target"], a
    assert a["mbx"]["ports"] >= 20 and len(a["mbx"]["sample"]) == a["mbx"]["ports"], a
    assert a["mbx"]["sample"] == sorted(a["mbx"]["sample"]), "sets are written sorted"
print("ok: %d alert(s) naming %s" % (len(alerts), exp["scanner"]))
PY

for cap in client server; do
    "$TMP/portscan" -r "$CORPORA/netem-http/$cap.pcap" -o "$TMP/$cap.json" || fail "run on $cap"
    n=$(grep -c '"event_type":"alert"' "$TMP/$cap.json")
    [ "$n" -eq 0 ] && pass "no alert on netem-http/$cap.pcap" || fail "$n alerts on netem-http/$cap.pcap"
done

# a lower threshold through --set still names only the scanner; a higher one than the
# number of distinct ports nmap probed (1147, expected.json) gives none
"$TMP/portscan" -r "$CORPORA/scan/portscan-nmap.pcap" --set portscan.threshold=2000 \
    --set portscan.window=1h -o "$TMP/none.json" || fail "run with --set"
[ ! -s "$TMP/none.json" ] && pass "threshold 2000 > 1147 ports: no alert" || fail "alert above 1147"
finish
