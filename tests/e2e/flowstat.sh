#!/usr/bin/env bash
# flowstat.sh - mbx-flowstat's table against independent counts.
source "$(dirname "$0")/lib/common.sh"
D=$CORPORA/netem-http
"$FLOWSTAT" -r "$D/client.pcap" > "$T/fs.txt" 2> "$T/fs.err" || bad "mbx-flowstat failed: $(head -1 "$T/fs.err")"
cat "$T/fs.txt"
# transfers.tsv: 3 download connections + gen_http_trace.sh's readiness probe.
check_eq "$(grep -cE '^ +[0-9]+ ' "$T/fs.txt")" 4 "netem client.pcap: connection rows"
check_eq "$(grep -cE ' fin$' "$T/fs.txt")" 4 "netem client.pcap: rows ended by fin"
# Packets per side against tshark's own count of the capture's packets by source.
want_c=$(tshark -r "$D/client.pcap" -Y 'ip.src==10.201.0.1 && tcp' 2>/dev/null | wc -l)
want_s=$(tshark -r "$D/client.pcap" -Y 'ip.src==10.201.0.2 && tcp' 2>/dev/null | wc -l)
tot=$(grep '^total:' "$T/fs.txt")
check_eq "$(echo "$tot" | sed -E 's/.*client ([0-9]+) pkts.*/\1/')" "$want_c" "client packets (tshark count)"
check_eq "$(echo "$tot" | sed -E 's/.*server ([0-9]+) pkts.*/\1/')" "$want_s" "server packets (tshark count)"
# IP bytes per side against tshark's sum of ip.len by source.
want_cb=$(tshark -r "$D/client.pcap" -Y 'ip.src==10.201.0.1 && tcp' -T fields -e ip.len 2>/dev/null | awk '{s+=$1} END{print s}')
check_eq "$(echo "$tot" | sed -E 's/.*client [0-9]+ pkts ([0-9]+) bytes.*/\1/')" "$want_cb" "client IP bytes (tshark sum of ip.len)"
# bug-6733 (suricata-verify test.yaml): a single SYN: the client's state is syn_sent.
"$FLOWSTAT" -r "$CORPORA/suricata-verify/bug-6733-syn-packet-flow-output/input.pcap" > "$T/syn.txt"
row=$(grep -E '^ +[0-9]+ ' "$T/syn.txt")
check_eq "$(echo "$row" | awk '{print $4, $6}')" "syn_sent 1" "bug-6733: client state and packets"
finish
