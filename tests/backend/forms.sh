#!/bin/bash
# Every form of LANGUAGE.md compiles and runs: e2e/forms.mbx (literals, types,
# operators, strings, tables, every built-in event, derived events and a tree,
# raise, state per, every, drop packet, steer, unsubscribe, std.http with an
# explicit link, extern fn) built with mbxc and run; forms_check.py compares
# its events with hand-computed values, tshark and the netem manifest.
. "$(dirname "$0")/lib.sh"
DNS=$CORPORA/zeek/Traces/dns/dns-binds.pcap
need "$CORPORA/netem-http/server.pcap" "$DNS" "$CORPORA/suricata-verify/eve-payload-05-tcp-data-gap/tcp-simple-gap2.pcap"
command -v tshark >/dev/null || { echo "skip: no tshark"; exit 77; }
build "$(dirname "$0")/e2e/forms.mbx" "$TMP/forms"
for cap in "$CORPORA/netem-http/server.pcap" "$CORPORA/netem-http/client.pcap"; do
    "$TMP/forms" -r "$cap" -o "$TMP/ev.json" --stats 2> "$TMP/stats.txt" || fail "run on $cap"
    python3 "$(dirname "$0")/forms_check.py" "$cap" "$TMP/ev.json" "$TMP/stats.txt" http ||
        fail "forms on $cap"
done
"$TMP/forms" -r "$DNS" -o "$TMP/dns.json" || fail "run on dns"
python3 "$(dirname "$0")/forms_check.py" "$DNS" "$TMP/dns.json" /dev/null udp || fail "forms on dns"
editcap -r "$CORPORA/netem-http/server.pcap" "$TMP/cut.pcap" 1-400 > /dev/null 2>&1 ||
    fail "editcap"
"$TMP/forms" -r "$TMP/cut.pcap" -o "$TMP/cut.json" || fail "run on the cut capture"
python3 "$(dirname "$0")/forms_check.py" "$TMP/cut.pcap" "$TMP/cut.json" /dev/null cut ||
    fail "forms on the cut capture"
GAP=$CORPORA/suricata-verify/eve-payload-05-tcp-data-gap/tcp-simple-gap2.pcap
"$TMP/forms" -r "$GAP" -o "$TMP/gap.json" || fail "run on gap"
python3 "$(dirname "$0")/forms_check.py" "$GAP" "$TMP/gap.json" /dev/null gap || fail "forms on gap"
finish
