#!/usr/bin/env bash
# peers_suricata.sh - mbx-streams on suricata-verify's TCP cases (../shared/corpora/suricata-verify).
#
# Each case's expected values come from its test.yaml / test.rules / README and
# from the packets themselves (the writepcap.py / *.py that made the capture,
# or tshark's listing); TABLE.md sums the cases up.  Streams are checked byte
# for byte where the case defines them.  A gap is written as zero bytes.
source "$(dirname "$0")/lib/common.sh"
SV=$CORPORA/suricata-verify

# eve-payload-01/02 (tcp-overlap.pcap): client sends "GOOD" then "EVIL" at the
# same sequence numbers.  test.yaml: default (first-wins, BSD) policy -> stream
# "GOOD" (01); host-os-policy old-linux (last-wins) -> stream "EVIL" (02).  The
# second copy differs, so one inconsistent retransmission on the client side.
streams ep01 "$SV/eve-payload-01-tcp-exact-overlap/tcp-overlap.pcap"
check_file "$(sfile ep01 0 c2s)" 'GOOD' "eve-payload-01 first-wins client stream"
check_eq "$(field "$T/ep01" 0 tcp_conn.c2s.inconsistent)" 1 "eve-payload-01 client inconsistent rexmits"
check_eq "$(field "$T/ep01" 0 tcp_conn.s2c.inconsistent)" 0 "eve-payload-01 server inconsistent rexmits"
streams ep02 "$SV/eve-payload-02-tcp-exact-overlap-policy-oldlinux/tcp-overlap.pcap" --policy last
check_file "$(sfile ep02 0 c2s)" 'EVIL' "eve-payload-02 last-wins client stream"
check_eq "$(field "$T/ep02" 0 tcp_conn.c2s.inconsistent)" 1 "eve-payload-02 client inconsistent rexmits"

# eve-payload-04 (tcp-overlap2.pcap): "GOOD" at seq 2, then "XXX" at seq 3.
# test.yaml: stream "GOOD", no stream "XXX" (first-wins).  Last-wins: "GXXX".
streams ep04 "$SV/eve-payload-04-partial-overlap/tcp-overlap2.pcap"
check_file "$(sfile ep04 0 c2s)" 'GOOD' "eve-payload-04 first-wins client stream"
streams ep04l "$SV/eve-payload-04-partial-overlap/tcp-overlap2.pcap" --policy last
check_file "$(sfile ep04l 0 c2s)" 'GXXX' "eve-payload-04 last-wins client stream"

# eve-payload-05 (tcp-simple-gap2.pcap): "VERY" at seq 2, "DATA" at seq 10, server
# ACKs 14.  test.yaml: "VERY[4 bytes missing]DATA".
streams ep05 "$SV/eve-payload-05-tcp-data-gap/tcp-simple-gap2.pcap"
check_file "$(sfile ep05 0 c2s)" 'VERY\0\0\0\0DATA' "eve-payload-05 client stream (gap as zeros)"
check_eq "$(field "$T/ep05" 0 tcp_conn.c2s.gap_bytes)" 4 "eve-payload-05 client gap bytes"
check_eq "$(field "$T/ep05" 0 tcp_conn.c2s.delivered)" 8 "eve-payload-05 client delivered"

# eve-payload-06 (tcp-leading-gap.pcap): "GOOD" at seq 6, "DATA" at 10, the first 4
# bytes (seq 2..5) never seen.  test.yaml: "[4 bytes missing]GOODDATA".
streams ep06 "$SV/eve-payload-06-tcp-data-leading-gap/tcp-leading-gap.pcap"
check_file "$(sfile ep06 0 c2s)" '\0\0\0\0GOODDATA' "eve-payload-06 client stream (leading gap)"
check_eq "$(field "$T/ep06" 0 tcp_conn.c2s.gap_bytes)" 4 "eve-payload-06 client gap bytes"
check_eq "$(field "$T/ep06" 0 tcp_conn.c2s.delivered)" 8 "eve-payload-06 client delivered"

# tcp-rst-unacked-stream-*: a RST arrives before the data is ACKed; README: the
# unACKed data is still reassembled; test.yaml: reassembly_gap 0.
# 01 (writepcap.py): server sends "Please ", "Let ", "Me ", "In!"; client RST acks 1008.
streams rst01 "$SV/tcp-rst-unacked-stream-01-raw/input.pcap"
check_file "$(sfile rst01 0 s2c)" 'Please Let Me In!' "tcp-rst-unacked-01 server stream"
check_eq "$(field "$T/rst01" 0 tcp_conn.s2c.gap_bytes)" 0 "tcp-rst-unacked-01 server gap bytes"
check_eq "$(field "$T/rst01" 0 tcp_conn.reason)" rst "tcp-rst-unacked-01 ended by"
# 03: writepcap.py comments out the "Let " segment, so those 4 bytes are not in
# the capture.  Suricata's reassembly_gap stays 0 (it never had to skip them
# while inspecting: its test checks "Me In" in the unACKed data); mbx accounts
# every byte it cannot deliver, so its gap_bytes is 4 - the same bytes, a
# different counter definition.  The data after the hole is delivered.
streams rst03 "$SV/tcp-rst-unacked-stream-03-gap/input.pcap"
check_file "$(sfile rst03 0 s2c)" 'Please \0\0\0\0Me In!' "tcp-rst-unacked-03 server stream"
check_eq "$(field "$T/rst03" 0 tcp_conn.s2c.gap_bytes)" 4 "tcp-rst-unacked-03 server gap bytes (the missing 'Let ')"
# 05 (writepcap.py): client sends the request in 4 segments; server RST acks 18.
streams rst05 "$SV/tcp-rst-unacked-stream-05-http-nogap/input.pcap"
check_file "$(sfile rst05 0 c2s)" 'GET / HTTP/1.0\r\nCookie: abcdef\r\nUser-Agent: Mozilla\r\n\r\n' \
  "tcp-rst-unacked-05 client stream"
check_eq "$(field "$T/rst05" 0 tcp_conn.c2s.gap_bytes)" 0 "tcp-rst-unacked-05 client gap bytes"
# 07: as 05 without the Cookie segment (16 bytes): "User-Agent: Mozilla" still
# delivered at its true offset; the 16 missing bytes are accounted as a gap.
streams rst07 "$SV/tcp-rst-unacked-stream-07-http/input.pcap"
check_file "$(sfile rst07 0 c2s)" 'GET / HTTP/1.0\r\n\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0User-Agent: Mozilla\r\n\r\n' \
  "tcp-rst-unacked-07 client stream"
check_eq "$(field "$T/rst07" 0 tcp_conn.c2s.gap_bytes)" 16 "tcp-rst-unacked-07 client gap bytes (the missing Cookie line)"
# 10: a real HTTP download (Content-Length 181348) cut by the client's RST.  The
# capture misses two stretches of the server's stream (tshark: "previous segment
# not captured"): 1,288 bytes that the client ACKed later, and 5,152 bytes at the
# end that it never ACKed, after which 2 more segments were captured.  mbx
# writes them as zeros, exactly as tcpflow does (the files are identical), and
# counts 6,440 gap bytes.  test.yaml's fileinfo.sha256 (8ff57c7f...) is what
# Suricata hashed: the body from its start to the second hole, without the first
# hole's bytes - so mbx's bytes there are the bytes Suricata saw.
streams rst10 "$SV/tcp-rst-unacked-stream-10/TLPW1-tcp-174.56.47.59-10.3.11.101-tcp-80-49309.pcap"
check_eq "$($CHECK holesha "$(sfile rst10 0 s2c)" 2)" 8ff57c7fc0d4babd27e2e914ad9b556b1b980a69710d3917266ec1cb4edbb782 \
  "tcp-rst-unacked-10: sha256 of the body before the 2nd hole, 1st hole left out (test.yaml fileinfo.sha256)"
check_eq "$(field "$T/rst10" 0 tcp_conn.s2c.gap_bytes)" $((1288 + 5152)) "tcp-rst-unacked-10 server gap bytes"
tcpflow -r "$SV/tcp-rst-unacked-stream-10/TLPW1-tcp-174.56.47.59-10.3.11.101-tcp-80-49309.pcap" -o "$T/tf10" >/dev/null 2>&1
check_cmd "tcp-rst-unacked-10: server stream file identical to tcpflow's" \
  cmp "$(sfile rst10 0 s2c)" "$T/tf10/174.056.047.059.00080-010.003.011.101.49309"
check_eq "$($CHECK count "$T/rst10/flows.jsonl")" 1 "tcp-rst-unacked-10 connections"

# tcp-split-handshake-01/02 (split-handshake.py): SYN, SYN from the server, SYN/ACK
# from the client, ACK (5whs: plus an ACK first), then the client sends "EVIL".
# test.rules: stream content "EVIL" must match: one connection, "EVIL" delivered.
for c in 01-4whs 02-5whs; do
  n=split${c%%-*}
  streams $n "$SV/tcp-split-handshake-$c/split-handshake-${c#*-}.pcap"
  check_eq "$($CHECK count "$T/$n/flows.jsonl")" 1 "tcp-split-handshake-$c connections"
  check_eq "$(cat "$T/$n"/*.c2s "$T/$n"/*.s2c 2>/dev/null)" EVIL "tcp-split-handshake-$c stream bytes"
  check_eq "$(field "$T/$n" 0 src_port)" 12345 "tcp-split-handshake-$c client (first SYN) port"
done

# tcp-fastopen-01 (tfo.pcap): the second connection (port 55534) carries its
# request in the SYN; test.yaml: http url "//index.php?page=../../../etc/passwd".
streams tfo1 "$SV/tcp-fastopen-01/tfo.pcap"
check_has "$(sfile tfo1 1 c2s)" 'GET //index.php?page=../../../etc/passwd HTTP/1.0' "tcp-fastopen-01 SYN data"
check_eq "$(field "$T/tfo1" 1 tcp_conn.c2s.delivered)" 86 "tcp-fastopen-01 client delivered (86 bytes in the SYN)"
check_has "$(sfile tfo1 0 c2s)" 'GET /index.php HTTP/1.0' "tcp-fastopen-01 first connection request"
# tcp-fastopen-07: both connections put data in the SYN; test.yaml: url of 84 chars.
streams tfo7 "$SV/tcp-fastopen-07/tcp_fastopen_segmentation.pcap"
check_has "$(sfile tfo7 0 c2s)" 'GET /index.php HTTP/1.1' "tcp-fastopen-07 first SYN data"
check_has "$(sfile tfo7 1 c2s)" 'GET //a1a2a3a4a5a6a7a8a9a0b1b2b3b4b5b6b7b8b9b0c1c2c3c4c5c6c7c8c9c0d1d2d3d4d5d6d7d8d9d0 HTTP/1.1' \
  "tcp-fastopen-07 request split over SYN and next segment"
check_has "$(sfile tfo7 1 s2c)" 'HTTP/1.1 404 Not Found' "tcp-fastopen-07 response (test.yaml status 404)"

# tcp-async-01: only the server side of an IMAP session (port 143); test.rules
# sid 1 looks for content crossing packet boundaries in the server's stream.
streams async1 "$SV/tcp-async-01/input.pcap"
f=$(grep -laF 'C6 OK ID completed' "$T/async1"/*.c2s "$T/async1"/*.s2c 2>/dev/null | head -1 || true)
check_has "${f:-$T/none}" $'C6 OK ID completed\r\n* 21 EXISTS\r\n* 6 RECENT' "tcp-async-01 one-sided server stream"
check_eq "$(field "$T/async1" 0 dest_port)" 143 "tcp-async-01 server port"

# stream-async-6063-cli: client side only; test.yaml: pkts_toserver 5, toclient 0.
streams acli "$SV/stream-async__http__stream-async-6063-cli-01/http-request-header-async-cli.pcap"
check_has "$(sfile acli 0 c2s)" 'GET /gzni/' "stream-async-6063-cli request delivered"
check_eq "$(field "$T/acli" 0 tcp_conn.c2s.delivered)" 396 "stream-async-6063-cli client delivered (396-byte segment)"
check_eq "$(field "$T/acli" 0 tcp_conn.c2s.pkts)" 5 "stream-async-6063-cli client packets"
check_eq "$(field "$T/acli" 0 tcp_conn.s2c.pkts)" 0 "stream-async-6063-cli server packets"
# stream-async-6063-srv: server side only; test.yaml: pkts_toclient 5, toserver 0.
streams asrv "$SV/stream-async__http__stream-async-6063-srv-01/http-request-header-async-srv.pcap"
check_has "$(sfile asrv 0 s2c)" 'HTTP/1.1 200 OK' "stream-async-6063-srv response delivered"
check_eq "$(field "$T/asrv" 0 tcp_conn.s2c.delivered)" 235 "stream-async-6063-srv server delivered (149 + 86)"
check_eq "$(field "$T/asrv" 0 tcp_conn.s2c.pkts)" 5 "stream-async-6063-srv server packets"
check_eq "$(field "$T/asrv" 0 tcp_conn.c2s.pkts)" 0 "stream-async-6063-srv client packets"

# bug-6733: a single SYN.  test.yaml: tcp.state syn_sent, pkts_toserver 1,
# bytes_toserver 66 (Suricata counts link-layer bytes: a 14-byte Ethernet header
# + 52 IP bytes; mbx's "bytes" are IP bytes).
streams syn1 "$SV/bug-6733-syn-packet-flow-output/input.pcap"
check_eq "$(field "$T/syn1" 0 tcp_conn.c2s.state)" syn_sent "bug-6733 client state"
check_eq "$(field "$T/syn1" 0 tcp_conn.c2s.pkts)" 1 "bug-6733 client packets"
check_eq "$(field "$T/syn1" 0 tcp_conn.c2s.bytes)" 52 "bug-6733 client IP bytes (66 - 14)"
check_eq "$(field "$T/syn1" 0 tcp_conn.s2c.pkts)" 0 "bug-6733 server packets"
check_eq "$(field "$T/syn1" 0 tcp_conn.c2s.tcp_flags)" 02 "bug-6733 client flags (tcp_flags_ts 02)"

# Flow records.  Suricata counts link-layer bytes; these captures are Ethernet
# without VLAN tags, so Suricata's bytes = mbx's IP bytes + 14 per packet.
# base64-issue-5223 test.yaml: pkts_toserver 3, pkts_toclient 2, bytes 262 / 108,
# tcp.state established (no FIN seen).
streams b64 "$SV/base64-issue-5223/input.pcap"
check_eq "$(field "$T/b64" 0 tcp_conn.c2s.pkts)/$(field "$T/b64" 0 tcp_conn.s2c.pkts)" 3/2 "base64-issue-5223 packets"
check_eq "$(( $(field "$T/b64" 0 tcp_conn.c2s.bytes) + 14 * 3 ))/$(( $(field "$T/b64" 0 tcp_conn.s2c.bytes) + 14 * 2 ))" \
  262/108 "base64-issue-5223 bytes (link layer)"
check_eq "$(field "$T/b64" 0 tcp_conn.c2s.state)" established "base64-issue-5223 client state"
# tcp-stream-after-swap: the capture starts with the server's response; with
# midstream pickup Suricata swaps the direction: bytes_toserver 608, toclient 1037.
streams swap "$SV/tcp-stream-after-swap/http-start-from-response.pcap"
check_eq "$(field "$T/swap" 0 dest_port)" 80 "tcp-stream-after-swap server port"
check_eq "$(( $(field "$T/swap" 0 tcp_conn.c2s.bytes) + 14 * $(field "$T/swap" 0 tcp_conn.c2s.pkts) ))/$(( \
  $(field "$T/swap" 0 tcp_conn.s2c.bytes) + 14 * $(field "$T/swap" 0 tcp_conn.s2c.pkts) ))" 608/1037 \
  "tcp-stream-after-swap bytes to server / to client (link layer)"
# bug-130 test.yaml: tcp_flags_ts 1b, tcp_flags_tc 1b (SYN|FIN|PSH|ACK both ways).
streams b130 "$SV/bug-130/input.pcap"
check_eq "$(field "$T/b130" 0 tcp_conn.c2s.tcp_flags)/$(field "$T/b130" 0 tcp_conn.s2c.tcp_flags)" 1b/1b \
  "bug-130 flags each side sent"
check_eq "$(field "$T/b130" 0 tcp_conn.reason)" fin "bug-130 ended by"
# bug-78-http-uri: the client resets (frame 7) while the server's response is
# in flight; 3 more server segments and 3 RST replies follow.  test.yaml: ONE flow,
# pkts_toserver 8, pkts_toclient 5, bytes 607 / 5453 (link layer), tcp_flags_ts 1e,
# tcp_flags_tc 1a, state closed, flow.end 16:44:16.185868 (the last frame).
streams b78 "$SV/bug-78-http-uri/input.pcap"
b78() { field "$T/b78" 0 "tcp_conn.$1"; }
check_eq "$(field "$T/b78" 1 flow_id)" "" "bug-78 one flow (no mid-stream flow after the RST)"
check_eq "$(b78 c2s.pkts)/$(b78 s2c.pkts)" 8/5 "bug-78 packets"
check_eq "$(( $(b78 c2s.bytes) + 14 * 8 ))/$(( $(b78 s2c.bytes) + 14 * 5 ))" 607/5453 \
  "bug-78 bytes (link layer)"
check_eq "$(b78 c2s.tcp_flags)/$(b78 s2c.tcp_flags)" 1e/1a "bug-78 flags each side sent"
check_eq "$(b78 reason)/$(b78 c2s.state)" rst/closed "bug-78 end"
check_eq "$(b78 end)" 2009-10-16T16:44:16.185868+0000 "bug-78 flow end (last frame)"

# stream-depth-reached-event (smb2.pcap) with depth 50: test.yaml expects the
# depth-reached event once per direction.  Each direction delivers 50 bytes; the
# rest is accounted as depth_bytes: delivered + depth_bytes = the payload each
# side sent, as tshark sums tcp.len (no retransmissions in this capture).
# (tcpflow writes 6 bytes more for the client: the Ethernet padding of the last,
# empty ACK - frame 1178, 60 bytes for a 40-byte IP packet - taken as data.)
SMB=$SV/stream-depth-reached-event/smb2.pcap
streams depth "$SMB" --depth 50
for side in c2s s2c; do
  check_eq "$(field "$T/depth" 0 tcp_conn.$side.delivered)" 50 "stream-depth $side delivered"
  check_eq "$(stat -c %s "$(sfile depth 0 $side)")" 50 "stream-depth $side file size"
  port=$([ $side = c2s ] && echo 49208 || echo 445)
  want=$(tshark -r "$SMB" -Y "tcp.srcport==$port" -T fields -e tcp.len 2>/dev/null | awk '{s+=$1} END{print s}')
  check_eq "$(( $(field "$T/depth" 0 tcp_conn.$side.delivered) + $(field "$T/depth" 0 tcp_conn.$side.depth_bytes) ))" \
    "$want" "stream-depth $side delivered + depth_bytes = tshark's payload sum"
done
finish
