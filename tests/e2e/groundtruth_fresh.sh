#!/usr/bin/env bash
# groundtruth_fresh.sh - mbx-streams on a capture made now, with a fresh random seed,
# by ../shared/testbed/gen_http_trace.sh (nginx + keep-alive curl through the
# userspace netem "impair": 2% loss, 5% reorder, 5 ms delay), against its truth:
# the manifest's sha256 of every body (all must match) and tcpflow's per-direction
# byte totals, on both the client capture (after the impairment: holes,
# retransmissions, reordering) and the server capture.  Needs root and network
# namespaces (CI has both); the seed is printed so that a failure can be replayed
# with MBX_SEED=N.
source "$(dirname "$0")/lib/common.sh"
if [ "$(id -u)" -ne 0 ]; then echo "skipped: needs root for network namespaces"; exit 77; fi
SEED=${MBX_SEED:-$(( (RANDOM << 15 | RANDOM) % 1000000 + 1 ))}
echo "seed $SEED (rerun with MBX_SEED=$SEED)"
export TB_BIN=$MBX_BUILD/testbed-bin
OUT=$T/trace
if ! timeout 120 bash "$MBX_SHARED/testbed/gen_http_trace.sh" -n 9 -s 1K,64K,1M -p 3 -l 2 -r 5 -d 5 \
     -S "$SEED" -o "$OUT" -P "gt$((SEED % 10000))" -x > "$T/gen.log" 2>&1; then
  bad "gen_http_trace.sh failed (seed $SEED)"; tail -20 "$T/gen.log"; finish
fi
grep -E 'sha256_mismatches|impair:' "$T/gen.log" | sed 's/^/    /'
nfiles=$(grep -c . "$OUT/manifest.tsv")
for cap in client server; do
  out=$T/$cap
  check_cmd "$cap.pcap: mbx-streams runs" "$STREAMS" -r "$OUT/$cap.pcap" -d "$out"
  check_cmd "$cap.pcap: $nfiles of $nfiles bodies match manifest.tsv" $CHECK bodies "$out" "$OUT/manifest.tsv"
  tcpflow -r "$OUT/$cap.pcap" -o "$T/tf_$cap" >/dev/null 2>&1
  check_cmd "$cap.pcap: per-direction bytes equal tcpflow's" $CHECK tcpflow "$out" "$T/tf_$cap"
  check_cmd "$cap.pcap: file sizes = delivered + gap_bytes" $CHECK sizes "$out"
  check_cmd "$cap.pcap: community_id equals tshark's" $CHECK cid "$out/flows.jsonl" "$OUT/$cap.pcap"
done
finish
