#!/usr/bin/env python3
"""dedup_ref.py - an independent computation of examples/wan_dedup.mbx's statistics.

Reads the reassembled streams that `mbx-streams -d DIR` writes (one file per
direction) and applies the chunking that wan_dedup.mbx's header describes:
Gear rolling hash h = (h << 1) + (b + 1) * 0x9E3779B97F4A7C15 mod 2^64, a
boundary after a byte when the chunk has >= MIN bytes and h >> (64 - BITS) == 0,
or MAX bytes, or at the stream's end; FNV-1a-like fingerprint
f = (f ^ (b + 1)) * 0x100000001B3 mod 2^64 from 0.  Prints, per connection
(client port), its payload bytes and chunks, then the totals: chunks,
redundant chunks (fingerprint seen before in any stream) and saved bytes -
quantities that do not depend on the order the streams are processed in.

usage: dedup_ref.py DIR [BITS MIN MAX]
"""
import os
import sys

M64 = (1 << 64) - 1


def chunks(data, bits, lo, hi):
    shift = 64 - bits
    h = f = n = 0
    for b in data:
        h = ((h << 1) + (b + 1) * 0x9E3779B97F4A7C15) & M64
        f = ((f ^ (b + 1)) * 0x100000001B3) & M64
        n += 1
        if (n >= lo and h >> shift == 0) or n >= hi:
            yield f, n
            f = n = 0
    if n:
        yield f, n


def main():
    d = sys.argv[1]
    bits, lo, hi = (int(a) for a in sys.argv[2:5]) if len(sys.argv) > 4 else (11, 256, 16384)
    seen = set()
    flows = {}
    tot_chunks = dups = saved = 0
    for name in sorted(os.listdir(d)):
        if not (name.endswith(".c2s") or name.endswith(".s2c")):
            continue
        cport = int(name.split("-")[0].rsplit(".", 1)[1])
        data = open(os.path.join(d, name), "rb").read()
        fl = flows.setdefault(cport, [0, 0])
        fl[0] += len(data)
        for f, n in chunks(data, bits, lo, hi):
            fl[1] += 1
            tot_chunks += 1
            if f in seen:
                dups += 1
                saved += n
            else:
                seen.add(f)
    for port in sorted(flows):
        print("flow", port, *flows[port])
    print("total", tot_chunks, dups, saved)


main()
