#!/bin/bash
# mbxc emit-llvm on every program of the examples, tests/backend and
# tests/llvm/golden: the text must be read back by LLVM's own tools, llvm-as-19
# (the assembler) and opt-19 -passes=verify (the IR verifier), and compile
# with llc-19 -O2 to an object file.  Tools that are not installed are skipped
# one by one; with none of them the test is skipped.
. "$(dirname "$0")/lib.sh"
AS=$(command -v llvm-as-19 || true)
OPT=$(command -v opt-19 || true)
LLC=$(command -v llc-19 || true)
[ -n "$AS$OPT$LLC" ] || { echo "skip: no llvm-as-19, opt-19 or llc-19" >&2; exit 77; }
n=0
for src in "$MBX_SRC"/examples/*.mbx "$MBX_SRC"/examples/ext/*.mbx "$MBX_SRC"/tests/backend/emit/*.mbx \
    "$MBX_SRC"/tests/backend/e2e/*.mbx "$(dirname "$0")"/golden/*.mbx; do
    name=$(basename "$src" .mbx)
    if ! "$MBXC" emit-llvm "$src" -o "$TMP/$name.ll" 2> "$TMP/$name.err"; then
        fail "$name: mbxc emit-llvm: $(head -3 "$TMP/$name.err")"
        continue
    fi
    if [ -n "$AS" ] && ! "$AS" "$TMP/$name.ll" -o /dev/null 2> "$TMP/as.err"; then
        fail "$name: llvm-as-19: $(head -3 "$TMP/as.err")"
        continue
    fi
    if [ -n "$OPT" ] && ! "$OPT" -passes=verify -disable-output "$TMP/$name.ll" 2> "$TMP/opt.err"; then
        fail "$name: opt-19 -passes=verify: $(head -3 "$TMP/opt.err")"
        continue
    fi
    if [ -n "$LLC" ] && ! "$LLC" -O2 -filetype=obj "$TMP/$name.ll" -o "$TMP/$name.o" 2> "$TMP/llc.err"; then
        fail "$name: llc-19: $(head -3 "$TMP/llc.err")"
        continue
    fi
    n=$((n + 1))
    pass "$name"
done
[ $n -gt 0 ] || fail "no program verified"
finish
