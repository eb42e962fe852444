/*
 * test_defrag.c - unit tests of IP fragment reassembly (defrag.c) through the
 * engine (mbx_engine_input) and, for the rebuilt frame itself, defrag_input.
 *
 * Datagrams are built here byte by byte (a UDP or TCP header and a payload of
 * known bytes), cut into Ethernet + IPv4 or IPv6 fragments, and fed in
 * order, reversed, shuffled, duplicated and overlapping; what comes out is the
 * payload of the one packet the engine decodes from the rebuilt datagram
 * (pkt_in), and the counters of struct mbx_stats.  The real case is
 * PcapPlusPlus's frag_http_req.pcap, whose rebuilt frame must be byte for
 * byte PcapPlusPlus's frag_http_req_reassembled.txt.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "mbx.h"

#define SEC 1000000000ull

/* ------------------------------------------------------------ datagrams */

/* A datagram: its L4 bytes (header + payload), as the fragments carry them. */
struct dgram {
    uint8_t b[70000];
    uint32_t n;
    uint8_t proto; /* 6 or 17 */
};

static void be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    be16(p, v >> 16);
    be16(p + 2, v & 0xffff);
}

/* Payload byte k of datagram seed s. */
static uint8_t pat(uint32_t k, unsigned s)
{
    return (uint8_t)('a' + (k * 7 + s) % 26);
}

static void udp_dgram(struct dgram *d, uint32_t payload, unsigned seed)
{
    d->proto = 17;
    d->n = 8 + payload;
    memset(d->b, 0, 8);
    be16(d->b, 5353);
    be16(d->b + 2, 53);
    be16(d->b + 4, d->n);
    for (uint32_t k = 0; k < payload; k++)
        d->b[8 + k] = pat(k, seed);
}

static void tcp_dgram(struct dgram *d, uint32_t payload, unsigned seed)
{
    d->proto = 6;
    d->n = 20 + payload;
    memset(d->b, 0, 20);
    be16(d->b, 40000);
    be16(d->b + 2, 80);
    be32(d->b + 4, 1000);
    be32(d->b + 8, 2000);
    d->b[12] = 5 << 4;
    d->b[13] = MBX_TCP_ACK | MBX_TCP_PSH;
    be16(d->b + 14, 65535);
    for (uint32_t k = 0; k < payload; k++)
        d->b[20 + k] = pat(k, seed);
}

/* A frame: Ethernet + IP fragment. */
struct frame {
    uint8_t b[70000];
    uint32_t n;
    mbx_time ts;
};

static const uint8_t eth_v4[14] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00};
static const uint8_t eth_v6[14] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x86, 0xdd};

/* IPv4 fragment of d: bytes [off, off + len), id, MF; opts bytes of options
 * (a multiple of 4) in its header. */
static void frag4(struct frame *f, const struct dgram *d, uint32_t off, uint32_t len, bool more,
                  uint16_t id, uint32_t opts)
{
    memcpy(f->b, eth_v4, 14);
    uint8_t *ip = f->b + 14;
    uint32_t hlen = 20 + opts;
    memset(ip, 0, hlen);
    ip[0] = (uint8_t)(0x40 | hlen / 4);
    be16(ip + 2, hlen + len);
    be16(ip + 4, id);
    be16(ip + 6, (more ? 0x2000 : 0) | (off / 8));
    ip[8] = 64;
    ip[9] = d->proto;
    ip[12] = 10, ip[13] = 0, ip[14] = 0, ip[15] = 1;
    ip[16] = 10, ip[17] = 0, ip[18] = 0, ip[19] = 2;
    for (uint32_t k = 0; k < opts; k++)
        ip[20 + k] = 1; /* NOP options */
    memcpy(ip + hlen, d->b + off, len);
    f->n = 14 + hlen + len;
}

/* IPv6 fragment of d, with nx extension headers (hop-by-hop, then
 * destination options, 8 bytes each) before the fragment header. */
static void frag6(struct frame *f, const struct dgram *d, uint32_t off, uint32_t len, bool more,
                  uint32_t id, int nx)
{
    memcpy(f->b, eth_v6, 14);
    uint8_t *ip = f->b + 14;
    memset(ip, 0, 40);
    ip[0] = 0x60;
    ip[7] = 64;
    mbx_addr_parse("2001:db8::1", (struct mbx_addr *)(void *)(ip + 8));
    mbx_addr_parse("2001:db8::2", (struct mbx_addr *)(void *)(ip + 24));
    uint8_t *x = ip + 40;
    uint8_t *nh = ip + 6;
    static const uint8_t kinds[2] = {0, 60};
    for (int k = 0; k < nx; k++) {
        *nh = kinds[k];
        memset(x, 0, 8);
        x[2] = 1; /* PadN of 4 */
        x[3] = 4;
        nh = x;
        x += 8;
    }
    *nh = 44;
    x[0] = d->proto;
    x[1] = 0;
    be16(x + 2, off | (more ? 1 : 0));
    be32(x + 4, id);
    memcpy(x + 8, d->b + off, len);
    uint32_t plen = (uint32_t)(x + 8 - (ip + 40)) + len;
    be16(ip + 4, plen);
    f->n = 14 + 40 + plen;
}

/* ------------------------------------------------------------ the engine */

static uint8_t got[70000]; /* payload of the last packet the engine saw */
static uint32_t got_len;
static int got_pkts;
static struct mbx_pkt got_pkt;

static void on_pkt(const struct mbx_event *ev, void *u)
{
    (void)u;
    got_pkts++;
    got_pkt = *ev->pkt;
    got_len = ev->pkt->payload_len;
    memcpy(got, ev->pkt->payload, got_len);
}

static mbx_engine *eng(struct mbx_config *c)
{
    struct mbx_config d;
    if (!c) {
        mbx_config_default(&d);
        c = &d;
    }
    mbx_engine *e = mbx_engine_new(c);
    assert_non_null(e);
    assert_true(mbx_subscribe(e, MBX_EV_PKT_IN, on_pkt, NULL, 0) >= 0);
    got_pkts = 0;
    got_len = 0;
    return e;
}

static mbx_time clock_ts = 1000 * SEC;

static void feed(mbx_engine *e, struct frame *f)
{
    struct mbx_frame fr = {.data = f->b,
                           .caplen = f->n,
                           .wirelen = f->n,
                           .ts = f->ts ? f->ts : (clock_ts += 1000),
                           .linktype = MBX_LINK_ETHERNET};
    bool fwd;
    assert_int_equal(mbx_engine_input(e, &fr, &fwd, 1), 1);
}

static struct mbx_stats stats(mbx_engine *e)
{
    struct mbx_stats s;
    mbx_engine_stats(e, &s);
    return s;
}

/* The payload the engine saw is d's (after its L4 header). */
static void assert_payload(const struct dgram *d)
{
    uint32_t h = d->proto == 6 ? 20 : 8;
    assert_int_equal(got_pkts, 1);
    assert_int_equal(got_len, d->n - h);
    assert_memory_equal(got, d->b + h, d->n - h);
}

static struct dgram D, D2;
static struct frame F[64];

/* Cuts d into fragments of size step (the last shorter) into F; returns the count. */
static int cut4(const struct dgram *d, uint32_t step, uint16_t id)
{
    int n = 0;
    for (uint32_t off = 0; off < d->n; off += step, n++) {
        uint32_t len = d->n - off < step ? d->n - off : step;
        frag4(&F[n], d, off, len, off + len < d->n, id, 0);
        F[n].ts = 0;
    }
    return n;
}

/* ------------------------------------------------------------ tests */

static void test_in_order(void **state)
{
    (void)state;
    mbx_engine *e = eng(NULL);
    udp_dgram(&D, 3000, 1);
    int n = cut4(&D, 1480, 7);
    assert_int_equal(n, 3);
    for (int k = 0; k < n; k++)
        feed(e, &F[k]);
    assert_payload(&D);
    assert_int_equal(got_pkt.sport, 5353);
    assert_int_equal(got_pkt.ip_len, 20 + D.n);
    struct mbx_stats s = stats(e);
    assert_int_equal(s.packets, 3);
    assert_int_equal(s.frags, 3);
    assert_int_equal(s.frag_reassembled, 1);
    assert_int_equal(s.decoded, 1);
    assert_int_equal(s.decode_errors, 0);
    assert_int_equal(s.frag_overlaps, 0);
    assert_int_equal(defrag_pending(e), 0);
    assert_int_equal(defrag_mem_used(e), 0); /* blocks back in the pool */
    mbx_engine_free(e);
}

static void test_reverse(void **state)
{
    (void)state;
    mbx_engine *e = eng(NULL);
    tcp_dgram(&D, 4000, 2);
    int n = cut4(&D, 512, 9); /* the last fragment comes first */
    for (int k = n - 1; k >= 0; k--)
        feed(e, &F[k]);
    assert_payload(&D);
    assert_int_equal(got_pkt.seq, 1000);
    struct mbx_stats s = stats(e);
    assert_int_equal(s.frags, (uint64_t)n);
    assert_int_equal(s.frag_reassembled, 1);
    assert_int_equal(s.flows, 1);
    mbx_engine_free(e);
}

static void test_shuffled(void **state)
{
    (void)state;
    mbx_engine *e = eng(NULL);
    udp_dgram(&D, 2000, 3);
    int n = cut4(&D, 64, 11);
    assert_int_equal(n, 32);
    /* a fixed permutation: k * 13 mod 32, the one completing fragment last */
    for (int k = 1; k <= n; k++)
        feed(e, &F[(k * 13) % n]);
    assert_payload(&D);
    assert_int_equal(stats(e).frag_reassembled, 1);
    mbx_engine_free(e);
}

static void test_duplicate(void **state)
{
    (void)state;
    mbx_engine *e = eng(NULL);
    udp_dgram(&D, 2000, 4);
    int n = cut4(&D, 1000, 12);
    feed(e, &F[0]);
    feed(e, &F[0]); /* the same bytes again */
    assert_int_equal(got_pkts, 0);
    for (int k = 1; k < n; k++)
        feed(e, &F[k]);
    assert_payload(&D);
    struct mbx_stats s = stats(e);
    assert_int_equal(s.frag_overlaps, 1);
    assert_int_equal(s.frag_inconsistent, 0);
    assert_int_equal(s.frag_reassembled, 1);
    mbx_engine_free(e);
}

/* Fragment A [0, 24) then B [16, 40) whose bytes [16, 24) differ: first-wins
 * keeps A's, last-wins takes B's; both count an inconsistent overlap. */
static void overlap_case(enum mbx_overlap_policy pol)
{
    struct mbx_config c;
    mbx_config_default(&c);
    c.policy = pol;
    mbx_engine *e = eng(&c);
    udp_dgram(&D, 32, 5); /* 40 bytes */
    D2 = D;
    memset(D2.b + 16, 'X', 8);
    frag4(&F[0], &D, 0, 24, true, 13, 0);
    frag4(&F[1], &D2, 16, 24, false, 13, 0);
    F[0].ts = F[1].ts = 0;
    feed(e, &F[0]);
    feed(e, &F[1]);
    assert_int_equal(got_pkts, 1);
    assert_int_equal(got_len, 32);
    if (pol == MBX_POLICY_FIRST) {
        assert_memory_equal(got, D.b + 8, 32);
    } else {
        assert_memory_equal(got, D2.b + 8, 32);
        assert_memory_equal(got + 8, "XXXXXXXX", 8);
    }
    struct mbx_stats s = stats(e);
    assert_int_equal(s.frag_overlaps, 1);
    assert_int_equal(s.frag_inconsistent, 1);
    mbx_engine_free(e);
}

static void test_overlap_first(void **state)
{
    (void)state;
    overlap_case(MBX_POLICY_FIRST);
}

static void test_overlap_last(void **state)
{
    (void)state;
    overlap_case(MBX_POLICY_LAST);
}

/* A datagram not complete 60 s (the default) after its first fragment is
 * dropped; a fragment arriving later starts a new one. */
static void test_timeout(void **state)
{
    (void)state;
    mbx_engine *e = eng(NULL);
    udp_dgram(&D, 2000, 6);
    int n = cut4(&D, 1000, 14);
    assert_int_equal(n, 3);
    F[0].ts = 5000 * SEC;
    F[1].ts = 5000 * SEC + 60 * SEC; /* exactly the timeout: still in time */
    F[2].ts = 5000 * SEC + 60 * SEC + 1;
    feed(e, &F[0]);
    feed(e, &F[1]);
    assert_int_equal(stats(e).frag_timeouts, 0);
    feed(e, &F[2]); /* too late: the first two are gone */
    assert_int_equal(got_pkts, 0);
    struct mbx_stats s = stats(e);
    assert_int_equal(s.frag_timeouts, 1);
    assert_int_equal(defrag_pending(e), 1);
    mbx_engine_finish(e);
    s = stats(e);
    assert_int_equal(s.frag_unfinished, 1);
    assert_int_equal(defrag_pending(e), 0);
    mbx_engine_free(e);

    /* a shorter configured timeout */
    struct mbx_config c;
    mbx_config_default(&c);
    c.defrag_timeout = 2 * SEC;
    e = eng(&c);
    F[0].ts = 6000 * SEC;
    F[1].ts = 6000 * SEC + SEC;
    F[2].ts = 6000 * SEC + 3 * SEC;
    for (int k = 0; k < 3; k++)
        feed(e, &F[k]);
    assert_int_equal(got_pkts, 0);
    assert_int_equal(stats(e).frag_timeouts, 1);
    mbx_engine_free(e);
}

/* A table of 2 datagrams: a third evicts the oldest. */
static void test_table_full(void **state)
{
    (void)state;
    struct mbx_config c;
    mbx_config_default(&c);
    c.defrag_max_datagrams = 2;
    mbx_engine *e = eng(&c);
    udp_dgram(&D, 2000, 7);
    for (uint16_t id = 1; id <= 3; id++) {
        frag4(&F[id], &D, 0, 1000, true, id, 0);
        F[id].ts = 0;
        feed(e, &F[id]);
    }
    struct mbx_stats s = stats(e);
    assert_int_equal(s.frag_evicted, 1);
    assert_int_equal(defrag_pending(e), 2);
    /* datagram 1 was evicted: its rest does not complete it (it starts anew) */
    frag4(&F[10], &D, 1000, 1008, false, 1, 0);
    F[10].ts = 0;
    feed(e, &F[10]);
    assert_int_equal(got_pkts, 0);
    assert_int_equal(stats(e).frag_evicted, 2); /* datagram 2 made room */
    /* datagram 3 is still there */
    frag4(&F[11], &D, 1000, 1008, false, 3, 0);
    F[11].ts = 0;
    feed(e, &F[11]);
    assert_payload(&D);
    mbx_engine_free(e);
}

static void test_bad_fragments(void **state)
{
    (void)state;
    mbx_engine *e = eng(NULL);
    udp_dgram(&D, 2000, 8);
    frag4(&F[0], &D, 0, 0, true, 20, 0);  /* empty */
    frag4(&F[1], &D, 0, 12, true, 21, 0); /* not last, not a multiple of 8 */
    frag4(&F[2], &D, 0, 1000, true, 22, 0);
    F[2].n -= 100; /* cut by the snap length */
    for (int k = 0; k < 3; k++) {
        F[k].ts = 0;
        feed(e, &F[k]);
    }
    struct mbx_stats s = stats(e);
    assert_int_equal(s.frags, 3);
    assert_int_equal(s.frag_drop_bad, 2);
    assert_int_equal(s.frag_drop_trunc, 1);
    assert_int_equal(s.decode_errors, 0);
    assert_int_equal(defrag_pending(e), 0);
    /* an odd-sized last fragment is fine */
    udp_dgram(&D, 13, 8);
    frag4(&F[3], &D, 0, 8, true, 23, 0);
    frag4(&F[4], &D, 8, 13, false, 23, 0);
    F[3].ts = F[4].ts = 0;
    feed(e, &F[3]);
    feed(e, &F[4]);
    assert_payload(&D);
    mbx_engine_free(e);
}

/* Too many fragments for one datagram; fragments past the end the last
 * fragment gave. */
static void test_too_many_and_past_end(void **state)
{
    (void)state;
    struct mbx_config c;
    mbx_config_default(&c);
    c.defrag_max_frags = 4;
    mbx_engine *e = eng(&c);
    udp_dgram(&D, 2000, 9);
    for (int k = 0; k < 5; k++) { /* the same 8 bytes five times */
        frag4(&F[k], &D, 8, 8, true, 30, 0);
        F[k].ts = 0;
        feed(e, &F[k]);
    }
    struct mbx_stats s = stats(e);
    assert_int_equal(s.frag_drop_too_many, 1);
    assert_int_equal(s.frag_overlaps, 3);

    udp_dgram(&D, 92, 10); /* 100 bytes */
    frag4(&F[0], &D, 0, 8, true, 31, 0);
    frag4(&F[1], &D, 96, 4, false, 31, 0); /* the end: 100 */
    frag4(&F[2], &D, 104, 8, true, 31, 0); /* all past the end: dropped */
    frag4(&F[3], &D, 8, 96, true, 31, 0);  /* reaches 104: cut at 100 */
    for (int k = 0; k < 4; k++) {
        F[k].ts = 0;
        feed(e, &F[k]);
    }
    s = stats(e);
    assert_int_equal(s.frag_drop_past_end, 1);
    assert_int_equal(s.frag_size_mismatch, 1);
    assert_payload(&D);
    mbx_engine_free(e);
}

/* An end past 65535: offset 65512 + 40 bytes. */
static void test_too_big(void **state)
{
    (void)state;
    mbx_engine *e = eng(NULL);
    udp_dgram(&D, 65520, 11);
    frag4(&F[0], &D, 65512, 24, false, 40, 0); /* 20 + 65536 bytes */
    frag4(&F[1], &D, 65504, 8, true, 40, 0);   /* fine alone */
    F[0].ts = F[1].ts = 0;
    feed(e, &F[0]);
    feed(e, &F[1]);
    struct mbx_stats s = stats(e);
    assert_int_equal(s.frag_drop_too_big, 1);
    assert_int_equal(defrag_pending(e), 1);
    /* the largest datagram that fits: 65515 bytes after a 20-byte header */
    udp_dgram(&D, 65507, 12);
    assert_int_equal(D.n, 65515);
    int n = cut4(&D, 1480, 41);
    for (int k = 0; k < n; k++)
        feed(e, &F[k]);
    assert_payload(&D);
    mbx_engine_free(e);
}

/* IPv6: hop-by-hop and destination options before the fragment header (the
 * unfragmentable part, kept from the first fragment), a tiny first fragment
 * that cuts the TCP header. */
static void test_ipv6_ext(void **state)
{
    (void)state;
    mbx_engine *e = eng(NULL);
    tcp_dgram(&D, 3000, 13);
    frag6(&F[0], &D, 0, 8, true, 0xdeadbeef, 2); /* ports and seq only */
    frag6(&F[1], &D, 8, 1600, true, 0xdeadbeef, 2);
    frag6(&F[2], &D, 1608, D.n - 1608, false, 0xdeadbeef, 2);
    F[0].ts = F[1].ts = F[2].ts = 0;
    feed(e, &F[2]);
    feed(e, &F[0]);
    feed(e, &F[1]);
    assert_payload(&D);
    assert_int_equal(got_pkt.ip_ver, 6);
    assert_int_equal(got_pkt.seq, 1000);
    assert_int_equal(got_pkt.l4_off, 14 + 40 + 16); /* two 8-byte options headers */
    struct mbx_stats s = stats(e);
    assert_int_equal(s.frag_tiny, 1);
    assert_int_equal(s.frag_reassembled, 1);

    /* the rebuilt frame itself: no fragment header, the chain and length fixed */
    struct mbx_pkt p;
    struct mbx_frame out;
    bool done = false;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(mbx_decode(&p, MBX_LINK_ETHERNET, F[k].b, F[k].n, F[k].n, 1),
                         MBX_DECODE_FRAGMENT);
        done = defrag_input(e, &p, MBX_LINK_ETHERNET, &out);
    }
    assert_true(done);
    assert_int_equal(out.caplen, 14 + 40 + 16 + D.n);
    const uint8_t *ip = out.data + 14;
    assert_int_equal(ip[4] << 8 | ip[5], 16 + D.n); /* payload length */
    assert_int_equal(ip[6], 0);                     /* hop-by-hop */
    assert_int_equal(ip[40], 60);                   /* then destination options */
    assert_int_equal(ip[48], 6);                    /* then TCP, not 44 */
    assert_memory_equal(ip + 56, D.b, D.n);
    mbx_engine_free(e);
}

/* IPv4 options in the first fragment are kept; later fragments have none. */
static void test_ipv4_options(void **state)
{
    (void)state;
    mbx_engine *e = eng(NULL);
    tcp_dgram(&D, 100, 14);
    frag4(&F[0], &D, 0, 16, true, 50, 8); /* 8 bytes of options; TCP header cut */
    frag4(&F[1], &D, 16, D.n - 16, false, 50, 0);
    F[0].ts = F[1].ts = 0;
    feed(e, &F[0]);
    feed(e, &F[1]);
    assert_payload(&D);
    assert_int_equal(got_pkt.l4_off, 14 + 28);
    assert_int_equal(got_pkt.ip_len, 28 + D.n);
    assert_int_equal(got_pkt.dport, 80);
    struct mbx_stats s = stats(e);
    assert_int_equal(s.frag_tiny, 1);
    mbx_engine_free(e);
}

/* A pool of 64 KiB (the least: one whole datagram): datagrams holding two
 * blocks each; the oldest are evicted to make room and the pool is never
 * exceeded. */
static void test_memory_bound(void **state)
{
    (void)state;
    struct mbx_config c;
    mbx_config_default(&c);
    c.defrag_mem = 64 * 1024;
    mbx_engine *e = eng(&c);
    udp_dgram(&D, 40000, 15);
    for (uint16_t id = 1; id <= 40; id++) {
        frag4(&F[0], &D, 0, 1000, true, id, 0);
        frag4(&F[1], &D, 32768, 1000, true, id, 0);
        F[0].ts = F[1].ts = 0;
        feed(e, &F[0]);
        feed(e, &F[1]);
        assert_true(defrag_mem_used(e) <= 64 * 1024);
    }
    struct mbx_stats s = stats(e);
    assert_int_equal(defrag_pending(e), 32);
    assert_int_equal(s.frag_evicted, 8);
    assert_int_equal(s.frag_drop_mem, 0);
    /* a whole 40 KiB datagram still gets through, evicting what it needs */
    int n = cut4(&D, 1480, 99);
    for (int k = 0; k < n; k++)
        feed(e, &F[k]);
    assert_payload(&D);
    assert_true(stats(e).frag_evicted > 8);
    mbx_engine_free(e);
}

/* defrag off: fragments are decode errors (FRAGMENT), as before. */
static void test_disabled(void **state)
{
    (void)state;
    struct mbx_config c;
    mbx_config_default(&c);
    c.defrag = false;
    mbx_engine *e = eng(&c);
    udp_dgram(&D, 3000, 16);
    int n = cut4(&D, 1480, 60);
    for (int k = 0; k < n; k++)
        feed(e, &F[k]);
    assert_int_equal(got_pkts, 0);
    struct mbx_stats s = stats(e);
    assert_int_equal(s.frags, 0);
    assert_int_equal(s.decode_errors, 3);
    assert_int_equal(s.decode_err[MBX_DECODE_FRAGMENT], 3);
    mbx_engine_free(e);
}

/* PcapPlusPlus's frag_http_req.pcap: 11 fragments of one HTTP request; the
 * rebuilt frame is the one PcapPlusPlus's test expects, byte for byte (IP
 * total length, flags and offset cleared, header checksum recomputed). */
static void test_pcapplusplus(void **state)
{
    (void)state;
    const char *dir = MBX_SHARED_DIR "/corpora/pcapplusplus/";
    char path[512], err[256];
    snprintf(path, sizeof(path), "%sfrag_http_req_reassembled.txt", dir);
    FILE *fp = fopen(path, "r");
    if (!fp)
        skip();
    static char hex[8192];
    size_t nh = fread(hex, 1, sizeof(hex) - 1, fp);
    fclose(fp);
    static uint8_t want[4096];
    size_t nw = 0;
    for (size_t k = 0; k + 1 < nh; k += 2) {
        unsigned v;
        if (sscanf(hex + k, "%2x", &v) != 1)
            break;
        want[nw++] = (uint8_t)v;
    }
    assert_int_equal(nw, 1514);
    snprintf(path, sizeof(path), "%sfrag_http_req.pcap", dir);
    struct mbx_source *src = mbx_source_open_file(path, err, sizeof(err));
    assert_non_null(src);
    mbx_engine *e = eng(NULL);
    struct mbx_frame fr[32], out;
    int n, k = 0, done = 0;
    while ((n = mbx_source_next(src, fr, 32)) > 0) {
        for (int j = 0; j < n; j++, k++) {
            struct mbx_pkt p;
            assert_int_equal(
                mbx_decode(&p, fr[j].linktype, fr[j].data, fr[j].caplen, fr[j].wirelen, fr[j].ts),
                MBX_DECODE_FRAGMENT);
            if (defrag_input(e, &p, fr[j].linktype, &out)) {
                done++;
                assert_int_equal(k, 10); /* the last of 11 */
                assert_int_equal(out.caplen, nw);
                assert_memory_equal(out.data, want, nw);
            }
        }
    }
    assert_int_equal(k, 11);
    assert_int_equal(done, 1);
    mbx_engine_free(e);
    mbx_source_close(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),      cmocka_unit_test(test_reverse),
        cmocka_unit_test(test_shuffled),      cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_overlap_first), cmocka_unit_test(test_overlap_last),
        cmocka_unit_test(test_timeout),       cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_bad_fragments), cmocka_unit_test(test_too_many_and_past_end),
        cmocka_unit_test(test_too_big),       cmocka_unit_test(test_ipv6_ext),
        cmocka_unit_test(test_ipv4_options),  cmocka_unit_test(test_memory_bound),
        cmocka_unit_test(test_disabled),      cmocka_unit_test(test_pcapplusplus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
