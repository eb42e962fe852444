#!/bin/bash
# Raised events dispatched by direct calls (e2e/direct.mbx): for every connection
# (tshark's SYNs), in member order: sink's handler once (it unsubscribes after
# the first alarm), late's handler only on flow 3 (steered to it before the
# raises) for both alarms, and the derived event loud (level > 5) after the base
# event's subscribers: expected lines follow from LANGUAGE.md §8 by hand.
. "$(dirname "$0")/lib.sh"
CAP=$CORPORA/netem-http/server.pcap
need "$CAP"
build "$(dirname "$0")/e2e/direct.mbx" "$TMP/direct"
"$TMP/direct" -r "$CAP" -o "$TMP/ev.json" || fail "run"
n=$(tshark -r "$CAP" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" 2>/dev/null | wc -l)
python3 - "$TMP/ev.json" "$n" <<'PY' || fail "direct dispatch"
import json, sys
got = [(e["flow_id"], e["log"]["message"], e["mbx"]["level"]) for e in map(json.loads, open(sys.argv[1]))]
want = []
for f in range(1, int(sys.argv[2]) + 1):
    want.append((f, "first alarm", 3))          # raise alarm(c, 3): sink, then unsubscribed
    if f == 3:
        want += [(f, "late", 3), (f, "late", 9)]  # steered: late sees both raises
    want.append((f, "loud", 9))                  # alarm(c, 9): late (if steered), then loud
want.sort(key=lambda w: (w[0], w[1] != "first alarm", w[1] == "loud", w[2]))
got_sorted = sorted(got, key=lambda w: (w[0], w[1] != "first alarm", w[1] == "loud", w[2]))
assert got == got_sorted and got == want, (got, want)
print("ok: %d connections, direct calls in order" % int(sys.argv[2]))
PY
finish
