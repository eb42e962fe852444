# common.sh - shared by the end-to-end tests (sourced): paths, a scratch folder, checks.
# ctest sets MBX_BUILD (build dir), MBX_SRC (source dir) and MBX_SHARED (../shared).
set -euo pipefail
MBX_BUILD=${MBX_BUILD:?run through ctest or set MBX_BUILD}
MBX_SRC=${MBX_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
MBX_SHARED=${MBX_SHARED:-$MBX_SRC/../shared}
CORPORA=$MBX_SHARED/corpora
STREAMS=$MBX_BUILD/examples/c/mbx-streams
FLOWSTAT=$MBX_BUILD/examples/c/mbx-flowstat
CHECK="python3 $MBX_SRC/tests/e2e/lib/mbxcheck.py"
T=$(mktemp -d /tmp/mbx-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
FAILS=0
[ -x "$STREAMS" ] || { echo "FAIL: $STREAMS not built"; exit 1; }

ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
# check_eq GOT WANT WHAT
check_eq() { if [ "$1" == "$2" ]; then ok "$3 = $2"; else bad "$3: got '$1', want '$2'"; fi; }
# check_cmd WHAT CMD...: the command succeeds
check_cmd() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
# field DIR N PATH: field of flows.jsonl record N (flow_id order)
# (flattened once per flows.jsonl into DIR.flat; a missing field prints nothing)
field() {
  local flat=$1.flat
  [ "$flat" -nt "$1/flows.jsonl" ] || $CHECK flat "$1/flows.jsonl" > "$flat" 2>/dev/null || : > "$flat"
  awk -F'\t' -v n="$2" -v p="$3" '$1 == n && $2 == p {print $3; exit}' "$flat"
}
finish() {
  if [ "$FAILS" -ne 0 ]; then echo "$FAILS check(s) failed"; exit 1; fi
  echo "all checks passed"
}
# streams NAME CAPTURE [ARGS...]: mbx-streams into $T/NAME (failure counted)
streams() {
  local name=$1 cap=$2; shift 2
  if "$STREAMS" -r "$cap" -d "$T/$name" "$@" 2> "$T/$name.err"; then ok "$name: mbx-streams runs"
  else bad "$name: mbx-streams exit $? ($(head -1 "$T/$name.err"))"; mkdir -p "$T/$name"; fi
}
# sfile NAME N c2s|s2c: the stream file of connection N (flow_id order) of run NAME
sfile() {
  local d=$T/$1
  echo "$d/$(field "$d" "$2" src_ip).$(field "$d" "$2" src_port)-$(field "$d" "$2" dest_ip).$(field "$d" "$2" dest_port)-$(field "$d" "$2" tcp_conn.n).$3"
}
# check_file PATH PRINTF-FORMAT WHAT: the file holds exactly these bytes
check_file() {
  if [ -f "$1" ] && cmp -s "$1" <(printf "$2"); then ok "$3: $(printf '%q' "$(printf "$2" | tr '\0' '.')")"
  else bad "$3: file $(basename "$1") holds $(printf '%q' "$(tr '\0' '.' < "$1" 2>/dev/null | head -c 80)")"; fi
}
# check_has PATH STRING WHAT: the file contains STRING
check_has() {
  if [ -f "$1" ] && grep -qaF -- "$2" "$1"; then ok "$3: has '$2'"; else bad "$3: no '$2' in $(basename "$1")"; fi
}
check_hasnt() {
  if [ -f "$1" ] && ! grep -qaF -- "$2" "$1"; then ok "$3: no '$2'"; else bad "$3: '$2' found (or no file)"; fi
}
