#!/usr/bin/python3
"""gen_defrag.py - craft the captures of tests/e2e/defrag.sh with scapy.

  defrag_v6.pcap       an IPv6 TCP connection (2001:db8::1.40000 -> 2001:db8::2.80):
                       handshake, a 3000-byte request sent as one segment cut
                       into three fragments (a hop-by-hop and a destination
                       options header before each fragment header), the last
                       fragment first, the first one tiny (8 bytes: the TCP
                       header split); then a 5-byte answer and FIN exchange.
  defrag_overlap.pcap  an IPv4 TCP connection (10.0.0.1.40001 -> 10.0.0.2.80)
                       whose request "GET /index.html HTTP/1.0\\r\\n\\r\\n"
                       comes as fragments [0, 24) [16, 48) [24, 48): the second
                       overlaps bytes [16, 24) of the first (TCP header 20 +
                       "GET "  -> offsets 20..23 hold "GET ") with "EVIL", and
                       the third rewrites [24, 48) with other bytes.  First-wins
                       gives "GET /index.html ...", last-wins gives
                       "EVIL" + the third fragment's bytes.

  defrag_rexmit.pcap   an IPv4 TCP connection (10.0.0.1.40002 -> 10.0.0.2.80): two
                       1000-byte segments, each sent as 3 fragments, then the
                       first segment again, whole (a retransmission with the
                       same bytes: rexmits 1, inconsistent 0).  The engine
                       reuses one buffer for rebuilt datagrams, so a stream
                       that kept a reference into it instead of a copy would
                       compare the retransmission with the second segment.

The expected streams are written beside them: NAME.c2s.first, NAME.c2s.last
(bytes the client sent, as mbx-streams writes them under each policy).

Usage: gen_defrag.py [OUTDIR]   (the system python3, where python3-scapy is)
"""
import os
import sys

from scapy.all import (IP, TCP, Ether, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, Raw, wrpcap)

E = Ether(src="00:00:00:00:00:01", dst="00:00:00:00:00:02")
T0 = 1700000000.0


def stamp(pkts):
    for k, p in enumerate(pkts):
        p.time = T0 + k * 0.001
    return pkts


def v6(out):
    c, s = "2001:db8::1", "2001:db8::2"
    cp, sp, ci, si = 40000, 80, 1000, 5000
    req = bytes((ord("a") + (k * 7) % 26) for k in range(3000))

    pk = []
    pk.append(E / IPv6(src=c, dst=s) / TCP(sport=cp, dport=sp, flags="S", seq=ci))
    pk.append(E / IPv6(src=s, dst=c) / TCP(sport=sp, dport=cp, flags="SA", seq=si, ack=ci + 1))
    pk.append(E / IPv6(src=c, dst=s) / TCP(sport=cp, dport=sp, flags="A", seq=ci + 1, ack=si + 1))
    # The segment, built whole, then cut by hand (its checksum stays right).
    seg = bytes(IPv6(src=c, dst=s) /
                TCP(sport=cp, dport=sp, flags="PA", seq=ci + 1, ack=si + 1) / Raw(req))[40:]
    cuts = [(0, 8), (8, 1608), (1608, len(seg))]
    frags = []
    for lo, hi in cuts:
        more = 1 if hi < len(seg) else 0
        frags.append(E / IPv6(src=c, dst=s) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
                     IPv6ExtHdrFragment(nh=6, offset=lo // 8, m=more, id=0x1234abcd) /
                     Raw(seg[lo:hi]))
    pk += [frags[2], frags[0], frags[1]]
    pk.append(E / IPv6(src=s, dst=c) /
              TCP(sport=sp, dport=cp, flags="PA", seq=si + 1, ack=ci + 1 + len(req)) / Raw(b"HELLO"))
    pk.append(E / IPv6(src=c, dst=s) /
              TCP(sport=cp, dport=sp, flags="FA", seq=ci + 1 + len(req), ack=si + 6))
    pk.append(E / IPv6(src=s, dst=c) /
              TCP(sport=sp, dport=cp, flags="FA", seq=si + 6, ack=ci + 2 + len(req)))
    pk.append(E / IPv6(src=c, dst=s) /
              TCP(sport=cp, dport=sp, flags="A", seq=ci + 2 + len(req), ack=si + 7))
    wrpcap(os.path.join(out, "defrag_v6.pcap"), stamp(pk))
    for pol in ("first", "last"):
        with open(os.path.join(out, "defrag_v6.c2s." + pol), "wb") as f:
            f.write(req)


def overlap(out):
    c, s = "10.0.0.1", "10.0.0.2"
    cp, sp, ci, si = 40001, 80, 7000, 9000
    req = b"GET /index.html HTTP/1.0\r\n\r\n"  # 28 bytes: segment = 48
    pk = []
    pk.append(E / IP(src=c, dst=s) / TCP(sport=cp, dport=sp, flags="S", seq=ci))
    pk.append(E / IP(src=s, dst=c) / TCP(sport=sp, dport=cp, flags="SA", seq=si, ack=ci + 1))
    pk.append(E / IP(src=c, dst=s) / TCP(sport=cp, dport=sp, flags="A", seq=ci + 1, ack=si + 1))
    seg = bytearray(bytes(IP(src=c, dst=s) /
                          TCP(sport=cp, dport=sp, flags="PA", seq=ci + 1, ack=si + 1) /
                          Raw(req))[20:])
    assert len(seg) == 48
    evil2 = bytes(seg[16:20]) + b"EVIL" + bytes(seg[24:48])      # [16, 48): 20..23 differ
    evil3 = b"/etc/passwd HTTP/1.0\r\n\r\n"                       # [24, 48): all differ
    assert len(evil3) == 24
    frags = [(0, bytes(seg[0:24]), 1), (16, evil2, 1), (24, evil3, 0)]
    for off, data, more in frags:
        pk.append(E / IP(src=c, dst=s, id=4242, flags="MF" if more else 0, frag=off // 8,
                         proto=6) / Raw(data))
    n = len(req)
    pk.append(E / IP(src=s, dst=c) /
              TCP(sport=sp, dport=cp, flags="A", seq=si + 1, ack=ci + 1 + n))
    pk.append(E / IP(src=c, dst=s) / TCP(sport=cp, dport=sp, flags="FA", seq=ci + 1 + n,
                                        ack=si + 1))
    pk.append(E / IP(src=s, dst=c) / TCP(sport=sp, dport=cp, flags="FA", seq=si + 1,
                                        ack=ci + 2 + n))
    pk.append(E / IP(src=c, dst=s) / TCP(sport=cp, dport=sp, flags="A", seq=ci + 2 + n,
                                        ack=si + 2))
    wrpcap(os.path.join(out, "defrag_overlap.pcap"), stamp(pk))
    with open(os.path.join(out, "defrag_overlap.c2s.first"), "wb") as f:
        f.write(req)
    with open(os.path.join(out, "defrag_overlap.c2s.last"), "wb") as f:
        f.write(b"EVIL" + evil3)


def rexmit(out):
    c, s = "10.0.0.1", "10.0.0.2"
    cp, sp, ci, si = 40002, 80, 11000, 13000
    a = bytes((ord("A") + k % 26) for k in range(1000))
    b = bytes((ord("a") + (k * 3) % 26) for k in range(1000))
    pk = []
    pk.append(E / IP(src=c, dst=s) / TCP(sport=cp, dport=sp, flags="S", seq=ci))
    pk.append(E / IP(src=s, dst=c) / TCP(sport=sp, dport=cp, flags="SA", seq=si, ack=ci + 1))
    pk.append(E / IP(src=c, dst=s) / TCP(sport=cp, dport=sp, flags="A", seq=ci + 1, ack=si + 1))

    def seg(seq, data):
        return IP(src=c, dst=s, id=seq & 0xffff) / TCP(sport=cp, dport=sp, flags="PA", seq=seq,
                                                     ack=si + 1) / Raw(data)

    for k, data in enumerate((a, b)):
        whole = bytes(seg(ci + 1 + 1000 * k, data))
        l4 = whole[20:]
        for lo, hi in ((0, 400), (400, 800), (800, len(l4))):
            pk.append(E / IP(src=c, dst=s, id=7 + k, flags="MF" if hi < len(l4) else 0,
                             frag=lo // 8, proto=6) / Raw(l4[lo:hi]))
    pk.append(E / seg(ci + 1, a))  # the retransmission, whole
    pk.append(E / IP(src=s, dst=c) / TCP(sport=sp, dport=cp, flags="A", seq=si + 1, ack=ci + 2001))
    wrpcap(os.path.join(out, "defrag_rexmit.pcap"), stamp(pk))
    for pol in ("first", "last"):
        with open(os.path.join(out, "defrag_rexmit.c2s." + pol), "wb") as f:
            f.write(a + b)


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    v6(out)
    overlap(out)
    rexmit(out)
