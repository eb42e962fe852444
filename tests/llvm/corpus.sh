#!/bin/bash
# Every program the C back end accepts, the LLVM back end must accept too: the
# front end's passing programs (tests/compile/pass, with its lib/) and the
# fuzz seeds (tests/fuzz/corpus/fe_front) that mbxc emit-c turns into C are
# given to mbxc emit-llvm, whose output must pass opt-19 -passes=verify (when
# installed).  The programs emit-c refuses (front-end errors) are not counted.
. "$(dirname "$0")/lib.sh"
OPT=$(command -v opt-19 || true)
LIB=$MBX_SRC/tests/compile/lib
n=0
for src in "$MBX_SRC"/tests/compile/pass/*.mbx "$MBX_SRC"/tests/fuzz/corpus/fe_front/*; do
    [ -f "$src" ] || continue
    timeout 60 "$MBXC" emit-c -I "$LIB" "$src" > /dev/null 2>&1 || continue
    name=$(basename "$src")
    if ! timeout 60 "$MBXC" emit-llvm -I "$LIB" "$src" -o "$TMP/p.ll" 2> "$TMP/err"; then
        fail "$name: emit-c accepts it, emit-llvm does not: $(head -2 "$TMP/err")"
    elif [ -n "$OPT" ] && ! "$OPT" -passes=verify -disable-output "$TMP/p.ll" 2> "$TMP/err"; then
        fail "$name: opt-19 -passes=verify: $(head -2 "$TMP/err")"
    else
        n=$((n + 1))
    fi
done
[ $n -gt 0 ] && pass "$n programs: emit-llvm agrees with emit-c${OPT:+ and verifies}" ||
    fail "no program compiled"
finish
