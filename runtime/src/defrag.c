/*
 * defrag.c - IP fragment reassembly (IPv4 and IPv6), before the flow table.
 *
 * A fragment (mbx_decode said MBX_DECODE_FRAGMENT) goes into the datagram it
 * belongs to, keyed by (version, source, destination, IP id, protocol) for
 * IPv4 (RFC 791) and (source, destination, fragment id) for IPv6 (RFC 8200
 * 4.5).  When every byte from offset 0 to the end the last fragment gives is
 * here, the datagram is rebuilt as one contiguous frame - the link-layer and
 * IP header of its first fragment (IPv4 options included; for IPv6 the
 * unfragmentable part, without the fragment header), lengths, flags and the
 * IPv4 checksum fixed, then the payload - which the engine decodes and
 * processes like any packet, at the time of its last fragment (engine.c).
 *
 * Memory: datagrams live in an array sized at engine start
 * (config.defrag_max_datagrams, calloc'd: only entries used are touched), in
 * hash chains and one list in creation order (timeouts run from the first
 * fragment, so the oldest is the head: O(1) expiry, oldest-first eviction when
 * the table is full).  Payload bytes go into 1 KiB blocks from one pool sized
 * by config.defrag_mem (calloc'd, recycled through a free list): a datagram
 * maps its offset range [0, 64 KiB) onto at most 64 blocks, and one bit per 8
 * bytes (the fragment unit) says which bytes are here.  Nothing is allocated
 * per packet.  When the pool runs out, the oldest other datagrams are evicted.
 *
 * Overlaps follow config.policy like the streams: first-wins keeps bytes once
 * stored, last-wins lets a later copy replace them.  Either way a fragment
 * that overlaps bytes seen before is counted (frag_overlaps), and counted
 * again when the overlapping bytes differ (frag_inconsistent: the evasion
 * case).  Bad fragments are dropped and counted by reason: empty or a length
 * not a multiple of 8 on a non-last fragment, an end past 65535 bytes, cut
 * by the snap length, too many for one datagram, past the end the last
 * fragment gave, no memory.  Datagrams that never complete are counted when
 * they time out, are evicted, or are left at the end of input.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "engine.h"

#define DF_BLOCK     1024u                /* bytes of payload per block */
#define DF_SPAN      65536u               /* payload offsets a datagram can use */
#define DF_NBLK      (DF_SPAN / DF_BLOCK) /* block slots per datagram */
#define DF_UNITS     (DF_SPAN / 8)        /* 8-byte fragment units */
#define DF_WORDS     (DF_UNITS / 64)      /* bitmap words */
#define DF_HDR_MAX   256u                 /* link + IP (+ IPv6 unfragmentable) header kept */
#define DF_MAX_V6EXT 16                   /* IPv6 extension headers followed */

/* Datagram flags (df_dgram.flags). */
#define DG_FIRST 0x01 /* the fragment at offset 0 was seen: hdr is valid */
#define DG_LAST  0x02 /* the last fragment (MF clear) was seen: end is valid */

/* A datagram being reassembled. */
struct df_dgram {
    struct mbx_addr src, dst; /* key: addresses */
    uint32_t id;              /* key: IPv4 id (16 bits) or IPv6 fragment id */
    uint8_t ver;              /* key: 4 or 6 */
    uint8_t proto;            /* key (IPv4 only): the protocol field */
    uint8_t flags;            /* DG_* */
    uint8_t next_hdr;         /* IPv6: the offset-0 fragment's next header */
    uint32_t hnext;           /* hash chain: index + 1 (0: end) */
    uint32_t prev, next;      /* creation-order list: index + 1 (0: none) */
    uint32_t end;             /* payload bytes in all (DG_LAST) */
    uint32_t nfrags;          /* fragments taken */
    uint32_t nblk;            /* blocks held */
    mbx_time first;           /* time of the first fragment */
    int linktype;             /* of the offset-0 fragment */
    uint16_t hdr_len;         /* bytes in hdr: link header + IP header (+ IPv6
                               * unfragmentable extension headers) */
    uint16_t l3_off;          /* IP header offset in hdr */
    uint16_t nh_off;          /* IPv6: offset in hdr of the next-header byte that
                               * named the fragment header */
    uint32_t blk[DF_NBLK];    /* payload block per 1 KiB of offsets: index + 1 */
    uint64_t bits[DF_WORDS];  /* 8-byte units present */
    uint8_t hdr[DF_HDR_MAX];  /* the offset-0 fragment's headers */
};

struct defrag {
    struct df_dgram *dg; /* max datagrams */
    uint32_t max;        /* entries */
    uint32_t used;       /* live entries */
    uint32_t bump;       /* entries never used start here */
    uint32_t free_head;  /* free entries through hnext: index + 1 */
    uint32_t head, tail; /* creation order, oldest first: index + 1 */
    uint32_t *bucket;    /* hash buckets: index + 1 */
    uint32_t mask;       /* buckets - 1 */
    uint8_t *blocks;     /* the block pool */
    uint32_t nblocks;    /* blocks in the pool */
    uint32_t blk_bump;   /* blocks never used start here */
    uint32_t blk_free;   /* free list through each block's first 4 bytes: index + 1 */
    uint32_t blk_used;   /* blocks held */
    uint8_t *out;        /* the rebuilt frame */
};

int defrag_init(mbx_engine *e)
{
    if (!e->cfg.defrag)
        return 0;
    struct defrag *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    e->defrag = d;
    d->max = e->cfg.defrag_max_datagrams;
    uint32_t nb = 1;
    while (nb < d->max && nb < (1u << 30))
        nb <<= 1;
    d->mask = nb - 1;
    uint64_t blocks = e->cfg.defrag_mem / DF_BLOCK;
    if (blocks < DF_NBLK) /* room for one whole datagram at least */
        blocks = DF_NBLK;
    if (blocks > UINT32_MAX / 2)
        blocks = UINT32_MAX / 2;
    d->nblocks = (uint32_t)blocks;
    d->dg = calloc(d->max, sizeof(*d->dg));
    d->bucket = calloc(nb, sizeof(*d->bucket));
    d->blocks = calloc(d->nblocks, DF_BLOCK);
    d->out = malloc(DF_HDR_MAX + DF_SPAN);
    if (!d->dg || !d->bucket || !d->blocks || !d->out)
        return -ENOMEM;
    return 0;
}

void defrag_fini(mbx_engine *e)
{
    struct defrag *d = e->defrag;
    if (!d)
        return;
    free(d->dg);
    free(d->bucket);
    free(d->blocks);
    free(d->out);
    free(d);
    e->defrag = NULL;
}

static inline uint16_t df_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t df_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void df_put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint64_t df_hash(uint8_t ver, const struct mbx_addr *src, const struct mbx_addr *dst,
                        uint32_t id, uint8_t proto)
{
    uint8_t k[40];
    memcpy(k, src->b, 16);
    memcpy(k + 16, dst->b, 16);
    memcpy(k + 32, &id, 4);
    k[36] = ver;
    k[37] = proto;
    k[38] = k[39] = 0;
    return XXH3_64bits(k, sizeof(k));
}

static uint8_t *df_block(struct defrag *d, uint32_t b)
{
    return d->blocks + (size_t)b * DF_BLOCK;
}

static uint32_t df_block_get(struct defrag *d)
{
    uint32_t b;
    if (d->blk_free) {
        b = d->blk_free - 1;
        memcpy(&d->blk_free, df_block(d, b), sizeof(d->blk_free));
    } else if (d->blk_bump < d->nblocks) {
        b = d->blk_bump++;
    } else {
        return UINT32_MAX;
    }
    d->blk_used++;
    return b;
}

static void df_block_put(struct defrag *d, uint32_t b)
{
    memcpy(df_block(d, b), &d->blk_free, sizeof(d->blk_free));
    d->blk_free = b + 1;
    d->blk_used--;
}

static uint32_t df_blocks_free(const struct defrag *d)
{
    return d->nblocks - d->blk_used;
}

/* Unlink datagram i from its chain and the creation list, return its blocks
 * and the entry to the pools. */
static void df_release(struct defrag *d, uint32_t i)
{
    struct df_dgram *g = &d->dg[i];
    uint32_t *pp = &d->bucket[df_hash(g->ver, &g->src, &g->dst, g->id, g->proto) & d->mask];
    while (*pp && *pp != i + 1)
        pp = &d->dg[*pp - 1].hnext;
    if (*pp)
        *pp = g->hnext;
    if (g->prev)
        d->dg[g->prev - 1].next = g->next;
    else
        d->head = g->next;
    if (g->next)
        d->dg[g->next - 1].prev = g->prev;
    else
        d->tail = g->prev;
    for (uint32_t k = 0; k < DF_NBLK && g->nblk; k++)
        if (g->blk[k]) {
            df_block_put(d, g->blk[k] - 1);
            g->blk[k] = 0;
            g->nblk--;
        }
    g->hnext = d->free_head;
    d->free_head = i + 1;
    d->used--;
}

/* The oldest datagram other than keep (index + 1; 0: none) is dropped as evicted. */
static bool df_evict_one(mbx_engine *e, uint32_t keep)
{
    struct defrag *d = e->defrag;
    uint32_t i = d->head;
    if (i == keep && i)
        i = d->dg[i - 1].next;
    if (!i)
        return false;
    df_release(d, i - 1);
    e->stats.frag_evicted++;
    return true;
}

void defrag_expire(mbx_engine *e, mbx_time now)
{
    struct defrag *d = e->defrag;
    if (!d)
        return;
    while (d->head) {
        struct df_dgram *g = &d->dg[d->head - 1];
        if (now < g->first || now - g->first <= e->cfg.defrag_timeout)
            break;
        df_release(d, d->head - 1);
        e->stats.frag_timeouts++;
    }
}

void defrag_finish(mbx_engine *e)
{
    struct defrag *d = e->defrag;
    if (!d)
        return;
    while (d->head) {
        df_release(d, d->head - 1);
        e->stats.frag_unfinished++;
    }
}

/* Finds or creates the datagram of a key; index, or UINT32_MAX when none could
 * be made (never: the oldest is evicted when the table is full). */
static uint32_t df_lookup(mbx_engine *e, uint8_t ver, const struct mbx_addr *src,
                          const struct mbx_addr *dst, uint32_t id, uint8_t proto, mbx_time ts)
{
    struct defrag *d = e->defrag;
    uint32_t *bk = &d->bucket[df_hash(ver, src, dst, id, proto) & d->mask];
    for (uint32_t i = *bk; i; i = d->dg[i - 1].hnext) {
        struct df_dgram *g = &d->dg[i - 1];
        if (g->id == id && g->ver == ver && g->proto == proto &&
            memcmp(&g->src, src, sizeof(*src)) == 0 && memcmp(&g->dst, dst, sizeof(*dst)) == 0)
            return i - 1;
    }
    if (d->used == d->max && !df_evict_one(e, 0))
        return UINT32_MAX;
    uint32_t i;
    if (d->free_head) {
        i = d->free_head - 1;
        d->free_head = d->dg[i].hnext;
    } else {
        i = d->bump++;
    }
    struct df_dgram *g = &d->dg[i];
    memset(g, 0, offsetof(struct df_dgram, blk));
    memset(g->bits, 0, sizeof(g->bits));
    g->src = *src;
    g->dst = *dst;
    g->id = id;
    g->ver = ver;
    g->proto = proto;
    g->first = ts;
    /* the bucket may have changed if an eviction emptied it: recompute */
    bk = &d->bucket[df_hash(ver, src, dst, id, proto) & d->mask];
    g->hnext = *bk;
    *bk = i + 1;
    g->prev = d->tail;
    if (d->tail)
        d->dg[d->tail - 1].next = i + 1;
    else
        d->head = i + 1;
    d->tail = i + 1;
    d->used++;
    return i;
}

static inline bool df_bit(const struct df_dgram *g, uint32_t u)
{
    return (g->bits[u >> 6] >> (u & 63)) & 1;
}

/* All payload units [0, end) present. */
static bool df_complete(const struct df_dgram *g)
{
    if ((g->flags & (DG_FIRST | DG_LAST)) != (DG_FIRST | DG_LAST))
        return false;
    uint32_t units = (g->end + 7) / 8, w = units / 64;
    for (uint32_t k = 0; k < w; k++)
        if (g->bits[k] != UINT64_MAX)
            return false;
    uint32_t rest = units % 64;
    if (rest) {
        uint64_t m = (1ull << rest) - 1;
        if ((g->bits[w] & m) != m)
            return false;
    }
    return true;
}

/* Blocks the range [lo, hi) would need that g does not hold yet. */
static uint32_t df_blocks_needed(const struct df_dgram *g, uint32_t lo, uint32_t hi)
{
    uint32_t n = 0;
    for (uint32_t k = lo / DF_BLOCK; k <= (hi - 1) / DF_BLOCK; k++)
        n += g->blk[k] == 0;
    return n;
}

/* Stores [lo, hi) of the payload from data (data[0] is offset lo) under the
 * overlap policy; returns STREAM_OVERLAP / STREAM_INCONSISTENT bits.  The
 * blocks it needs are available (checked before). */
static int df_store(struct defrag *d, struct df_dgram *g, uint32_t lo, uint32_t hi,
                    const uint8_t *data, bool last_wins)
{
    int r = 0;
    for (uint32_t u = lo / 8; u * 8 < hi; u++) {
        uint32_t a = u * 8 > lo ? u * 8 : lo, b = u * 8 + 8 < hi ? u * 8 + 8 : hi;
        uint32_t k = u / (DF_BLOCK / 8);
        if (!g->blk[k]) {
            g->blk[k] = df_block_get(d) + 1;
            g->nblk++;
        }
        uint8_t *dst = df_block(d, g->blk[k] - 1) + (a % DF_BLOCK);
        if (df_bit(g, u)) {
            r |= STREAM_OVERLAP;
            if (memcmp(dst, data + (a - lo), b - a) != 0) {
                r |= STREAM_INCONSISTENT;
                if (last_wins)
                    memcpy(dst, data + (a - lo), b - a);
            }
        } else {
            memcpy(dst, data + (a - lo), b - a);
            g->bits[u >> 6] |= 1ull << (u & 63);
        }
    }
    return r;
}

/* Builds the frame of a complete datagram into d->out.  Returns its length,
 * or 0 when the rebuilt datagram would pass 65535 bytes. */
static uint32_t df_rebuild(struct defrag *d, struct df_dgram *g)
{
    uint8_t *o = d->out;
    uint32_t ip_hdr = g->hdr_len - g->l3_off; /* IP header bytes kept (v6: 40 + ext) */
    if (ip_hdr + g->end > (g->ver == 4 ? 65535u : 65535u + 40))
        return 0;
    memcpy(o, g->hdr, g->hdr_len);
    for (uint32_t off = 0; off < g->end; off += DF_BLOCK) {
        uint32_t n = g->end - off < DF_BLOCK ? g->end - off : DF_BLOCK;
        memcpy(o + g->hdr_len + off, df_block(d, g->blk[off / DF_BLOCK] - 1), n);
    }
    uint8_t *ip = o + g->l3_off;
    if (g->ver == 4) {
        df_put16(ip + 2, ip_hdr + g->end);
        ip[6] &= 0xc0; /* keep DF (and the reserved bit), clear MF and the offset */
        ip[7] = 0;
        ip[10] = ip[11] = 0;
        uint32_t sum = 0;
        for (uint32_t k = 0; k + 1 < ip_hdr; k += 2)
            sum += df_be16(ip + k);
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        df_put16(ip + 10, ~sum & 0xffff);
    } else {
        o[g->nh_off] = g->next_hdr; /* the fragment header is gone */
        df_put16(ip + 4, ip_hdr - 40 + g->end);
    }
    return g->hdr_len + g->end;
}

/* Where a fragment's pieces are, from its headers. */
struct df_frag {
    uint32_t id;
    uint32_t off, len; /* payload offset and length in the datagram */
    uint32_t data;     /* frame offset of its payload */
    uint32_t hdr_len;  /* frame bytes before the payload to keep (offset 0) */
    uint32_t nh_off;   /* IPv6: next-header byte naming the fragment header */
    uint32_t iphdr;    /* IP header bytes that the rebuilt datagram keeps */
    uint8_t proto;     /* v4: protocol; v6: the fragment header's next header */
    bool more;         /* MF */
};

/* Parses the IP layer of a fragment again (decode stopped there); false when it is
 * cut by the snap length. */
static bool df_parse(const struct mbx_pkt *p, struct df_frag *f)
{
    const uint8_t *d = p->frame;
    uint32_t l3 = p->l3_off, ip_end = l3 + p->ip_len;
    if (ip_end > p->caplen)
        return false;
    const uint8_t *ip = d + l3;
    if (p->ip_ver == 4) {
        uint32_t hlen = (uint32_t)(ip[0] & 0x0f) * 4, fo = df_be16(ip + 6);
        if (hlen < 20 || hlen > p->ip_len)
            return false;
        f->id = df_be16(ip + 4);
        f->off = (fo & 0x1fff) * 8;
        f->more = fo & 0x2000;
        f->data = l3 + hlen;
        f->len = p->ip_len - hlen;
        f->hdr_len = l3 + hlen;
        f->iphdr = hlen;
        f->proto = ip[9];
        f->nh_off = 0;
        return true;
    }
    /* IPv6: walk to the fragment header (decode found it inside the datagram) */
    uint32_t x = l3 + 40, nh = l3 + 6;
    uint8_t proto = ip[6];
    for (int n = 0;; n++) {
        if (x + 8 > ip_end)
            return false;
        if (proto == 44)
            break;
        if (n == DF_MAX_V6EXT || (proto != 0 && proto != 43 && proto != 51 && proto != 60))
            return false;
        uint32_t xlen = proto == 51 ? ((uint32_t)d[x + 1] + 2) * 4 : ((uint32_t)d[x + 1] + 1) * 8;
        nh = x;
        proto = d[x];
        x += xlen;
    }
    uint32_t fo = df_be16(d + x + 2);
    f->id = df_be32(d + x + 4);
    f->off = fo & 0xfff8;
    f->more = fo & 1;
    f->data = x + 8;
    f->len = ip_end - (x + 8);
    f->hdr_len = x;
    f->iphdr = x - l3;
    f->proto = d[x];
    f->nh_off = nh;
    return true;
}

/* Is the first fragment too short for its L4 header (a header split across
 * fragments: reassembled, but a sign of evasion)? */
static bool df_tiny(const struct df_frag *f, const uint8_t *payload)
{
    if (f->proto == 6)
        return f->len < 20 || (uint32_t)(payload[12] >> 4) * 4 > f->len;
    if (f->proto == 17)
        return f->len < 8;
    return false;
}

bool defrag_input(mbx_engine *e, const struct mbx_pkt *p, int linktype, struct mbx_frame *out)
{
    struct defrag *d = e->defrag;
    e->stats.frags++;
    defrag_expire(e, p->ts);
    struct df_frag f;
    if (!df_parse(p, &f)) {
        e->stats.frag_drop_trunc++;
        return false;
    }
    if (f.len == 0 || (f.more && f.len % 8 != 0) || (f.off == 0 && f.hdr_len > DF_HDR_MAX)) {
        e->stats.frag_drop_bad++;
        return false;
    }
    /* the rebuilt length field: IPv4 total length, IPv6 payload length */
    if (f.iphdr + f.off + f.len > (p->ip_ver == 4 ? 65535u : 65535u + 40)) {
        e->stats.frag_drop_too_big++;
        return false;
    }
    uint8_t key_proto = p->ip_ver == 4 ? f.proto : 0;
    uint32_t i = df_lookup(e, p->ip_ver, &p->src, &p->dst, f.id, key_proto, p->ts);
    if (i == UINT32_MAX) {
        e->stats.frag_drop_mem++;
        return false;
    }
    struct df_dgram *g = &d->dg[i];
    if (g->nfrags >= e->cfg.defrag_max_frags) {
        e->stats.frag_drop_too_many++;
        return false;
    }
    uint32_t lo = f.off, hi = f.off + f.len;
    if (!f.more) {
        if (!(g->flags & DG_LAST)) {
            g->flags |= DG_LAST;
            g->end = hi;
            if (g->nblk) { /* bytes stored past this end are ignored */
                uint32_t units = (hi + 7) / 8;
                for (uint32_t u = units; u < DF_UNITS; u++)
                    if (df_bit(g, u)) {
                        e->stats.frag_size_mismatch++;
                        break;
                    }
            }
        } else if (hi != g->end) {
            e->stats.frag_size_mismatch++; /* a second, different end: the first wins */
        }
    }
    if ((g->flags & DG_LAST) && hi > g->end) {
        if (lo >= g->end) {
            e->stats.frag_drop_past_end++;
            return false;
        }
        if (f.more)
            e->stats.frag_size_mismatch++;
        hi = g->end;
    }
    uint32_t need = df_blocks_needed(g, lo, hi);
    while (df_blocks_free(d) < need && df_evict_one(e, i + 1))
        ;
    if (df_blocks_free(d) < need) {
        e->stats.frag_drop_mem++;
        if (!g->nfrags) /* nothing of it held: do not leave an empty datagram */
            df_release(d, i);
        return false;
    }
    const uint8_t *payload = p->frame + f.data;
    if (lo == 0 && !(g->flags & DG_FIRST)) {
        g->flags |= DG_FIRST;
        memcpy(g->hdr, p->frame, f.hdr_len);
        g->hdr_len = (uint16_t)f.hdr_len;
        g->l3_off = p->l3_off;
        g->nh_off = (uint16_t)f.nh_off;
        g->next_hdr = f.proto;
        g->linktype = linktype;
        if (f.more && df_tiny(&f, payload))
            e->stats.frag_tiny++;
    }
    g->nfrags++;
    int r = df_store(d, g, lo, hi, payload, e->cfg.policy == MBX_POLICY_LAST);
    if (r & STREAM_OVERLAP)
        e->stats.frag_overlaps++;
    if (r & STREAM_INCONSISTENT)
        e->stats.frag_inconsistent++;
    if (!df_complete(g))
        return false;
    uint32_t n = df_rebuild(d, g);
    int lt = g->linktype;
    df_release(d, i);
    if (!n) {
        e->stats.frag_drop_too_big++;
        return false;
    }
    e->stats.frag_reassembled++;
    *out =
        (struct mbx_frame){.data = d->out, .caplen = n, .wirelen = n, .ts = p->ts, .linktype = lt};
    return true;
}

uint32_t defrag_pending(const mbx_engine *e)
{
    return e->defrag ? e->defrag->used : 0;
}

uint64_t defrag_mem_used(const mbx_engine *e)
{
    return e->defrag ? (uint64_t)e->defrag->blk_used * DF_BLOCK : 0;
}
