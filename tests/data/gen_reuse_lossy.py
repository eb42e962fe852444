#!/usr/bin/env python3
"""gen_reuse_lossy.py - craft reuse_lossy.pcap, a small capture with the
patterns that made bogus gigantic gaps on a lossy capture of wrk (2000
keep-alive connections, 10% "Connection: close", tcp_tw_reuse; the kernel
dropped 55% of the packets), and write the truth beside it
(reuse_lossy.truth: one "name value" per line).

Client 10.0.0.1, server 10.0.0.2:80; requests are 44-byte GETs, responses
three 200-byte segments.  Packets "lost by the capture" are simply not
written; the truth counts the bytes they carried.

  40000  A: handshake seen (window scale 7), 10 requests over 8 s; the capture
         misses requests 2, 5, 6 (3 x 44 client bytes the server ACKs) and
         the 2nd segment of responses 1 and 4.
         B: 8.866 s after A's SYN the client reuses the 4-tuple; its SYN and
         the SYN/ACK are lost.  Linux ISNs: keyed hash of the 4-tuple + a
         64 ns clock (RFC 6528, net/core/secure_seq.c), so B's client ISN is
         A's + 8.866 s / 64 ns - 26926 (SYN sent 1.7 ms before the GET); the
         server's side lies 100,000 past where A's server was.  One GET, one
         response, FIN exchange.
  40001  picked up mid-stream (window fields 498 / 64), 3 requests, the 2nd
         missed; then a server FIN 68,000 bytes on (those bytes missed) whose
         ACK is 151,931,955 past the client: a later connection's ACK.
  40002  mid-stream, 3 requests; then a client FIN 143,000,000 past its
         sequence (ACK in window), ACKed by the server, then client RSTs.

Usage: gen_reuse_lossy.py OUT.pcap  (the truth goes to OUT without .pcap + .truth)
"""
import struct
import sys

CLI, SRV = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10
M32 = 1 << 32


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Cap:
    def __init__(self):
        self.recs = []
        self.c2s_payload_sent = 0

    def pkt(self, t, from_client, cport, flags, seq, ack, payload=b"", win=502, opts=b"",
            keep=True):
        src, dst = (CLI, SRV) if from_client else (SRV, CLI)
        sport, dport = (cport, 80) if from_client else (80, cport)
        off = (20 + len(opts)) // 4
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq % M32, ack % M32, off << 4, flags, win,
                          0, 0) + opts
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
        c = csum(pseudo + tcp + payload)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        tot = 20 + len(tcp) + len(payload)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot, 1, 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
        if not from_client:
            eth = b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + b"\x08\x00"
        frame = eth + ip + tcp + payload
        if keep:
            self.recs.append((t, frame))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for t, fr in sorted(self.recs, key=lambda r: r[0]):
                sec = int(t)
                usec = int(round((t - sec) * 1e6))
                f.write(struct.pack("<IIII", sec, usec, len(fr), len(fr)) + fr)


def get(i):
    g = b"GET /f%03d.bin HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n" % i
    return g[:44].ljust(44, b" ")


def rounds(cap, cport, t, cseq, sseq, n, lost_get, lost_seg, cwin, swin):
    """n request/response rounds; returns (t, cseq, sseq, missed client bytes)."""
    missed = 0
    for i in range(n):
        g = get(i)
        keep = i not in lost_get
        cap.pkt(t, True, cport, PSH | ACK, cseq, sseq, g, cwin, keep=keep)
        if not keep:
            missed += len(g)
        cseq += len(g)
        cap.pkt(t + 0.0001, False, cport, ACK, sseq, cseq, win=swin)
        for k in range(3):
            body = bytes([65 + i % 26]) * 200
            cap.pkt(t + 0.001 + k * 1e-5, False, cport, ACK | (PSH if k == 2 else 0), sseq, cseq,
                    body, swin, keep=not (k == 1 and i in lost_seg))
            sseq += 200
        cap.pkt(t + 0.0012, True, cport, ACK, cseq, sseq, win=cwin)
        t += 0.8
    return t, cseq, sseq, missed


def main():
    out = sys.argv[1]
    cap = Cap()
    truth = {}
    ws7 = b"\x02\x04\x05\xb4\x01\x03\x03\x07"  # MSS 1460, NOP, window scale 7
    # ---- 40000 A and B
    t0 = 1000.0
    ca, sa = 3552897959, 3808960827
    cap.pkt(t0, True, 40000, SYN, ca, 0, win=64240, opts=ws7)
    cap.pkt(t0 + 0.00001, False, 40000, SYN | ACK, sa, ca + 1, win=65160, opts=ws7)
    cap.pkt(t0 + 0.00002, True, 40000, ACK, ca + 1, sa + 1, win=498)
    t, cseq, sseq, missed = rounds(cap, 40000, t0 + 0.1, ca + 1, sa + 1, 10, {2, 5, 6}, {1, 4},
                                   498, 64)
    truth["gap_c2s_40000_0"] = missed
    tb = t0 + 8.866009
    cb = ca + int(8.866009e9 / 64) - 26926  # B's client ISN
    sb = sseq + 100000  # B's server side, near A's
    g = get(99)
    cap.pkt(tb, True, 40000, PSH | ACK, cb + 1, sb, g, 498)
    cap.pkt(tb + 0.00001, False, 40000, ACK, sb, cb + 1 + len(g), win=64)
    for k in range(3):
        cap.pkt(tb + 0.001 + k * 1e-5, False, 40000, ACK, sb + 1000 * k, cb + 1 + len(g),
                b"Z" * 1000, 64)
    cend, send = cb + 1 + len(g), sb + 3000
    cap.pkt(tb + 0.002, True, 40000, FIN | ACK, cend, send, win=498)
    cap.pkt(tb + 0.00201, False, 40000, FIN | ACK, send, cend + 1, win=64)
    cap.pkt(tb + 0.00202, True, 40000, ACK, cend + 1, send + 1, win=498)
    truth["gap_c2s_40000_1"] = 0
    # ---- 40001: server FIN with a far ACK
    c, s = 269107759, 1902097688
    t, c, s, missed = rounds(cap, 40001, t0 + 0.05, c, s, 3, {1}, set(), 498, 64)
    cap.pkt(t, False, 40001, FIN | ACK, s + 68000, c + 151931955, win=64)
    cap.pkt(t + 0.00001, True, 40001, ACK, c, s + 68001, win=498)
    truth["gap_c2s_40001_0"] = missed
    # ---- 40002: client FIN far past its sequence, ACKed, then RSTs
    c, s = 1600771000, 3229680000
    t, c, s, missed = rounds(cap, 40002, t0 + 0.07, c, s, 3, set(), set(), 498, 64)
    far = c + 143000000
    cap.pkt(t, True, 40002, FIN | ACK, far, s, win=498)
    for k in range(2):
        cap.pkt(t + 0.001 + k * 1e-5, False, 40002, ACK, s + 1000 * k, far + 1, b"Q" * 1000, 64)
        cap.pkt(t + 0.001 + k * 1e-5 + 2e-6, True, 40002, RST, far + 1, 0, win=0)
    truth["gap_c2s_40002_0"] = missed
    cap.write(out)
    base = out[:-5] if out.endswith(".pcap") else out
    with open(base + ".truth", "w") as f:
        for k, v in truth.items():
            f.write("%s %d\n" % (k, v))
        f.write("gap_c2s_total %d\n" % sum(truth.values()))


if __name__ == "__main__":
    main()
