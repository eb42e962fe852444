#!/usr/bin/env bash
# badinput.sh - mbx-httplog on bad arguments and bad captures: a clear message,
# the documented exit status (2: arguments or capture, 1: output), no crash,
# and for a capture cut mid-record, the records of everything before the cut.
set -u
B=${MBX_BUILD:?}; SH=${MBX_SHARED:?}; SRC=${MBX_SRC:?}
LOG=$B/examples/c/mbx-httplog
CHECK="python3 $SRC/tests/http/evecheck.py"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fails=0
[ -x "$LOG" ] || { echo "FAIL: $LOG not built"; exit 1; }

# expect LABEL STATUS PATTERN CMD...: exit status STATUS, stderr matching PATTERN
# (an empty PATTERN: stderr not checked)
expect() {
    local label=$1 want=$2 pat=$3; shift 3
    "$@" >"$T/out" 2>"$T/err"; local rc=$?
    if [ "$rc" -ne "$want" ] || { [ -n "$pat" ] && ! grep -qE -e "$pat" "$T/err"; }; then
        echo "FAIL $label: exit $rc (want $want), stderr: $(head -2 "$T/err")"
        fails=$((fails + 1))
    else
        echo "ok   $label"
    fi
}

PCAP=$SH/corpora/suricata-verify/http-gap-simple/input.pcap
expect "no arguments" 2 "-r CAPTURE is required" "$LOG"
expect "unknown option" 2 "usage:" "$LOG" -Z
expect "unknown long option" 2 "unrecognized option" "$LOG" --bogus
expect "--help" 0 "" "$LOG" --help
grep -q "^usage: mbx-httplog -r CAPTURE" "$T/out" || { echo "FAIL --help: no usage on stdout"; fails=$((fails + 1)); }
expect "stray argument" 2 "unexpected argument" "$LOG" -r "$PCAP" extra
expect "missing capture" 2 "No such file" "$LOG" -r "$T/nonexistent.pcap"
head -c 4096 /dev/urandom >"$T/junk.pcap"
expect "not a capture" 2 "not a pcap" "$LOG" -r "$T/junk.pcap"
: >"$T/empty.pcap"
expect "empty file" 2 "." "$LOG" -r "$T/empty.pcap"
expect "unwritable output" 1 "nonexistent-dir" "$LOG" -r "$PCAP" -o "$T/nonexistent-dir/x.json"
# Cut inside the /2 response (2000 of 2818 bytes): the /1 transaction, whole
# before the cut, is still logged (suricata-verify http-gap-simple: /1 200).
head -c 2000 "$PCAP" >"$T/cut.pcap"
expect "truncated capture" 2 "truncated" "$LOG" -r "$T/cut.pcap" -o "$T/cut.json"
$CHECK "$T/cut.json" "truncated capture keeps /1" 1 event_type=http http.url=/1 http.status=200 \
    || fails=$((fails + 1))
# Non-HTTP TCP only (nmap scans of 1000 ports): no records, exit 0.
expect "no HTTP at all" 0 "" "$LOG" -r "$SH/corpora/scan/portscan-nmap.pcap" -o "$T/scan.json"
[ -s "$T/scan.json" ] && { echo "FAIL no HTTP at all: records written"; fails=$((fails + 1)); }
echo "badinput: $fails failure(s)"
[ "$fails" -eq 0 ]
