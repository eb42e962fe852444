#!/usr/bin/env python3
# bench/pairs.py IN.pcap OUT.pcap - a copy of gen_perf_trace.sh's capture (one address pair,
# wrk's client 10.202.0.1 and nginx) whose client address is rewritten per connection to
# 10.203.H.L (H.L: the client port), so that --workers can spread its connections (they are
# split by address pair).  Classic pcap, Ethernet, IPv4 only; checksums are left as they are
# (mbx does not verify them).  Not a test.
import mmap, struct, sys, shutil
src, dst = sys.argv[1], sys.argv[2]
shutil.copyfile(src, dst)
f = open(dst, "r+b"); m = mmap.mmap(f.fileno(), 0)
off = 24; n = 0
c = bytes([10, 202, 0, 1])
while off + 16 <= len(m):
    incl = struct.unpack_from("<I", m, off + 8)[0]
    fr = off + 16
    if incl >= 14 + 24 and m[fr + 12:fr + 14] == b"\x08\x00":
        ip = fr + 14
        hl = (m[ip] & 15) * 4
        sp, dp = struct.unpack_from("!HH", m, ip + hl)
        if m[ip + 12:ip + 16] == c:
            m[ip + 12:ip + 16] = bytes([10, 203, sp >> 8, sp & 255])
        elif m[ip + 16:ip + 20] == c:
            m[ip + 16:ip + 20] = bytes([10, 203, dp >> 8, dp & 255])
        n += 1
    off = fr + incl
m.flush(); print(n, "packets rewritten")
