#!/usr/bin/env bash
# defrag.sh - IP fragment reassembly end to end: mbx-streams on captures of
# fragmented datagrams, against what peers expect and what was crafted.
#
#  1. PcapPlusPlus's frag_http_req.pcap (Tests/Pcap++Test IPReassemblyTests): 11
#     IPv4 fragments of one HTTP request; frag_http_req_reassembled.txt is the
#     rebuilt frame in hex, so the client's stream must be its TCP payload (the
#     frame byte for byte is checked by unit.defrag).  With --no-defrag the
#     fragments are decode errors (FRAGMENT) and there is no stream.
#  2. Zeek's Traces/ipv4/fragmented-{1..4}.pcap (tests/core/reassembly.zeek,
#     Baseline/core.reassembly/output: flow_weird lines).  What maps onto our
#     counters: fragment_inconsistency -> frag_inconsistent (overlaps with other
#     bytes), fragment_size_inconsistency -> frag_size_mismatch (past the end
#     the last fragment gave), fragment_overlap -> frag_overlaps.  Zeek's
#     excessively_small_fragment has no equal: an 18-byte non-last fragment is
#     dropped here as bad (not a multiple of 8, as RFC 791 requires), so the
#     duplicate of fragmented-2 is dropped before it can overlap.  fragmented-4
#     is the IIS "msadc" traversal hidden by an overlapping fragment: first-wins
#     gives the real URL, last-wins the decoy.
#  3. Crafted with scapy (tests/data/gen_defrag.py, expected streams beside the
#     captures): an IPv6 request cut into 3 fragments behind hop-by-hop and
#     destination options headers, last fragment first, the first 8 bytes long
#     (TCP header split); an IPv4 request whose fragments overlap with other
#     bytes: first-wins gives the first bytes, last-wins the last; two segments
#     rebuilt from fragments then the first one again, whole: the stream kept a
#     copy of the first (not a reference into the reused rebuild buffer), so the
#     retransmission is consistent.
source "$(dirname "$0")/lib/common.sh"
P=$CORPORA/pcapplusplus
Z=$CORPORA/zeek/Traces/ipv4
DATA=$MBX_SRC/tests/data

# st NAME COUNTER: a counter of the run's stats.json (decode errors as reason.NAME)
st() {
  python3 - "$T/$1/stats.json" "$2" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
k = sys.argv[2]
print(s["decode_error_reasons"][k[7:]] if k.startswith("reason.") else s[k])
EOF
}
# c2s NAME: the client stream file of connection 0 of run NAME
c2s() { sfile "$1" 0 c2s; }

# 1. PcapPlusPlus
streams pp "$P/frag_http_req.pcap" --stats
python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(open(sys.argv[1]).read().strip())[14 + 20 + 20:])' \
  "$P/frag_http_req_reassembled.txt" > "$T/pp.want"
check_cmd "frag_http_req: client stream = TCP payload of frag_http_req_reassembled.txt" cmp "$(c2s pp)" "$T/pp.want"
check_eq "$(st pp frags) $(st pp frag_reassembled) $(st pp decoded) $(st pp decode_errors)" "11 1 1 0" \
  "frag_http_req: fragments, reassembled, decoded, decode errors"
streams ppno "$P/frag_http_req.pcap" --stats --no-defrag
check_eq "$(st ppno frags) $(st ppno reason.FRAGMENT) $(st ppno decoded)" "0 11 0" \
  "frag_http_req --no-defrag: fragments, FRAGMENT decode errors, decoded"
check_eq "$($CHECK count "$T/ppno/flows.jsonl")" 0 "frag_http_req --no-defrag: connections"

# 2. Zeek
for i in 1 2 3 4; do streams z$i "$Z/fragmented-$i.pcap" --stats; done
# fragmented-1: [0,18) MF, [48,164) last, [0,304) MF: 2 x fragment_inconsistency and
# fragment_size_inconsistency in Zeek; the 18-byte fragment is bad here, the third
# overlaps the second with other bytes and passes its end; the UDP length of the
# rebuilt datagram (from the third) is wrong: BAD_UDP_LEN, no flow.
check_eq "$(st z1 frags) $(st z1 frag_drop_bad) $(st z1 frag_reassembled)" "3 1 1" "fragmented-1: fragments, bad, reassembled"
check_eq "$(st z1 frag_overlaps) $(st z1 frag_inconsistent) $(st z1 frag_size_mismatch)" "1 1 1" \
  "fragmented-1: overlaps, inconsistent (fragment_inconsistency), size mismatch (fragment_size_inconsistency)"
check_eq "$(st z1 reason.BAD_UDP_LEN)" 1 "fragmented-1: the rebuilt datagram's UDP length is bad"
# fragmented-2: [0,18) MF, [48,164) last, [0,18) again: never complete
check_eq "$(st z2 frags) $(st z2 frag_drop_bad) $(st z2 frag_unfinished) $(st z2 frag_reassembled)" "3 2 1 0" \
  "fragmented-2: fragments, bad, unfinished, reassembled"
# fragmented-3: 5 fragments, DF and MF all set (fragment_with_DF x5): no last fragment
check_eq "$(st z3 frags) $(st z3 frag_unfinished) $(st z3 frag_reassembled)" "5 1 0" \
  "fragmented-3: fragments, unfinished, reassembled"
check_eq "$($CHECK count "$T/z3/flows.jsonl")" 0 "fragmented-3: connections"
# fragmented-4: a SYN, 4 tiny overlapping fragments of a 89-byte TCP segment
# (fragment_inconsistency x1), a FIN
check_eq "$(st z4 frags) $(st z4 frag_reassembled) $(st z4 frag_overlaps) $(st z4 frag_inconsistent)" "4 1 1 1" \
  "fragmented-4: fragments, reassembled, overlaps, inconsistent (fragment_inconsistency)"
check_eq "$($CHECK count "$T/z4/flows.jsonl")" 2 "fragmented-4: connections"
check_eq "$(field "$T/z4" 1 src_ip):$(field "$T/z4" 1 src_port)-$(field "$T/z4" 1 dest_ip):$(field "$T/z4" 1 dest_port)" \
  128.32.46.142:7790-10.0.0.1:80 "fragmented-4: the fragmented connection"
check_eq "$(field "$T/z4" 1 tcp_conn.c2s.delivered) $(field "$T/z4" 1 tcp_conn.c2s.pkts)" "69 2" \
  "fragmented-4: client bytes delivered, packets (the rebuilt segment and the FIN)"
check_file "$(sfile z4 1 c2s)" 'GET /msadc/..%%2f../..%%2f../..%%2f../winnt/system32/cmd.exe?/c+dir+c:\\\n' \
  "fragmented-4 first-wins"
streams z4l "$Z/fragmented-4.pcap" --policy last
check_has "$(sfile z4l 1 c2s)" 'GET /msadc/..%2f../..%2f../.RKNWUrdooM+WskO2IiALQTI' "fragmented-4 last-wins"

# 3. crafted
for n in defrag_v6 defrag_overlap defrag_rexmit; do
  for pol in first last; do
    streams "$n.$pol" "$DATA/$n.pcap" --stats --policy $pol
    check_cmd "$n --policy $pol: client stream" cmp "$(c2s "$n.$pol")" "$DATA/$n.c2s.$pol"
  done
done
check_eq "$(st defrag_v6.first frags) $(st defrag_v6.first frag_reassembled) $(st defrag_v6.first frag_tiny)" "3 1 1" \
  "defrag_v6: fragments, reassembled, tiny first fragment"
check_eq "$(field "$T/defrag_v6.first" 0 tcp_conn.reason) $(field "$T/defrag_v6.first" 0 tcp_conn.c2s.delivered)" "fin 3000" \
  "defrag_v6: connection end, client bytes"
check_eq "$(st defrag_overlap.first frag_overlaps) $(st defrag_overlap.first frag_inconsistent)" "2 2" \
  "defrag_overlap: overlaps, inconsistent"
# the stream does not see the overlap: it got one segment
check_eq "$(field "$T/defrag_overlap.first" 0 tcp_conn.c2s.inconsistent)" 0 "defrag_overlap: no TCP-level inconsistency"
check_eq "$(field "$T/defrag_rexmit.first" 0 tcp_conn.c2s.rexmits) $(field "$T/defrag_rexmit.first" 0 tcp_conn.c2s.inconsistent)" "1 0" \
  "defrag_rexmit: a retransmission of a rebuilt segment, consistent"
finish
