#!/usr/bin/env python3
"""synflood.py - write a classic pcap of N SYNs from distinct 4-tuples (a SYN flood).

Used by bench/memory.sh to measure the runtime's memory per tracked connection:
every SYN opens a connection that stays live until the end of the capture.
usage: synflood.py N OUT.pcap
"""
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            src = 0x0A000000 | (i >> 14) + 1          # 10.x.y.z: 64 addresses per /24...
            sport = 1024 + (i & 0x3FFF)
            dst = 0xC0A80001                          # 192.168.0.1:80
            tcp = struct.pack("!HHIIBBHHH", sport, 80, (i * 7919) & 0xFFFFFFFF, 0, 5 << 4, 0x02, 64240, 0, 0)
            ip = struct.pack("!BBHHHBBHII", 0x45, 0, 40, i & 0xFFFF, 0x4000, 64, 6, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            pseudo = struct.pack("!IIBBH", src, dst, 0, 6, 20)
            tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
            frame = eth + ip + tcp
            ts = 1700000000 * 1000000 + i      # one SYN per microsecond: ~1 s in all
            f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(frame), len(frame)))
            f.write(frame)


if __name__ == "__main__":
    main()
