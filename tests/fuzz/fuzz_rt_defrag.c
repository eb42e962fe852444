/*
 * fuzz_rt_defrag.c - libFuzzer target for IP fragment reassembly (defrag.c)
 * through the engine (mbx_engine_input), with bounds small enough that
 * eviction, timeouts and the memory limit happen.
 *
 * Input: a configuration byte (IPv4 or IPv6, policy, how much memory, whether
 * ids vary), a datagram length byte, then records of 5 bytes, each one
 * fragment of the datagram (whose bytes are the input's, repeated): offset
 * and length in 8-byte units, flags (more fragments, another id, bytes
 * changed, a length that is not a multiple of 8, cut by the snap length) and
 * a time step.  Fragments go in bursts of up to 8 frames.  Besides memory
 * safety it checks the accounting (packets + reassembled = decoded + decode
 * errors + fragments), that the pool never holds more than its bound, that
 * nothing is left after the end, and, when no fragment was changed, cut or
 * dropped, that first-wins rebuilds the datagram's bytes exactly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "mbx.h"

#define FD_MAXF 64

static uint8_t dg[4096]; /* the datagram: a UDP header and payload */
static uint32_t dg_len;
static uint8_t frames[FD_MAXF][4096 + 128];
static bool saw_exact; /* the reassembled UDP payload equals dg's */
static bool saw_pkt;

static void be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void on_pkt(const struct mbx_event *ev, void *u)
{
    (void)u;
    const struct mbx_pkt *p = ev->pkt;
    saw_pkt = true;
    if (p && p->proto == 17 && p->payload_len == dg_len - 8 &&
        memcmp(p->payload, dg + 8, dg_len - 8) == 0)
        saw_exact = true;
}

/* Builds frame k: Ethernet + IPv4 or IPv6 (a hop-by-hop header before the
 * fragment header) carrying dg[off, off + len). Returns its length. */
static uint32_t build(uint8_t *f, bool v6, uint32_t off, uint32_t len, bool more, uint32_t id,
                      const uint8_t *src)
{
    static const uint8_t mac[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    memcpy(f, mac, 12);
    uint8_t *ip = f + 14;
    if (!v6) {
        be16(f + 12, 0x0800);
        memset(ip, 0, 20);
        ip[0] = 0x45;
        be16(ip + 2, 20 + len);
        be16(ip + 4, id & 0xffff);
        be16(ip + 6, (more ? 0x2000 : 0) | ((off / 8) & 0x1fff));
        ip[8] = 64;
        ip[9] = 17;
        ip[12] = 10, ip[15] = 1;
        ip[16] = 10, ip[19] = 2;
        memcpy(ip + 20, src, len);
        return 14 + 20 + len;
    }
    be16(f + 12, 0x86dd);
    memset(ip, 0, 56);
    ip[0] = 0x60;
    be16(ip + 4, 16 + len);
    ip[6] = 0; /* hop-by-hop */
    ip[7] = 64;
    ip[8] = 0x20, ip[23] = 1;
    ip[24] = 0x20, ip[39] = 2;
    ip[40] = 44; /* hop-by-hop: next is the fragment header, 8 bytes, PadN */
    ip[42] = 1;
    ip[43] = 4;
    uint8_t *x = ip + 48;
    x[0] = 17;
    be16(x + 2, (off & 0xfff8) | (more ? 1 : 0));
    x[4] = (uint8_t)(id >> 24), x[5] = (uint8_t)(id >> 16), x[6] = (uint8_t)(id >> 8),
    x[7] = (uint8_t)id;
    memcpy(x + 8, src, len);
    return 14 + 56 + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint8_t c0 = data[0];
    bool v6 = c0 & 1;
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    cfg.policy = (c0 & 2) ? MBX_POLICY_LAST : MBX_POLICY_FIRST;
    cfg.defrag_mem = (c0 & 4) ? 64 * 1024 : 256 * 1024;
    cfg.defrag_max_datagrams = (c0 & 8) ? 2 : 16;
    cfg.defrag_max_frags = (c0 & 16) ? 4 : 64;
    cfg.defrag_timeout = 1000000000ull;
    mbx_engine *e = mbx_engine_new(&cfg);
    if (!e)
        return 0;
    mbx_subscribe(e, MBX_EV_PKT_IN, on_pkt, NULL, 0);
    saw_exact = saw_pkt = false;

    /* the datagram: UDP header, then the input's bytes repeated */
    dg_len = 8 + (uint32_t)data[1] * 8 + (c0 >> 5);
    be16(dg, 1234);
    be16(dg + 2, 53);
    be16(dg + 4, dg_len);
    be16(dg + 6, 0);
    for (uint32_t k = 8; k < dg_len; k++)
        dg[k] = data[2 + (k % (size - 2))];

    struct mbx_frame fr[8];
    bool fwd[8];
    int nb = 0, nf = 0;
    bool clean = true; /* no fragment changed, cut, odd or of another id */
    mbx_time ts = 1000000000ull;
    static uint8_t alt[4096];
    for (size_t i = 2; i + 5 <= size && nf < FD_MAXF; i += 5) {
        const uint8_t *r = data + i;
        uint32_t off = (uint32_t)r[0] * 8 % (dg_len + 8), len = (uint32_t)r[1] * 8;
        uint8_t fl = r[2];
        bool more = !(fl & 1);
        uint32_t id = (fl & 2) ? 7 : 1;
        if (off + len > dg_len)
            len = off < dg_len ? dg_len - off : 0;
        if (fl & 1) /* the last fragment: to the datagram's end */
            len = off < dg_len ? dg_len - off : 0;
        const uint8_t *src = dg + off;
        if (fl & 4) { /* other bytes */
            memcpy(alt, dg + off, len);
            for (uint32_t k = 0; k < len; k++)
                alt[k] ^= r[3];
            src = alt;
            clean = false;
        }
        if ((fl & 8) && len > 1) { /* an odd length */
            len--;
            clean = false;
        }
        if (id != 1)
            clean = false;
        ts += (mbx_time)r[4] * 10000000ull; /* up to 2.55 s: timeouts happen */
        uint32_t n = build(frames[nf], v6, off, len, more, id, src);
        uint32_t cap = n;
        if (fl & 16) { /* cut by the snap length */
            cap = n > 10 ? n - 10 : n;
            clean = false;
        }
        fr[nb] = (struct mbx_frame){
            .data = frames[nf], .caplen = cap, .wirelen = n, .ts = ts, .linktype = 1};
        nb++;
        nf++;
        if (nb == 8 || (fl & 32)) {
            mbx_engine_input(e, fr, fwd, nb);
            nb = 0;
            if (defrag_mem_used(e) > cfg.defrag_mem)
                abort();
        }
    }
    if (nb)
        mbx_engine_input(e, fr, fwd, nb);
    if (defrag_mem_used(e) > cfg.defrag_mem)
        abort();
    mbx_engine_finish(e);
    struct mbx_stats s;
    mbx_engine_stats(e, &s);
    if (s.packets + s.frag_reassembled != s.decoded + s.decode_errors + s.frags)
        abort(); /* a packet not accounted for */
    if (defrag_pending(e) != 0 || defrag_mem_used(e) != 0)
        abort(); /* something left after the end */
    /* An untouched datagram, rebuilt under first-wins, is the datagram. */
    bool dropped = s.frag_drop_bad || s.frag_drop_trunc || s.frag_drop_too_many ||
                   s.frag_drop_mem || s.frag_evicted || s.frag_drop_past_end || s.frag_timeouts;
    if (clean && !dropped && cfg.policy == MBX_POLICY_FIRST && s.frag_reassembled == 1 &&
        s.decoded == 1 && !saw_exact)
        abort();
    mbx_engine_free(e);
    return 0;
}
