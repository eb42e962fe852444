#!/usr/bin/env bash
# badinput.sh - mbx-streams and mbx-flowstat on bad input and bad flags.
#
# Issue 2 ("Bad input"): a missing, empty, truncated or non-capture file gives one
# clear error line and exit 2; bad flags too (with a usage hint); a truncated
# capture still yields what was read before the cut; garbage packets never crash
# and are counted as decode errors.
source "$(dirname "$0")/lib/common.sh"
GOOD=$CORPORA/netem-http/server.pcap

# expect_err WHAT EXIT-CODE PATTERN CMD...: exit code, and stderr's first line matches
expect_err() {
  local what=$1 code=$2 pat=$3; shift 3
  local rc=0
  "$@" > "$T/out" 2> "$T/err" || rc=$?
  check_eq "$rc" "$code" "$what: exit status"
  if head -1 "$T/err" | grep -qE -- "$pat"; then ok "$what: message '$(head -1 "$T/err")'"
  else bad "$what: message '$(head -1 "$T/err")' does not match /$pat/"; fi
}

# Files.
expect_err "missing file" 2 "^mbx-streams: $T/nope.pcap: No such file or directory$" \
  "$STREAMS" -r "$T/nope.pcap" -d "$T/o1"
check_eq "$(wc -l < "$T/err")" 1 "missing file: one error line"
: > "$T/empty.pcap"
expect_err "empty file" 2 "^mbx-streams: $T/empty.pcap: .*empty" "$STREAMS" -r "$T/empty.pcap" -d "$T/o2"
check_eq "$(wc -l < "$T/err")" 1 "empty file: one error line"
printf 'this is not a capture, just text\n' > "$T/text.pcap"
expect_err "non-capture file" 2 "^mbx-streams: $T/text.pcap: .*not a pcap" "$STREAMS" -r "$T/text.pcap" -d "$T/o3"
head -c 10 "$GOOD" > "$T/hdr.pcap"
expect_err "capture cut in its global header" 2 "^mbx-streams: $T/hdr.pcap: .*truncated" \
  "$STREAMS" -r "$T/hdr.pcap" -d "$T/o4"
expect_err "a folder as capture" 2 "^mbx-streams: $T: " "$STREAMS" -r "$T" -d "$T/o5"

# Truncated captures: records before the cut are processed and written, then
# the error, exit 2.  The cut is in the middle of the capture (record k of n).
for where in record header; do
  $CHECK cut "$GOOD" "$T/cut_$where.pcap" "$where" > "$T/cut.txt"
  k=$(sed -E 's/.*record ([0-9]+) of.*/\1/' "$T/cut.txt")
  expect_err "capture cut mid-$where" 2 "^mbx-streams: $T/cut_$where.pcap: truncated record" \
    "$STREAMS" -r "$T/cut_$where.pcap" -d "$T/cut_$where" --stats
  check_eq "$(grep -c . "$T/cut_$where/flows.jsonl")" 4 "cut mid-$where: flows.jsonl still written (4 connections)"
  got=$(grep -E '^ +packets read ' "$T/err" | awk '{print $NF}')
  check_eq "$got" "$((k - 1))" "cut mid-$where: packets read = whole records before the cut"
  # The bytes written are a prefix of the whole capture's streams.
  "$STREAMS" -r "$GOOD" -d "$T/full" 2>/dev/null
  pre=0
  for f in "$T/cut_$where"/*.s2c; do
    n=$(stat -c %s "$f"); cmp -s -n "$n" "$f" "$T/full/$(basename "$f")" || pre=1
  done
  check_eq "$pre" 0 "cut mid-$where: every stream file is a prefix of the full capture's"
done

# Bad flags: one error line + usage hint, exit 2.
expect_err "unknown option" 2 "^mbx-streams: unknown option '--bogus'$" "$STREAMS" --bogus -r "$GOOD" -d "$T/o6"
grep -q "Try 'mbx-streams --help'" "$T/err" && ok "unknown option: usage hint" || bad "unknown option: no usage hint"
check_eq "$(wc -l < "$T/err")" 2 "unknown option: error line + hint line"
expect_err "unknown short option" 2 "^mbx-streams: unknown option '-x'$" "$STREAMS" -x -r "$GOOD" -d "$T/o6"
expect_err "missing option argument" 2 "^mbx-streams: option '-r' needs an argument$" "$STREAMS" -d "$T/o6" -r
expect_err "bad policy" 2 "^mbx-streams: --policy must be 'first' or 'last', not 'middle'$" \
  "$STREAMS" -r "$GOOD" -d "$T/o6" --policy middle
expect_err "bad max-flows" 2 "^mbx-streams: --max-flows needs a number" "$STREAMS" -r "$GOOD" -d "$T/o6" --max-flows 12x
expect_err "zero max-flows" 2 "^mbx-streams: --max-flows needs a number" "$STREAMS" -r "$GOOD" -d "$T/o6" --max-flows 0
expect_err "bad depth" 2 "^mbx-streams: --depth needs a positive number" "$STREAMS" -r "$GOOD" -d "$T/o6" --depth -5
expect_err "no capture" 2 "^mbx-streams: no capture" "$STREAMS" -d "$T/o6"
expect_err "no output" 2 "^mbx-streams: no output" "$STREAMS" -r "$GOOD"
expect_err "stray argument" 2 "^mbx-streams: unexpected argument 'extra'$" "$STREAMS" -r "$GOOD" -d "$T/o6" extra
expect_err "--dpdk without --" 2 "^mbx-streams: --dpdk needs '--'" "$STREAMS" --dpdk --no-huge
"$STREAMS" --help > "$T/help" && grep -q "zero bytes" "$T/help" && ok "--help states how gaps appear" \
  || bad "--help does not say how gaps appear"
expect_err "flowstat missing file" 2 "^mbx-flowstat: $T/nope.pcap: No such file or directory$" "$FLOWSTAT" -r "$T/nope.pcap"
expect_err "flowstat bad flag" 2 "^mbx-flowstat: unknown option '--nope'$" "$FLOWSTAT" --nope
expect_err "flowstat truncated" 2 "^mbx-flowstat: $T/cut_record.pcap: truncated record" "$FLOWSTAT" -r "$T/cut_record.pcap"

# Garbage: 3000 records of random bytes in valid pcap framing (seeded), half of
# them dressed as Ethernet + IPv4/IPv6/VLAN/PPPoE + TCP/UDP.  Never a crash
# (exit 0), and every packet not decoded is counted under a reason.
for seed in 1 2 3; do
  $CHECK garbage "$T/garbage$seed.pcap" 3000 "$seed"
  rc=0; "$STREAMS" -r "$T/garbage$seed.pcap" -d "$T/g$seed" --stats 2> "$T/gerr" || rc=$?
  check_eq "$rc" 0 "garbage seed $seed: exit status"
  pk=$(awk '/^ +packets read /{print $NF}' "$T/gerr")
  de=$(awk '/^ +packets decoded /{print $NF}' "$T/gerr")
  er=$(awk '/^ +packets not decoded /{print $NF}' "$T/gerr")
  fr=$(awk '/^ +IP fragments /{print $NF}' "$T/gerr")
  ra=$(awk '/^ +IP datagrams reassembled /{print $NF}' "$T/gerr")
  check_eq "$pk" 3000 "garbage seed $seed: packets read"
  # fragments go to reassembly; each datagram rebuilt is decoded (or not) once more
  check_eq "$((de + er + fr - ra))" 3000 "garbage seed $seed: decoded + decode errors + fragments - reassembled"
  reasons=$(awk '/^    /{s += $(NF-1)} END{print s+0}' "$T/gerr")
  check_eq "$reasons" "$er" "garbage seed $seed: errors by reason add up"
  # The EVE stats record says the same (and is valid JSON).
  check_eq "$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["stats"]
print(s["packets"], s["decoded"] + s["decode_errors"] + s["frags"] - s["frag_reassembled"],
      sum(s["decode_error_reasons"].values()))' \
    "$T/g$seed/stats.json")" "3000 3000 $er" "garbage seed $seed: stats.json packets, decoded + errors + fragments - reassembled, reasons"
  rc=0; "$FLOWSTAT" -r "$T/garbage$seed.pcap" > /dev/null 2>&1 || rc=$?
  check_eq "$rc" 0 "garbage seed $seed: mbx-flowstat exit status"
done
finish
