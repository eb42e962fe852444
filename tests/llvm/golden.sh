#!/bin/bash
# Golden test of the emitted LLVM IR: golden/NAME.mbx must give exactly
# golden/NAME.ll (mbxc emit-llvm, the verified module before optimisation).  A
# failure shows the diff; UPDATE_GOLDEN=1 rewrites the .ll files.  The golden
# was read function by function against cgc.c's C for the same program when it
# was made (review the diff before committing a rewrite); its behaviour is
# checked independently by same.sh, which runs the program built by both back
# ends on the same captures.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/golden" || exit 1
for src in *.mbx; do
    name=${src%.mbx}
    if ! "$MBXC" emit-llvm "$src" > "$TMP/$name.ll" 2> "$TMP/$name.err"; then
        fail "$src: mbxc emit-llvm failed: $(head -3 "$TMP/$name.err")"
        continue
    fi
    if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
        cp "$TMP/$name.ll" "$name.ll"
        pass "$name.ll rewritten"
    elif diff -u "$name.ll" "$TMP/$name.ll" > "$TMP/$name.diff"; then
        pass "$src"
    else
        fail "$src: emitted LLVM IR differs from $name.ll"
        head -60 "$TMP/$name.diff" >&2
    fi
done
finish
