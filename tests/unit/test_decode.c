/*
 * test_decode.c - unit tests of mbx_decode and the address helpers (mbx.h
 * sections 1 and 2).
 *
 * Two kinds of truth: frames built here byte by byte, whose every field is known
 * by construction, and real frames from ../shared/corpora whose expected values
 * were printed by tshark 4.0.17 (`tshark -r FILE -T fields -e ip.src -e
 * tcp.seq_raw ...`, command quoted at each table).  Every decode error reason is
 * produced by a crafted frame, and a real frame cut one byte at a time is decoded
 * from an exactly-sized heap copy so that an ASan build catches any read past
 * caplen.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mbx.h"

/* ------------------------------------------------------------ frame builder */

struct fb {
    uint8_t b[4096];
    uint32_t n;
    uint32_t ip; /* offset of the IP header being built */
    uint32_t l4; /* offset of the L4 header */
};

static void put8(struct fb *f, unsigned v)
{
    f->b[f->n++] = (uint8_t)v;
}
static void put16(struct fb *f, unsigned v)
{
    put8(f, v >> 8);
    put8(f, v);
}
static void put32(struct fb *f, uint32_t v)
{
    put16(f, v >> 16);
    put16(f, v & 0xffff);
}
static void putn(struct fb *f, const void *p, size_t n)
{
    if (n)
        memcpy(f->b + f->n, p, n);
    f->n += (uint32_t)n;
}
static void set16(struct fb *f, uint32_t at, unsigned v)
{
    f->b[at] = (uint8_t)(v >> 8);
    f->b[at + 1] = (uint8_t)v;
}

static void eth(struct fb *f, unsigned type)
{
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
    putn(f, macs, 12);
    put16(f, type);
}

/* IPv4 header from 10.0.0.1 to 10.0.0.2; optlen bytes of NOP options (then EOL);
 * total length patched by ip4_end. */
static void ip4(struct fb *f, unsigned proto, unsigned optlen, unsigned frag)
{
    f->ip = f->n;
    put8(f, 0x40 | (5 + optlen / 4));
    put8(f, 0);
    put16(f, 0); /* total length: ip4_end */
    put16(f, 0x1234);
    put16(f, frag);
    put8(f, 63); /* TTL */
    put8(f, proto);
    put16(f, 0); /* checksum: not verified */
    put32(f, 0x0a000001);
    put32(f, 0x0a000002);
    for (unsigned i = 0; i < optlen; i++)
        put8(f, i + 1 < optlen ? 1 : 0);
    f->l4 = f->n;
}
static void ip4_end(struct fb *f)
{
    set16(f, f->ip + 2, f->n - f->ip);
}

/* IPv6 header 2001:db8::1 -> 2001:db8::2, hop limit 62; payload length patched
 * by ip6_end. */
static void ip6(struct fb *f, unsigned next)
{
    f->ip = f->n;
    put32(f, 0x60000000);
    put16(f, 0);
    put8(f, next);
    put8(f, 62);
    put32(f, 0x20010db8);
    put32(f, 0);
    put32(f, 0);
    put32(f, 1);
    put32(f, 0x20010db8);
    put32(f, 0);
    put32(f, 0);
    put32(f, 2);
    f->l4 = f->n;
}
static void ip6_end(struct fb *f)
{
    set16(f, f->ip + 4, f->n - f->ip - 40);
}

/* TCP 1234 -> 80, seq 0x01020304, ack 0x05060708, window 0x1000, urp 7; opts is
 * a multiple of 4 bytes. */
static void tcp(struct fb *f, unsigned flags, const uint8_t *opts, unsigned optlen)
{
    f->l4 = f->n;
    put16(f, 1234);
    put16(f, 80);
    put32(f, 0x01020304);
    put32(f, 0x05060708);
    put8(f, ((20 + optlen) / 4) << 4);
    put8(f, flags);
    put16(f, 0x1000);
    put16(f, 0);
    put16(f, 7);
    putn(f, opts, optlen);
}

static void udp(struct fb *f, const char *payload)
{
    f->l4 = f->n;
    put16(f, 5353);
    put16(f, 53);
    put16(f, 8 + (unsigned)strlen(payload));
    put16(f, 0);
    putn(f, payload, strlen(payload));
}

/* MSS 1460, NOP, WS 7, SACK permitted, TS 100 200: 20 bytes */
static const uint8_t syn_opts[20] = {2, 4,  0x05, 0xb4, 1, 3,   3, 7, 4, 2,
                                     8, 10, 0,    0,    0, 100, 0, 0, 0, 200};

static enum mbx_decode_err dec(struct mbx_pkt *p, int link, const struct fb *f)
{
    return mbx_decode(p, link, f->b, f->n, f->n, 42);
}

static void check_v4_tcp(const struct mbx_pkt *p)
{
    char a[64], b[64];
    assert_string_equal(mbx_addr_str(&p->src, a, sizeof a), "10.0.0.1");
    assert_string_equal(mbx_addr_str(&p->dst, b, sizeof b), "10.0.0.2");
    assert_int_equal(p->ip_ver, 4);
    assert_int_equal(p->ttl, 63);
    assert_int_equal(p->proto, 6);
    assert_int_equal(p->sport, 1234);
    assert_int_equal(p->dport, 80);
    assert_int_equal(p->seq, 0x01020304);
    assert_int_equal(p->ack, 0x05060708);
    assert_int_equal(p->win, 0x1000);
    assert_int_equal(p->urp, 7);
}

/* ------------------------------------------------------------ crafted frames */

static void test_eth_ipv4_tcp_options(void **state)
{
    struct fb f = {0};
    struct mbx_pkt p;
    eth(&f, 0x0800);
    ip4(&f, 6, 0, 0x4000); /* DF only: not a fragment */
    tcp(&f, MBX_TCP_SYN | MBX_TCP_ACK, syn_opts, sizeof syn_opts);
    putn(&f, "hello", 5);
    ip4_end(&f);
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_OK);
    check_v4_tcp(&p);
    assert_int_equal(p.l3_off, 14);
    assert_int_equal(p.l4_off, 34);
    assert_int_equal(p.ip_len, 20 + 40 + 5);
    assert_int_equal(p.tcp_hlen, 40);
    assert_int_equal(p.tcp_flags, MBX_TCP_SYN | MBX_TCP_ACK);
    assert_int_equal(p.opts, MBX_OPT_MSS | MBX_OPT_WSCALE | MBX_OPT_SACK_PERM | MBX_OPT_TS);
    assert_int_equal(p.mss, 1460);
    assert_int_equal(p.wscale, 7);
    assert_int_equal(p.tsval, 100);
    assert_int_equal(p.tsecr, 200);
    assert_int_equal(p.payload_len, 5);
    assert_memory_equal(p.payload, "hello", 5);
    assert_ptr_equal(p.frame, f.b);
    assert_int_equal(p.ts, 42);
    assert_int_equal(p.nvlan, 0);
    assert_int_equal(p.pflags, 0);
}

/* Ethernet pads short frames to 60 bytes: padding is not payload. */
static void test_eth_padding(void **state)
{
    struct fb f = {0};
    struct mbx_pkt p;
    eth(&f, 0x0800);
    ip4(&f, 6, 0, 0);
    tcp(&f, MBX_TCP_ACK, NULL, 0);
    putn(&f, "ab", 2);
    ip4_end(&f);
    while (f.n < 60)
        put8(&f, 0xee);
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_OK);
    assert_int_equal(p.payload_len, 2);
    assert_int_equal(p.pflags, 0);
}

static void test_vlan_qinq(void **state)
{
    static const unsigned outer_types[] = {0x8100, 0x88a8, 0x9100};
    for (int i = 0; i < 3; i++) {
        struct fb f = {0};
        struct mbx_pkt p;
        eth(&f, outer_types[i]);
        put16(&f, 0x2000 | 200); /* PCP 1, VID 200 */
        put16(&f, 0x8100);
        put16(&f, 0xe000 | 4090); /* PCP 7, VID 4090 */
        put16(&f, 0x0800);
        ip4(&f, 6, 0, 0);
        tcp(&f, MBX_TCP_ACK, NULL, 0);
        ip4_end(&f);
        assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_OK);
        assert_int_equal(p.nvlan, 2);
        assert_int_equal(p.vlan[0], 200);
        assert_int_equal(p.vlan[1], 4090);
        assert_int_equal(p.l3_off, 22);
        check_v4_tcp(&p);
    }
    /* one 802.1Q tag */
    struct fb f = {0};
    struct mbx_pkt p;
    eth(&f, 0x8100);
    put16(&f, 100);
    put16(&f, 0x86dd);
    ip6(&f, 17);
    udp(&f, "x");
    ip6_end(&f);
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_OK);
    assert_int_equal(p.nvlan, 1);
    assert_int_equal(p.vlan[0], 100);
    assert_int_equal(p.vlan[1], 0);
    assert_int_equal(p.ip_ver, 6);
}

static void test_pppoe(void **state)
{
    char a[64];
    /* IPv4, PPP protocol in 2 bytes */
    struct fb f = {0};
    struct mbx_pkt p;
    eth(&f, 0x8864);
    put8(&f, 0x11);
    put8(&f, 0x00);
    put16(&f, 0x002d);
    put16(&f, 0); /* length: not trusted, not checked */
    put16(&f, 0x0021);
    ip4(&f, 6, 0, 0);
    tcp(&f, MBX_TCP_ACK, NULL, 0);
    putn(&f, "GET", 3);
    ip4_end(&f);
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_OK);
    assert_int_equal(p.l3_off, 22);
    assert_int_equal(p.payload_len, 3);
    check_v4_tcp(&p);
    /* IPv6, PPP protocol compressed to 1 byte (RFC 1661 6.5) */
    f = (struct fb){0};
    eth(&f, 0x8864);
    put8(&f, 0x11);
    put8(&f, 0x00);
    put16(&f, 7);
    put16(&f, 0);
    put8(&f, 0x57);
    ip6(&f, 6);
    tcp(&f, MBX_TCP_ACK, NULL, 0);
    ip6_end(&f);
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_OK);
    assert_int_equal(p.l3_off, 21);
    assert_int_equal(p.ip_ver, 6);
    assert_string_equal(mbx_addr_str(&p.dst, a, sizeof a), "2001:db8::2");
    /* LCP (0xc021) is not IP */
    f = (struct fb){0};
    eth(&f, 0x8864);
    put8(&f, 0x11);
    put8(&f, 0x00);
    put16(&f, 7);
    put16(&f, 0);
    put16(&f, 0xc021);
    put32(&f, 0);
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_NOT_IP);
    /* PPPoE discovery (0x8863) is not IP */
    f = (struct fb){0};
    eth(&f, 0x8863);
    put32(&f, 0x11090000);
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_NOT_IP);
}

static void test_sll_sll2(void **state)
{
    struct fb f = {0};
    struct mbx_pkt p;
    /* SLL: packet type 0 (to us), ARPHRD_ETHER, address length 6, address, protocol */
    put16(&f, 0);
    put16(&f, 1);
    put16(&f, 6);
    putn(&f, "\x02\0\0\0\0\x01\0\0", 8);
    put16(&f, 0x0800);
    ip4(&f, 6, 0, 0);
    tcp(&f, MBX_TCP_FIN | MBX_TCP_ACK, NULL, 0);
    ip4_end(&f);
    assert_int_equal(dec(&p, MBX_LINK_SLL, &f), MBX_DECODE_OK);
    assert_int_equal(p.l3_off, 16);
    check_v4_tcp(&p);
    assert_int_equal(p.tcp_flags, MBX_TCP_FIN | MBX_TCP_ACK);
    /* SLL2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address */
    f = (struct fb){0};
    put16(&f, 0x86dd);
    put16(&f, 0);
    put32(&f, 3);
    put16(&f, 1);
    put8(&f, 4);
    put8(&f, 6);
    putn(&f, "\x02\0\0\0\0\x01\0\0", 8);
    ip6(&f, 17);
    udp(&f, "dns?");
    ip6_end(&f);
    assert_int_equal(dec(&p, MBX_LINK_SLL2, &f), MBX_DECODE_OK);
    assert_int_equal(p.l3_off, 20);
    assert_int_equal(p.l4_off, 60);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.sport, 5353);
    assert_int_equal(p.dport, 53);
    assert_int_equal(p.payload_len, 4);
    assert_memory_equal(p.payload, "dns?", 4);
    /* SLL carrying a VLAN tag */
    f = (struct fb){0};
    put16(&f, 0);
    put16(&f, 1);
    put16(&f, 6);
    putn(&f, "\x02\0\0\0\0\x01\0\0", 8);
    put16(&f, 0x8100);
    put16(&f, 33);
    put16(&f, 0x0800);
    ip4(&f, 6, 0, 0);
    tcp(&f, MBX_TCP_ACK, NULL, 0);
    ip4_end(&f);
    assert_int_equal(dec(&p, MBX_LINK_SLL, &f), MBX_DECODE_OK);
    assert_int_equal(p.vlan[0], 33);
    assert_int_equal(p.l3_off, 20);
}

static void test_raw_ip(void **state)
{
    static const int v4_links[] = {12, 14, MBX_LINK_RAW, MBX_LINK_IPV4};
    static const int v6_links[] = {12, 14, MBX_LINK_RAW, MBX_LINK_IPV6};
    struct fb f4 = {0}, f6 = {0};
    struct mbx_pkt p;
    ip4(&f4, 6, 0, 0);
    tcp(&f4, MBX_TCP_ACK, NULL, 0);
    ip4_end(&f4);
    ip6(&f6, 6);
    tcp(&f6, MBX_TCP_ACK, NULL, 0);
    ip6_end(&f6);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(dec(&p, v4_links[i], &f4), MBX_DECODE_OK);
        assert_int_equal(p.l3_off, 0);
        check_v4_tcp(&p);
        assert_int_equal(dec(&p, v6_links[i], &f6), MBX_DECODE_OK);
        assert_int_equal(p.ip_ver, 6);
        assert_int_equal(p.ttl, 62);
        assert_int_equal(p.ip_len, 60);
    }
    /* the link type says IPv6, the header says 4 */
    assert_int_equal(dec(&p, MBX_LINK_IPV6, &f4), MBX_DECODE_BAD_IP_VERSION);
    assert_int_equal(dec(&p, MBX_LINK_IPV4, &f6), MBX_DECODE_BAD_IP_VERSION);
}

static void test_null_loop(void **state)
{
    /* family in little endian (written on x86), big endian (SPARC), LOOP: big */
    static const struct {
        int link;
        uint8_t fam[4];
        int ver;
    } cases[] = {
        {MBX_LINK_NULL, {2, 0, 0, 0}, 4},  {MBX_LINK_NULL, {0, 0, 0, 2}, 4},
        {MBX_LINK_NULL, {30, 0, 0, 0}, 6}, {MBX_LINK_NULL, {0, 0, 0, 24}, 6},
        {MBX_LINK_NULL, {28, 0, 0, 0}, 6}, {MBX_LINK_NULL, {10, 0, 0, 0}, 6},
        {MBX_LINK_LOOP, {0, 0, 0, 2}, 4},  {MBX_LINK_LOOP, {0, 0, 0, 24}, 6},
    };
    struct mbx_pkt p;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fb f = {0};
        putn(&f, cases[i].fam, 4);
        if (cases[i].ver == 4) {
            ip4(&f, 17, 0, 0);
            udp(&f, "q");
            ip4_end(&f);
        } else {
            ip6(&f, 17);
            udp(&f, "q");
            ip6_end(&f);
        }
        assert_int_equal(dec(&p, cases[i].link, &f), MBX_DECODE_OK);
        assert_int_equal(p.ip_ver, cases[i].ver);
        assert_int_equal(p.l3_off, 4);
        assert_int_equal(p.payload_len, 1);
    }
    struct fb f = {0};
    putn(&f, "\x07\0\0\0", 4); /* AF 7: not IP */
    ip4(&f, 17, 0, 0);
    assert_int_equal(dec(&p, MBX_LINK_NULL, &f), MBX_DECODE_NOT_IP);
}

static void test_ipv4_options_and_fragments(void **state)
{
    struct fb f = {0};
    struct mbx_pkt p;
    eth(&f, 0x0800);
    ip4(&f, 6, 8, 0); /* 8 bytes of options: hlen 28 */
    tcp(&f, MBX_TCP_ACK, NULL, 0);
    putn(&f, "xyz", 3);
    ip4_end(&f);
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_OK);
    assert_int_equal(p.l4_off, 14 + 28);
    assert_int_equal(p.payload_len, 3);
    check_v4_tcp(&p);
    /* MF set, offset 0: first fragment */
    set16(&f, 14 + 6, 0x2000);
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_FRAGMENT);
    assert_int_equal(p.proto, 6); /* the IP fields are filled for counting */
    assert_int_equal(p.ip_ver, 4);
    /* offset 185 (1480 bytes), MF clear: last fragment */
    set16(&f, 14 + 6, 185);
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_FRAGMENT);
    /* DF and the reserved bit only: whole datagram */
    set16(&f, 14 + 6, 0xc000);
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_OK);
}

static void test_ipv6_extension_headers(void **state)
{
    struct fb f = {0};
    struct mbx_pkt p;
    eth(&f, 0x86dd);
    ip6(&f, 0);
    /* hop-by-hop (8 bytes): next = routing */
    put8(&f, 43);
    put8(&f, 0);
    put8(&f, 1); /* PadN */
    put8(&f, 4);
    put32(&f, 0);
    /* routing (24 bytes, length 2): next = destination options */
    put8(&f, 60);
    put8(&f, 2);
    put8(&f, 0);
    put8(&f, 0);
    for (int i = 0; i < 20; i++)
        put8(&f, 0);
    /* destination options (16 bytes, length 1): next = AH */
    put8(&f, 51);
    put8(&f, 1);
    for (int i = 0; i < 14; i++)
        put8(&f, 0);
    /* AH (24 bytes: payload length 4 -> (4 + 2) * 4): next = fragment */
    put8(&f, 44);
    put8(&f, 4);
    for (int i = 0; i < 22; i++)
        put8(&f, 0);
    /* atomic fragment (offset 0, M clear): next = TCP */
    uint32_t frag = f.n;
    put8(&f, 6);
    put8(&f, 0);
    put16(&f, 0);
    put32(&f, 0xabcdef01);
    tcp(&f, MBX_TCP_PSH | MBX_TCP_ACK, NULL, 0);
    putn(&f, "data", 4);
    ip6_end(&f);
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_OK);
    assert_int_equal(p.l4_off, 14 + 40 + 8 + 24 + 16 + 24 + 8);
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.payload_len, 4);
    assert_memory_equal(p.payload, "data", 4);
    assert_int_equal(p.seq, 0x01020304);
    /* the same with M set: a real fragment */
    f.b[frag + 3] = 1;
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_FRAGMENT);
    /* offset 8, M clear */
    f.b[frag + 3] = 0;
    f.b[frag + 2] = 0;
    set16(&f, frag + 2, 8 << 3);
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_FRAGMENT);
}

static void test_tcp_option_kinds(void **state)
{
    struct mbx_pkt p;
    /* SACK with 2 blocks, TFO cookie (kind 34, 8 bytes), WS 15 (read as 14) */
    static const uint8_t o1[] = {1, 1, 5,  18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,  3, 0, 0,
                                 0, 4, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 3, 3, 15, 0, 0, 0};
    struct fb f = {0};
    ip4(&f, 6, 0, 0);
    tcp(&f, MBX_TCP_ACK, o1, sizeof o1); /* 36 bytes: EOL, then padding */
    ip4_end(&f);
    assert_int_equal(dec(&p, MBX_LINK_IPV4, &f), MBX_DECODE_OK);
    assert_int_equal(p.opts, MBX_OPT_SACK | MBX_OPT_TFO | MBX_OPT_WSCALE);
    assert_int_equal(p.nsack, 2);
    assert_int_equal(p.wscale, 14);
    /* experimental TFO (kind 254, magic 0xf989), then an unknown option 99 */
    static const uint8_t o2[] = {254, 4, 0xf9, 0x89, 99, 4, 0, 0};
    f = (struct fb){0};
    ip4(&f, 6, 0, 0);
    tcp(&f, MBX_TCP_SYN, o2, sizeof o2);
    ip4_end(&f);
    assert_int_equal(dec(&p, MBX_LINK_IPV4, &f), MBX_DECODE_OK);
    assert_int_equal(p.opts, MBX_OPT_TFO);
    /* TFO request (kind 34, empty) */
    static const uint8_t o3[] = {34, 2, 1, 0};
    f = (struct fb){0};
    ip4(&f, 6, 0, 0);
    tcp(&f, MBX_TCP_SYN, o3, sizeof o3);
    ip4_end(&f);
    assert_int_equal(dec(&p, MBX_LINK_IPV4, &f), MBX_DECODE_OK);
    assert_int_equal(p.opts, MBX_OPT_TFO);
    /* malformed lists */
    static const uint8_t bad[][8] = {
        {2, 3, 5, 1, 0, 0, 0, 0},  /* MSS of length 3 */
        {99, 0, 0, 0, 0, 0, 0, 0}, /* length 0 */
        {99, 1, 0, 0, 0, 0, 0, 0}, /* length 1 */
        {1, 1, 1, 1, 1, 1, 1, 8},  /* a kind without its length byte */
        {8, 10, 0, 0, 0, 0, 0, 0}, /* TS running past the header */
        {5, 12, 0, 0, 0, 0, 0, 0}, /* SACK of 10 bytes of blocks */
        {3, 4, 7, 0, 0, 0, 0, 0},  /* window scale of length 4 */
        {4, 3, 0, 0, 0, 0, 0, 0},  /* SACK permitted of length 3 */
        {34, 4, 0, 0, 0, 0, 0, 0}, /* TFO cookie of 2 bytes */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f = (struct fb){0};
        ip4(&f, 6, 0, 0);
        tcp(&f, MBX_TCP_SYN, bad[i], 8);
        ip4_end(&f);
        assert_int_equal(dec(&p, MBX_LINK_IPV4, &f), MBX_DECODE_BAD_TCP_OPT);
    }
}

/* The snap length cut the payload: still decoded, flagged, payload_len counts
 * only the captured bytes. */
static void test_truncated_payload(void **state)
{
    struct fb f = {0};
    struct mbx_pkt p;
    eth(&f, 0x0800);
    ip4(&f, 6, 0, 0);
    tcp(&f, MBX_TCP_ACK, NULL, 0);
    for (int i = 0; i < 100; i++)
        put8(&f, (unsigned)i);
    ip4_end(&f);
    assert_int_equal(mbx_decode(&p, MBX_LINK_ETHERNET, f.b, 14 + 40 + 30, f.n, 0), MBX_DECODE_OK);
    assert_int_equal(p.pflags, MBX_PKT_TRUNCATED);
    assert_int_equal(p.payload_len, 30);
    assert_int_equal(p.ip_len, 140);
    /* UDP: judged against the UDP length */
    f = (struct fb){0};
    ip4(&f, 17, 0, 0);
    udp(&f, "0123456789");
    ip4_end(&f);
    assert_int_equal(mbx_decode(&p, MBX_LINK_IPV4, f.b, 20 + 8 + 4, f.n, 0), MBX_DECODE_OK);
    assert_int_equal(p.pflags, MBX_PKT_TRUNCATED);
    assert_int_equal(p.payload_len, 4);
    /* a zero IPv4 total length (TSO on the capturing host): the frame's length */
    f = (struct fb){0};
    eth(&f, 0x0800);
    ip4(&f, 6, 0, 0);
    tcp(&f, MBX_TCP_ACK, NULL, 0);
    putn(&f, "segment", 7);
    assert_int_equal(dec(&p, MBX_LINK_ETHERNET, &f), MBX_DECODE_OK);
    assert_int_equal(p.payload_len, 7);
    assert_int_equal(p.ip_len, 20 + 20 + 7);
}

/* Every reason in MBX_DECODE_ERRORS is produced by a frame below. */
static void test_every_error_reason(void **state)
{
    bool seen[MBX_DECODE_NREASONS] = {false};
    struct mbx_pkt p;
    struct fb f;
    enum mbx_decode_err e;
#define EXPECT(link, want)                                                                         \
    do {                                                                                           \
        e = dec(&p, link, &f);                                                                     \
        assert_int_equal(e, want);                                                                 \
        seen[e] = true;                                                                            \
    } while (0)

    f = (struct fb){0};
    putn(&f, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", 10);
    EXPECT(MBX_LINK_ETHERNET, MBX_DECODE_TRUNC_L2);
    f = (struct fb){0};
    eth(&f, 0x8100);
    put8(&f, 0); /* half a tag */
    EXPECT(MBX_LINK_ETHERNET, MBX_DECODE_TRUNC_L2);
    EXPECT(147, MBX_DECODE_UNSUPPORTED_LINK); /* LINKTYPE_USER0 */
    f = (struct fb){0};
    eth(&f, 0x0806);
    put32(&f, 0x00010800);
    EXPECT(MBX_LINK_ETHERNET, MBX_DECODE_NOT_IP);
    f = (struct fb){0};
    eth(&f, 0x0800);
    ip4(&f, 6, 0, 0);
    f.n = 14 + 12;
    EXPECT(MBX_LINK_ETHERNET, MBX_DECODE_TRUNC_IP);
    f = (struct fb){0};
    eth(&f, 0x0800);
    ip4(&f, 6, 0, 0);
    f.b[14] = 0x55;
    EXPECT(MBX_LINK_ETHERNET, MBX_DECODE_BAD_IP_VERSION);
    f = (struct fb){0};
    eth(&f, 0x0800);
    ip4(&f, 6, 0, 0);
    tcp(&f, 0, NULL, 0);
    ip4_end(&f);
    f.b[14] = 0x44;
    EXPECT(MBX_LINK_ETHERNET, MBX_DECODE_BAD_IP_HLEN);
    f.b[14] = 0x45;
    set16(&f, 14 + 2, 10);
    EXPECT(MBX_LINK_ETHERNET, MBX_DECODE_BAD_IP_LEN);
    f = (struct fb){0};
    ip6(&f, 0);
    put8(&f, 6);
    put8(&f, 3); /* 32 bytes claimed, 8 present */
    put16(&f, 0);
    put32(&f, 0);
    ip6_end(&f);
    EXPECT(MBX_LINK_RAW, MBX_DECODE_TRUNC_IPV6_EXT);
    f = (struct fb){0};
    ip4(&f, 6, 0, 0x2000);
    tcp(&f, 0, NULL, 0);
    ip4_end(&f);
    EXPECT(MBX_LINK_RAW, MBX_DECODE_FRAGMENT);
    f = (struct fb){0};
    ip4(&f, 6, 0, 0);
    put32(&f, 0x04d20050);
    ip4_end(&f);
    EXPECT(MBX_LINK_RAW, MBX_DECODE_TRUNC_TCP);
    f = (struct fb){0};
    ip4(&f, 6, 0, 0);
    tcp(&f, 0, NULL, 0);
    ip4_end(&f);
    f.b[20 + 12] = 0x40; /* data offset 4 */
    EXPECT(MBX_LINK_RAW, MBX_DECODE_BAD_TCP_HLEN);
    f.b[20 + 12] = 0xf0; /* 60 bytes, the datagram has 20 */
    EXPECT(MBX_LINK_RAW, MBX_DECODE_BAD_TCP_HLEN);
    f = (struct fb){0};
    ip4(&f, 6, 0, 0);
    tcp(&f, 0, (const uint8_t *)"\x02\x02\x00\x00", 4);
    ip4_end(&f);
    EXPECT(MBX_LINK_RAW, MBX_DECODE_BAD_TCP_OPT);
    f = (struct fb){0};
    ip4(&f, 17, 0, 0);
    put32(&f, 0x14e90035);
    ip4_end(&f);
    EXPECT(MBX_LINK_RAW, MBX_DECODE_TRUNC_UDP);
    f = (struct fb){0};
    ip4(&f, 17, 0, 0);
    udp(&f, "abc");
    ip4_end(&f);
    set16(&f, 20 + 4, 7);
    EXPECT(MBX_LINK_RAW, MBX_DECODE_BAD_UDP_LEN);
    set16(&f, 20 + 4, 12); /* longer than the datagram */
    EXPECT(MBX_LINK_RAW, MBX_DECODE_BAD_UDP_LEN);
    f = (struct fb){0};
    ip4(&f, 1, 0, 0); /* ICMP echo */
    put32(&f, 0x08000000);
    ip4_end(&f);
    EXPECT(MBX_LINK_RAW, MBX_DECODE_OTHER_L4);
    f = (struct fb){0};
    ip6(&f, 59); /* no next header */
    ip6_end(&f);
    EXPECT(MBX_LINK_RAW, MBX_DECODE_OTHER_L4);
#undef EXPECT
    for (int r = 1; r < MBX_DECODE_NREASONS; r++) {
        if (!seen[r])
            fail_msg("no test frame gives %s", mbx_decode_err_name((enum mbx_decode_err)r));
    }
}

static void test_error_names(void **state)
{
    assert_string_equal(mbx_decode_err_name(MBX_DECODE_TRUNC_TCP), "TRUNC_TCP");
    assert_string_equal(mbx_decode_err_text(MBX_DECODE_TRUNC_TCP), "truncated TCP header");
    assert_string_equal(mbx_decode_err_name(MBX_DECODE_OK), "OK");
    assert_string_equal(mbx_decode_err_name((enum mbx_decode_err)999), "UNKNOWN");
    for (int r = 1; r < MBX_DECODE_NREASONS; r++)
        assert_true(strlen(mbx_decode_err_text((enum mbx_decode_err)r)) > 0);
}

/* ------------------------------------------------------------ real frames */

struct real {
    const char *file; /* under MBX_SHARED_DIR/corpora */
    int frame;        /* 1-based, as tshark counts */
    uint32_t caplen;  /* frame.cap_len */
    int nvlan;
    uint16_t vlan; /* vlan.id */
    const char *src, *dst;
    uint32_t ip_len; /* ip.len, or 40 + ipv6.plen */
    uint8_t ttl;     /* ip.ttl or ipv6.hlim */
    uint16_t sport, dport;
    uint32_t seq, ack; /* tcp.seq_raw, tcp.ack_raw */
    uint8_t flags;     /* tcp.flags */
    uint16_t win;      /* tcp.window_size_value */
    uint32_t payload;  /* tcp.len */
    uint8_t hlen;      /* tcp.hdr_len */
    uint16_t mss;      /* tcp.options.mss_val (0: none) */
    int wscale;        /* tcp.options.wscale.shift (-1: none) */
    bool ts;           /* has tcp.options.timestamp */
    uint32_t tsval, tsecr;
    bool sack_perm; /* tcp.options.sack_perm */
    mbx_time time;  /* frame.time_epoch in ns */
};

/* tshark 4.0.17: tshark -r F -T fields -e frame.number -e frame.cap_len -e vlan.id
 *   -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst -e ip.len -e ipv6.plen -e ip.ttl
 *   -e ipv6.hlim -e tcp.srcport -e tcp.dstport -e tcp.seq_raw -e tcp.ack_raw
 *   -e tcp.flags -e tcp.window_size_value -e tcp.len -e tcp.hdr_len
 *   -e tcp.options.mss_val -e tcp.options.wscale.shift -e tcp.options.timestamp.tsval
 *   -e tcp.options.timestamp.tsecr -e tcp.options.sack_perm -e frame.time_epoch */
static const struct real real_frames[] = {
    /* PPPoE session 0x002d, PPP protocol compressed to one byte */
    {"suricata-verify/bug-4810/pppoe-session-http.pcap",
     1,
     81,
     0,
     0,
     "10.100.0.0",
     "142.250.179.131",
     60,
     64,
     57013,
     80,
     3569186388u,
     0,
     0x02,
     65228,
     0,
     40,
     1452,
     7,
     true,
     3417215587u,
     0,
     true,
     1630397211178354000ull},
    {"suricata-verify/bug-4810/pppoe-session-http.pcap",
     4,
     150,
     0,
     0,
     "10.100.0.0",
     "142.250.179.131",
     129,
     64,
     57013,
     80,
     3569186389u,
     1345046749u,
     0x18,
     514,
     77,
     32,
     0,
     -1,
     true,
     3417215605u,
     3787897935u,
     false,
     1630397211190839000ull},
    /* 802.1Q VLAN 3136 (TABLE.md calls the case QinQ; one tag is in the frames) */
    {"suricata-verify/bug-4376/syn_retransmit_with_ts.pcap",
     1,
     82,
     1,
     3136,
     "10.38.251.146",
     "10.38.251.147",
     60,
     64,
     33372,
     80,
     2627594568u,
     0,
     0x02,
     29200,
     0,
     40,
     1460,
     7,
     true,
     87113330u,
     0,
     true,
     1540604430000524000ull},
    /* untagged, 4 bytes after the datagram: not payload */
    {"suricata-verify/bug-4376/syn_retransmit_with_ts.pcap",
     3,
     78,
     0,
     0,
     "10.38.251.147",
     "10.38.251.146",
     60,
     64,
     80,
     33372,
     1513466457u,
     2627594569u,
     0x12,
     28960,
     0,
     40,
     1460,
     7,
     true,
     87063393u,
     87113580u,
     true,
     1540604431000520000ull},
    {"suricata-verify/bug-4376/syn_retransmit_with_ts.pcap",
     5,
     209,
     1,
     3136,
     "10.38.251.146",
     "10.38.251.147",
     187,
     64,
     33372,
     80,
     2627594569u,
     1513466458u,
     0x18,
     229,
     135,
     32,
     0,
     -1,
     true,
     87113580u,
     87063393u,
     false,
     1540604431000521000ull},
    /* IPv6 in VLAN 1111 */
    {"suricata-verify/bug-814/input.pcap",
     1,
     78,
     1,
     1111,
     "fe80::20c:29ff:fef3:cf38",
     "fe80::20c:29ff:faf2:ab42",
     60,
     64,
     58307,
     80,
     3897641355u,
     0,
     0x02,
     8192,
     0,
     20,
     0,
     -1,
     false,
     0,
     0,
     false,
     1391789728392551000ull},
    {"suricata-verify/bug-814/input.pcap",
     4,
     227,
     1,
     1111,
     "fe80::20c:29ff:fef3:cf38",
     "fe80::20c:29ff:faf2:ab42",
     209,
     64,
     58307,
     80,
     3897641356u,
     3113692824u,
     0x18,
     8192,
     149,
     20,
     0,
     -1,
     false,
     0,
     0,
     false,
     1391789728395181000ull},
    /* plain Ethernet */
    {"netem-http/client.pcap",
     1,
     74,
     0,
     0,
     "10.201.0.1",
     "10.201.0.2",
     60,
     64,
     38504,
     80,
     852033414u,
     0,
     0x02,
     64240,
     0,
     40,
     1460,
     10,
     true,
     2994205047u,
     0,
     true,
     1795645279005966000ull},
    {"netem-http/client.pcap",
     3,
     66,
     0,
     0,
     "10.201.0.1",
     "10.201.0.2",
     52,
     64,
     38504,
     80,
     852033415u,
     369216730u,
     0x10,
     63,
     0,
     32,
     0,
     -1,
     true,
     2994205068u,
     1872250355u,
     false,
     1795645279016517000ull},
};

/* Copies frame n (1-based) of a corpus file into a heap buffer of exactly its
 * captured length. */
static uint8_t *load_frame(const char *rel, int n, uint32_t *caplen, uint32_t *wirelen, int *link,
                           mbx_time *ts)
{
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/corpora/%s", MBX_SHARED_DIR, rel);
    struct mbx_source *s = mbx_source_open_file(path, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    struct mbx_frame f[32];
    int seen = 0;
    uint8_t *copy = NULL;
    for (;;) {
        int got = mbx_source_next(s, f, 32);
        if (got <= 0)
            break;
        if (n <= seen + got) {
            struct mbx_frame *x = &f[n - seen - 1];
            copy = malloc(x->caplen ? x->caplen : 1);
            memcpy(copy, x->data, x->caplen);
            *caplen = x->caplen;
            *wirelen = x->wirelen;
            *link = x->linktype;
            *ts = x->ts;
            break;
        }
        seen += got;
    }
    mbx_source_close(s);
    if (!copy)
        fail_msg("%s has no frame %d", rel, n);
    return copy;
}

static void test_real_frames(void **state)
{
    for (size_t i = 0; i < sizeof real_frames / sizeof real_frames[0]; i++) {
        const struct real *r = &real_frames[i];
        uint32_t caplen, wirelen;
        int link;
        mbx_time ts;
        uint8_t *d = load_frame(r->file, r->frame, &caplen, &wirelen, &link, &ts);
        struct mbx_pkt p;
        char a[64], b[64];
        print_message("%s frame %d\n", r->file, r->frame);
        assert_int_equal(caplen, r->caplen);
        assert_int_equal(link, MBX_LINK_ETHERNET);
        assert_int_equal(ts, r->time);
        assert_int_equal(mbx_decode(&p, link, d, caplen, wirelen, ts), MBX_DECODE_OK);
        assert_int_equal(p.nvlan, r->nvlan);
        assert_int_equal(p.vlan[0], r->vlan);
        assert_string_equal(mbx_addr_str(&p.src, a, sizeof a), r->src);
        assert_string_equal(mbx_addr_str(&p.dst, b, sizeof b), r->dst);
        assert_int_equal(p.ip_len, r->ip_len);
        assert_int_equal(p.ttl, r->ttl);
        assert_int_equal(p.proto, 6);
        assert_int_equal(p.sport, r->sport);
        assert_int_equal(p.dport, r->dport);
        assert_int_equal(p.seq, r->seq);
        assert_int_equal(p.ack, r->ack);
        assert_int_equal(p.tcp_flags, r->flags);
        assert_int_equal(p.win, r->win);
        assert_int_equal(p.payload_len, r->payload);
        assert_int_equal(p.tcp_hlen, r->hlen);
        assert_int_equal(!!(p.opts & MBX_OPT_MSS), r->mss != 0);
        if (r->mss)
            assert_int_equal(p.mss, r->mss);
        assert_int_equal(!!(p.opts & MBX_OPT_WSCALE), r->wscale >= 0);
        if (r->wscale >= 0)
            assert_int_equal(p.wscale, r->wscale);
        assert_int_equal(!!(p.opts & MBX_OPT_TS), r->ts);
        if (r->ts) {
            assert_int_equal(p.tsval, r->tsval);
            assert_int_equal(p.tsecr, r->tsecr);
        }
        assert_int_equal(!!(p.opts & MBX_OPT_SACK_PERM), r->sack_perm);
        assert_int_equal(p.pflags, 0);
        assert_true(p.payload + p.payload_len <= d + caplen);
        free(d);
    }
}

/* QinQ from a real frame: an 802.1ad tag (VLAN 42) pushed in front of the
 * 802.1Q tag of bug-4376 frame 1; every other value stays tshark's. */
static void test_real_frame_qinq(void **state)
{
    uint32_t caplen, wirelen;
    int link;
    mbx_time ts;
    uint8_t *d = load_frame(real_frames[2].file, 1, &caplen, &wirelen, &link, &ts);
    uint8_t *q = malloc(caplen + 4);
    memcpy(q, d, 12);
    static const uint8_t tag[4] = {0x88, 0xa8, 0x00, 42};
    memcpy(q + 12, tag, 4);
    memcpy(q + 16, d + 12, caplen - 12);
    struct mbx_pkt p;
    assert_int_equal(mbx_decode(&p, link, q, caplen + 4, wirelen + 4, ts), MBX_DECODE_OK);
    assert_int_equal(p.nvlan, 2);
    assert_int_equal(p.vlan[0], 42);
    assert_int_equal(p.vlan[1], 3136);
    assert_int_equal(p.sport, 33372);
    assert_int_equal(p.seq, 2627594568u);
    assert_int_equal(p.mss, 1460);
    free(q);
    free(d);
}

/* Every prefix of real frames, each in a heap block of exactly that size: no
 * read past the end (ASan), no payload past the end, and the full frame decodes. */
static void test_truncation_loop(void **state)
{
    static const struct {
        const char *file;
        int frame;
    } frames[] = {
        {"suricata-verify/bug-4810/pppoe-session-http.pcap", 1},
        {"suricata-verify/bug-4810/pppoe-session-http.pcap", 4},
        {"suricata-verify/bug-814/input.pcap", 4},
        {"suricata-verify/bug-4376/syn_retransmit_with_ts.pcap", 5},
    };
    static const int links[] = {MBX_LINK_ETHERNET, MBX_LINK_SLL, MBX_LINK_SLL2, MBX_LINK_RAW,
                                MBX_LINK_NULL};
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        uint32_t caplen, wirelen;
        int link;
        mbx_time ts;
        uint8_t *d = load_frame(frames[i].file, frames[i].frame, &caplen, &wirelen, &link, &ts);
        struct mbx_pkt full;
        assert_int_equal(mbx_decode(&full, link, d, caplen, wirelen, ts), MBX_DECODE_OK);
        uint32_t hdr_end = full.l4_off + full.tcp_hlen;
        for (uint32_t n = 0; n <= caplen; n++) {
            uint8_t *cut = malloc(n ? n : 1);
            memcpy(cut, d, n);
            struct mbx_pkt p;
            enum mbx_decode_err e = mbx_decode(&p, link, cut, n, wirelen, ts);
            if (n < hdr_end) {
                assert_int_not_equal(e, MBX_DECODE_OK);
            } else {
                /* headers whole: decoded, payload cut and flagged if bytes are missing */
                assert_int_equal(e, MBX_DECODE_OK);
                assert_int_equal(p.payload_len,
                                 n - hdr_end < full.payload_len ? n - hdr_end : full.payload_len);
                assert_int_equal(!!(p.pflags & MBX_PKT_TRUNCATED), n - hdr_end < full.payload_len);
                assert_true(p.payload + p.payload_len <= cut + n);
            }
            /* the same bytes under other link types must not crash either */
            for (size_t k = 0; k < sizeof links / sizeof links[0]; k++)
                mbx_decode(&p, links[k], cut, n, n, ts);
            free(cut);
        }
        free(d);
    }
}

/* ------------------------------------------------------------ addresses */

static void test_addr(void **state)
{
    /* expected text: RFC 5952 section 4 examples, and the dotted quad */
    static const char *const ok[] = {"10.0.0.1",
                                     "255.255.255.255",
                                     "0.0.0.0",
                                     "2001:db8::1",
                                     "::1",
                                     "::",
                                     "fe80::20c:29ff:fef3:cf38",
                                     "2001:db8:0:1:1:1:1:1",
                                     "2001:db8::1:0:0:1"};
    char buf[64];
    struct mbx_addr a;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(mbx_addr_parse(ok[i], &a), 0);
        assert_string_equal(mbx_addr_str(&a, buf, sizeof buf), ok[i]);
        assert_int_equal(mbx_addr_is_v4(&a), strchr(ok[i], ':') == NULL);
    }
    /* RFC 5952: lower case, leading zeros dropped, longest run compressed */
    assert_int_equal(mbx_addr_parse("2001:0DB8:0000:0000:0001:0000:0000:0001", &a), 0);
    assert_string_equal(mbx_addr_str(&a, buf, sizeof buf), "2001:db8::1:0:0:1");
    /* IPv4 storage is IPv4-mapped (RFC 4291 2.5.5.2) */
    assert_int_equal(mbx_addr_parse("192.0.2.7", &a), 0);
    static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7};
    assert_memory_equal(a.b, mapped, 16);
    assert_int_equal(mbx_addr_parse("::ffff:192.0.2.7", &a), 0);
    assert_memory_equal(a.b, mapped, 16);
    assert_string_equal(mbx_addr_str(&a, buf, sizeof buf), "192.0.2.7");
    /* bad text */
    assert_int_equal(mbx_addr_parse("10.0.0.256", &a), -EINVAL);
    assert_int_equal(mbx_addr_parse("example.com", &a), -EINVAL);
    assert_int_equal(mbx_addr_parse("", &a), -EINVAL);
    /* a short buffer is cut, still terminated */
    assert_int_equal(mbx_addr_parse("10.0.0.1", &a), 0);
    assert_string_equal(mbx_addr_str(&a, buf, 5), "10.0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eth_ipv4_tcp_options),
        cmocka_unit_test(test_eth_padding),
        cmocka_unit_test(test_vlan_qinq),
        cmocka_unit_test(test_pppoe),
        cmocka_unit_test(test_sll_sll2),
        cmocka_unit_test(test_raw_ip),
        cmocka_unit_test(test_null_loop),
        cmocka_unit_test(test_ipv4_options_and_fragments),
        cmocka_unit_test(test_ipv6_extension_headers),
        cmocka_unit_test(test_tcp_option_kinds),
        cmocka_unit_test(test_truncated_payload),
        cmocka_unit_test(test_every_error_reason),
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_real_frames),
        cmocka_unit_test(test_real_frame_qinq),
        cmocka_unit_test(test_truncation_loop),
        cmocka_unit_test(test_addr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
