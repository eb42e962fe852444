#!/usr/bin/env bash
# antivirus.sh - mbx-http-av (std.http + std.av, Hyperscan streaming mode) on
# suricata-verify's http-evader cases 000-099: 100 HTTP evasions (chunking
# tricks, odd Transfer-Encoding, folded headers, HTTP/1.0 and 0.9 replies, ...),
# each delivering the EICAR test file once.  Per case, from its test.yaml:
# one alert for the EICAR content (sid 1 "EICAR file data", content
# "EICAR-STANDARD-ANTIVIRUS-TEST-FILE"; here alert.signature EICAR-Test-File,
# which contains that content) and one fileinfo record named eicar.txt for a
# GET to evader.example.com.
set -u
B=${MBX_BUILD:?}; SH=${MBX_SHARED:?}; SRC=${MBX_SRC:?}
AV=$B/examples/c/mbx-http-av
CHECK="python3 $SRC/tests/http/evecheck.py"
EV=$SH/corpora/suricata-verify/http-evader
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0
[ -x "$AV" ] || { echo "FAIL: $AV not built (needs libhs)"; exit 1; }
[ -d "$EV" ] || { echo "FAIL: $EV missing"; exit 1; }
for i in $(seq -w 0 99); do
    c=http-evader-0$i
    if ! "$AV" -r "$EV/$c/input.pcap" -o "$T/$c.json" 2>"$T/err"; then
        echo "FAIL $c: mbx-http-av exited non-zero: $(cat "$T/err")"; fails=$((fails + 1)); continue
    fi
    $CHECK "$T/$c.json" "$c alert" 1 event_type=alert alert.signature=EICAR-Test-File \
        alert.signature_id=1 >"$T/out1" || { cat "$T/out1"; fails=$((fails + 1)); }
    $CHECK "$T/$c.json" "$c fileinfo" 1 event_type=fileinfo fileinfo.filename=eicar.txt \
        http.http_method=GET http.hostname=evader.example.com >"$T/out2" \
        || { cat "$T/out2"; fails=$((fails + 1)); }
done
echo "antivirus: 100 http-evader cases, $fails failed check(s)"
[ "$fails" -eq 0 ]
