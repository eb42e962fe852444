#!/usr/bin/env bash
# peers_pcapplusplus.sh - mbx-streams against PcapPlusPlus's expected reassembly texts
# (../shared/corpora/pcapplusplus, from PcapPlusPlus's Tests/Pcap++Test TcpReassemblyTests).
#
# PcapPlusPlus's test writes, per connection, the data of both sides in the order
# it was delivered, switching side whenever the other side sends, with
# "[N bytes missing]" where bytes are missing.  So each expected text must be an
# interleaving of whole runs of one connection's .c2s and .s2c files (zero bytes
# in our files standing for "[N bytes missing]"); lib/mbxcheck.py interleave
# checks that the text is exactly covered that way, both files used to their end.
# Texts made by that test from packets it drops, reorders or closes by hand at
# run time (missing_data*, out_of_order*, retransmission, *_manual_close,
# fin2_output2) have no capture of their own and are not used.  frag_http_req
# (IPv4 fragments; PcapPlusPlus's IP reassembly test) is checked by
# tests/e2e/defrag.sh: its reassembled frame's TCP payload is the client's stream.
source "$(dirname "$0")/lib/common.sh"
P=$CORPORA/pcapplusplus

# capture : expected text(s) (PcapPlusPlus's test names pair them this way)
pairs=(
  "one_tcp_stream.pcap:one_tcp_stream_output.txt"
  "one_tcp_stream_max_seq.pcap:one_tcp_stream_output.txt"
  "one_http_stream_fin.pcap:one_http_stream_fin_output.txt"
  "one_http_stream_fin2.pcap:one_http_stream_fin2_output.txt"
  "one_http_stream_rst.pcap:one_http_stream_rst_output.txt"
  "one_ipv6_http_stream.pcap:one_ipv6_http_stream.txt"
  "four_ipv6_http_streams.pcap:one_ipv6_http_stream2.txt"
  "four_ipv6_http_streams.pcap:one_ipv6_http_stream3.txt"
  "four_ipv6_http_streams.pcap:one_ipv6_http_stream4.txt"
  "three_http_streams.pcap:three_http_streams_conn_1_output.txt"
  "three_http_streams.pcap:three_http_streams_conn_2_output.txt"
  "three_http_streams.pcap:three_http_streams_conn_3_output.txt"
)
for p in "${pairs[@]}"; do
  cap=${p%%:*}; txt=${p#*:}; n=${cap%.pcap}
  [ -d "$T/$n" ] || streams "$n" "$P/$cap"
  check_cmd "$cap -> $txt" $CHECK interleave "$T/$n" "$P/$txt"
done
# IPv6 file names use ':' as `ip -6` prints the address.
check_cmd "IPv6 stream file named with ':'" ls "$T/one_ipv6_http_stream/2001:618:400::5199:cc70.35997-2001:618:1:8000::5.80-0.c2s"
check_eq "$($CHECK count "$T/four_ipv6_http_streams/flows.jsonl")" 4 "four_ipv6_http_streams connections"
check_eq "$($CHECK count "$T/three_http_streams/flows.jsonl")" 3 "three_http_streams connections"
finish
