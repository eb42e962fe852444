#!/bin/bash
# The four applications on bad captures (a truncated pcap, random bytes, an
# empty file): a message naming the problem and exit status 2, never a crash
# (in the sanitizer build, never an ASan/UBSan report); the records written
# before a truncation are kept.  And mbxc on a misuse of std.av: virus_found
# subscribed with http_session from two exporters (http_parser, av_scanner) and
# no link is a compile error that names av_scanner, not a silent handler that
# never runs; with av_scanner a member, it is linked and the handler runs.
. "$MBX_SRC/tests/backend/lib.sh"
SRV=$CORPORA/netem-http/server.pcap
need "$SRV"
head -c 300000 "$SRV" > "$TMP/trunc.pcap"
python3 -c 'import random; random.seed(7); open("'"$TMP"'/garbage.pcap", "wb").write(bytes(random.getrandbits(8) for _ in range(5000)))'
: > "$TMP/empty.pcap"
for app in http_log web_firewall antivirus wan_dedup; do
    build "$MBX_SRC/examples/$app.mbx" "$TMP/$app"
    for cap in trunc garbage empty; do
        "$TMP/$app" -r "$TMP/$cap.pcap" -o "$TMP/out.json" 2> "$TMP/err"; rc=$?
        if [ "$rc" -eq 2 ] && grep -q "$cap.pcap: " "$TMP/err" && ! grep -q Sanitizer "$TMP/err"; then
            pass "$app on $cap: exit 2, $(head -c 60 "$TMP/err")"
        else
            fail "$app on $cap: exit $rc: $(head -3 "$TMP/err")"
        fi
    done
done
# http_log keeps the records before the truncation: the requests tshark reads in it
got=$("$TMP/http_log" -r "$TMP/trunc.pcap" 2>/dev/null | grep -c '"event_type":"http"')
want=$(tshark -r "$TMP/trunc.pcap" -Y http.request 2>/dev/null | wc -l)
[ "$got" -eq "$want" ] && [ "$want" -gt 0 ] &&
    pass "truncated capture: $got http records = tshark's requests" ||
    fail "truncated capture: $got http records, tshark $want requests"

cat > "$TMP/nolink.mbx" <<'MBX'
use std.http;
use std.av;
module m {
    import http_session;
    on virus_found(s, f, sig, id, off) { log("found"); }
}
pipeline p { m; }
MBX
"$MBXC" build "$TMP/nolink.mbx" -o "$TMP/nolink" 2> "$TMP/err"; rc=$?
[ "$rc" -eq 1 ] && grep -q "exported by .av_scanner" "$TMP/err" &&
    pass "virus_found, http_session from two exporters, no link: mbxc exit 1 naming av_scanner" ||
    { fail "unlinked virus_found: mbxc exit $rc"; cat "$TMP/err" >&2; }
# listing av_scanner as a member links it (LANGUAGE.md section 6): the handler runs
sed -i 's/pipeline p { m; }/pipeline p { m; av_scanner; }/' "$TMP/nolink.mbx"
build "$TMP/nolink.mbx" "$TMP/member"
n=$("$TMP/member" -r "$CORPORA/suricata-verify/http-evader/http-evader-000/input.pcap" |
    grep -c '"message":"found"')
[ "$n" -eq 1 ] && pass "av_scanner as a member: virus_found reaches m" ||
    fail "av_scanner as a member: $n logs"
finish
