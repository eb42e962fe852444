#!/usr/bin/env bash
# suricata_verify.sh - mbx-httplog on suricata-verify's HTTP cases (issue 5).
#
# Each check is a "filter" check of the case's test.yaml, transcribed as is:
# COUNT records of that event_type with those field values.  Checks on
# records mbx-httplog does not write (alert, flow, stats, Suricata's
# request_headers/response_headers arrays) are left out and named below.
# The corpora live in ../shared (MBX_SHARED); a missing corpus is a failure,
# not a skip, because CI has it.
set -u
B=${MBX_BUILD:?}; SH=${MBX_SHARED:?}; SRC=${MBX_SRC:?}
SV=$SH/corpora/suricata-verify
LOG=$B/examples/c/mbx-httplog
CHECK="python3 $SRC/tests/http/evecheck.py"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0

[ -x "$LOG" ] || { echo "FAIL: $LOG not built"; exit 1; }
[ -d "$SV" ] || { echo "FAIL: $SV missing"; exit 1; }

# run NAME PCAP: mbx-httplog -a (anomaly records too) into $T/NAME.json
run() {
    if ! "$LOG" -a -r "$2" -o "$T/$1.json" 2>"$T/$1.err"; then
        echo "FAIL $1: mbx-httplog exited non-zero: $(cat "$T/$1.err")"
        fails=$((fails + 1))
    fi
}
# check NAME COUNT KEY=VALUE...
check() {
    local n=$1; shift
    $CHECK "$T/$n.json" "$n $*" "$@" || fails=$((fails + 1))
}

# http-gap-simple: one response-body packet removed (/2's body has a hole).
run gap-simple "$SV/http-gap-simple/input.pcap"
check gap-simple 1 event_type=http http.url=/1 http.status=200
check gap-simple 1 event_type=http http.url=/2 http.status=200
check gap-simple 1 event_type=http http.url=/3 http.status=200
check gap-simple 2 event_type=fileinfo fileinfo.size=14 fileinfo.state=CLOSED fileinfo.gaps=false
check gap-simple 1 event_type=fileinfo fileinfo.size=70 fileinfo.state=TRUNCATED fileinfo.gaps=true

# http-gap-double: two holes in /2's body.
run gap-double "$SV/http-gap-double/input.pcap"
check gap-double 1 event_type=http http.url=/1 http.status=200
check gap-double 1 event_type=http http.url=/2 http.status=200
check gap-double 1 event_type=http http.url=/3 http.status=200
check gap-double 2 event_type=fileinfo fileinfo.size=14 fileinfo.state=CLOSED fileinfo.gaps=false
check gap-double 1 event_type=fileinfo fileinfo.size=70 fileinfo.state=TRUNCATED fileinfo.gaps=true

# http-gap-beyond-body: the hole runs past the end of /1's body.
run gap-beyond "$SV/http-gap-beyond-body/input.pcap"
check gap-beyond 1 event_type=http http.url=/1 http.status=200
check gap-beyond 1 event_type=http http.url=/2
check gap-beyond 1 event_type=http http.url=/3
check gap-beyond 1 event_type=fileinfo fileinfo.size=12 fileinfo.state=TRUNCATED fileinfo.gaps=true

# http-gap-whole-body: a whole body missing.
run gap-whole "$SV/http-gap-whole-body/input.pcap"
check gap-whole 1 event_type=http http.url=/1 http.status=200
check gap-whole 1 event_type=http http.url=/2 http.status=200
check gap-whole 1 event_type=http http.url=/3 http.status=200
check gap-whole 1 event_type=fileinfo fileinfo.size=14 fileinfo.state=CLOSED fileinfo.gaps=false
check gap-whole 1 event_type=fileinfo fileinfo.size=12 fileinfo.state=TRUNCATED fileinfo.gaps=true
check gap-whole 1 event_type=fileinfo fileinfo.size=70 fileinfo.state=CLOSED fileinfo.gaps=false

# http-async: requests and responses interleaved.  (alert checks left out)
run async "$SV/http-async/input.pcap"
check async 1 event_type=http http.url=/1 http.status=200
check async 1 event_type=http http.url=/2 http.status=200

# http-all-headers: one transaction (the request_headers/response_headers
# array checks are left out: mbx-httplog does not log every header).
run all-headers "$SV/http-all-headers/input.pcap"
check all-headers 1 event_type=http

# http-protocol-nodup: 40 pipelined HTTP/1.1 transactions.
run nodup "$SV/http-protocol-nodup/input.pcap"
check nodup 40 event_type=http http.protocol=HTTP/1.1

# http-connect-simple: CONNECT 200 then a GET inside the tunnel.  test.yaml
# also expects tx_id 0 on both (Suricata restarts the parser in the tunnel;
# mbx numbers the tunnelled request 1): tx_id is not checked.
run connect "$SV/http-connect__http-connect-simple/input.pcap"
check connect 1 event_type=http http.http_method=CONNECT http.protocol=HTTP/1.1 http.status=200
check connect 1 event_type=http http.http_method=GET http.protocol=HTTP/1.1 http.status=200

# http-multiple100: several 100 Continue before the 200; the uploaded file
# (multipart/form-data part) is 34293 bytes.
run multiple100 "$SV/http-multiple100/input.pcap"
check multiple100 1 event_type=fileinfo fileinfo.size=34293
check multiple100 1 event_type=http http.status=200

# http-not09: "GET /" without a version is not HTTP/0.9.  (alert check left out)
run not09 "$SV/http-not09/input.pcap"
check not09 1 event_type=http http.http_user_agent=myscript
check not09 1 event_type=anomaly anomaly.event=REQUEST_LINE_MISSING_PROTOCOL

# bug-814: HTTP over IPv6.  (alert/flow checks and Suricata's expanded IPv6
# address form in src_ip/dest_ip left out)
run bug814 "$SV/bug-814/input.pcap"
check bug814 1 event_type=http http.hostname=www.net1.bg http.http_method=GET \
    "http.http_user_agent=Mozilla/4.75 (Nikto/2.1.4) (Evasions:None) (Test:000003)" \
    http.length=0 http.protocol=HTTP/1.1 http.url=/cgi-bin/cart32.exe dest_port=80 \
    src_port=58307 tx_id=0

# bug-4810: HTTP over PPPoE.
run bug4810 "$SV/bug-4810/pppoe-session-http.pcap"
check bug4810 1 event_type=http http.status=200 http.http_method=GET http.url=/

# bug-4376: QinQ VLAN download.  (alert/flow checks and vlan[0] left out)
run bug4376 "$SV/bug-4376/syn_retransmit_with_ts.pcap"
check bug4376 1 event_type=fileinfo \
    fileinfo.filename=/malware/ppt/mal/51f14eb6c874686e5f593132cf0f742d.ppt fileinfo.state=CLOSED
check bug4376 1 event_type=http http.hostname=nx2500-242-4-server http.status=200

# tcp-fastopen-01: the request rides in the SYN.  (alert/flow checks left out)
run tfo01 "$SV/tcp-fastopen-01/tfo.pcap"
check tfo01 2 event_type=http
check tfo01 1 event_type=http http.url=/index.php http.http_user_agent=Mozilla/5.0 \
    http.http_content_type=text/html http.http_method=GET http.protocol=HTTP/1.0 \
    http.status=302 http.redirect=/index.php?page=main.php http.length=0
check tfo01 1 event_type=http "http.url=//index.php?page=../../../etc/passwd" http.status=200

# tcp-fastopen-07: TFO with a long URI split over segments.
run tfo07 "$SV/tcp-fastopen-07/tcp_fastopen_segmentation.pcap"
check tfo07 1 event_type=http proto=TCP dest_port=80 tx_id=0 http.hostname=10.0.0.61 \
    http.url=//a1a2a3a4a5a6a7a8a9a0b1b2b3b4b5b6b7b8b9b0c1c2c3c4c5c6c7c8c9c0d1d2d3d4d5d6d7d8d9d0 \
    http.http_user_agent=czxt2s http.http_content_type=text/html http.http_method=GET \
    http.protocol=HTTP/1.1 http.status=404 http.length=153

# bug-3286-01/02/03: the same 14-byte download without and with TCP
# timestamp (PAWS) evasion packets, which must be ignored.
for c in 01-no-evasion:without_evasion 02-linux-evasion:with_evasion_linux \
         03-windows-evasion:with_evasion_windows; do
    n=bug3286-${c%%-*}
    run "$n" "$SV/bug-3286-${c%%:*}/${c##*:}.pcap"
    check "$n" 1 event_type=fileinfo fileinfo.state=CLOSED
    check "$n" 1 event_type=http http.status=200 http.length=14
done

# Beyond issue 5's list, the other HTTP cases of the corpus whose checks are
# about http/fileinfo/anomaly records:
# http-pipeline-files-with-gap: pipelined downloads, one body with a hole.
# (test.yaml also wants fileinfo.sha256 = SHA-256 of nothing on the truncated
# file, a Suricata artefact; mbx writes no sha256 for a truncated file.)
run pipegap "$SV/http-pipeline-files-with-gap/input.pcap"
check pipegap 3 event_type=fileinfo
check pipegap 1 event_type=fileinfo fileinfo.gaps=true fileinfo.size=733 fileinfo.state=TRUNCATED

# bug-130: SYN+FIN+PSH+ACK flags on every packet; a 401 with a 1483-byte page.
run bug130 "$SV/bug-130/input.pcap"
FF="Gecko/2009011912 Firefox/3.0.6"
check bug130 1 event_type=http http.hostname=www.abcdefghij.com http.http_content_type=text/html \
    http.http_method=GET http.http_refer=http://www.abcdefghij.com/abdeltat/login \
    "http.http_user_agent=Mozilla/5.0 (X11; U; Linux i686; fr; rv:1.9.0.6) $FF" \
    http.length=1483 http.protocol=HTTP/1.1 http.status=401 \
    http.url=/publication/pub.home/home.html src_port=44270 dest_port=80 tx_id=0
check bug130 1 event_type=fileinfo fileinfo.filename=/publication/pub.home/home.html \
    fileinfo.gaps=false fileinfo.size=1483 fileinfo.state=CLOSED fileinfo.stored=false \
    fileinfo.tx_id=0 app_proto=http

# decode-teredo-01: HTTP in IPv6 in UDP (Teredo); a POST answered 204, and a
# gzip page (3651 bytes on the wire, 11845 decoded).
run teredo "$SV/decode-teredo-01/input.pcap"
REF="http://ipv6.google.com/search?hl=en&q=Wireshark+%21&btnG=Google+Search"
check teredo 1 event_type=fileinfo fileinfo.filename=/cgi-bin/iavs4stats.cgi fileinfo.gaps=false \
    fileinfo.size=589 fileinfo.state=CLOSED fileinfo.tx_id=0 http.hostname=download913.avast.com \
    http.http_method=POST http.length=0 http.protocol=HTTP/1.0 src_port=1578
check teredo 1 event_type=http http.hostname=download913.avast.com \
    http.http_content_type=text/plain http.http_method=POST \
    "http.http_user_agent=Syncer/4.80 (av_pro-1169;f)" http.length=0 http.protocol=HTTP/1.0 \
    http.status=204 http.url=/cgi-bin/iavs4stats.cgi src_port=1578 tx_id=0
check teredo 1 event_type=http http.hostname=www.wireshark.org http.http_content_type=text/html \
    http.http_method=GET "http.http_refer=$REF" \
    http.length=3651 http.protocol=HTTP/1.1 http.status=200 http.url=/ src_port=1580 tx_id=0
check teredo 1 event_type=fileinfo fileinfo.filename=/ fileinfo.gaps=false fileinfo.size=11845 \
    fileinfo.state=CLOSED fileinfo.tx_id=0 http.hostname=www.wireshark.org http.length=3651

# stream-async 6063: only one side of the connection was captured.
run async-srv "$SV/stream-async__http__stream-async-6063-srv-01/http-request-header-async-srv.pcap"
check async-srv 1 event_type=http dest_port=80
check async-srv 1 event_type=anomaly anomaly.app_proto=http anomaly.type=applayer \
    anomaly.event=UNABLE_TO_MATCH_RESPONSE_TO_REQUEST anomaly.layer=proto_parser
run async-cli "$SV/stream-async__http__stream-async-6063-cli-01/http-request-header-async-cli.pcap"
check async-cli 1 event_type=http dest_port=80

# base64-issue-5223: a request whose response never comes (logged at the end).
run b64 "$SV/base64-issue-5223/input.pcap"
check b64 1 event_type=http http.hostname=foo.bar http.http_method=GET http.length=0 \
    http.protocol=HTTP/1.1 http.url=/ src_port=60078 dest_port=80 tx_id=0

echo "suricata_verify: $fails failure(s)"
[ "$fails" -eq 0 ]
