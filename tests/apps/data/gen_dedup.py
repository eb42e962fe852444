#!/usr/bin/env python3
"""gen_dedup.py OUT.pcap SIZE - a capture with repeated content for wan_dedup.

Two HTTP connections (client ports 40001, 40002) each download the same
SIZE random bytes (seeded, so the capture is reproducible) in 1400-byte
segments, with handshake and FIN teardown; a third (40003) downloads SIZE
other random bytes.  An RE box would save about SIZE bytes: the second copy.
"""
import random
import socket
import struct
import sys

out, size = sys.argv[1], int(sys.argv[2])
rnd = random.Random(5)
body = bytes(rnd.getrandbits(8) for _ in range(size))
other = bytes(rnd.getrandbits(8) for _ in range(size))
pkts = []
t = [1700000000.0]


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


FLAGS = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}


def pkt(src, dst, sport, dport, flags, seq, ack=0, data=b""):
    """Ethernet + IPv4 + TCP with correct checksums."""
    fl = sum(FLAGS[c] for c in flags)
    sa, da = socket.inet_aton(src), socket.inet_aton(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, fl, 65535, 0, 0) + data
    ph = sa + da + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, sa, da)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp


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
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for ts, p in pkts:
        sec = int(ts)
        f.write(struct.pack("<IIII", sec, int(round((ts - sec) * 1e6)), len(p), len(p)) + p)
