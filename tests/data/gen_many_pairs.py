#!/usr/bin/env python3
"""gen_many_pairs.py - craft a capture with many address pairs, for the
--workers tests (tests/e2e/workers.sh): flows spread over workers by the
hash of their two addresses, and every kind of frame a worker must place.

  60 s of packet time (timers fire), written with nothing but struct:
  - 48 address pairs (40 IPv4, 8 IPv6), each with 1 to 3 HTTP-like TCP
    connections (handshake, a GET, a response of 1 to 4 segments, FIN close);
    every 5th connection retransmits a response segment with different bytes,
    every 7th leaves a hole the peer ACKs past (a gap), every 11th ends with
    a RST, every 13th never closes (ends at the end of the capture);
  - 3 scanners probing 25 ports of one target each (SYN, RST/ACK): 3 alerts
    from examples/portscan.mbx, each scanner on whichever worker its pair hashes to;
  - 20 UDP datagrams between 10 more pairs, ARP requests (not IP: worker 0),
    ICMP echoes and an IPv4 datagram in two fragments.

Usage: gen_many_pairs.py OUT.pcap
"""
import struct
import sys

T0 = 1700000000.0
out = []


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ip6(n, host):
    return bytes.fromhex("20010db8%08x0000000000%06x" % (n, host))


def eth(payload, etype):
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + struct.pack("!H", etype) + payload


def ipv4(src, dst, proto, payload, ident=0, frag=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return eth(h + payload, 0x0800)


def ipv6(src, dst, proto, payload):
    h = struct.pack("!IHBB16s16s", 6 << 28, len(payload), proto, 64, src, dst)
    return eth(h + payload, 0x86DD)


def ip(src, dst, proto, payload):
    return ipv6(src, dst, proto, payload) if len(src) == 16 else ipv4(src, dst, proto, payload)


def tcp(src, dst, sp, dp, seq, ack, flags, data=b""):
    h = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                    65535, 0, 0)
    return ip(src, dst, 6, h + data)


def udp(src, dst, sp, dp, data):
    return ip(src, dst, 17, struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data)


def put(t, frame):
    out.append((t, frame))


SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


def conn(k, c, s, cp, sp, t):
    """One HTTP-like connection number k starting at time t."""
    ci, si = 1000 + 7919 * k, 5000000 + 104729 * k
    put(t, tcp(c, s, cp, sp, ci, 0, SYN))
    put(t + 0.001, tcp(s, c, sp, cp, si, ci + 1, SYN | ACK))
    put(t + 0.002, tcp(c, s, cp, sp, ci + 1, si + 1, ACK))
    req = b"GET /item/%d HTTP/1.1\r\nHost: h%d.example\r\n\r\n" % (k, k)
    put(t + 0.003, tcp(c, s, cp, sp, ci + 1, si + 1, PSH | ACK, req))
    cseq = ci + 1 + len(req)
    nseg = 1 + k % 4
    body = (b"response-%d-" % k) * (40 * nseg)
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    resp = head + body
    seg = (len(resp) + nseg - 1) // nseg
    sseq = si + 1
    tt = t + 0.004
    for i in range(nseg):
        part = resp[i * seg:(i + 1) * seg]
        if k % 7 == 3 and i == 0 and nseg > 1:
            pass  # a hole: never captured, the client ACKs past it
        else:
            put(tt, tcp(s, c, sp, cp, sseq + i * seg, cseq, PSH | ACK, part))
        if k % 5 == 1 and i == 0:  # a retransmission with other bytes
            put(tt + 0.0005, tcp(s, c, sp, cp, sseq, cseq, PSH | ACK, b"X" * len(part)))
        tt += 0.001
    sseq += len(resp)
    put(tt, tcp(c, s, cp, sp, cseq, sseq, ACK))
    if k % 13 == 5:
        return  # never closed
    if k % 11 == 2:
        put(tt + 0.001, tcp(c, s, cp, sp, cseq, sseq, RST | ACK))
        return
    put(tt + 0.001, tcp(c, s, cp, sp, cseq, sseq, FIN | ACK))
    put(tt + 0.002, tcp(s, c, sp, cp, sseq, cseq + 1, FIN | ACK))
    put(tt + 0.003, tcp(c, s, cp, sp, cseq + 1, sseq + 1, ACK))


def main():
    k = 0
    for p in range(48):
        if p < 40:
            c, s = ip4("10.%d.%d.%d" % (1 + p % 3, p, 10 + p)), ip4("172.16.%d.%d" % (p % 5, 1 + p))
        else:
            c, s = ip6(p, 0x10 + p), ip6(p + 1000, 0x20 + p)
        for j in range(1 + p % 3):
            t = T0 + (p * 1.17 + j * 9.3) % 58
            conn(k, c, s, 30000 + k, 80 if k % 2 else 8080, t)
            k += 1
    for sc in range(3):  # vertical scans
        a, b = ip4("192.168.%d.66" % sc), ip4("192.168.%d.1" % (100 + sc))
        for i in range(25):
            t = T0 + 20 + sc * 5 + i * 0.01
            put(t, tcp(a, b, 40000 + i, 1 + i * 3, 77 * i, 0, SYN))
            put(t + 0.0005, tcp(b, a, 1 + i * 3, 40000 + i, 0, 77 * i + 1, RST | ACK))
    for u in range(10):  # UDP
        a, b = ip4("10.9.%d.1" % u), ip4("10.8.%d.53" % u)
        for i in range(2):
            t = T0 + 3 + u * 4.1 + i * 0.01
            put(t, udp(a, b, 5353 + u, 53, b"query-%d-%d" % (u, i)) if i == 0
                else udp(b, a, 53, 5353 + u, b"answer-%d" % u))
    for i in range(6):  # ARP (not IP), ICMP
        arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, b"\x02\0\0\0\0\x01",
                          ip4("10.1.0.%d" % i), b"\0" * 6, ip4("10.1.0.254"))
        put(T0 + 1 + i * 9, eth(arp, 0x0806))
        icmp = struct.pack("!BBHHH", 8, 0, 0, 1, i) + b"ping"
        put(T0 + 2 + i * 9, ipv4(ip4("10.7.0.%d" % i), ip4("10.7.1.1"), 1, icmp))
    frag = struct.pack("!HHHH", 9999, 53, 8 + 40, 0) + b"F" * 40  # a fragmented UDP datagram
    put(T0 + 30, ipv4(ip4("10.6.0.1"), ip4("10.6.0.2"), 17, frag[:24], ident=77, frag=0x2000))
    put(T0 + 30.001, ipv4(ip4("10.6.0.1"), ip4("10.6.0.2"), 17, frag[24:], ident=77, frag=3))
    out.sort(key=lambda x: x[0])
    with open(sys.argv[1], "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, fr in out:
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(fr), len(fr)) + fr)


main()
