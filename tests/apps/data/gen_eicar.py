#!/usr/bin/env python3
"""gen_eicar.py OUT.pcap OUT.truth - EICAR split every way std.av must see through.

Four HTTP connections to av.example (client ports):
  40011  response gzip-compressed (Content-Encoding) and chunked in 7-byte chunks,
         sent in 5-byte TCP segments: the signature is split across packets,
         chunks and the compressed stream
  40012  identity response in 3-byte segments, every pair of segments swapped
         (out of order on the wire)
  40013  the EICAR string with one byte changed: nothing to find
  40014  a POST whose request body carries EICAR (the client's file), 11-byte segments
In 40011, 40012 and 40014 the 68-byte EICAR string sits at a known offset of
random bytes.  OUT.truth: one line per expected find, "client_port file
end_offset" (offset just past the signature in the decoded body), by construction.
"""
import gzip
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcapw import pkt, write_pcap  # noqa: E402

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
rnd = random.Random(11)
pkts = []
t = [1700000000.0]
truth = []


def add(p):
    t[0] += 0.0001
    pkts.append((t[0], p))


def body_with_eicar(at, size, sig=EICAR):
    filler = bytes(rnd.getrandbits(8) for _ in range(size))
    return filler[:at] + sig + filler[at:]


def send(c, s, sport, dport, seq, ack, data, seglen, swap=False):
    segs = [(seq + o, data[o:o + seglen]) for o in range(0, len(data), seglen)]
    if swap:
        for i in range(0, len(segs) - 1, 2):
            segs[i], segs[i + 1] = segs[i + 1], segs[i]
    for sq, d in segs:
        add(pkt(c, s, sport, dport, "PA", sq, ack, d))
    return seq + len(data)


def conn(cport, req, resp, rseg, sseg, swap=False):
    c, s = "10.8.0.1", "10.8.0.2"
    cs, ss = 7000, 9000
    add(pkt(c, s, cport, 80, "S", cs))
    add(pkt(s, c, 80, cport, "SA", ss, cs + 1))
    add(pkt(c, s, cport, 80, "A", cs + 1, ss + 1))
    cs = send(c, s, cport, 80, cs + 1, ss + 1, req, rseg)
    ss = send(s, c, 80, cport, ss + 1, cs, resp, sseg, swap)
    add(pkt(c, s, cport, 80, "FA", cs, ss))
    add(pkt(s, c, 80, cport, "FA", ss, cs + 1))
    add(pkt(c, s, cport, 80, "A", cs + 1, ss + 1))


def get(name):
    return b"GET /%s HTTP/1.1\r\nHost: av.example\r\n\r\n" % name.encode()


# 40011: gzip + chunked (7-byte chunks) + 5-byte segments
b = body_with_eicar(1000, 3000)
z = gzip.compress(b)
chunked = b"".join(b"%x\r\n%s\r\n" % (len(z[i:i + 7]), z[i:i + 7]) for i in range(0, len(z), 7))
resp = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunked + b"0\r\n\r\n")
conn(40011, get("gz.bin"), resp, 1000, 5)
truth.append("40011 gz.bin %d" % (1000 + len(EICAR)))

# 40012: identity, 3-byte segments, pairs swapped
b = body_with_eicar(2500, 4000)
resp = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(b) + b
conn(40012, get("ooo.bin"), resp, 1000, 3, swap=True)
truth.append("40012 ooo.bin %d" % (2500 + len(EICAR)))

# 40013: a near miss
b = body_with_eicar(100, 1000, EICAR[:40] + b"x" + EICAR[41:])
resp = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(b) + b
conn(40013, get("clean.bin"), resp, 1000, 1400)

# 40014: upload
b = body_with_eicar(700, 2000)
req = (b"POST /up.bin HTTP/1.1\r\nHost: av.example\r\nContent-Length: %d\r\n\r\n" % len(b)) + b
resp = b"HTTP/1.1 204 No Content\r\n\r\n"
conn(40014, req, resp, 11, 1400)
truth.append("40014 up.bin %d" % (700 + len(EICAR)))

write_pcap(sys.argv[1], pkts)
with open(sys.argv[2], "w") as f:
    f.write("\n".join(truth) + "\n")
