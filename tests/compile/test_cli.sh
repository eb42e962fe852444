#!/usr/bin/env bash
# test_cli.sh - mbxc's command line: exit statuses (0 clean, 1 errors, 2 usage
# or I/O, 3 internal error), --help/--version, --dump-after, MBX_PATH, and the
# prelude check against runtime/include/mbx_events.def (a prelude that
# disagrees is an internal error).
set -u
mbxc=$1 src=$2
stdlib=$src/../../stdlib
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
expect() { # expect STATUS DESCRIPTION -- COMMAND...
  local want=$1 what=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -ne "$want" ]; then
    echo "FAIL: $what: exit $rc, expected $want"; cat "$tmp/out" "$tmp/err"; fails=$((fails + 1))
  fi
}
grep_in() { # grep_in FILE PATTERN DESCRIPTION
  if ! grep -q -- "$2" "$1"; then
    echo "FAIL: $3: '$2' not in output:"; cat "$1"; fails=$((fails + 1))
  fi
}
guard=$src/pass/guard.mbx
expect 0 "clean program" -- "$mbxc" check --stdlib="$stdlib" "$guard"
expect 1 "program with errors" -- "$mbxc" check --stdlib="$stdlib" "$src/fail/type_mismatch_let.mbx"
expect 2 "no command" -- "$mbxc"
grep_in "$tmp/err" "no command given" "no command"
expect 2 "unknown command" -- "$mbxc" frobnicate x.mbx
grep_in "$tmp/err" "unknown command 'frobnicate'" "unknown command"
expect 2 "no file" -- "$mbxc" check
expect 2 "unknown option" -- "$mbxc" check --bogus "$guard"
expect 2 "unknown warning" -- "$mbxc" check -Werror=nonsense "$guard"
expect 2 "unknown pass" -- "$mbxc" check --dump-after=lower "$guard"
expect 2 "bad --max-errors" -- "$mbxc" check --max-errors=0 "$guard"
expect 2 "missing file" -- "$mbxc" check --stdlib="$stdlib" "$tmp/nonexistent.mbx"
grep_in "$tmp/err" "cannot read '$tmp/nonexistent.mbx': No such file or directory" "missing file"
expect 2 "directory as file" -- "$mbxc" check --stdlib="$stdlib" "$tmp"
grep_in "$tmp/err" "Is a directory" "directory as file"
truncate -s 300M "$tmp/huge.mbx"
expect 2 "file too large" -- "$mbxc" check --stdlib="$stdlib" "$tmp/huge.mbx"
grep_in "$tmp/err" "cannot read '$tmp/huge.mbx': larger than 256 MiB" "file too large"
rm -f "$tmp/huge.mbx"
expect 2 "no prelude" -- "$mbxc" check --stdlib="$tmp" "$guard"
grep_in "$tmp/err" "cannot find prelude.mbx" "no prelude"
expect 0 "--help" -- "$mbxc" --help
grep_in "$tmp/out" "usage: mbxc" "--help"
expect 0 "--version" -- "$mbxc" --version
grep_in "$tmp/out" "^mbxc [0-9]" "--version"
# --dump-after: the typed tree shows types, the analysed one the stream readers
expect 0 "dump typecheck" -- "$mbxc" check --stdlib="$stdlib" --dump-after=typecheck "$guard"
grep_in "$tmp/out" "probes\[c.client.ip\].len():int >= threshold@config:int" "dump typecheck"
expect 0 "dump analyse" -- "$mbxc" check --stdlib="$stdlib" --dump-after=analyse "$guard"
grep_in "$tmp/out" "member 3: http_parser (pulled in)" "dump analyse"
grep_in "$tmp/out" "reads streams: client=yes server=yes rexmit=yes" "dump analyse"
# analyse: a filter `side == client` narrows the reader to the client stream
# (LANGUAGE.md §8 "Streams": nobody reads => nothing is buffered)
expect 0 "analyse derived" -- "$mbxc" check --stdlib="$stdlib" --dump-after=analyse "$src/pass/derived_events.mbx"
grep_in "$tmp/out" "on tls_early(c, _) /\* packet=yes reads=1 \*/" "analyse derived"
grep_in "$tmp/out" "on big_gap(_, s, len) /\* packet=yes reads=0 \*/" "analyse derived"
expect 0 "analyse steer" -- "$mbxc" check --stdlib="$stdlib" --dump-after=analyse "$src/pass/steer.mbx"
grep_in "$tmp/out" "reads streams: client=yes server=yes rexmit=no steered=yes" "analyse steer"
for p in parse resolve link; do
  expect 0 "dump $p" -- "$mbxc" check --stdlib="$stdlib" --dump-after=$p "$guard"
  grep_in "$tmp/out" "// after $p" "dump $p"
done
# a unit found through MBX_PATH, then through -I
mkdir -p "$tmp/lib/net"
printf 'flow quic over udp { version: uint; }\n' >"$tmp/lib/net/quic.mbx"
printf 'use net.quic;\nmodule q {\n    import udp;\n    export quic;\n    on udp.data(c, s) { }\n}\n' >"$tmp/q.mbx"
expect 1 "unit not on the path" -- env -u MBX_PATH "$mbxc" check --stdlib="$stdlib" "$tmp/q.mbx"
expect 0 "unit through MBX_PATH" -- env MBX_PATH="$tmp/nowhere:$tmp/lib" "$mbxc" check --stdlib="$stdlib" "$tmp/q.mbx"
expect 0 "unit through -I" -- env -u MBX_PATH "$mbxc" check --stdlib="$stdlib" -I "$tmp/lib" "$tmp/q.mbx"
# two files make one program
printf 'module a {\n    import tcp;\n    on tcp.syn(c) { }\n}\n' >"$tmp/a.mbx"
printf 'pipeline p { a; }\n' >"$tmp/p.mbx"
expect 0 "two files, one program" -- "$mbxc" check --stdlib="$stdlib" "$tmp/a.mbx" "$tmp/p.mbx"
# the prelude must agree with mbx_events.def both ways
mkdir -p "$tmp/std1" "$tmp/std2" "$tmp/std3"
grep -v 'tcp.gap' "$stdlib/prelude.mbx" >"$tmp/std1/prelude.mbx"
expect 3 "prelude lacks an event" -- "$mbxc" check --stdlib="$tmp/std1" "$tmp/a.mbx"
grep_in "$tmp/err" "internal error: the prelude and mbx_events.def disagree: mbx_events.def has an event the prelude lacks: \`tcp.gap\`" "prelude lacks an event"
{ cat "$stdlib/prelude.mbx"; echo 'event tcp.urgent(c: tcp);'; } >"$tmp/std2/prelude.mbx"
expect 3 "prelude has an extra event" -- "$mbxc" check --stdlib="$tmp/std2" "$tmp/a.mbx"
grep_in "$tmp/err" "the prelude declares an event missing from mbx_events.def: \`tcp.urgent\`" "extra event"
sed 's/event udp.data(c: udp, s: side)/event udp.data(c: tcp, s: side)/' "$stdlib/prelude.mbx" >"$tmp/std3/prelude.mbx"
expect 3 "prelude event with another owner" -- "$mbxc" check --stdlib="$tmp/std3" "$tmp/a.mbx"
grep_in "$tmp/err" "owner type differs for \`udp.data\`" "owner differs"
# generated programs too deep for the recursive passes or the parser stack
python3 -c "print('module m {\n    import tcp;\n    on tcp.syn(c) {\n        let x = ' + '+'.join(['1'] * 1500) + ';\n    }\n}')" >"$tmp/deep1.mbx"
expect 1 "deep expression" -- "$mbxc" check --stdlib="$stdlib" "$tmp/deep1.mbx"
grep_in "$tmp/err" "expression nested too deeply (more than 1000 levels)" "deep expression"
python3 -c "print('module m {\n    import tcp;\n    on tcp.syn(c) {\n' + 'if true {' * 5000 + '}' * 5000 + '\n    }\n}')" >"$tmp/deep2.mbx"
expect 1 "deep blocks" -- "$mbxc" check --stdlib="$stdlib" "$tmp/deep2.mbx"
grep_in "$tmp/err" "blocks nested too deeply for the parser" "deep blocks"
mkdir -p "$tmp/std4"
sed 's/^record endpoint/record endpoint_renamed/' "$stdlib/prelude.mbx" >"$tmp/std4/prelude.mbx"
expect 3 "prelude without endpoint" -- "$mbxc" check --stdlib="$tmp/std4" "$tmp/a.mbx"
grep_in "$tmp/err" "no prelude record \`endpoint\`" "prelude without endpoint"
[ $fails -eq 0 ] && echo "cli: all checks passed"
exit $((fails > 0))
