#!/bin/bash
# examples/http_log.mbx, compiled by mbxc: its EVE "http" and "fileinfo"
# records must be exactly those the C tool mbx-httplog writes for the same
# capture (same std.http writer, reached from .mbx through std.http's
# http_eve), on netem-http, suricata-verify HTTP cases and Zeek http traces;
# and, independently of std.http, one "http" record per request tshark sees
# on netem-http, whose fileinfo sha256s are the files of its manifest.
. "$MBX_SRC/tests/backend/lib.sh"
HL=$MBX_BUILD/examples/c/mbx-httplog
NM=$CORPORA/netem-http
need "$NM/server.pcap" "$CORPORA/suricata-verify" "$CORPORA/zeek/Traces/http"
[ -x "$HL" ] || { fail "$HL not built"; finish; }
build "$MBX_SRC/examples/http_log.mbx" "$TMP/http_log"

caps=("$NM/server.pcap")
for c in http-all-headers http-protocol-nodup http-gap-simple http-async http-connect \
         http-multiple100 bug-814 bug-4810 http-evader-017; do
    for f in "$CORPORA"/suricata-verify/*/"$c"/input.pcap "$CORPORA/suricata-verify/$c/input.pcap"; do
        [ -e "$f" ] && caps+=("$f")
    done
done
for f in "$CORPORA"/zeek/Traces/http/*.pcap; do caps+=("$f"); done
n=0
for cap in "${caps[@]}"; do
    "$TMP/http_log" -r "$cap" -o "$TMP/a.json" 2>"$TMP/a.err"; ra=$?
    "$HL" -r "$cap" -o "$TMP/b.json" 2>"$TMP/b.err"; rb=$?
    if [ "$ra" != "$rb" ]; then
        fail "$(basename "$(dirname "$cap")")/$(basename "$cap"): exit $ra, mbx-httplog $rb"
    elif ! cmp -s "$TMP/a.json" "$TMP/b.json"; then
        fail "$cap: records differ from mbx-httplog's"
        diff "$TMP/a.json" "$TMP/b.json" | head -5 >&2
    else
        n=$((n + 1))
    fi
done
pass "http_log = mbx-httplog on $n of ${#caps[@]} captures"

"$TMP/http_log" -r "$NM/server.pcap" -o "$TMP/nm.json" || fail "run on netem-http"
got=$(grep -c '"event_type":"http"' "$TMP/nm.json")
want=$(tshark -r "$NM/server.pcap" -Y http.request 2>/dev/null | wc -l)
[ "$got" -eq "$want" ] && [ "$want" -gt 0 ] && pass "netem-http: $got http records = tshark's requests" \
    || fail "netem-http: $got http records, tshark sees $want requests"
# netem-http's manifest (name, size, sha256 of each served file): every complete
# fileinfo record of a served file has the manifest's size and sha256
python3 - "$TMP/nm.json" "$NM/manifest.tsv" > "$TMP/man.out" <<'PY2' || fail "manifest: $(cat "$TMP/man.out")"
import json, sys
man = {l.split()[0]: (int(l.split()[1]), l.split()[2]) for l in open(sys.argv[2]) if l.strip()}
ok = bad = 0
for l in open(sys.argv[1]):
    e = json.loads(l)
    fi = e.get("fileinfo")
    if e["event_type"] != "fileinfo" or fi["state"] != "CLOSED" or fi["gaps"]:
        continue
    name = fi["filename"].rsplit("/", 1)[-1]
    if name in man and e["http"].get("status") == 200:
        if (fi["size"], fi.get("sha256")) == man[name]:
            ok += 1
        else:
            bad += 1
            print("mismatch", name, fi["size"], fi.get("sha256"))
print(ok, "files match the manifest")
sys.exit(1 if bad or ok == 0 else 0)
PY2
pass "netem-http: $(tail -1 "$TMP/man.out")"
finish
