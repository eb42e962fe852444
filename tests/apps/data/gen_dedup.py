#!/usr/bin/env python3
"""gen_dedup.py OUT.pcap SIZE - a capture with repeated content for wan_dedup.

Two HTTP connections (client ports 40001, 40002) each download the same
SIZE random bytes (seeded, so the capture is reproducible) in 1400-byte
segments, with handshake and FIN teardown; a third (40003) downloads SIZE
other random bytes.  An RE box would save about SIZE bytes: the second copy.
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcapw import pkt, write_pcap  # noqa: E402

out, size = sys.argv[1], int(sys.argv[2])
rnd = random.Random(5)
body = bytes(rnd.getrandbits(8) for _ in range(size))
other = bytes(rnd.getrandbits(8) for _ in range(size))
pkts = []
t = [1700000000.0]


def add(p):
    t[0] += 0.0001
    pkts.append((t[0], p))


def conn(cport, payload):
    c, s = "10.9.0.1", "10.9.0.2"
    cs, ss = 1000, 5000
    add(pkt(c, s, cport, 80, "S", cs, 0))
    add(pkt(s, c, 80, cport, "SA", ss, cs + 1))
    add(pkt(c, s, cport, 80, "A", cs + 1, ss + 1))
    req = b"GET /blob.bin HTTP/1.1\r\nHost: dedup.example\r\n\r\n"
    add(pkt(c, s, cport, 80, "PA", cs + 1, ss + 1, req))
    cs += 1 + len(req)
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload
    off = 0
    while off < len(resp):
        seg = resp[off:off + 1400]
        add(pkt(s, c, 80, cport, "A", ss + 1 + off, cs, seg))
        off += len(seg)
        if off % 14000 == 0:
            add(pkt(c, s, cport, 80, "A", cs, ss + 1 + off))
    ss += 1 + len(resp)
    add(pkt(c, s, cport, 80, "FA", cs, ss))
    add(pkt(s, c, 80, cport, "FA", ss, cs + 1))
    add(pkt(c, s, cport, 80, "A", cs + 1, ss + 1))


conn(40001, body)
conn(40002, body)
conn(40003, other)
write_pcap(out, pkts)
