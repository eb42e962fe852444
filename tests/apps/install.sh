#!/bin/bash
# The install tree (issue 4 item 3): `cmake --install BUILD --prefix P` puts
# mbxc, libmbx.a, mbx.h, mbx_events.def, the stdlib .mbx units, the stdlib's C
# modules (libmbxstd_http.a, libmbxstd_av.a) and their headers, and libmbx.pc
# under P.  The tree is then MOVED (so the configured prefix and any path
# remembered at install time are wrong) and its mbxc, which must not fall back on
# this build tree, builds and runs examples/web_firewall.mbx and antivirus.mbx;
# pkg-config on the moved libmbx.pc builds a C program (examples/c/mbx-http-av.c)
# that finds EICAR.
. "$MBX_SRC/tests/backend/lib.sh"
EV=$CORPORA/suricata-verify/http-evader/http-evader-000/input.pcap
SRV=$CORPORA/netem-http/server.pcap
need "$EV" "$SRV"
cmake --install "$MBX_BUILD" --prefix "$TMP/p1" > "$TMP/install.log" 2>&1 ||
    { cat "$TMP/install.log" >&2; fail "cmake --install"; finish; }
mv "$TMP/p1" "$TMP/p2"
P=$TMP/p2
for f in bin/mbxc lib/libmbx.a include/mbx.h include/mbx_events.def include/mbx_http.h \
    include/mbx_av.h include/mbx_av_http.h lib/libmbxstd_http.a lib/libmbxstd_av.a \
    lib/pkgconfig/libmbx.pc share/mbx/stdlib/prelude.mbx share/mbx/stdlib/http.mbx \
    share/mbx/stdlib/av.mbx; do
    [ -e "$P/$f" ] || fail "not installed: $f"
done
pass "installed: $(find "$P" -type f | wc -l) files"

# the installed mbxc, run with no access to the source stdlib (a copy of the
# example in TMP) and with the build tree's paths made useless via a moved prefix
cp "$MBX_SRC/examples/web_firewall.mbx" "$MBX_SRC/examples/antivirus.mbx" "$TMP/"
(cd "$TMP" && "$P/bin/mbxc" build web_firewall.mbx -o wf && "$P/bin/mbxc" build antivirus.mbx -o av) \
    2> "$TMP/err" || { cat "$TMP/err" >&2; fail "installed mbxc build"; finish; }
# it compiles and links against the installed headers and libraries, not this build
# tree's (strace -f follows cc and ld): no file opened under the build directory or
# the source tree's runtime/include and stdlib/include
if command -v strace >/dev/null; then
    # (LeakSanitizer cannot run under ptrace: off for this run of a sanitizer build)
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
        strace -f -e trace=openat,execve -o "$TMP/trace" "$P/bin/mbxc" build "$TMP/antivirus.mbx" \
        -o "$TMP/av2" 2>/dev/null || fail "installed mbxc under strace"
    if grep -q "$P/lib/libmbx.a" "$TMP/trace" &&
        ! grep -v ENOENT "$TMP/trace" | grep -q "$MBX_BUILD/\|$MBX_SRC/runtime/include\|$MBX_SRC/stdlib/include"; then
        pass "installed mbxc links $P/lib/libmbx.a, nothing from the build tree"
    else
        fail "installed mbxc used the build tree"
        grep "$MBX_BUILD/\|$MBX_SRC/runtime/include\|$MBX_SRC/stdlib/include" "$TMP/trace" | head -3 >&2
    fi
fi
"$TMP/av" -r "$EV" -o "$TMP/av.json" || fail "installed antivirus run"
grep -q '"signature":"EICAR-Test-File"' "$TMP/av.json" && pass "installed antivirus finds EICAR" ||
    fail "installed antivirus: no EICAR alert"
"$TMP/wf" -r "$SRV" --set web_firewall.uri_prefix=/f0004 -o "$TMP/wf.json" || fail "wf run"
n=$(grep -c '"signature":"web_firewall.uri"' "$TMP/wf.json")
want=$(tshark -r "$SRV" -Y 'http.request.uri matches "^/f0004"' -T fields -e tcp.srcport 2>/dev/null |
    sort -u | wc -l)
[ "$n" -eq "$want" ] && [ "$n" -gt 0 ] && pass "installed web_firewall: $n alert(s) = tshark's" ||
    fail "installed web_firewall: $n alerts, want $want"

# a prefix with libmbx but without the stdlib's C modules (MBX_PREFIX): building a
# program that uses std.av or std.http is refused with a message naming the library
mkdir -p "$TMP/bare/lib" "$TMP/bare/include"
cp "$P/lib/libmbx.a" "$TMP/bare/lib/"
cp "$P/include/mbx.h" "$P/include/mbx_events.def" "$TMP/bare/include/"
MBX_PREFIX=$TMP/bare "$P/bin/mbxc" build "$TMP/antivirus.mbx" -o "$TMP/x" 2> "$TMP/err"; rc=$?
[ "$rc" -eq 2 ] && grep -q "uses std.av but its C module is missing.*bare/lib/libmbxstd_av.a" "$TMP/err" &&
    pass "no libmbxstd_av.a: exit 2, named" || { fail "missing std.av module: exit $rc"; cat "$TMP/err" >&2; }
MBX_PREFIX=$TMP/bare "$P/bin/mbxc" build "$TMP/web_firewall.mbx" -o "$TMP/x" 2> "$TMP/err"; rc=$?
[ "$rc" -eq 2 ] && grep -q "uses std.http but its C module is missing.*bare/lib/libmbxstd_http.a" "$TMP/err" &&
    pass "no libmbxstd_http.a: exit 2, named" || { fail "missing std.http module: exit $rc"; cat "$TMP/err" >&2; }

# pkg-config on the moved tree: a C program against the installed headers and libraries
if command -v pkg-config >/dev/null; then
    # libmbx.a is static, its dependencies shared: the private requirements' own
    # --libs (--static would want static libsystemd for libpcap, absent on Debian)
    export PKG_CONFIG_PATH=$P/lib/pkgconfig
    flags="$(pkg-config --cflags --libs libmbx) $(pkg-config --libs \
        $(pkg-config --print-requires-private libmbx | tr -d ','))" || fail "pkg-config libmbx"
    san=""
    nm "$P/lib/libmbx.a" 2>/dev/null | grep -q __asan && san="-fsanitize=address,undefined"
    # shellcheck disable=SC2086
    ${CC:-cc} -O1 $san "$MBX_SRC/examples/c/mbx-http-av.c" -o "$TMP/cav" \
        -I"$P/include" "$P/lib/libmbxstd_http.a" "$P/lib/libmbxstd_av.a" $flags 2> "$TMP/err" &&
        "$TMP/cav" -r "$EV" | grep -q EICAR-Test-File &&
        pass "pkg-config libmbx (and its private requirements): mbx-http-av built from the install tree finds EICAR" ||
        { head -5 "$TMP/err" >&2; fail "pkg-config build"; }
fi
finish
