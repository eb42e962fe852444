#!/bin/bash
# The engine options of a compiled binary (mbx_main): --policy, --depth,
# --stream-memory, --timeout KIND=DURATION, --no-defrag, --defrag-memory; each
# changes what the program sees, checked on captures with known contents.
. "$(dirname "$0")/lib.sh"
OVL=$CORPORA/suricata-verify/eve-payload-01-tcp-exact-overlap/tcp-overlap.pcap
FRAG=$CORPORA/pcapplusplus/frag_http_req.pcap
HTTP=$CORPORA/netem-http/client.pcap
need "$OVL" "$FRAG" "$HTTP"
build "$(dirname "$0")/e2e/overlap.mbx" "$TMP/ov"
build "$MBX_SRC/examples/http_log.mbx" "$TMP/hl"

# stat PROG ARGS...: the --stats lines as TEXT=NUMBER (a decode reason's "(NAME)" left out)
stat() {
    "$@" --stats 2>&1 > /dev/null |
        sed -n 's/^ *\(.*[^ ]\) \{2,\}\([0-9][0-9]*\)\( *(.*)\)\{0,1\}$/\1=\2/p'
}
val() { awk -v k="$1" 'index($0, k) == 1 { sub(/.*=/, ""); print; exit }'; } # val TEXT-PREFIX

# --policy: the client sends GOOD, then EVIL over the same bytes
sig() { "$TMP/ov" -r "$OVL" "$@" | grep -o '"signature":"[a-z]*"' | tr '\n' ' '; }
[ "$(sig)" = '"signature":"good" ' ] && pass "default policy: first bytes win" || fail "default: $(sig)"
[ "$(sig --policy first)" = '"signature":"good" ' ] && pass "--policy first" || fail "first: $(sig --policy first)"
[ "$(sig --policy last)" = '"signature":"evil" ' ] && pass "--policy last" || fail "last: $(sig --policy last)"
[ "$(sig --policy=last)" = '"signature":"evil" ' ] && pass "--policy=last" || fail "--policy=last"

# --no-defrag: the only HTTP request of frag_http_req.pcap is in 11 IPv4 fragments
n=$("$TMP/hl" -r "$FRAG" | grep -c '"event_type":"http"')
[ "$n" = 1 ] && pass "fragments reassembled: 1 http record" || fail "with defrag: $n http records"
n=$("$TMP/hl" -r "$FRAG" --no-defrag | grep -c '"event_type":"http"')
[ "$n" = 0 ] && pass "--no-defrag: no http record" || fail "--no-defrag: $n http records"
s=$(stat "$TMP/hl" -r "$FRAG" --no-defrag)
[ "$(echo "$s" | val 'IP fragment (not reassembled)')" = 11 ] && [ "$(echo "$s" | val 'IP fragments (into')" = 0 ] &&
    pass "--no-defrag: 11 fragments counted as decode errors" || fail "--no-defrag stats: $(echo "$s" | tr '\n' ' ')"
s=$(stat "$TMP/hl" -r "$FRAG" --defrag-memory 64k)
[ "$(echo "$s" | val 'IP datagrams reassembled')" = 1 ] && pass "--defrag-memory 64k: reassembled" ||
    fail "--defrag-memory: $(echo "$s" | tr '\n' ' ')"

# --depth and --stream-memory: bytes a reader does not get, counted
d0=$(stat "$TMP/hl" -r "$HTTP" | val 'bytes not delivered')
d1=$(stat "$TMP/hl" -r "$HTTP" --depth 1k | val 'bytes not delivered')
d2=$(stat "$TMP/hl" -r "$HTTP" --stream-memory 4k | val 'bytes not delivered')
[ "$d0" = 0 ] && pass "no limit: every byte delivered" || fail "no limit: $d0 bytes not delivered"
[ "${d1:-0}" -gt 2000000 ] && pass "--depth 1k: $d1 bytes past the depth" || fail "--depth 1k: '$d1'"
[ "${d2:-0}" -gt 0 ] && [ "$d2" -lt "$d1" ] && pass "--stream-memory 4k: $d2 bytes over the bound" ||
    fail "--stream-memory 4k: '$d2'"
n=$("$TMP/hl" -r "$HTTP" --depth 1k | grep -c '"state":"TRUNCATED"')
[ "$n" -gt 0 ] && pass "--depth 1k: $n files truncated" || fail "--depth 1k: no truncated file"

# --timeout: every established connection idle for more than 1 ms ends by timeout
t0=$(stat "$TMP/ov" -r "$HTTP" | val 'flows ended by idle timeout')
t1=$(stat "$TMP/ov" -r "$HTTP" --timeout est=1ms | val 'flows ended by idle timeout')
[ "$t0" = 0 ] && [ "${t1:-0}" -gt 0 ] && pass "--timeout est=1ms: $t1 timeouts (default: 0)" ||
    fail "--timeout: default $t0, est=1ms '$t1'"
for k in syn est closing udp linger frag; do
    "$TMP/ov" -r "$OVL" --timeout "$k=2s" > /dev/null 2>&1 && pass "--timeout $k=2s accepted" ||
        fail "--timeout $k=2s"
done
finish
