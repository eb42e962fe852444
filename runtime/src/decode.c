/*
 * decode.c - from a link-layer frame to the fields of struct mbx_pkt (mbx.h
 * section 2).
 *
 * mbx_decode runs once per packet on the hot path, so it is one straight pass:
 * the link layer gives an offset and an expected IP version, the IP layer gives
 * the addresses, the protocol and where the datagram ends, and the TCP or UDP
 * layer gives ports, sequence numbers and options.  Every read is checked
 * against caplen first, and every length field read from the packet is checked
 * against both what was captured and the enclosing layer's length before it is
 * used: a frame is never trusted.  Multi-byte fields are assembled from single
 * bytes (the frame may sit at any alignment, e.g. inside an mmapped pcap).  No
 * allocation, no libc call, no checksum verification.
 */
#include "mbx.h"

#define DEC_ETH_IPV4     0x0800
#define DEC_ETH_IPV6     0x86dd
#define DEC_ETH_VLAN     0x8100 /* 802.1Q */
#define DEC_ETH_QINQ     0x88a8 /* 802.1ad service tag */
#define DEC_ETH_QINQ_OLD 0x9100
#define DEC_ETH_PPPOE    0x8864 /* PPPoE session stage */
#define DEC_PPP_IPV4     0x0021
#define DEC_PPP_IPV6     0x0057
#define DEC_MAX_VLANS    8  /* tags skipped before giving up (NOT_IP) */
#define DEC_MAX_V6_EXT   16 /* extension headers followed before giving up */

#define DEC_PROTO_TCP 6
#define DEC_PROTO_UDP 17

static inline uint16_t dec_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t dec_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *const dec_err_names[MBX_DECODE_NREASONS] = {[MBX_DECODE_OK] = "OK",
#define MBX_X_(id, text) [MBX_DECODE_##id] = #id,
                                                               MBX_DECODE_ERRORS(MBX_X_)
#undef MBX_X_
};

static const char *const dec_err_texts[MBX_DECODE_NREASONS] = {[MBX_DECODE_OK] = "decoded",
#define MBX_X_(id, text) [MBX_DECODE_##id] = text,
                                                               MBX_DECODE_ERRORS(MBX_X_)
#undef MBX_X_
};

const char *mbx_decode_err_name(enum mbx_decode_err e)
{
    return (unsigned)e < MBX_DECODE_NREASONS ? dec_err_names[e] : "UNKNOWN";
}

const char *mbx_decode_err_text(enum mbx_decode_err e)
{
    return (unsigned)e < MBX_DECODE_NREASONS ? dec_err_texts[e] : "unknown decode error";
}

/* Sets a to the IPv4-mapped form of the 4 bytes at p (fixed-size memcpy: a
 * couple of moves, no call). */
static inline void dec_addr_v4(struct mbx_addr *a, const uint8_t *p)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    __builtin_memcpy(a->b, mapped, 12);
    __builtin_memcpy(a->b + 12, p, 4);
}

static inline void dec_addr_v6(struct mbx_addr *a, const uint8_t *p)
{
    __builtin_memcpy(a->b, p, 16);
}

/* Follows an Ethernet type field (type, whose header ends at off), through VLAN
 * tags and PPPoE, to the IP header.  On success sets *l3 and *ver (4 or 6). */
static enum mbx_decode_err dec_ethertype(struct mbx_pkt *p, const uint8_t *d, uint32_t caplen,
                                         uint32_t off, uint16_t type, uint32_t *l3, unsigned *ver)
{
    while (type == DEC_ETH_VLAN || type == DEC_ETH_QINQ || type == DEC_ETH_QINQ_OLD) {
        if (off + 4 > caplen)
            return MBX_DECODE_TRUNC_L2;
        if (p->nvlan == DEC_MAX_VLANS)
            return MBX_DECODE_NOT_IP;
        if (p->nvlan < 2)
            p->vlan[p->nvlan] = dec_be16(d + off) & 0x0fff;
        p->nvlan++;
        type = dec_be16(d + off + 2);
        off += 4;
    }
    switch (type) {
    case DEC_ETH_IPV4:
        *ver = 4;
        break;
    case DEC_ETH_IPV6:
        *ver = 6;
        break;
    case DEC_ETH_PPPOE: {
        /* ver/type 0x11, code 0, session id, length, then the PPP protocol field:
         * 2 bytes, or 1 when compressed (RFC 1661 6.5: an odd first byte) */
        if (off + 7 > caplen)
            return MBX_DECODE_TRUNC_L2;
        if (d[off] != 0x11 || d[off + 1] != 0x00)
            return MBX_DECODE_NOT_IP;
        uint16_t ppp;
        if (d[off + 6] & 1) {
            ppp = d[off + 6];
            off += 7;
        } else {
            if (off + 8 > caplen)
                return MBX_DECODE_TRUNC_L2;
            ppp = dec_be16(d + off + 6);
            off += 8;
        }
        if (ppp == DEC_PPP_IPV4)
            *ver = 4;
        else if (ppp == DEC_PPP_IPV6)
            *ver = 6;
        else
            return MBX_DECODE_NOT_IP;
        break;
    }
    default:
        return MBX_DECODE_NOT_IP;
    }
    *l3 = off;
    return MBX_DECODE_OK;
}

/* Finds the IP header for the link type.  *ver is 4 or 6 when the link layer
 * says which, 0 when the IP header's version nibble decides (raw IP). */
static enum mbx_decode_err dec_link(struct mbx_pkt *p, int linktype, const uint8_t *d,
                                    uint32_t caplen, uint32_t *l3, unsigned *ver)
{
    switch (linktype) {
    case MBX_LINK_ETHERNET: /* destination, source, type */
        if (caplen < 14)
            return MBX_DECODE_TRUNC_L2;
        return dec_ethertype(p, d, caplen, 14, dec_be16(d + 12), l3, ver);
    case MBX_LINK_SLL: /* packet type, ARPHRD, address length, address[8], protocol */
        if (caplen < 16)
            return MBX_DECODE_TRUNC_L2;
        return dec_ethertype(p, d, caplen, 16, dec_be16(d + 14), l3, ver);
    case MBX_LINK_SLL2: /* protocol, reserved, ifindex, ARPHRD, type, alen, addr[8] */
        if (caplen < 20)
            return MBX_DECODE_TRUNC_L2;
        return dec_ethertype(p, d, caplen, 20, dec_be16(d), l3, ver);
    case 12: /* DLT_RAW on OpenBSD */
    case 14: /* DLT_RAW on BSD/OS */
    case MBX_LINK_RAW:
        *ver = 0;
        *l3 = 0;
        return MBX_DECODE_OK;
    case MBX_LINK_IPV4:
        *ver = 4;
        *l3 = 0;
        return MBX_DECODE_OK;
    case MBX_LINK_IPV6:
        *ver = 6;
        *l3 = 0;
        return MBX_DECODE_OK;
    case MBX_LINK_NULL:
    case MBX_LINK_LOOP: {
        /* a 4-byte address family: host order of the writer (NULL; detected by
         * which half is zero) or network order (LOOP) */
        if (caplen < 4)
            return MBX_DECODE_TRUNC_L2;
        uint32_t fam;
        if (linktype == MBX_LINK_LOOP || (d[0] == 0 && d[1] == 0))
            fam = dec_be32(d);
        else
            fam =
                (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
        if (fam == 2) /* AF_INET everywhere */
            *ver = 4;
        else if (fam == 10 || fam == 24 || fam == 28 || fam == 30) /* Linux, BSDs, macOS */
            *ver = 6;
        else
            return MBX_DECODE_NOT_IP;
        *l3 = 4;
        return MBX_DECODE_OK;
    }
    default:
        return MBX_DECODE_UNSUPPORTED_LINK;
    }
}

/* Parses the TCP option list [o, end).  Known options with a wrong length and
 * lengths running past the end are errors; unknown options are skipped. */
static enum mbx_decode_err dec_tcp_opts(struct mbx_pkt *p, const uint8_t *o, const uint8_t *end)
{
    while (o < end) {
        uint8_t kind = o[0];
        if (kind == 0) /* end of option list */
            break;
        if (kind == 1) { /* NOP */
            o++;
            continue;
        }
        if (end - o < 2)
            return MBX_DECODE_BAD_TCP_OPT;
        uint8_t len = o[1];
        if (len < 2 || len > end - o)
            return MBX_DECODE_BAD_TCP_OPT;
        switch (kind) {
        case 2: /* MSS */
            if (len != 4)
                return MBX_DECODE_BAD_TCP_OPT;
            p->opts |= MBX_OPT_MSS;
            p->mss = dec_be16(o + 2);
            break;
        case 3: /* window scale */
            if (len != 3)
                return MBX_DECODE_BAD_TCP_OPT;
            p->opts |= MBX_OPT_WSCALE;
            p->wscale = o[2] > 14 ? 14 : o[2]; /* RFC 7323 2.3 */
            break;
        case 4: /* SACK permitted */
            if (len != 2)
                return MBX_DECODE_BAD_TCP_OPT;
            p->opts |= MBX_OPT_SACK_PERM;
            break;
        case 5: /* SACK: 1 to 4 blocks of 8 bytes */
            if (len < 10 || len > 34 || (len - 2) % 8 != 0)
                return MBX_DECODE_BAD_TCP_OPT;
            p->opts |= MBX_OPT_SACK;
            p->nsack = (uint8_t)((len - 2) / 8);
            break;
        case 8: /* timestamps */
            if (len != 10)
                return MBX_DECODE_BAD_TCP_OPT;
            p->opts |= MBX_OPT_TS;
            p->tsval = dec_be32(o + 2);
            p->tsecr = dec_be32(o + 6);
            break;
        case 34: /* TCP Fast Open: empty (a request) or a 4..16-byte cookie */
            if (len != 2 && (len < 6 || len > 18))
                return MBX_DECODE_BAD_TCP_OPT;
            p->opts |= MBX_OPT_TFO;
            break;
        case 254: /* experimental; 0xf989 is TFO's pre-RFC magic */
            if (len >= 4 && dec_be16(o + 2) == 0xf989)
                p->opts |= MBX_OPT_TFO;
            break;
        default:
            break;
        }
        o += len;
    }
    return MBX_DECODE_OK;
}

enum mbx_decode_err mbx_decode(struct mbx_pkt *p, int linktype, const uint8_t *data,
                               uint32_t caplen, uint32_t wirelen, mbx_time ts)
{
    *p = (struct mbx_pkt){.frame = data, .caplen = caplen, .wirelen = wirelen, .ts = ts};
    const uint8_t *d = data;
    uint32_t l3 = 0;
    unsigned ver = 0;
    enum mbx_decode_err err = dec_link(p, linktype, d, caplen, &l3, &ver);
    if (err != MBX_DECODE_OK)
        return err;
    if (l3 >= caplen)
        return MBX_DECODE_TRUNC_IP;
    unsigned hver = d[l3] >> 4;
    if (ver == 0)
        ver = hver;
    if (hver != ver || (ver != 4 && ver != 6))
        return MBX_DECODE_BAD_IP_VERSION;
    p->l3_off = (uint16_t)l3;
    p->ip_ver = (uint8_t)ver;
    /* where the frame ends on the wire: a zero IP length (TSO captures) means this */
    uint32_t frame_end = wirelen > caplen ? wirelen : caplen;

    uint32_t l4, ip_end;
    unsigned proto;
    if (ver == 4) {
        const uint8_t *ip = d + l3;
        if (caplen - l3 < 20)
            return MBX_DECODE_TRUNC_IP;
        uint32_t hlen = (uint32_t)(ip[0] & 0x0f) * 4;
        if (hlen < 20)
            return MBX_DECODE_BAD_IP_HLEN;
        if (caplen - l3 < hlen)
            return MBX_DECODE_TRUNC_IP;
        uint32_t tot = dec_be16(ip + 2);
        if (tot == 0)
            tot = frame_end - l3;
        if (tot < hlen)
            return MBX_DECODE_BAD_IP_LEN;
        p->ip_len = tot;
        p->ttl = ip[8];
        proto = ip[9];
        p->proto = (uint8_t)proto;
        dec_addr_v4(&p->src, ip + 12);
        dec_addr_v4(&p->dst, ip + 16);
        if ((dec_be16(ip + 6) & 0x3fff) != 0) /* MF or a fragment offset */
            return MBX_DECODE_FRAGMENT;
        l4 = l3 + hlen;
        ip_end = l3 + tot;
    } else {
        const uint8_t *ip = d + l3;
        if (caplen - l3 < 40)
            return MBX_DECODE_TRUNC_IP;
        uint32_t plen = dec_be16(ip + 4);
        if (plen == 0) /* jumbogram or TSO: the frame's length */
            plen = frame_end - l3 - 40;
        p->ip_len = 40 + plen;
        p->ttl = ip[7];
        dec_addr_v6(&p->src, ip + 8);
        dec_addr_v6(&p->dst, ip + 24);
        ip_end = l3 + 40 + plen;
        proto = ip[6];
        l4 = l3 + 40;
        /* extension headers must lie inside both the capture and the datagram */
        uint32_t lim = ip_end < caplen ? ip_end : caplen;
        for (int n = 0;; n++) {
            if (proto != 0 && proto != 43 && proto != 44 && proto != 51 && proto != 60)
                break;
            if (n == DEC_MAX_V6_EXT || l4 + 8 > lim)
                return MBX_DECODE_TRUNC_IPV6_EXT;
            const uint8_t *x = d + l4;
            uint32_t xlen;
            if (proto == 44) { /* fragment: an atomic one (offset 0, M clear) is skipped */
                if ((dec_be16(x + 2) & 0xfff9) != 0) {
                    p->proto = x[0];
                    return MBX_DECODE_FRAGMENT;
                }
                xlen = 8;
            } else if (proto == 51) { /* AH: length in 4-byte units, minus 2 */
                xlen = ((uint32_t)x[1] + 2) * 4;
            } else { /* hop-by-hop, routing, destination options: 8-byte units, minus 1 */
                xlen = ((uint32_t)x[1] + 1) * 8;
            }
            if (xlen > lim - l4)
                return MBX_DECODE_TRUNC_IPV6_EXT;
            proto = x[0];
            l4 += xlen;
        }
        p->proto = (uint8_t)proto;
    }
    if (proto != DEC_PROTO_TCP && proto != DEC_PROTO_UDP)
        return MBX_DECODE_OTHER_L4;
    if (l4 > 0xffff)
        return MBX_DECODE_TRUNC_IPV6_EXT; /* cannot happen with 16 headers; kept as a guard */
    p->l4_off = (uint16_t)l4;
    /* bytes of the datagram that were captured */
    uint32_t have = ip_end < caplen ? ip_end : caplen;
    if (ip_end > caplen)
        p->pflags |= MBX_PKT_TRUNCATED;
    const uint8_t *t = d + l4;
    uint32_t l4_avail = have > l4 ? have - l4 : 0;

    if (proto == DEC_PROTO_TCP) {
        if (l4_avail < 20)
            return MBX_DECODE_TRUNC_TCP;
        uint32_t thl = (uint32_t)(t[12] >> 4) * 4;
        if (thl < 20 || l4 + thl > ip_end)
            return MBX_DECODE_BAD_TCP_HLEN;
        if (thl > l4_avail)
            return MBX_DECODE_TRUNC_TCP;
        p->sport = dec_be16(t);
        p->dport = dec_be16(t + 2);
        p->seq = dec_be32(t + 4);
        p->ack = dec_be32(t + 8);
        p->tcp_flags = t[13];
        p->win = dec_be16(t + 14);
        p->urp = dec_be16(t + 18);
        p->tcp_hlen = (uint8_t)thl;
        if (thl > 20) {
            err = dec_tcp_opts(p, t + 20, t + thl);
            if (err != MBX_DECODE_OK)
                return err;
        }
        p->payload = t + thl;
        p->payload_len = l4_avail - thl;
        return MBX_DECODE_OK;
    }

    /* UDP */
    if (l4_avail < 8)
        return MBX_DECODE_TRUNC_UDP;
    uint32_t ulen = dec_be16(t + 4);
    if (ulen < 8 || ulen > ip_end - l4)
        return MBX_DECODE_BAD_UDP_LEN;
    p->sport = dec_be16(t);
    p->dport = dec_be16(t + 2);
    p->payload = t + 8;
    /* the UDP length bounds the payload too; truncation is judged against it */
    if (ulen <= l4_avail) {
        p->payload_len = ulen - 8;
        p->pflags &= (uint8_t)~MBX_PKT_TRUNCATED;
    } else {
        p->payload_len = l4_avail - 8;
        p->pflags |= MBX_PKT_TRUNCATED;
    }
    return MBX_DECODE_OK;
}
