# lib.sh - shared by the tests/backend scripts: paths, a scratch directory, and
# helpers to build a .mbx program with mbxc and to fail with a message.
set -u
: "${MBX_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${MBX_BUILD:=$MBX_SRC/build}"
: "${MBX_SHARED:=$MBX_SRC/../shared}"
: "${MBXC:=$MBX_BUILD/compiler/mbxc}"
MBXC=$(realpath "$MBXC")
CORPORA=$MBX_SHARED/corpora
TMP=$(mktemp -d /tmp/mbx-backend-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
FAILS=0

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
finish() { [ "$FAILS" -eq 0 ] || { echo "$FAILS check(s) failed" >&2; exit 1; }; exit 0; }

# build SRC.mbx OUT [extra C inputs...]: mbxc build, or fail the whole test
build() {
    local src=$1 out=$2
    shift 2
    if ! "$MBXC" build "$src" "$@" -o "$out" 2>"$TMP/build.err"; then
        cat "$TMP/build.err" >&2
        echo "FAIL: mbxc build $src" >&2
        exit 1
    fi
}

need() { # need FILE...: skip (77) when a corpus file is missing
    for f in "$@"; do
        [ -e "$f" ] || { echo "skip: $f missing" >&2; exit 77; }
    done
}
