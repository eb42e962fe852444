#!/usr/bin/env python3
"""mbxcheck.py - helpers for the end-to-end tests of mbx-streams (tests/e2e/*.sh).

Subcommands (each prints what it found; exit status 0 = the check holds):
  bodies DIR MANIFEST      cut every HTTP/1.1 response body out of DIR/*.s2c (status
                           line, headers, Content-Length or chunked, keep-alive
                           sequence) and match each manifest row's sha256 against them
  tcpflow OURDIR TFDIR     per-direction byte totals of mbx-streams' files against the
                           files tcpflow wrote for the same capture
  sizes DIR                check that every stream file's size equals delivered +
                           gap_bytes of its direction in DIR/flows.jsonl
  get JSONL N PATH         print field PATH (a.b.c) of record N (in flow_id order)
  count JSONL              number of records
  zeekconn JSONL CONNLOG [LOOSE]  each conn.log record (Zeek Baseline) against the
                           flows.jsonl record of the same ports: orig/resp bytes (=
                           delivered + gap_bytes), missed_bytes (= gap bytes of both
                           sides; with LOOSE "missed": at least Zeek's), packets and
                           IP bytes per side
  flat JSONL               every leaf as "N<TAB>path<TAB>value" (for lib/common.sh)
  cid JSONL PCAP           community_id of every record equals tshark's for the tuple
  interleave DIR TEXT      TEXT (PcapPlusPlus's expected output: both sides' data in
                           delivery order, "[N bytes missing]" for holes) is an
                           interleaving of runs of one connection's .c2s and .s2c
  holesha FILE K           sha256 of an HTTP body in a stream file, from its start to
                           the K-th run of >= 512 zero bytes (a hole), holes left out
  synth OUT N REUSE         write a pcap of N TCP connections (handshake, "request K"
                           from the client, "response K" from the server, FIN both
                           ways), then REUSE more connections on the 4-tuple of
                           connection 0 (new ISN after the first one closed)
  garbage OUT N SEED       write a pcap (Ethernet) of N records of random bytes
  cut IN OUT WHERE         copy a pcap cut mid-record (WHERE=record) or inside a record
                           header (WHERE=header)
"""
import glob
import hashlib
import json
import os
import random
import re
import struct
import subprocess
import sys


def load(jsonl):
    recs = [json.loads(l) for l in open(jsonl) if l.strip()]
    recs.sort(key=lambda r: r.get("flow_id", 0))
    return recs


def http_bodies(data):
    """Yield (status, body) for each HTTP/1.x response in one server->client stream."""
    pos = 0
    while pos < len(data):
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            return
        head = data[pos:end].decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", head[0])
        if not m:
            raise ValueError("not a status line at offset %d: %r" % (pos, head[0][:40]))
        status = int(m.group(1))
        hdrs = {}
        for h in head[1:]:
            k, _, v = h.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        pos = end + 4
        if status in (204, 304) or 100 <= status < 200:
            yield status, b""
            continue
        if "chunked" in hdrs.get("transfer-encoding", "").lower():
            body = b""
            while True:
                le = data.index(b"\r\n", pos)
                n = int(data[pos:le].split(b";")[0], 16)
                pos = le + 2
                if n == 0:
                    pos = data.index(b"\r\n", pos) + 2
                    break
                body += data[pos:pos + n]
                pos += n + 2
            yield status, body
        else:
            n = int(hdrs.get("content-length", "0"))
            yield status, data[pos:pos + n]
            pos += n


def cmd_bodies(d, manifest):
    want = {}
    for line in open(manifest):
        f, size, sha = line.split()
        want[sha] = f
    got = {}
    nresp = 0
    for path in sorted(glob.glob(os.path.join(d, "*.s2c"))):
        data = open(path, "rb").read()
        try:
            for status, body in http_bodies(data):
                nresp += 1
                got.setdefault(hashlib.sha256(body).hexdigest(), []).append(
                    (os.path.basename(path), status, len(body)))
        except (ValueError, IndexError) as e:
            print("  %s: cannot parse: %s" % (os.path.basename(path), e))
    ok = 0
    for sha, f in sorted(want.items(), key=lambda x: x[1]):
        if sha in got:
            ok += 1
        else:
            print("  MISSING body of %s (sha256 %s...)" % (f, sha[:16]))
    print("bodies: %d responses parsed, %d of %d manifest bodies matched" % (nresp, ok, len(want)))
    return 0 if ok == len(want) else 1


def tf_key(name):
    """tcpflow's file name 010.201.000.001.38516-010.201.000.002.00080[cN] -> tuple."""
    m = re.match(r"^(\d{3})\.(\d{3})\.(\d{3})\.(\d{3})\.(\d{5})-(\d{3})\.(\d{3})\.(\d{3})\.(\d{3})"
                 r"\.(\d{5})(c\d+)?$", name)
    if not m:
        return None
    g = [int(x) for x in m.groups()[:10]]
    return ("%d.%d.%d.%d" % tuple(g[0:4]), g[4], "%d.%d.%d.%d" % tuple(g[5:9]), g[9])


def our_key(name):
    m = re.match(r"^(.+)\.(\d+)-(.+)\.(\d+)-(\d+)\.(c2s|s2c)$", name)
    if not m:
        return None
    c, cp, s, sp = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
    return (c, cp, s, sp) if m.group(6) == "c2s" else (s, sp, c, cp)


def cmd_tcpflow(ours, tf):
    a, b = {}, {}
    for p in glob.glob(os.path.join(ours, "*.c2s")) + glob.glob(os.path.join(ours, "*.s2c")):
        k = our_key(os.path.basename(p))
        a[k] = a.get(k, 0) + os.path.getsize(p)
    for p in glob.glob(os.path.join(tf, "*")):
        k = tf_key(os.path.basename(p))
        if k:
            b[k] = b.get(k, 0) + os.path.getsize(p)
    bad = 0
    for k in sorted(set(a) | set(b)):
        if a.get(k, 0) != b.get(k, 0):
            bad += 1
            print("  %s:%d -> %s:%d  mbx %d  tcpflow %d" % (k + (a.get(k, 0), b.get(k, 0))))
    print("tcpflow: %d directions, total mbx %d bytes, tcpflow %d bytes, %d differ"
          % (len(set(a) | set(b)), sum(a.values()), sum(b.values()), bad))
    return 0 if bad == 0 else 1


def cmd_sizes(d):
    bad = 0
    n = 0
    for r in load(os.path.join(d, "flows.jsonl")):
        t = r["tcp_conn"]
        for side, ext in (("c2s", "c2s"), ("s2c", "s2c")):
            p = os.path.join(d, "%s.%d-%s.%d-%d.%s" % (r["src_ip"], r["src_port"], r["dest_ip"],
                                                      r["dest_port"], t["n"], ext))
            size = os.path.getsize(p) if os.path.exists(p) else 0
            want = t[side]["delivered"] + t[side]["gap_bytes"]
            n += 1
            if size != want:
                bad += 1
                print("  %s: size %d, delivered+gap %d" % (os.path.basename(p), size, want))
    print("sizes: %d directions, %d differ" % (n, bad))
    return 0 if bad == 0 else 1


def get(rec, path):
    for p in path.split("."):
        rec = rec[int(p)] if isinstance(rec, list) else rec[p]
    return rec


def cmd_get(jsonl, n, path):
    v = get(load(jsonl)[int(n)], path)
    print(json.dumps(v) if not isinstance(v, str) else v)
    return 0


def cmd_flat(jsonl):
    def walk(n, prefix, v):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(n, prefix + [k], x)
        else:
            print("%d\t%s\t%s" % (n, ".".join(prefix), v if isinstance(v, str) else json.dumps(v)))
    for n, r in enumerate(load(jsonl)):
        walk(n, [], r)
    return 0


def cmd_zeekconn(jsonl, connlog, loose=""):
    fields, rows = [], []
    for line in open(connlog):
        line = line.rstrip("\n")
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line and not line.startswith("#"):
            rows.append(dict(zip(fields, line.split("\t"))))
    ours = {(r["src_port"], r["dest_port"]): r for r in load(jsonl)}
    bad = 0
    for z in rows:
        key = (int(z["id.orig_p"]), int(z["id.resp_p"]))
        r = ours.get(key)
        if r is None:
            print("  %s:%s -> %s:%s: no such connection in flows.jsonl"
                  % (z["id.orig_h"], z["id.orig_p"], z["id.resp_h"], z["id.resp_p"]))
            bad += 1
            continue
        c, s_ = r["tcp_conn"]["c2s"], r["tcp_conn"]["s2c"]
        got = {"orig_bytes": c["delivered"] + c["gap_bytes"],
               "resp_bytes": s_["delivered"] + s_["gap_bytes"],
               "missed_bytes": c["gap_bytes"] + s_["gap_bytes"],
               "orig_pkts": c["pkts"], "orig_ip_bytes": c["bytes"],
               "resp_pkts": s_["pkts"], "resp_ip_bytes": s_["bytes"]}
        for k, v in got.items():
            want = int(z[k])
            if v == want or (loose == "LOOSE" and k == "missed_bytes" and v >= want):
                continue
            bad += 1
            print("  ports %d->%d %s: mbx %d, Zeek %d" % (key + (k, v, want)))
        print("  ports %d->%d: %s" % (key + (" ".join("%s=%d" % kv for kv in got.items()),)))
    print("zeekconn: %d connections, %d differences" % (len(rows), bad))
    return 0 if bad == 0 and rows else 1


def cmd_cid(jsonl, pcap):
    out = subprocess.run(["tshark", "--enable-protocol", "communityid", "-r", pcap, "-T", "fields",
                          "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst",
                          "-e", "ipv6.dst", "-e", "tcp.dstport", "-e", "communityid", "tcp"],
                         capture_output=True, text=True).stdout
    ts = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 7 or not f[6]:
            continue
        s, d = f[0] or f[1], f[3] or f[4]
        ts[(s, int(f[2]), d, int(f[5]))] = f[6]
    bad = 0
    recs = load(jsonl)
    for r in recs:
        k = (r["src_ip"], r["src_port"], r["dest_ip"], r["dest_port"])
        if ts.get(k) != r["community_id"]:
            bad += 1
            print("  %s: mbx %s tshark %s" % (k, r["community_id"], ts.get(k)))
    print("community_id: %d records, %d differ from tshark" % (len(recs), bad))
    return 0 if bad == 0 and recs else 1


def interleaves(e, a, b):
    """True if e is a concatenation of runs taken alternately from the fronts of a and
    b, using both to the end.  Runs are taken longest first (backtracking on failure)."""
    sys.setrecursionlimit(100000)
    seen = set()

    def lcp(x, xi, p):
        n = 0
        m = min(len(x) - xi, len(e) - p)
        while n < m and x[xi + n] == e[p + n]:
            n += 1
        return n

    def go(p, i, j):
        if p == len(e):
            return i == len(a) and j == len(b)
        if (p, i, j) in seen:
            return False
        seen.add((p, i, j))
        la, lb = lcp(a, i, p), lcp(b, j, p)
        for k in range(la, 0, -1) if la >= lb else ():
            if go(p + k, i + k, j):
                return True
        for k in range(lb, 0, -1):
            if go(p + k, i, j + k):
                return True
        for k in range(la, 0, -1) if la < lb else ():
            if go(p + k, i + k, j):
                return True
        return False

    return go(0, 0, 0)


def cmd_interleave(d, text):
    e = open(text, "rb").read()
    e = re.sub(rb"\[(\d+) bytes missing\]", lambda m: b"\0" * int(m.group(1)), e)
    recs = load(os.path.join(d, "flows.jsonl"))
    for r in recs:
        base = os.path.join(d, "%s.%d-%s.%d-%d." % (r["src_ip"], r["src_port"], r["dest_ip"],
                                                    r["dest_port"], r["tcp_conn"]["n"]))
        ab = []
        for ext in ("c2s", "s2c"):
            ab.append(open(base + ext, "rb").read() if os.path.exists(base + ext) else b"")
        if sum(map(len, ab)) == len(e) and interleaves(e, ab[0], ab[1]):
            print("interleave: %s = connection %s:%d -> %s:%d (%d + %d bytes)"
                  % (os.path.basename(text), r["src_ip"], r["src_port"], r["dest_ip"],
                     r["dest_port"], len(ab[0]), len(ab[1])))
            return 0
    print("interleave: %s (%d bytes) matches none of %d connections" % (text, len(e), len(recs)))
    for r in recs:
        t = r["tcp_conn"]
        print("  %s:%d -> %s:%d c2s %d s2c %d" % (r["src_ip"], r["src_port"], r["dest_ip"],
                                                r["dest_port"], t["c2s"]["delivered"],
                                                t["s2c"]["delivered"]))
    return 1


def cmd_holesha(path, k):
    d = open(path, "rb").read()
    body = d[d.index(b"\r\n\r\n") + 4:]
    pieces = re.split(rb"\0{512,}", body)
    print(hashlib.sha256(b"".join(pieces[:int(k)])).hexdigest())
    return 0


def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def _tcp_frame(src, dst, sport, dport, seq, ack, flags, data=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff, 5 << 4,
                      flags, 65535, 0, 0) + data
    ph = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", _csum(ph + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp


def cmd_synth(out, n, reuse):
    """Connections k = 0..n-1 from 10.1.(k/250).(k%250+1):(20000+k) to 10.9.0.1:80,
    each opened and closed within 4 ms; then `reuse` more on connection 0's tuple."""
    n, reuse = int(n), int(reuse)
    frames = []
    t = 1_600_000_000_000_000  # us
    S, A, P, F = 0x02, 0x10, 0x08, 0x01
    conns = [(k, k) for k in range(n)] + [(0, n + r) for r in range(reuse)]
    for k, j in conns:
        c = bytes([10, 1, k // 250, k % 250 + 1])
        s = bytes([10, 9, 0, 1])
        cp, sp = 20000 + k, 80
        ci, si = 1000 + 7919 * j, 5000 + 104729 * j
        req, resp = b"request %d\n" % j, b"response %d\n" % j
        seq = [
            (c, s, cp, sp, ci, 0, S, b""),
            (s, c, sp, cp, si, ci + 1, S | A, b""),
            (c, s, cp, sp, ci + 1, si + 1, A, b""),
            (c, s, cp, sp, ci + 1, si + 1, A | P, req),
            (s, c, sp, cp, si + 1, ci + 1 + len(req), A | P, resp),
            (c, s, cp, sp, ci + 1 + len(req), si + 1 + len(resp), A | F, b""),
            (s, c, sp, cp, si + 1 + len(resp), ci + 2 + len(req), A | F, b""),
            (c, s, cp, sp, ci + 2 + len(req), si + 2 + len(resp), A, b""),
        ]
        for f in seq:
            frames.append((t, _tcp_frame(*f)))
            t += 500
        t += 100_000 if j >= n else 0  # reuses: 100 ms apart
    with open(out, "wb") as fp:
        fp.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for ts, fr in frames:
            fp.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(fr), len(fr)) + fr)
    return 0


def cmd_garbage(out, n, seed):
    """A third of the records: random bytes.  A third: Ethernet + a random L3 type and
    random bytes.  A third: Ethernet + IPv4 with a right total length + TCP or UDP
    with random fields (ports and addresses from a small set, so that the garbage
    lands on a few flows) and a random data offset and payload: deep enough that
    the TCP engine and the stream reassembler get garbage too."""
    rnd = random.Random(int(seed))
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(int(n)):
            kind = i % 3
            ln = rnd.choice([0, 1, 13, 14, 20, 34, 54, 60, rnd.randrange(0, 1600)])
            b = bytearray(rnd.getrandbits(8) for _ in range(ln))
            if kind == 1 and ln >= 34:
                b[12:14] = rnd.choice([b"\x08\x00", b"\x86\xdd", b"\x81\x00", b"\x88\x64",
                                       b"\x88\xa8"])
                b[14] = rnd.choice([0x45, 0x46, 0x4f, 0x60, 0x40])
            elif kind == 2:
                proto = rnd.choice([6, 6, 6, 17])
                l4 = bytearray(rnd.getrandbits(8) for _ in range(rnd.choice([8, 20, 32, 60, 200])))
                l4[0:4] = struct.pack("!HH", rnd.choice([80, 1234, 5555]), rnd.choice([80, 1234]))
                if proto == 6 and len(l4) >= 20:
                    l4[12] = rnd.choice([0x50, 0x50, 0x80, 0xf0, 0x20, 0x60]) | (l4[12] & 0x0f)
                    l4[4:8] = struct.pack("!I", rnd.choice([0, 1000, 2 ** 32 - 10,
                                                             rnd.getrandbits(32)]))
                if proto == 17:
                    l4[4:6] = struct.pack("!H", rnd.choice([len(l4), 8, 3, 65535]))
                ip = struct.pack("!BBHHHBB2s4s4s", 0x45, 0, 20 + len(l4), i, 0, 64, proto, b"\0\0",
                                 bytes([10, 0, 0, rnd.choice([1, 2])]),
                                 bytes([10, 0, 0, rnd.choice([1, 2])]))
                b = bytearray(b"\0" * 12 + b"\x08\x00") + ip + l4
                if rnd.random() < 0.2:  # cut by the snap length
                    b = b[:rnd.randrange(14, len(b) + 1)]
                ln = len(b)
            wire = ln + rnd.choice([0, 0, 10])
            f.write(struct.pack("<IIII", 1000000 + i // 10, i, ln, wire))
            f.write(bytes(b))
    return 0


def cmd_cut(src, out, where):
    data = open(src, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    off, recs = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        recs.append((off, incl))
        off += 16 + incl
    k = len(recs) // 2
    o, incl = recs[k]
    cut = o + 16 + incl // 2 if where == "record" else o + 7
    open(out, "wb").write(data[:cut])
    print("cut %s at byte %d (record %d of %d, %s)" % (src, cut, k + 1, len(recs), where))
    return 0


def main():
    cmds = {"bodies": cmd_bodies, "tcpflow": cmd_tcpflow, "sizes": cmd_sizes, "get": cmd_get,
            "count": lambda j: print(len(load(j))) or 0, "flat": cmd_flat, "zeekconn": cmd_zeekconn, "cid": cmd_cid,
            "garbage": cmd_garbage, "interleave": cmd_interleave, "holesha": cmd_holesha, "synth": cmd_synth, "cut": cmd_cut}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__)
        return 2
    return cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
