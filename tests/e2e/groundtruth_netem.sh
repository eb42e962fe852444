#!/usr/bin/env bash
# groundtruth_netem.sh - mbx-streams on ../shared/corpora/netem-http against its ground truth.
#
# The corpus: 10 HTTP/1.1 downloads over 3 keep-alive connections (plus one probe
# connection) through 2% loss and 5% reorder; client.pcap is captured after the
# impairment, server.pcap before it.  Truth: manifest.tsv holds the sha256 of each
# body (10 files); transfers.tsv the client port of each download.  Checks, on
# both captures:
#  - every body cut from the .s2c files (HTTP/1.1 responses parsed in
#    lib/mbxcheck.py) matches manifest.tsv: 10 of 10;
#  - per-direction byte totals equal tcpflow 1.6's files (`tcpflow -r X -o DIR`)
#    for the same capture.  Both fill a hole with zeros up to the next byte
#    seen, so file sizes are comparable; these captures end with no hole;
#  - every file's size is delivered + gap_bytes of its direction in flows.jsonl;
#  - flows.jsonl has 4 connections (transfers.tsv: ports 38516, 38530, 38546,
#    plus the readiness probe on 38504 that gen_http_trace.sh makes), each
#    community_id equal to tshark's (4.0, --enable-protocol communityid), each
#    ended by fin, no gap in server.pcap (captured before the impairment).
source "$(dirname "$0")/lib/common.sh"
D=$CORPORA/netem-http

for cap in client server; do
  out=$T/$cap
  check_cmd "$cap.pcap: mbx-streams runs" "$STREAMS" -r "$D/$cap.pcap" -d "$out"
  check_cmd "$cap.pcap: 10 of 10 bodies match manifest.tsv" $CHECK bodies "$out" "$D/manifest.tsv"
  tcpflow -r "$D/$cap.pcap" -o "$T/tf_$cap" >/dev/null 2>&1
  check_cmd "$cap.pcap: per-direction bytes equal tcpflow's" $CHECK tcpflow "$out" "$T/tf_$cap"
  check_cmd "$cap.pcap: file sizes = delivered + gap_bytes" $CHECK sizes "$out"
  check_eq "$($CHECK count "$out/flows.jsonl")" 4 "$cap.pcap: connections"
  check_cmd "$cap.pcap: community_id equals tshark's" $CHECK cid "$out/flows.jsonl" "$D/$cap.pcap"
  for i in 0 1 2 3; do
    check_eq "$(field "$out" $i tcp_conn.reason)" fin "$cap.pcap: connection $i ended by"
  done
  # transfers.tsv: client ports in connection order
  check_eq "$(for i in 0 1 2 3; do field "$out" $i src_port; done | tr '\n' ' ')" \
    "38504 38516 38530 38546 " "$cap.pcap: client ports"
done
# Retransmissions in this capture carry the same bytes, so the last-wins policy
# (tcpflow's own) gives the same bodies and totals.
check_cmd "client.pcap --policy last runs" "$STREAMS" -r "$D/client.pcap" -d "$T/last" --policy last
check_cmd "client.pcap --policy last: 10 of 10 bodies" $CHECK bodies "$T/last" "$D/manifest.tsv"
check_cmd "client.pcap --policy last: bytes equal tcpflow's" $CHECK tcpflow "$T/last" "$T/tf_client"
check_eq "$(grep -o '"inconsistent":[1-9]' "$T/client/flows.jsonl" | wc -l)" 0 \
  "client.pcap: no inconsistent retransmission (the same bytes resent)"
# server.pcap was captured before the impairment: nothing is missing in it.
for i in 0 1 2 3; do
  check_eq "$(field "$T/server" $i tcp_conn.s2c.gap_bytes)" 0 "server.pcap: connection $i s2c gap bytes"
done
# transfers.tsv: port 38516 downloaded 1024 + 1048576 + 262144 + 16384 body bytes;
# the stream holds them plus 4 response headers, so it is longer than their sum.
s2c=$(field "$T/client" 1 tcp_conn.s2c.delivered)
if [ "$s2c" -gt $((1024 + 1048576 + 262144 + 16384)) ]; then ok "38516 s2c delivered $s2c > bodies"
else bad "38516 s2c delivered $s2c <= bodies"; fi
finish
