#!/usr/bin/env bash
# test_graph.sh - `mbxc graph` prints the linked pipeline as DOT that
# Graphviz's dot renders; the guard program of LANGUAGE.md §6 must show the
# runtime feeding tcp to portscan, rexmit_guard and the pulled-in http_parser,
# and http_parser feeding http_session to web_firewall (the explicit link).
set -u
mbxc=$1 src=$2
stdlib=$src/../../stdlib
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$mbxc" graph --stdlib="$stdlib" "$src/pass/guard.mbx" >"$tmp/g.dot" || { echo "FAIL: mbxc graph"; exit 1; }
command -v dot >/dev/null || { echo "dot (graphviz) is not installed"; exit 1; }
dot -Tsvg "$tmp/g.dot" >"$tmp/g.svg" || { echo "FAIL: dot rejected:"; cat "$tmp/g.dot"; exit 1; }
grep -q '<svg' "$tmp/g.svg" || { echo "FAIL: no svg"; exit 1; }
fails=0
for edge in 'runtime -> "portscan" \[label="tcp"\]' 'runtime -> "rexmit_guard" \[label="tcp"\]' \
            'runtime -> "http_parser" \[label="tcp"\]' \
            '"http_parser" -> "web_firewall" \[label="http_session", style=bold\]'; do
  grep -q "$edge" "$tmp/g.dot" || { echo "FAIL: edge $edge missing"; fails=1; }
done
[ "$(grep -c -- '->' "$tmp/g.dot")" -eq 4 ] || { echo "FAIL: expected 4 links"; cat "$tmp/g.dot"; fails=1; }
# every node and edge label made it into the picture
for t in portscan web_firewall rexmit_guard http_parser http_session runtime; do
  grep -q ">$t<\|>$t$\|$t" "$tmp/g.svg" || { echo "FAIL: $t not in svg"; fails=1; }
done
# a program with errors prints no graph and exits 1
"$mbxc" graph --stdlib="$stdlib" "$src/fail/link_cycle.mbx" >"$tmp/bad.dot" 2>/dev/null
rc=$?
[ $rc -eq 1 ] && [ ! -s "$tmp/bad.dot" ] || { echo "FAIL: graph of a bad program: exit $rc"; fails=1; }
[ $fails -eq 0 ] && echo "graph: rendered by dot, all links present"
exit $fails
