#!/usr/bin/env bash
# peers_zeek.sh - mbx-streams on Zeek's TCP traces (../shared/corpora/zeek), values from Baseline/.
source "$(dirname "$0")/lib/common.sh"
Z=$CORPORA/zeek

# quantum-insert (tests/core/tcp/quantum-insert.zeek, Baseline/core.tcp.quantum-insert/.stdout):
# one rexmit_inconsistency on 178.200.100.200:39976 -> 96.126.98.124:80, t1 (seen
# first, kept under first-wins) "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nBANG!",
# t2 the real response starting "HTTP/1.1 200 OK\r\nServer: nginx/1.4.4".
streams qi "$Z/Traces/tcp/qi_internet_SYNACK_curl_jsonip.pcap"
check_eq "$($CHECK count "$T/qi/flows.jsonl")" 1 "quantum-insert connections"
check_eq "$(field "$T/qi" 0 src_ip):$(field "$T/qi" 0 src_port)" 178.200.100.200:39976 "quantum-insert client"
check_eq "$(field "$T/qi" 0 tcp_conn.s2c.inconsistent)" 1 "quantum-insert server-side inconsistent retransmissions"
check_eq "$(field "$T/qi" 0 tcp_conn.c2s.inconsistent)" 0 "quantum-insert client-side inconsistent retransmissions"
check_has "$(sfile qi 0 s2c)" $'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nBANG!' "quantum-insert first-wins keeps t1"
streams qil "$Z/Traces/tcp/qi_internet_SYNACK_curl_jsonip.pcap" --policy last
check_has "$(sfile qil 0 s2c)" $'HTTP/1.1 200 OK\r\nServer: nginx/1.4.4' "quantum-insert last-wins keeps t2"
check_eq "$(field "$T/qil" 0 tcp_conn.s2c.inconsistent)" 1 "quantum-insert (last-wins) server-side inconsistent"

# miss-end-data (tests/core/tcp/miss-end-data.zeek; Baseline/core.tcp.miss-end-data):
# out: content_gap ... is_orig F, seq 1, length 2902 (the server's first 2,902
# bytes); conn.log: orig_bytes 538, missed_bytes 2902, orig_pkts 5,
# orig_ip_bytes 750, resp_pkts 4, resp_ip_bytes 172.
streams med "$Z/Traces/tcp/miss_end_data.pcap"
check_eq "$(field "$T/med" 0 tcp_conn.s2c.gap_bytes)" 2902 "miss_end_data server gap bytes (missed_bytes)"
check_eq "$(field "$T/med" 0 tcp_conn.c2s.gap_bytes)" 0 "miss_end_data client gap bytes"
check_eq "$(field "$T/med" 0 tcp_conn.c2s.delivered)" 538 "miss_end_data client delivered (orig_bytes)"
check_eq "$(field "$T/med" 0 tcp_conn.c2s.pkts)" 5 "miss_end_data orig_pkts"
check_eq "$(field "$T/med" 0 tcp_conn.c2s.bytes)" 750 "miss_end_data orig_ip_bytes"
check_eq "$(field "$T/med" 0 tcp_conn.s2c.pkts)" 4 "miss_end_data resp_pkts"
check_eq "$(field "$T/med" 0 tcp_conn.s2c.bytes)" 172 "miss_end_data resp_ip_bytes"
check_eq "$(stat -c %s "$(sfile med 0 s2c)" 2>/dev/null)" 2902 "miss_end_data server file: 2902 zero bytes"
check_eq "$(tr -d '\0' < "$(sfile med 0 s2c)" | wc -c)" 0 "miss_end_data server file holds only zeros"
finish
