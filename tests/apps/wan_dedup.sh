#!/bin/bash
# examples/wan_dedup.mbx, compiled by mbxc, against an independent computation:
# data/dedup_ref.py applies the same chunking (rolling Gear hash, FNV-1a
# fingerprints; wan_dedup.mbx's header) in Python to the streams `mbx-streams
# -d` writes.  Per connection: payload bytes and chunks; in total: chunks,
# redundant chunks and saved bytes (all independent of processing order) must
# be equal.  The captures have no gaps (mbx-streams writes a gap as zero bytes,
# wan_dedup never sees those bytes, so a lossy capture would differ by design):
#   - netem-http server.pcap: 10 distinct random files (manifest.tsv), so the
#     saving is ~0 (under 1% of the bytes: repeated request headers at most)
#   - data/gen_dedup.py: the same 300000 random bytes downloaded twice, plus
#     300000 other bytes: the saving is about 300000 (the second copy)
#   - the same, with another chunking (--set avg_bits/min_chunk/max_chunk)
. "$MBX_SRC/tests/backend/lib.sh"
ST=$MBX_BUILD/examples/c/mbx-streams
NM=$CORPORA/netem-http/server.pcap
need "$NM"
build "$MBX_SRC/examples/wan_dedup.mbx" "$TMP/wd"
python3 "$MBX_SRC/tests/apps/data/gen_dedup.py" "$TMP/dup.pcap" 300000 || fail "gen_dedup.py"

check() { # check NAME CAPTURE BITS MIN MAX MIN_SAVED MAX_SAVED
    local name=$1 cap=$2 bits=$3 lo=$4 hi=$5 smin=$6 smax=$7
    rm -rf "$TMP/st"
    "$ST" -r "$cap" -d "$TMP/st" || { fail "$name: mbx-streams"; return; }
    python3 "$MBX_SRC/tests/apps/data/dedup_ref.py" "$TMP/st" "$bits" "$lo" "$hi" > "$TMP/want"
    "$TMP/wd" -r "$cap" --set wan_dedup.avg_bits="$bits" --set wan_dedup.min_chunk="$lo" \
        --set wan_dedup.max_chunk="$hi" -o "$TMP/out.json" || { fail "$name: run"; return; }
    python3 - "$TMP/out.json" > "$TMP/got" <<'PY'
import json, sys
recs = [json.loads(l)["mbx"] for l in open(sys.argv[1])]
for r in sorted(recs, key=lambda r: r["client_port"]):
    print("flow", r["client_port"], r["bytes"], r["chunks"])
last = recs[-1]
assert sum(r["saved"] for r in recs) == last["total_saved"], "per-flow savings != total"
print("total", last["total_chunks"], last["total_dup_chunks"], last["total_saved"])
PY
    local saved
    saved=$(awk '$1 == "total" {print $4}' "$TMP/got")
    if [ -s "$TMP/want" ] && cmp -s "$TMP/got" "$TMP/want" && [ "$saved" -ge "$smin" ] &&
        [ "$saved" -le "$smax" ]; then
        pass "$name: $(tail -1 "$TMP/got") = dedup_ref.py's; saved in [$smin, $smax]"
    else
        fail "$name: saved $saved (want [$smin, $smax])"
        diff "$TMP/got" "$TMP/want" >&2
    fi
}
total=$(awk -F'\t' '{s += $2} END {print s}' "$CORPORA/netem-http/manifest.tsv")
check netem-http "$NM" 11 256 16384 0 $((total / 100))
check "twice 300000" "$TMP/dup.pcap" 11 256 16384 $((300000 - 2 * 16384)) 301000
check "twice 300000, avg_bits=13 min 2048 max 65536" "$TMP/dup.pcap" 13 2048 65536 \
    $((300000 - 2 * 65536)) 301000

"$TMP/wd" -r "$NM" --set wan_dedup.avg_bits=x -o /dev/null 2>"$TMP/err"; rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && [ -s "$TMP/err" ] && pass "bad config value: exit $rc" ||
    fail "bad config value: exit $rc"
finish
