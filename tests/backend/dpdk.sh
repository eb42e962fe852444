#!/bin/bash
# Compiled binaries on DPDK ports (net_pcap vdevs, no hugepages, no PCI):
#   - monitor mode: the same events as -r on the same capture, byte for byte
#     (net_pcap hands over the capture's timestamps: packet time, as offline)
#   - inline mode (--inline 0:1): every packet read is forwarded out of the other
#     port unless dropped: forwarded + dropped = the capture's 2405 packets
#     (portscan-nmap.expected.json), and all 2405 when nothing is dropped.
. "$(dirname "$0")/lib.sh"
SCAN=$CORPORA/scan/portscan-nmap.pcap
QI=$CORPORA/zeek/Traces/tcp/qi_internet_SYNACK_curl_jsonip.pcap
need "$SCAN" "$QI"
command -v capinfos > /dev/null || { echo "skip: no capinfos"; exit 77; }
build "$MBX_SRC/examples/portscan.mbx" "$TMP/ps"
build "$MBX_SRC/examples/rexmit_guard.mbx" "$TMP/rg"
EAL=(--no-huge -m 512 --no-pci --log-level=lib.eal:error)
if ! nm "$MBX_BUILD/runtime/libmbx.a" 2>/dev/null | grep -q " U rte_eal_init"; then
    echo "skip: libmbx was built without DPDK (MBX_WITH_DPDK=OFF)"
    exit 77
fi
n=0
dpdk() { # dpdk BIN VDEV-ARGS... -- APP-ARGS...: one EAL run with its own file prefix
    local bin=$1
    shift
    n=$((n + 1))
    "$bin" --dpdk "${EAL[@]}" --file-prefix=mbxbe$$_$n "$@"
}
for pair in "ps:$SCAN" "rg:$QI"; do
    bin=$TMP/${pair%%:*}; cap=${pair#*:}
    "$bin" -r "$cap" -o "$TMP/file.json" || fail "-r $cap"
    dpdk "$bin" "--vdev=net_pcap0,rx_pcap=$cap" -- --port 0 -o "$TMP/dpdk.json" 2> "$TMP/err" ||
        { fail "dpdk run on $cap: $(tail -2 "$TMP/err")"; continue; }
    [ -s "$TMP/file.json" ] && cmp -s "$TMP/file.json" "$TMP/dpdk.json" &&
        pass "$(basename "$bin") on $(basename "$cap"): DPDK events = -r events" ||
        fail "$(basename "$cap"): DPDK events differ"
done

python3 -c 'import struct,sys; open(sys.argv[1],"wb").write(struct.pack("<IHHiIII",0xa1b2c3d4,2,4,0,0,65535,1))' \
    "$TMP/empty.pcap"
for thr in 20 2000; do
    rm -f "$TMP/out0.pcap" "$TMP/out1.pcap"
    dpdk "$TMP/ps" "--vdev=net_pcap0,rx_pcap=$SCAN,tx_pcap=$TMP/out0.pcap" \
        "--vdev=net_pcap1,rx_pcap=$TMP/empty.pcap,tx_pcap=$TMP/out1.pcap" -- --inline 0:1 \
        --set portscan.threshold=$thr --stats -o /dev/null 2> "$TMP/stats" || fail "inline run"
    fwd=$(capinfos -c -M "$TMP/out1.pcap" | awk -F': *' '/Number of packets/ {print $2}')
    drop=$(awk '/packets dropped by actions/ {print $NF}' "$TMP/stats")
    if [ $((fwd + drop)) -eq 2405 ] && { [ $thr = 20 ] && [ "$drop" -gt 0 ] || [ "$drop" -eq 0 ]; }; then
        pass "inline, threshold $thr: $fwd forwarded + $drop dropped = 2405"
    else
        fail "inline, threshold $thr: $fwd forwarded, $drop dropped"
    fi
done
finish
