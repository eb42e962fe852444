#!/usr/bin/env bash
# manyconns.sh - mbx-streams on 3,000 short connections and a reused 4-tuple.
#
# The capture is written by lib/mbxcheck.py synth, so the truth is known by
# construction: connection k (client 10.1.k/250.k%250+1 port 20000+k, server
# 10.9.0.1:80) carries "request k\n" and "response k\n" and closes with FIN both
# ways; then the 4-tuple of connection 0 is used 3 more times (new ISNs, 100 ms
# apart, each after the previous one closed), carrying "request 3000\n" ... so
# its files are numbered -0 to -3.  Also exercises the tool's 4-tuple table
# growing past its first size and the flow table's --max-flows bound.
source "$(dirname "$0")/lib/common.sh"
N=3000
$CHECK synth "$T/synth.pcap" $N 3
streams many "$T/synth.pcap"
check_eq "$($CHECK count "$T/many/flows.jsonl")" $((N + 3)) "connections in flows.jsonl"
check_eq "$(ls "$T/many" | grep -c '\.c2s$')" $((N + 3)) "client stream files"
check_eq "$(ls "$T/many" | grep -c '\.s2c$')" $((N + 3)) "server stream files"
check_file "$T/many/10.1.0.1.20000-10.9.0.1.80-0.c2s" 'request 0\n' "connection 0 (N=0) client stream"
check_file "$T/many/10.1.11.250.22999-10.9.0.1.80-0.c2s" 'request 2999\n' "connection 2999 client stream"
check_file "$T/many/10.1.11.250.22999-10.9.0.1.80-0.s2c" 'response 2999\n' "connection 2999 server stream"
for r in 1 2 3; do
  check_file "$T/many/10.1.0.1.20000-10.9.0.1.80-$r.c2s" "request $((N + r - 1))\\n" "reuse $r of connection 0's 4-tuple"
done
bad_ends=$(grep -vc '"reason":"fin"' "$T/many/flows.jsonl" || true)
check_eq "$bad_ends" 0 "records not ended by fin"
# The same with a flow table of 100: connections close in 4 ms, so a closed one
# that lingers is evicted to make room; every connection is still written whole.
streams small "$T/synth.pcap" --max-flows 100
check_eq "$($CHECK count "$T/small/flows.jsonl")" $((N + 3)) "--max-flows 100: connections"
check_file "$T/small/10.1.11.250.22999-10.9.0.1.80-0.s2c" 'response 2999\n' "--max-flows 100: connection 2999 server stream"
check_eq "$(cat "$T/small"/*.c2s | wc -c)" "$(cat "$T/many"/*.c2s | wc -c)" "--max-flows 100: client bytes"
finish
