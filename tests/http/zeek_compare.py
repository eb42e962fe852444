#!/usr/bin/env python3
"""zeek_compare.py - mbx-httplog against Zeek's http.log baselines.

usage: zeek_compare.py MBX_HTTPLOG ZEEK_DIR

For every Zeek test (ZEEK_DIR/tests/**/*.zeek) that reads one trace and has
a Baseline/<test>/http.log, run mbx-httplog on the trace and compare, as
multisets, the http.log columns method, host, uri, status_code,
request_body_len and response_body_len (those the baseline has; some tests
cut the log down to a few columns) with mbx's http records (http_method,
hostname, url, status, request_body_len, response_body_len: the body
lengths after Content-Encoding is undone, as Zeek counts them).  Zeek logs
the URI percent-decoded, so mbx's url is percent-decoded before comparing.

KNOWN lists the baselines where mbx differs on purpose, with the reason; they
are run and reported but do not fail the test (and a KNOWN case that starts
to agree is reported, so the list stays true).  Exit 1 on any other
difference.
"""
import collections
import json
import os
import re
import subprocess
import sys
import urllib.parse

KNOWN = {
    # Zeek treats a request line without a version as HTTP/0.9 (reply = raw
    # body, status 0); std.http does not assume HTTP/0.9 (suricata-verify
    # http-not09 requires this: REQUEST_LINE_MISSING_PROTOCOL, headers read).
    'scripts.base.protocols.http.http-09': 'HTTP/0.9 not assumed',
    'scripts.base.protocols.http.no-version': 'HTTP/0.9 not assumed',
    'scripts.base.protocols.http.http-11-request-then-cruft': 'HTTP/0.9 not assumed',
    'scripts.base.protocols.http.http-methods': 'HTTP/0.9 not assumed (malformed methods)',
    'scripts.base.protocols.http.http-09-content-length-confusion': 'HTTP/0.9 not assumed',
    # A line after a complete body that is not a start line ("fin\n" with
    # Content-Length 3) is more body for libhtp (Suricata: http-gap-simple's
    # file size 14 for Content-Length 12 needs it); Zeek drops it.
    'scripts.base.protocols.http.missing-http-entity': 'libhtp-style body finalisation',
    # Zeek's request_body_len for these multipart bodies is the MIME entity
    # total, 2 bytes over Content-Length; mbx counts the bytes framed.
    'scripts.base.protocols.http.http-no-crlf': 'Zeek MIME length accounting',
}

FIELDS = [('method', 'http_method'), ('host', 'hostname'), ('uri', 'url'),
          ('status_code', 'status'), ('request_body_len', 'request_body_len'),
          ('response_body_len', 'response_body_len')]


def mbx_row(h, cols):
    out = []
    for zk, mk in FIELDS:
        if zk not in cols:
            continue
        v = h.get(mk)
        if (v is None or v == '') and mk == 'url' and h.get('http_method'):
            v = '(empty)'  # a request line with an empty target
        elif v is None or v == '':
            v = '-'
        elif mk == 'url':
            v = urllib.parse.unquote(v, errors='surrogateescape')
        out.append(str(v))
    return tuple(out)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    log, zdir = argv[1], argv[2]
    fails = agree = known = 0
    for root, _, files in sorted(os.walk(os.path.join(zdir, 'tests'))):
        for f in sorted(files):
            if not f.endswith('.zeek'):
                continue
            path = os.path.join(root, f)
            name = os.path.relpath(path, os.path.join(zdir, 'tests'))[:-5].replace('/', '.')
            base = os.path.join(zdir, 'Baseline', name, 'http.log')
            if not os.path.exists(base):
                continue
            traces = sorted(set(re.findall(r'zeek\b[^\n]*?-\w*r\s+\$TRACES/(\S+)',
                                           open(path, errors='replace').read())))
            if len(traces) != 1:
                print(f"skip {name}: reads {len(traces)} traces")
                continue
            lines = [l for l in open(base, errors='replace').read().splitlines()
                     if l and not l.startswith('### ')]
            if lines and lines[0].startswith('#separator'):
                cols = [l.split('\t')[1:] for l in lines if l.startswith('#fields')][0]
                rows = [l.split('\t') for l in lines if not l.startswith('#')]
            else:  # btest-diff-cut: a header line of column names, then rows
                cols, rows = lines[0].split('\t'), [l.split('\t') for l in lines[1:]]
            cols = [c for c in cols]
            if 'method' not in cols or 'uri' not in cols:
                print(f"skip {name}: baseline lacks method/uri")
                continue
            want = collections.Counter(
                tuple(dict(zip(cols, r)).get(zk, '-') for zk, _ in FIELDS if zk in cols)
                for r in rows)
            r = subprocess.run([log, '-r', os.path.join(zdir, 'Traces', traces[0])],
                               capture_output=True, text=True, errors='surrogateescape')
            got = collections.Counter(
                mbx_row(json.loads(l)['http'], cols) for l in r.stdout.splitlines()
                if json.loads(l).get('event_type') == 'http')
            same = r.returncode == 0 and got == want
            if name in KNOWN:
                known += 1
                print(f"{'AGREES' if same else 'known'} {name}: {KNOWN[name]}"
                      + (" (now agrees: drop it from KNOWN)" if same else ""))
                continue
            if same:
                agree += 1
                print(f"ok   {name} ({sum(want.values())} transactions)")
            else:
                fails += 1
                print(f"FAIL {name} ({traces[0]}, exit {r.returncode})\n"
                      f"     zeek {sorted(want.items())}\n     mbx  {sorted(got.items())}")
    print(f"zeek baselines: {agree} agree, {fails} differ, {known} known differences")
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
