#!/usr/bin/env python3
"""manifest_check.py - mbx-httplog's fileinfo records against a download manifest.

usage: manifest_check.py EVE.json manifest.tsv [transfers.tsv]

manifest.tsv (gen_http_trace.sh): file, size, sha256 of each body served.
Every manifest file must appear as a fileinfo record named "/FILE" with that
size and sha256 and state CLOSED, and as an http record with url "/FILE";
transfers.tsv (client port, file, bytes, status, ...) adds the HTTP status and
the client port of each download.  Exit 0 when all match, 1 otherwise.
"""
import json
import sys


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    recs = [json.loads(line) for line in open(argv[1]) if line.strip()]
    files = {}
    https = {}
    for r in recs:
        if r.get('event_type') == 'fileinfo':
            files.setdefault(r['fileinfo']['filename'], []).append(r['fileinfo'])
        elif r.get('event_type') == 'http':
            https.setdefault(r['http'].get('url'), []).append(r)
    bad = 0
    manifest = [line.split('\t') for line in open(argv[2]).read().splitlines() if line]
    for name, size, sha in (m[:3] for m in manifest):
        got = files.get('/' + name, [])
        ok = [f for f in got if f.get('sha256') == sha and f['size'] == int(size)
              and f['state'] == 'CLOSED']
        if len(ok) != 1:
            print(f"FAIL /{name}: want size {size} sha256 {sha} CLOSED, got {got}")
            bad += 1
        if len(https.get('/' + name, [])) != 1:
            print(f"FAIL /{name}: want 1 http record, got {len(https.get('/' + name, []))}")
            bad += 1
    if len(argv) == 4:
        for port, name, nbytes, status, *_ in (line.split('\t') for line in
                                              open(argv[3]).read().splitlines() if line):
            for r in https.get('/' + name, []):
                if r['http'].get('status') != int(status) or r['src_port'] != int(port) \
                        or r['http'].get('length') != int(nbytes):
                    h = r['http']
                    print(f"FAIL /{name}: want status {status} port {port} length {nbytes}, "
                          f"got {h.get('status')} {r['src_port']} {h.get('length')}")
                    bad += 1
    print(f"{len(manifest)} files checked, {bad} failure(s)")
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
