/*
 * fuzz_rt_decode.c - libFuzzer target for mbx_decode (mbx.h section 2).
 *
 * The first input byte picks the link type (every one decode knows, plus one it
 * does not), the rest is the frame.  Besides ASan/UBSan finding any read past
 * the frame, the result is checked for consistency: a decoded packet's offsets
 * and payload lie inside the captured bytes, and the same bytes decode the same
 * way twice.  Then the frame goes through an engine that lives across inputs,
 * so that fragments of one datagram from several inputs meet in its
 * reassembly (defrag.c) and a rebuilt datagram is decoded and processed; its
 * accounting must hold (packets + reassembled = decoded + decode errors +
 * fragments).  Seeds (corpus/rt_decode/): real frames cut from
 * ../shared/corpora (PPPoE, VLAN, IPv6, plain Ethernet, IPv4 fragments) and
 * crafted malformed ones.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mbx.h"

static mbx_engine *eng; /* lives across inputs */
static mbx_time eng_ts = 1000000000ull;

/* Through the engine; checks its accounting. */
static void fuzz_engine(int link, const uint8_t *frame, uint32_t caplen)
{
    if (!eng) {
        struct mbx_config c;
        mbx_config_default(&c);
        c.max_flows = 64;
        c.defrag_max_datagrams = 8;
        c.defrag_mem = 128 * 1024;
        eng = mbx_engine_new(&c);
        if (!eng)
            abort();
    }
    struct mbx_frame fr = {
        .data = frame, .caplen = caplen, .wirelen = caplen, .ts = eng_ts += 1000, .linktype = link};
    bool fwd;
    mbx_engine_input(eng, &fr, &fwd, 1);
    struct mbx_stats s;
    mbx_engine_stats(eng, &s);
    if (s.packets + s.frag_reassembled != s.decoded + s.decode_errors + s.frags)
        abort();
}

static const int fuzz_links[] = {
    MBX_LINK_ETHERNET, MBX_LINK_SLL,  MBX_LINK_SLL2, MBX_LINK_RAW,  12,  14,
    MBX_LINK_IPV4,     MBX_LINK_IPV6, MBX_LINK_NULL, MBX_LINK_LOOP, 147, /* LINKTYPE_USER0:
                                                                            unsupported */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536 + 1)
        return 0;
    int link = fuzz_links[data[0] % (sizeof fuzz_links / sizeof fuzz_links[0])];
    const uint8_t *frame = data + 1;
    uint32_t caplen = (uint32_t)(size - 1);
    struct mbx_pkt p, q;
    enum mbx_decode_err e = mbx_decode(&p, link, frame, caplen, caplen, 1);
    if ((unsigned)e >= MBX_DECODE_NREASONS)
        abort();
    if (mbx_decode(&q, link, frame, caplen, caplen, 1) != e || p.l3_off != q.l3_off ||
        p.l4_off != q.l4_off || p.payload != q.payload || p.payload_len != q.payload_len ||
        p.seq != q.seq || p.sport != q.sport || p.opts != q.opts || p.pflags != q.pflags ||
        memcmp(&p.src, &q.src, sizeof p.src) != 0 || memcmp(&p.dst, &q.dst, sizeof p.dst) != 0)
        abort();
    fuzz_engine(link, frame, caplen);
    if (e != MBX_DECODE_OK)
        return 0;
    if (p.l3_off >= caplen || p.l4_off <= p.l3_off || p.l4_off >= caplen)
        abort();
    if (p.payload < frame || p.payload > frame + caplen ||
        p.payload_len > (uint32_t)(frame + caplen - p.payload))
        abort();
    if ((p.proto != 6 && p.proto != 17) || (p.ip_ver != 4 && p.ip_ver != 6))
        abort();
    if (p.proto == 6 && (p.tcp_hlen < 20 || p.l4_off + p.tcp_hlen > caplen))
        abort();
    char a[64];
    mbx_addr_str(&p.src, a, sizeof a);
    mbx_addr_str(&p.dst, a, sizeof a);
    return 0;
}
