#!/usr/bin/env bash
# run.sh - one golden test of the mbxc front end.
#   run.sh MBXC pass FILE.mbx   must check clean: exit 0, nothing printed
#   run.sh MBXC fail FILE.mbx   must print exactly FILE.err (diagnostics on
#                               stderr) and exit 1 (or `// mbxc-exit: N`)
# A first-line comment `// mbxc-args: ...` adds options.  The test runs in the
# file's directory with tests/compile/lib on the search path, so paths in the
# messages are the bare file names.  UPDATE_GOLDEN=1 rewrites FILE.err from
# what mbxc prints: review every rewritten file by hand before committing.
set -u
mbxc=$1 mode=$2 file=$3
dir=$(cd "$(dirname "$file")" && pwd)
name=$(basename "$file")
lib=../lib
args=$(sed -n '1s|^// mbxc-args: *||p' "$file")
want_exit=$(sed -n 's|^// mbxc-exit: *||p' "$file" | head -1)
[ -n "$want_exit" ] || { [ "$mode" = pass ] && want_exit=0 || want_exit=1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# shellcheck disable=SC2086
(cd "$dir" && env -u MBX_PATH "$mbxc" check --stdlib=../../../stdlib -I "$lib" $args "$name") >"$out" 2>&1
rc=$?
status=0
if [ "$mode" = pass ]; then
  if [ $rc -ne 0 ] || [ -s "$out" ]; then
    echo "FAIL: $name should check clean (exit $rc):"
    cat "$out"
    status=1
  fi
else
  golden="$dir/${name%.mbx}.err"
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
    cp "$out" "$golden"
    echo "rewrote $golden"
  fi
  if ! diff -u "$golden" "$out"; then
    echo "FAIL: $name: diagnostics differ from ${name%.mbx}.err (- expected, + actual)"
    status=1
  fi
  if [ $rc -ne "$want_exit" ]; then
    echo "FAIL: $name: exit status $rc, expected $want_exit"
    status=1
  fi
fi
exit $status
