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

# conn.log of Zeek's tests (Baseline/<test>/conn.log) against flows.jsonl, per
# connection: orig_bytes / resp_bytes (Zeek's sequence-range sizes = mbx's
# delivered + gap_bytes), missed_bytes (= mbx's gap bytes), orig/resp packets
# and IP bytes.  Includes flipped roles without a SYN (^h in history: mbx makes
# the same side the client), a CONNECT tunnel, Ethernet padding, a pcapng file.
zconn() { # TEST TRACE [LOOSE]
  local n; n=z_$(basename "$2" | tr -c 'A-Za-z0-9\n' _)
  streams "$n" "$Z/Traces/$2"
  check_cmd "$1 conn.log ($2)" $CHECK zeekconn "$T/$n/flows.jsonl" "$Z/Baseline/$1/conn.log" ${3:-}
}
zconn scripts.base.protocols.http.concurrent-range-requests http/concurrent-range-requests.pcap
zconn scripts.base.protocols.http.http-connect http/connect-with-smtp.pcap
zconn scripts.base.protocols.http.http-connect-with-header http/connect-with-header.pcap
zconn scripts.base.protocols.http.http-no-crlf http/no_crlf.pcap
zconn scripts.base.protocols.ssh.http-port-22 http/http-single-conn-22.pcap
zconn core.tcp.reassembly-known-ports http/get.pcap
zconn core.tcp.missing-syn tcp/missing-syn.pcap
zconn core.tcp.flip-without-syn tcp/http-on-irc-port-missing-syn.pcapng
zconn core.local-flip http/zeek-image-post-1080-8000-x.pcap
zconn core.tcp-padding tcp-http-with-padding.pcap
zconn core.tcp.miss-end-data tcp/miss_end_data.pcap
# large-file-reassembly (ftp/bigtransfer.pcap): a 5.4 GB FTP transfer of which
# 23,822 bytes were captured, across a sequence-number wrap.  Bytes and packets
# agree with Zeek; when this was written mbx's gap was 5,582 bytes larger than
# Zeek's missed_bytes (--stats: 4 out-of-order segments dropped): the
# last 4 captured segments (2,896 + 752 + 752 + 1,182 bytes) arrive 42 MB and
# more ahead of the delivered end before the ACK that passes the hole, beyond
# what the out-of-order queue holds, so mbx drops and counts them (tcp.gap,
# reason ooo_full) where Zeek, which keeps no bytes, skips ahead.  Checked here:
# no byte goes uncounted (gap >= Zeek's missed), everything else exact.
zconn core.tcp.large-file-reassembly ftp/bigtransfer.pcap LOOSE
finish
