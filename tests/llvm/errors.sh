#!/bin/bash
# The LLVM back end's error paths: a stdlib module whose C binding only the C
# back end has is refused by name (exit 1, no binary, no crash) by both build
# --backend=llvm and emit-llvm; an unknown back end, a missing -o and an
# unwritable output are usage/I-O errors (exit 2); a program with a type error
# stops in the front end (exit 1) before any back end runs.
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

# std.http's http_eve (examples/http_log.mbx): its C binding is the C back end's only
HL=$MBX_SRC/examples/http_log.mbx
if [ -e "$HL" ] && grep -q http_eve "$HL"; then
    expect 1 "the LLVM back end does not support the stdlib extern module http_eve" \
        "$MBXC" build --backend=llvm "$HL" -o "$TMP/hl"
    [ -e "$TMP/hl" ] && fail "a binary was written for an unsupported program"
    expect 1 "does not support the stdlib extern module http_eve" "$MBXC" emit-llvm "$HL"
    [ -s "$TMP/out" ] && fail "emit-llvm printed a partial module"
    # the C back end still builds it
    "$MBXC" build "$HL" -o "$TMP/hl-c" 2> "$TMP/err" && pass "the C back end builds http_log" ||
        fail "the C back end cannot build http_log: $(head -2 "$TMP/err")"
else
    echo "note: examples/http_log.mbx (http_eve) absent: the refusal is not checked" >&2
fi

# the same program is fine with the LLVM back end and runs
expect 0 "" "$MBXC" build --backend=llvm "$TMP/ok.mbx" -o "$TMP/ok"
"$TMP/ok" -r "$CORPORA/netem-http/server.pcap" -o "$TMP/ok.json" 2> "$TMP/err" ||
    fail "the LLVM-built program failed: $(head -2 "$TMP/err")"
[ -s "$TMP/ok.json" ] && pass "the LLVM-built program wrote records" || fail "no records"
finish
