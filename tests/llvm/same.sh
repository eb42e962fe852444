#!/bin/bash
# The LLVM back end against the C back end: every program tests/backend builds
# with the C back end (the examples portscan, rexmit_guard, flow_logger, guard,
# ext/bulk with its C side, the forms and direct programs, LANGUAGE.md's guard
# program with std.http, the golden programs of tests/backend/emit) is built
# with both back ends and run on the same captures (with the --set options
# tests/backend uses); the event output must be byte-identical.  The truth is
# the C back end's output, itself checked against tshark, Zeek and the corpus
# manifests by tests/backend; the two share only the IR (lower.c).
. "$(dirname "$0")/lib.sh"
SRV=$CORPORA/netem-http/server.pcap
CLI=$CORPORA/netem-http/client.pcap
NMAP=$CORPORA/scan/portscan-nmap.pcap
QI=$CORPORA/zeek/Traces/tcp/qi_internet_SYNACK_curl_jsonip.pcap
DNS=$CORPORA/zeek/Traces/dns/dns-binds.pcap
GAP=$CORPORA/suricata-verify/eve-payload-05-tcp-data-gap/tcp-simple-gap2.pcap
EV0=$CORPORA/suricata-verify/http-evader/http-evader-000/input.pcap
WIKI=$CORPORA/zeek/Traces/wikipedia.pcap
BRO=$CORPORA/zeek/Traces/http/bro.org.pcap
LANG_MD=$MBX_SHARED/design/LANGUAGE.md
need "$SRV" "$CLI" "$NMAP" "$QI" "$DNS" "$GAP" "$WIKI" "$BRO" "$EV0" "$LANG_MD"
CAPS="$SRV $CLI $NMAP $QI $DNS $GAP $WIKI $BRO $EV0"

# LANGUAGE.md §5-§6's guard program, as tests/backend/guard.sh takes it
python3 - "$LANG_MD" > "$TMP/lang_guard.mbx" <<'PY'
import re, sys
blocks = re.findall(r"```mbx\n(.*?)```", open(sys.argv[1]).read(), re.S)
mods = [b for b in blocks if "module portscan" in b][0]
pipe = [b for b in blocks if "pipeline guard" in b][0]
print(mods + "\n" + pipe)
PY

# same NAME SRC.mbx "EXTRA C INPUTS" "RUN OPTIONS;RUN OPTIONS..." [quiet-ok]
# (quiet-ok: a program that may write no record on these captures)
same() {
    local name=$1 src=$2 extra=$3 sets=$4 quiet=${5:-}
    # shellcheck disable=SC2086
    build c "$src" "$TMP/$name-c" $extra || { fail "$name: mbxc build --backend=c"; return; }
    # shellcheck disable=SC2086
    build llvm "$src" "$TMP/$name-llvm" $extra || { fail "$name: mbxc build --backend=llvm"; return; }
    local n=0 bad=0 ev=0 opts
    IFS=';' read -r -a runs <<< "$sets"
    [ ${#runs[@]} -eq 0 ] && runs=("")
    for cap in $CAPS; do
        for opts in "${runs[@]}"; do
            # shellcheck disable=SC2086
            "$TMP/$name-c" -r "$cap" $opts -o "$TMP/c.json" 2> "$TMP/c.err"
            local rc=$?
            # shellcheck disable=SC2086
            "$TMP/$name-llvm" -r "$cap" $opts -o "$TMP/l.json" 2> "$TMP/l.err"
            local rl=$?
            n=$((n + 1))
            ev=$((ev + $(wc -l < "$TMP/c.json")))
            if [ $rc -ne $rl ]; then
                fail "$name on $(basename "$cap") $opts: exit $rc (C) vs $rl (LLVM)"
                bad=1
            elif ! cmp -s "$TMP/c.json" "$TMP/l.json"; then
                fail "$name on $(basename "$cap") $opts: event output differs"
                diff "$TMP/c.json" "$TMP/l.json" | head -6 >&2
                bad=1
            elif [ $rc -ne 0 ]; then
                fail "$name on $(basename "$cap"): both exit $rc"
                bad=1
            fi
        done
    done
    # a comparison of empty outputs shows nothing: every program here writes records
    [ $bad -eq 0 ] && [ $ev -eq 0 ] && [ -z "$quiet" ] &&
        fail "$name: no event on any capture (nothing compared)"
    [ $bad -eq 0 ] && [ $ev -eq 0 ] && [ -n "$quiet" ] && pass "$name: no record on $n runs (both)"
    [ $bad -eq 0 ] && [ $ev -gt 0 ] && pass "$name: identical output on $n runs ($ev records)"
}

EX=$MBX_SRC/examples
BE=$MBX_SRC/tests/backend
same portscan "$EX/portscan.mbx" "" ";--set portscan.threshold=2 --set portscan.window=1h"
same rexmit_guard "$EX/rexmit_guard.mbx" "" ";--set rexmit_guard.period=100ms"
same flow_logger "$EX/flow_logger.mbx" "" ""
same guard "$EX/guard.mbx" "" ";--set web_firewall.blocked=/f000"
same lang_guard "$TMP/lang_guard.mbx" "" ";--set web_firewall.blocked=/f000"
same bulk "$EX/ext/bulk.mbx" "$EX/ext/bulk.c" ";--set bulk_report.min_mib=0;--set bulk_report.min_mib=1"
same forms "$BE/e2e/forms.mbx" "" ""
# the applications of tests/apps (std.http's http_eve, std.av's av_scanner), when present
[ -e "$EX/http_log.mbx" ] && same http_log "$EX/http_log.mbx" "" ""
[ -e "$EX/web_firewall.mbx" ] && same web_firewall "$EX/web_firewall.mbx" "" \
    ";--set web_firewall.uri_prefix=/f0004"
[ -e "$EX/antivirus.mbx" ] && same antivirus "$EX/antivirus.mbx" "" ""
[ -e "$EX/wan_dedup.mbx" ] && same wan_dedup "$EX/wan_dedup.mbx" "" ""
same direct "$BE/e2e/direct.mbx" "" ""
for src in "$BE"/emit/*.mbx; do
    name=$(basename "$src" .mbx)
    if [ "$name" = alert ]; then # no capture here has a port 443 handshake: port 80
        sed 's/== 443/== 80/' "$src" > "$TMP/alert80.mbx"
        src=$TMP/alert80.mbx
    fi
    sets=""
    [ "$name" = misc ] && sets=";--set dns.period=100ms"
    same "emit_$name" "$src" "" "$sets"
done
# the front end's passing programs (tests/compile/pass) that the C back end builds
# without C inputs; some write nothing on these captures, so only the total counts
for src in "$MBX_SRC"/tests/compile/pass/*.mbx; do
    name=compile_$(basename "$src" .mbx)
    "$MBXC" build -I "$MBX_SRC/tests/compile/lib" "$src" -o "$TMP/probe" > /dev/null 2>&1 || continue
    same "$name" "$src" "-I $MBX_SRC/tests/compile/lib" "" quiet-ok
done
for src in "$(dirname "$0")"/golden/*.mbx; do
    same "golden_$(basename "$src" .mbx)" "$src" "" ""
done
finish
