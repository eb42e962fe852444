#!/bin/bash
# The LLVM back end's error paths: an unknown back end, a missing -o and an
# unwritable output are usage/I-O errors (exit 2); a program with a type error
# stops in the front end (exit 1) before any back end runs, and no binary is
# written.  (An IR form cgl.c cannot translate is refused by name with exit 1;
# no program the front end accepts reaches one today, so that path has no test.)
. "$(dirname "$0")/lib.sh"

# expect STATUS PATTERN CMD...: the exit status and a line of stderr matching PATTERN
expect() {
    local want=$1 pat=$2
    shift 2
    "$@" > "$TMP/out" 2> "$TMP/err"
    local rc=$?
    if [ $rc -ne "$want" ]; then
        fail "$* : exit $rc, want $want ($(head -2 "$TMP/err"))"
    elif [ -n "$pat" ] && ! grep -q -- "$pat" "$TMP/err"; then
        fail "$* : stderr lacks '$pat': $(head -2 "$TMP/err")"
    else
        pass "$* : exit $rc, '$pat'"
    fi
}

printf 'module m {\n    import tcp;\n    on tcp.open(c) { log("x", n = c.id + "a"); }\n}\npipeline p { m; }\n' \
    > "$TMP/bad.mbx"
printf 'module m {\n    import tcp;\n    on tcp.open(c) { log("open"); }\n}\npipeline p { m; }\n' \
    > "$TMP/ok.mbx"

expect 2 "unknown back end 'nope' (this mbxc has: c, llvm)" \
    "$MBXC" build --backend=nope "$TMP/ok.mbx" -o "$TMP/x"
expect 2 "needs -o" "$MBXC" build --backend=llvm "$TMP/ok.mbx"
expect 2 "$TMP/no/such/dir/x.ll" "$MBXC" emit-llvm "$TMP/ok.mbx" -o "$TMP/no/such/dir/x.ll"
expect 1 "error" "$MBXC" emit-llvm "$TMP/bad.mbx"
expect 1 "error" "$MBXC" build --backend=llvm "$TMP/bad.mbx" -o "$TMP/bad"
[ -e "$TMP/bad" ] && fail "a binary was written for a program with errors"

# an extern module without its C side: the link fails with the hint, the IR is kept
expect 1 "linking .* failed (the generated LLVM IR compiled" \
    "$MBXC" build --backend=llvm "$MBX_SRC/examples/ext/bulk.mbx" -o "$TMP/bulk"
grep -q "^hint: extern modules and extern fns are written in C" "$TMP/err" &&
    pass "hint names the missing C side" || fail "no hint for the missing C side"
rm -rf "$(sed -n 's/.*it is kept at \(.*\)\/program.ll)$/\1/p' "$TMP/err")"
# --keep-c keeps the LLVM IR of a build
expect 0 "generated LLVM IR kept at" "$MBXC" build --backend=llvm --keep-c "$TMP/ok.mbx" -o "$TMP/ok"
kept=$(sed -n 's/.*kept at \(.*program.ll\)$/\1/p' "$TMP/err")
[ -n "$kept" ] && grep -q "^define i32 @main(" "$kept" && pass "kept $kept" || fail "no IR kept"
[ -n "$kept" ] && rm -rf "$(dirname "$kept")"

# the same program is fine with the LLVM back end and runs
expect 0 "" "$MBXC" build --backend=llvm "$TMP/ok.mbx" -o "$TMP/ok"
"$TMP/ok" -r "$CORPORA/netem-http/server.pcap" -o "$TMP/ok.json" 2> "$TMP/err" ||
    fail "the LLVM-built program failed: $(head -2 "$TMP/err")"
[ -s "$TMP/ok.json" ] && pass "the LLVM-built program wrote records" || fail "no records"
finish
