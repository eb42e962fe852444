#!/usr/bin/env bash
# demo_guard.sh - the README's main job gives the events its three sources hold:
#  - portscan: one alert naming the scanner of scan/portscan-nmap.pcap
#    (127.0.0.1, per portscan-nmap.expected.json "scanner");
#  - rexmit_guard: one alert on the quantum-insert connection, Zeek's
#    core.tcp.quantum-insert baseline: 178.200.100.200:39976 -> 96.126.98.124:80;
#  - web_firewall: the request of zeek http/get.pcap (GET /download/CHANGES.bro-aux.txt,
#    Host bro.org, per Zeek's http.log baseline) under --set web_firewall.blocked=/download,
#    and no web_firewall alert with the default /admin.
set -euo pipefail
B=${MBX_BUILD:?}; S=${MBX_SRC:?}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$B/compiler/mbxc" build "$S/examples/guard.mbx" -o "$T/guard"
"$T/guard" -r "$S/examples/captures/demo.pcap" --set web_firewall.blocked=/download -o "$T/ev.json"
"$T/guard" -r "$S/examples/captures/demo.pcap" -o "$T/ev-default.json"
python3 - "$T/ev.json" "$T/ev-default.json" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
alerts = [e for e in ev if e["event_type"] == "alert"]
by = {}
for a in alerts:
    by.setdefault(a["alert"]["signature"], []).append(a)
assert sorted(by) == ["portscan", "tcp.inconsistent_rexmit", "web_firewall.blocked"], sorted(by)
ps = by["portscan"]
assert len(ps) == 1 and ps[0]["mbx"]["src"] == "127.0.0.1" and ps[0]["mbx"]["ports"] == 20, ps
qi = by["tcp.inconsistent_rexmit"]
assert len(qi) == 1, qi
q = qi[0]
assert (q["src_ip"], q["src_port"], q["dest_ip"], q["dest_port"]) == \
    ("178.200.100.200", 39976, "96.126.98.124", 80), q
assert q["mbx"]["side"] == "server", q
wf = by["web_firewall.blocked"]
assert len(wf) == 1, wf
w = wf[0]["mbx"]
assert (w["method"], w["uri"], w["host"]) == ("GET", "/download/CHANGES.bro-aux.txt", "bro.org"), w
d = [json.loads(l) for l in open(sys.argv[2])]
assert not [e for e in d if e.get("alert", {}).get("signature") == "web_firewall.blocked"], d
print("demo: 3 alerts as expected (portscan 127.0.0.1, quantum insert, blocked GET /download)")
PY
