# lib.sh - shared by the tests/llvm scripts: paths, a scratch directory, and
# helpers to build a .mbx program with either back end of mbxc.
set -u
: "${MBX_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${MBX_BUILD:=$MBX_SRC/build}"
: "${MBX_SHARED:=$MBX_SRC/../shared}"
: "${MBXC:=$MBX_BUILD/compiler/mbxc}"
MBXC=$(realpath "$MBXC")
CORPORA=$MBX_SHARED/corpora
TMP=$(mktemp -d /tmp/mbx-llvm-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
FAILS=0

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
finish() { [ "$FAILS" -eq 0 ] || { echo "$FAILS check(s) failed" >&2; exit 1; }; exit 0; }

# build BACKEND SRC.mbx OUT [extra C inputs...]: 0, or 1 with the message shown
build() {
    local be=$1 src=$2 out=$3
    shift 3
    if ! "$MBXC" build --backend="$be" "$src" "$@" -o "$out" 2> "$TMP/build.err"; then
        sed 's/^/    /' "$TMP/build.err" >&2
        return 1
    fi
}

need() { # need FILE...: skip (77) when a corpus file is missing
    for f in "$@"; do
        [ -e "$f" ] || { echo "skip: $f missing" >&2; exit 77; }
    done
}
