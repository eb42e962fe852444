#!/bin/bash
# Golden tests of the emitted C: emit/NAME.mbx must give exactly emit/NAME.c.
# A failure shows the diff; UPDATE_GOLDEN=1 rewrites the .c files (review the
# diff before committing: each golden was read line by line when it was made,
# and cc.sh compiles and warns on the same programs).
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/emit" || exit 1
for src in *.mbx; do
    name=${src%.mbx}
    if ! "$MBXC" emit-c "$src" > "$TMP/$name.c" 2> "$TMP/$name.err"; then
        fail "$src: mbxc emit-c failed: $(head -3 "$TMP/$name.err")"
        continue
    fi
    if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
        cp "$TMP/$name.c" "$name.c"
        pass "$name.c rewritten"
    elif diff -u "$name.c" "$TMP/$name.c" > "$TMP/$name.diff"; then
        pass "$src"
    else
        fail "$src: emitted C differs from $name.c"
        head -60 "$TMP/$name.diff" >&2
    fi
done
finish
