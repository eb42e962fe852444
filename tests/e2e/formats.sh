#!/usr/bin/env bash
# formats.sh - the same packets as classic pcap (microseconds), nanosecond pcap,
# pcapng (editcap converts them) and through standard input give the same
# flows.jsonl and the same stream files (issue 2, point 1: pcap and pcapng files).
source "$(dirname "$0")/lib/common.sh"
for cap in "$CORPORA/netem-http/client.pcap" "$CORPORA/zeek/Traces/tcp/qi_internet_SYNACK_curl_jsonip.pcap"; do
  name=$(basename "$cap" .pcap)
  editcap -F pcapng "$cap" "$T/$name.pcapng"
  editcap -F nsecpcap "$cap" "$T/$name.ns.pcap"
  "$STREAMS" -r "$cap" -d "$T/$name.ref" || bad "$name: reference run failed"
  for variant in pcapng ns.pcap stdin; do
    out=$T/$name.$variant.out
    if [ $variant = stdin ]; then "$STREAMS" -r - -d "$out" < "$cap" || bad "$name $variant: exit $?"
    else "$STREAMS" -r "$T/$name.$variant" -d "$out" || bad "$name $variant: exit $?"; fi
    if diff -r -q "$T/$name.ref" "$out" > "$T/d"; then
      ok "$name as $variant: flows.jsonl and $(ls "$out" | wc -l) files identical"
    else
      bad "$name as $variant: output differs"; head -3 "$T/d"
    fi
  done
done
finish
