#!/bin/bash
# examples/antivirus.mbx (std.av's av_scanner over std.http, Hyperscan streaming
# mode), compiled by mbxc, on suricata-verify's http-evader cases 000-099: each
# case's test.yaml expects exactly one match of the EICAR content in the file
# body (sids 1 and 2, "EICAR-STANDARD-ANTIVIRUS-TEST-FILE" / "X5O!P%@AP[4", both
# inside EICAR-Test-File) and the file eicar.txt of a GET to evader.example.com;
# the evasions split the body across chunks, packets and gzip layers.  So: one
# alert "EICAR-Test-File" per case, naming that file, host and method, and the
# match ending at least 68 bytes (EICAR's length) into the decoded body.  On
# netem-http (10 random files, manifest.tsv) nothing is found.  On
# data/gen_eicar.py's capture (EICAR split across 5-byte segments, 7-byte chunks
# and gzip; across swapped 3-byte segments; in an upload; and a near miss) the
# finds are exactly its truth file's (port, file, end offset, by construction).
. "$MBX_SRC/tests/backend/lib.sh"
EV=$CORPORA/suricata-verify/http-evader
need "$EV/http-evader-000/input.pcap" "$CORPORA/netem-http/server.pcap"
build "$MBX_SRC/examples/antivirus.mbx" "$TMP/antivirus"
bad=0
for i in $(seq -w 0 99); do
    c=http-evader-0$i
    if ! "$TMP/antivirus" -r "$EV/$c/input.pcap" -o "$TMP/$c.json" 2>"$TMP/err"; then
        fail "$c: exit non-zero: $(head -2 "$TMP/err")"
        continue
    fi
    python3 - "$TMP/$c.json" <<'PY' >"$TMP/out" || { fail "$c: $(cat "$TMP/out")"; bad=$((bad + 1)); }
import json, sys
al = [json.loads(l) for l in open(sys.argv[1])]
al = [e for e in al if e["event_type"] == "alert"]
ok = (len(al) == 1 and al[0]["alert"] == {"signature": "EICAR-Test-File", "module": "antivirus"}
      and al[0]["mbx"]["id"] == 1 and al[0]["mbx"]["file"] == "eicar.txt"
      and al[0]["mbx"]["host"] == "evader.example.com" and al[0]["mbx"]["method"] == "GET"
      and al[0]["mbx"]["offset"] >= 68)
print([e.get("alert", {}).get("signature") for e in al], al[0]["mbx"] if al else "")
sys.exit(0 if ok else 1)
PY
done
[ "$bad" -eq 0 ] && pass "http-evader 000-099: one EICAR-Test-File alert each, on eicar.txt"

"$TMP/antivirus" -r "$CORPORA/netem-http/server.pcap" -o "$TMP/nm.json" || fail "run on netem-http"
n=$(grep -c '"event_type":"alert"' "$TMP/nm.json")
[ "$n" -eq 0 ] && pass "netem-http: no alert" || fail "netem-http: $n alerts on random files"

python3 "$MBX_SRC/tests/apps/data/gen_eicar.py" "$TMP/ei.pcap" "$TMP/ei.truth" || fail "gen_eicar.py"
"$TMP/antivirus" -r "$TMP/ei.pcap" -o "$TMP/ei.json" || fail "run on gen_eicar.py's capture"
python3 - "$TMP/ei.json" > "$TMP/ei.got" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event_type"] == "alert" and e["alert"]["signature"] == "EICAR-Test-File":
        print(e["src_port"], e["mbx"]["file"].rsplit("/", 1)[-1], e["mbx"]["offset"])
PY
sort "$TMP/ei.got" | cmp -s - "$TMP/ei.truth" &&
    pass "split EICAR (segments, chunks, gzip, reordering, upload): $(wc -l < "$TMP/ei.got") finds = truth" ||
    { fail "split EICAR finds"; diff "$TMP/ei.got" "$TMP/ei.truth" >&2; }

# a missing capture: a message and a non-zero exit, no crash
"$TMP/antivirus" -r "$TMP/none.pcap" >/dev/null 2>"$TMP/err"; rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && [ -s "$TMP/err" ] && pass "missing capture: exit $rc" \
    || fail "missing capture: exit $rc"
finish
