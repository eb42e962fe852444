#!/usr/bin/env bash
# zeek_baselines.sh - mbx-httplog on Zeek's HTTP traces against their http.log
# baselines (method, host, uri, status, body lengths); see zeek_compare.py for
# the comparison and the list of intended differences.
set -u
B=${MBX_BUILD:?}; SH=${MBX_SHARED:?}; SRC=${MBX_SRC:?}
LOG=$B/examples/c/mbx-httplog
[ -x "$LOG" ] || { echo "FAIL: $LOG not built"; exit 1; }
[ -d "$SH/corpora/zeek/Baseline" ] || { echo "FAIL: $SH/corpora/zeek missing"; exit 1; }
exec python3 "$SRC/tests/http/zeek_compare.py" "$LOG" "$SH/corpora/zeek"
