#!/usr/bin/env python3
"""evecheck.py - count EVE records matching field values (suricata-verify's "filter" check).

usage: evecheck.py EVE.json LABEL COUNT KEY=VALUE...

KEY is a dotted path into the record ("http.status", "fileinfo.state"); VALUE
is JSON when it parses as JSON (200, true, false), a string otherwise.  Exit 0
when exactly COUNT records match every KEY=VALUE, 1 otherwise (with the
records of the same event_type shown), 2 on bad usage or unreadable input.
"""
import json
import sys


def get(rec, path):
    cur = rec
    for part in path.split('.'):
        if not isinstance(cur, dict) or part not in cur:
            return KeyError
        cur = cur[part]
    return cur


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, label, count = argv[1], argv[2], int(argv[3])
    want = []
    for kv in argv[4:]:
        k, _, v = kv.partition('=')
        try:
            v = json.loads(v)
        except ValueError:
            pass
        want.append((k, v))
    try:
        recs = [json.loads(line) for line in open(path) if line.strip()]
    except (OSError, ValueError) as e:
        print(f"FAIL {label}: cannot read {path}: {e}")
        return 2
    got = [r for r in recs if all(get(r, k) == v for k, v in want)]
    if len(got) == count:
        print(f"ok   {label}")
        return 0
    print(f"FAIL {label}: expected {count} record(s) with {dict(want)}, found {len(got)}")
    et = dict(want).get('event_type')
    for r in recs:
        if et is None or r.get('event_type') == et:
            print("     " + json.dumps({k: r[k] for k in r if k in (et, 'tx_id', 'event_type')}))
    return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
