#!/bin/bash
# Generated C compiles with no warnings under -Wall -Wextra (and -Werror), with
# gcc and with clang when installed: the golden programs, the examples, the
# forms test program; each is also linked into a binary by mbxc build with the
# C compiler of this build.
. "$(dirname "$0")/lib.sh"
INC="-I$MBX_SRC/runtime/include -I$MBX_SRC/stdlib/include"
progs=("$(dirname "$0")"/emit/*.mbx "$MBX_SRC"/examples/*.mbx "$MBX_SRC"/examples/ext/bulk.mbx
       "$(dirname "$0")"/e2e/forms.mbx)
for src in "${progs[@]}"; do
    name=$(basename "$src" .mbx)
    if ! "$MBXC" emit-c "$src" > "$TMP/$name.c" 2> "$TMP/err"; then
        fail "emit-c $src: $(head -3 "$TMP/err")"
        continue
    fi
    for cc in gcc clang; do
        command -v $cc > /dev/null || continue
        if $cc -std=gnu11 -O2 -Wall -Wextra -Werror $INC -c "$TMP/$name.c" -o "$TMP/$name.o" \
            2> "$TMP/cc.err"; then
            pass "$cc -Wall -Wextra: $name"
        else
            fail "$cc warns on $name:"; head -20 "$TMP/cc.err" >&2
        fi
    done
    extra=()
    [ "$name" = bulk ] && extra=("$MBX_SRC/examples/ext/bulk.c")
    "$MBXC" build "$src" "${extra[@]}" -o "$TMP/$name" 2> "$TMP/err" && [ -x "$TMP/$name" ] &&
        pass "mbxc build $name" || fail "mbxc build $name: $(head -5 "$TMP/err")"
done
# the front end's accepted programs (tests/compile/pass) that have a pipeline: each
# lowers and emits C that compiles without warnings
for src in "$MBX_SRC"/tests/compile/pass/*.mbx; do
    grep -q "^pipeline" "$src" || continue
    name=pass_$(basename "$src" .mbx)
    if ! "$MBXC" emit-c -I "$MBX_SRC/tests/compile/lib" "$src" > "$TMP/$name.c" 2> "$TMP/err"; then
        fail "emit-c $src: $(head -3 "$TMP/err")"
        continue
    fi
    for cc in gcc clang; do
        command -v $cc > /dev/null || continue
        $cc -std=gnu11 -O2 -Wall -Wextra -Werror $INC -c "$TMP/$name.c" -o "$TMP/$name.o" \
            2> "$TMP/cc.err" && pass "$cc -Wall -Wextra: $name" ||
            { fail "$cc warns on $name:"; head -20 "$TMP/cc.err" >&2; }
    done
done
finish
