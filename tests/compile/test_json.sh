#!/usr/bin/env bash
# test_json.sh - --json-diagnostics: one JSON array on stderr that python's
# json module parses, with the same facts as the text form (file, line,
# column, range, kind, message, option, notes and hints as children).
set -u
mbxc=$1 src=$2
stdlib=$src/../../stdlib
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src/fail" || exit 1
"$mbxc" check --stdlib=../../../stdlib -I ../lib --json-diagnostics link_ambiguous_members.mbx 2>"$tmp/a.json"
rc=$?
[ $rc -eq 1 ] || { echo "FAIL: exit $rc, expected 1"; exit 1; }
"$mbxc" check --stdlib=../../../stdlib --json-diagnostics -Werror=unused-import warn_unused_import.mbx 2>"$tmp/b.json"
"$mbxc" check --stdlib="$stdlib" --json-diagnostics "$src/pass/guard.mbx" 2>"$tmp/c.json" || { echo "FAIL: clean program"; exit 1; }
python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
a = json.load(open(d + "/a.json"))
# expected facts from link_ambiguous_members.err (the reviewed text form)
assert len(a) == 1, a
e = a[0]
assert e["kind"] == "error" and e["file"] == "link_ambiguous_members.mbx", e
assert (e["line"], e["column"], e["end_line"], e["end_column"]) == (5, 12, 5, 23), e
assert e["message"] == "`web_firewall` imports `http_session`, which 2 members export", e
kinds = [c["kind"] for c in e["children"]]
assert kinds == ["note", "note", "hint"], kinds
assert e["children"][0]["file"] == "../lib/a.mbx" and e["children"][0]["line"] == 6
assert "write `parser_a.http_session -> web_firewall;`" in e["children"][2]["message"]
b = json.load(open(d + "/b.json"))
assert len(b) == 1 and b[0]["option"] == "-Werror=unused-import" and b[0]["kind"] == "error", b
c = json.load(open(d + "/c.json"))
assert c == [], c
print("json: all checks passed")
PY
