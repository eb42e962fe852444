#!/usr/bin/env python3
"""tcpbytes.py - independent byte counts of a capture's TCP traffic, read
with nothing but struct (pcap or pcapng, Ethernet or raw IPv4), for checks
of mbx's gap accounting that do not trust mbx.

  tcpbytes.py CAPTURE SERVER_PORT

prints "payload_c2s N", "payload_s2c N" (TCP payload by the IP total length
and header lengths, i.e. what the capture says the clients sent) and
"unseen_c2s_max N": an upper bound on the client bytes the capture missed,
from sequence numbers alone.  Per client port, the client's data segments
and the server's ACKs mark points in the client's sequence space; points
within 1 MiB of the current run extend it, a farther point starts a new run
(another connection on the 4-tuple, or a stray packet).  The span of every
run minus the payload seen is what the clients sent that the capture lacks:
a gap larger than that cannot be real.
"""
import struct
import sys

M32 = 1 << 32


def packets(path):
    f = open(path, "rb")
    head = f.read(4)
    if head == b"\x0a\x0d\x0d\x0a":  # pcapng
        f.seek(0)
        en, lts = "<", []
        while True:
            bh = f.read(8)
            if len(bh) < 8:
                return
            bt, bl = struct.unpack(en + "II", bh)
            if bt == 0x0A0D0D0A:
                bom = f.read(4)
                en = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
                bl = struct.unpack(en + "I", bh[4:])[0]
                f.read(bl - 12)
                lts = []
                continue
            body = f.read(bl - 8)
            if bt == 1:
                lts.append(struct.unpack(en + "H", body[:2])[0])
            elif bt == 6:
                iid, _, _, cl, _ = struct.unpack(en + "IIIII", body[:20])
                yield lts[iid], body[20:20 + cl]
    else:
        magic = struct.unpack("<I", head)[0]
        en = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        lt = struct.unpack(en + "I", f.read(20)[16:20])[0]
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            cl = struct.unpack(en + "I", h[8:12])[0]
            yield lt, f.read(cl)


def sdiff(a, b):
    return ((a - b + (1 << 31)) % M32) - (1 << 31)


def main():
    port = int(sys.argv[2])
    runs = {}
    pay = [0, 0]

    def add(cport, lo, hi):
        lst = runs.setdefault(cport, [])
        if lst:
            r = lst[-1]
            if abs(sdiff(lo, r[1])) <= 1 << 20 or abs(sdiff(lo, r[0])) <= 1 << 20:
                if sdiff(hi, r[1]) > 0:
                    r[1] = hi
                if sdiff(lo, r[0]) < 0:
                    r[0] = lo
                return
        lst.append([lo, hi])

    for lt, d in packets(sys.argv[1]):
        if lt == 1:
            if d[12:14] != b"\x08\x00":
                continue
            ip = d[14:]
        elif lt in (101, 228):
            ip = d
        else:
            continue
        if len(ip) < 40 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        tot = struct.unpack(">H", ip[2:4])[0]
        t = ip[ihl:]
        sp, dp, seq, ack = struct.unpack(">HHII", t[:12])
        fl = t[13]
        pl = tot - ihl - (t[12] >> 4) * 4
        if dp == port:
            pay[0] += pl
            if fl & 2:
                seq += 1
            if pl > 0:
                add(sp, seq % M32, (seq + pl) % M32)
        elif sp == port:
            pay[1] += pl
            if fl & 0x10 and not fl & 4:
                add(dp, ack, ack)
    span = sum((r[1] - r[0]) % M32 for lst in runs.values() for r in lst)
    print("payload_c2s %d" % pay[0])
    print("payload_s2c %d" % pay[1])
    print("unseen_c2s_max %d" % (span - pay[0]))


if __name__ == "__main__":
    main()
