#!/bin/bash
# The program of LANGUAGE.md §5-§6 (guard.mbx: std.http, derived events and a
# tree, portscan, web_firewall with state per http_session, rexmit_guard with a
# timer, an explicit link), taken from the design document itself so the two
# cannot drift, built with mbxc (linking std.http's C module) and run:
#   - web_firewall (blocked = /f000): one alert per connection, on its first
#     request whose URI starts with /f000 (then drop flow), per tshark's requests
#   - portscan: the scanner of portscan-nmap.expected.json
#   - rexmit_guard: the one inconsistent retransmission of Zeek's quantum insert
. "$(dirname "$0")/lib.sh"
LANG_MD=$MBX_SHARED/design/LANGUAGE.md
QI=$CORPORA/zeek/Traces/tcp/qi_internet_SYNACK_curl_jsonip.pcap
SRV=$CORPORA/netem-http/server.pcap
need "$LANG_MD" "$QI" "$SRV" "$CORPORA/scan/portscan-nmap.pcap"
python3 - "$LANG_MD" > "$TMP/guard.mbx" <<'PY'
import re, sys
blocks = re.findall(r"```mbx\n(.*?)```", open(sys.argv[1]).read(), re.S)
mods = [b for b in blocks if "module portscan" in b][0]
pipe = [b for b in blocks if "pipeline guard" in b][0]
print(mods + "\n" + pipe)
PY
build "$TMP/guard.mbx" "$TMP/guard"

"$TMP/guard" -r "$SRV" --set web_firewall.blocked=/f000 -o "$TMP/web.json" || fail "run"
python3 - "$TMP/web.json" <<'PY' > "$TMP/got"
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event_type"] == "alert":
        assert e["alert"] == {"signature": "web_firewall.blocked", "module": "web_firewall"}, e
        print(e["src_port"], e["mbx"]["uri"], e["mbx"]["host"])
PY
tshark -r "$SRV" -Y 'http.request.uri matches "^/f000"' -T fields -e tcp.srcport \
    -e http.request.uri -e http.host 2>/dev/null | awk '!seen[$1]++ {print $1, $2, $3}' > "$TMP/want"
if [ -s "$TMP/want" ] && cmp -s "$TMP/got" "$TMP/want"; then
    pass "web_firewall: $(wc -l < "$TMP/got") alerts, first /f000 request per connection"
else
    fail "web_firewall alerts"; diff "$TMP/got" "$TMP/want" >&2
fi

"$TMP/guard" -r "$CORPORA/scan/portscan-nmap.pcap" -o "$TMP/scan.json" || fail "run on nmap"
scanner=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["scanner"])' \
          "$CORPORA/scan/portscan-nmap.expected.json")
n=$(grep '"signature":"portscan"' "$TMP/scan.json" | grep -c "\"src\":\"$scanner\"")
[ "$n" -ge 1 ] && pass "portscan: $n alert(s) naming $scanner" || fail "portscan in guard"

"$TMP/guard" -r "$QI" -o "$TMP/qi.json" || fail "run on QI"
n=$(grep -c '"signature":"tcp.inconsistent_rexmit"' "$TMP/qi.json")
[ "$n" -eq 1 ] && pass "rexmit_guard: one alert on the quantum insert" || fail "rexmit_guard: $n alerts"
finish
