#!/bin/bash
# The command lines: mbxc build / emit-c (usage errors exit 2, program errors 1,
# the C compiler rejecting generated code is reported as an internal compiler
# error naming the kept C file), and a compiled binary's flags (issue 4 item 4):
# one clear line and exit 2 for bad flags, values and captures.
. "$(dirname "$0")/lib.sh"
CAP=$CORPORA/scan/portscan-nmap.pcap
need "$CAP"
PS=$MBX_SRC/examples/portscan.mbx
build "$PS" "$TMP/ps"

# expect STATUS PATTERN CMD...: exit status and a stderr line matching PATTERN
expect() {
    local want=$1 pat=$2
    shift 2
    "$@" > "$TMP/out" 2> "$TMP/err"
    local st=$?
    if [ "$st" -eq "$want" ] && grep -qE -- "$pat" "$TMP/err"; then
        pass "exit $st: $*"
    else
        fail "$* exited $st (want $want), stderr: $(head -3 "$TMP/err")"
    fi
}

# ---- the compiled binary
expect 2 "no input"                         "$TMP/ps"
expect 2 "unknown option '--bogus'"         "$TMP/ps" --bogus
expect 2 "-r needs a capture file"          "$TMP/ps" -r
expect 2 "/nonexistent.pcap"                "$TMP/ps" -r /nonexistent.pcap
expect 2 "not a pcap"                       "$TMP/ps" -r "$MBX_SRC/examples/portscan.mbx"
expect 2 "portscan.threshold: 'abc' is not a valid int" "$TMP/ps" -r "$CAP" --set portscan.threshold=abc
expect 2 "portscan.window: '5min' is not a valid duration" "$TMP/ps" -r "$CAP" --set portscan.window=5min
expect 2 "no config 'nokey'; it has: threshold, window" "$TMP/ps" -r "$CAP" --set portscan.nokey=1
expect 2 "no module 'nomod'"                "$TMP/ps" -r "$CAP" --set nomod.x=1
expect 2 "MODULE.KEY=VALUE"                 "$TMP/ps" -r "$CAP" --set threshold
expect 2 "max-flows needs a number"         "$TMP/ps" -r "$CAP" --max-flows 0
expect 2 "one kind of input"                "$TMP/ps" -r "$CAP" -i lo
expect 2 "--policy needs first or last, got 'mid'" "$TMP/ps" -r "$CAP" --policy mid
expect 2 "--policy needs first or last"     "$TMP/ps" -r "$CAP" --policy
expect 2 "--depth needs a size above 0"     "$TMP/ps" -r "$CAP" --depth 0
expect 2 "--depth needs a size above 0.*got '1x'" "$TMP/ps" -r "$CAP" --depth 1x
expect 2 "--stream-memory needs a size"     "$TMP/ps" -r "$CAP" --stream-memory=-1
expect 2 "--timeout needs KIND=DURATION"    "$TMP/ps" -r "$CAP" --timeout est
expect 2 "--timeout needs KIND=DURATION"    "$TMP/ps" -r "$CAP" --timeout est=0
expect 2 "--timeout: no kind 'idle'"        "$TMP/ps" -r "$CAP" --timeout idle=5s
expect 2 "--defrag-memory needs a size"     "$TMP/ps" -r "$CAP" --defrag-memory 99999999999999999999g
expect 2 "/nonexistent/dir/x"               "$TMP/ps" -r "$CAP" -o /nonexistent/dir/x
"$TMP/ps" --help > "$TMP/help" && grep -q "portscan.threshold: int" "$TMP/help" &&
    grep -q "portscan.window: duration" "$TMP/help" && pass "--help lists the configs" || fail "--help"
# a capture cut in the middle of a record: the events of what was read, then exit 2
head -c 50000 "$CAP" > "$TMP/cut.pcap"
expect 2 "truncated"                        "$TMP/ps" -r "$TMP/cut.pcap" --set portscan.threshold=5
grep -q '"signature":"portscan"' "$TMP/out" && pass "events before the cut are written" ||
    fail "no events from the readable part"
# standard input, --stats, --max-flows, the same alerts as from the file
"$TMP/ps" -r "$CAP" > "$TMP/file.json" 2>/dev/null
"$TMP/ps" -r - --max-flows 5000 --stats < "$CAP" > "$TMP/stdin.json" 2> "$TMP/stats"
cmp -s "$TMP/file.json" "$TMP/stdin.json" && pass "-r - reads stdin" || fail "-r - differs"
grep -q "packets read *2405" "$TMP/stats" && pass "--stats: 2405 packets (expected.json)" ||
    fail "--stats: $(head -2 "$TMP/stats")"

# ---- mbxc
expect 2 "needs -o BIN"                     "$MBXC" build "$PS"
expect 2 "unknown option '--nope'"          "$MBXC" build "$PS" -o "$TMP/x" --nope
expect 2 "unknown back end 'qbe'"           "$MBXC" build "$PS" -o "$TMP/x" --backend=qbe
expect 2 "No such file"                     "$MBXC" build /nonexistent.mbx -o "$TMP/x"
printf 'module m { import tcp; on tcp.syn(c) { let x = 1 + "a"; } }\npipeline p { m; }\n' > "$TMP/bad.mbx"
expect 1 "bad.mbx:1:[0-9]+: error"          "$MBXC" build "$TMP/bad.mbx" -o "$TMP/x"
printf 'module m { import tcp; on tcp.syn(c) { log("x"); } }\n' > "$TMP/nopipe.mbx"
expect 1 "no pipeline"                      "$MBXC" build "$TMP/nopipe.mbx" -o "$TMP/x"
# a C compiler that rejects everything: an internal compiler error, the C kept
CC=false expect 1 "internal compiler error: the C compiler rejected generated code; it is kept at /" \
    "$MBXC" build "$PS" -o "$TMP/x"
kept=$(sed -n 's/.*it is kept at \(.*\)$/\1/p' "$TMP/err")
[ -s "$kept" ] && grep -q "mbx_main" "$kept" && pass "the generated C is kept at $kept" ||
    fail "kept C missing"
rm -rf "$(dirname "$kept")"
# an extern module without its C side: a link error of the user's, with a hint
expect 1 "linking .* failed \(the generated C compiled" "$MBXC" build "$MBX_SRC/examples/ext/bulk.mbx" -o "$TMP/x"
grep -q "^hint: extern modules and extern fns are written in C" "$TMP/err" &&
    pass "hint names the missing C side" || fail "no hint for the missing C side"
rm -rf "$(sed -n 's/.*it is kept at \(.*\)\/program.c)$/\1/p' "$TMP/err")"
"$MBXC" emit-c "$PS" > "$TMP/ps.c" && grep -q "int main(int argc, char \*\*argv)" "$TMP/ps.c" &&
    pass "emit-c prints the program" || fail "emit-c"
"$MBXC" emit-llvm "$PS" > "$TMP/ps.ll" && grep -q "^define i32 @main(" "$TMP/ps.ll" &&
    pass "emit-llvm prints the LLVM module" || fail "emit-llvm"
"$MBXC" -I "$TMP" emit-c "$PS" -o "$TMP/ps2.c" && cmp -s "$TMP/ps.c" "$TMP/ps2.c" &&
    pass "options before the command (-I DIR emit-c)" || fail "options before emit-c"
"$MBXC" emit-c --dump-after=lower "$PS" > "$TMP/ir.txt" &&
    grep -q "^sub 0: portscan on tcp.syn -> h_portscan_1" "$TMP/ir.txt" &&
    grep -q "^table portscan.probes: key ip val set of port expire" "$TMP/ir.txt" &&
    pass "--dump-after=lower prints the IR" || fail "--dump-after=lower"
"$MBXC" emit-c --dump-after=link "$PS" > "$TMP/link.txt" && [ -s "$TMP/link.txt" ] &&
    pass "--dump-after=link (front end) works through emit-c" || fail "--dump-after=link"
# an install prefix instead of the build tree (MBX_PREFIX; the layout of runtime/'s
# install rules: include/mbx.h, mbx_events.def, mbx_gen.h, lib/libmbx.a)
mkdir -p "$TMP/inst/include" "$TMP/inst/lib"
cp "$MBX_SRC/runtime/include/mbx.h" "$MBX_SRC/runtime/include/mbx_events.def" \
    "$MBX_SRC/runtime/include/mbx_gen.h" "$TMP/inst/include/"
cp "$MBX_BUILD/runtime/libmbx.a" "$TMP/inst/lib/"
MBX_PREFIX=$TMP/inst "$MBXC" build "$PS" -o "$TMP/ps-inst" 2> "$TMP/err" &&
    "$TMP/ps-inst" -r "$CAP" | grep -q '"signature":"portscan"' &&
    pass "built against an install prefix" || fail "install prefix: $(head -3 "$TMP/err")"
MBX_PREFIX=$TMP/nowhere expect 2 "cannot find libmbx: no .*nowhere/lib/libmbx.a" \
    "$MBXC" build "$PS" -o "$TMP/x"
finish
