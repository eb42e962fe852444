#!/usr/bin/env bash
# dpdk.sh - the same capture through DPDK's net_pcap vdev and through libpcap/mmap
# gives the same flows.jsonl and the same stream files (issue 2, "DPDK").  The
# captures are Ethernet ones: net_pcap hands DPDK frames without the capture's
# link type, so the DPDK source takes every frame as Ethernet (a raw-IP capture
# such as pcapplusplus/four_ipv6_http_streams.pcap decodes as "not IP" there).
source "$(dirname "$0")/lib/common.sh"
if ! "$STREAMS" --help | grep -q -- --dpdk; then bad "mbx-streams has no --dpdk"; finish; fi
caps=(
  "$CORPORA/netem-http/client.pcap"
  "$CORPORA/suricata-verify/eve-payload-05-tcp-data-gap/tcp-simple-gap2.pcap"
  "$CORPORA/suricata-verify/bug-814/input.pcap"
  "$CORPORA/pcapplusplus/three_http_streams.pcap"
  "$CORPORA/suricata-verify/tcp-rst-unacked-stream-10/TLPW1-tcp-174.56.47.59-10.3.11.101-tcp-80-49309.pcap"
  "$CORPORA/zeek/Traces/tcp/qi_internet_SYNACK_curl_jsonip.pcap"
)
i=0
for cap in "${caps[@]}"; do
  i=$((i + 1)); name=$(basename "$cap")
  "$STREAMS" -r "$cap" -d "$T/pcap$i" 2> "$T/err" || bad "$name: libpcap run failed: $(head -1 "$T/err")"
  rc=0
  "$STREAMS" --dpdk --no-huge -m 512 --no-pci --file-prefix=mbxt$$_$i --log-level=lib.eal:error \
    "--vdev=net_pcap0,rx_pcap=$cap" -- -d "$T/dpdk$i" > "$T/dpdk_out" 2> "$T/dpdk_err" || rc=$?
  check_eq "$rc" 0 "$name: DPDK run exit status"
  [ "$rc" = 0 ] || sed 's/^/    /' "$T/dpdk_err" | tail -5
  n=$(grep -c . "$T/pcap$i/flows.jsonl" || true)
  [ "$n" -gt 0 ] || bad "$name: no connection found"
  if cmp -s "$T/pcap$i/flows.jsonl" "$T/dpdk$i/flows.jsonl"; then
    ok "$name: flows.jsonl identical ($n connections)"
  else
    bad "$name: flows.jsonl differs"; diff "$T/pcap$i/flows.jsonl" "$T/dpdk$i/flows.jsonl" | head -6
  fi
  if diff -r -q "$T/pcap$i" "$T/dpdk$i" > "$T/d"; then ok "$name: stream files identical"
  else bad "$name: stream files differ"; head -5 "$T/d"; fi
done
finish
