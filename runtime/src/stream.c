/*
 * stream.c - stream reassembly: the bytes one side of a TCP connection sent,
 * in order, with nothing lost silently.
 *
 * A stream exists only for a side that some subscription reads (MBX_SUB_READ_*,
 * or a tcp.data / tcp.rexmit / tcp.gap subscription).  Its buffer is linear and
 * indexed by stream offset: buf[o - base_off].  It holds, in order, up to
 * STREAM_KEEP (4 KiB) delivered bytes kept to compare retransmissions with, the unread
 * bytes [read_off, end_off), and queued intervals past end_off (out-of-order
 * segments, and under the last-wins policy in-order bytes not yet ACKed).
 * Queued intervals are a sorted list of [start, end) nodes from a pool; at most
 * ooo_max_segs of them (an in-order segment is always accepted).
 *
 * Overlap policies.  First-wins (default): a byte, once stored, is never
 * overwritten, and in-order bytes are delivered at once.  Last-wins: a byte is
 * overwritten by any later copy until it is delivered, and bytes are delivered
 * only when the peer ACKs them (or at FIN/RST/end of flow, or when more than
 * STREAM_MAX_BUF/4 bytes wait, or at once on a one-sided capture where the peer
 * was never seen).  Either way, a copy whose bytes differ from those stored or
 * delivered (still kept) marks the segment inconsistent (tcp.rexmit).
 *
 * Gaps.  A hole at end_off becomes a tcp.gap (offset, length, reason) when the
 * peer ACKs past it (LOSS), at once when its bytes were dropped on purpose
 * (OOO_FULL, MEMORY, SNAPLEN: the last such range is remembered), or when the
 * flow ends (LOSS, or EVICTED).  After a gap the unread bytes before it are
 * dropped (a reader's unread window is always contiguous).  Bytes past
 * config.stream_depth are counted once each (depth_end) and reported as DEPTH
 * gaps.  Every gap is counted in the half and in the run's statistics: losses
 * (LOSS, OOO_FULL, EVICTED, SNAPLEN) in gaps/gap_bytes, limits (DEPTH, MEMORY)
 * in depth_limits/depth_bytes.
 *
 * Zero copy.  When frames stay valid until the source closes (a mapped pcap
 * file: e->frames_persist), an in-order segment on a stream with nothing
 * unread and nothing queued (first-wins) is delivered from the packet itself:
 * tcp.data readers see the frame's bytes, and only the bytes they leave
 * unread are copied into the buffer afterwards, so no byte is copied twice
 * and most are never copied.  The last STREAM_NREF segments delivered that
 * way stay referenced in place (stream_ref): retransmissions are compared
 * with them and peek_at reads them, as with the bytes kept in a buffer.
 *
 * Buffers come from size-class free lists (4 KiB << k up to STREAM_MAX_BUF),
 * accounted against config.stream_mem; a class is malloc'd only when its free
 * list is empty, then recycled, so steady state allocates nothing.  When a
 * reader never consumes, the oldest delivered bytes are consumed for it once
 * the window reaches STREAM_MAX_BUF (they were all announced by tcp.data).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "seq.h"

#define HOLD_MAX (STREAM_MAX_BUF / 4)

int stream_init(mbx_engine *e)
{
    uint64_t n = (uint64_t)e->cfg.max_flows * 2;
    if (n > (1u << 22))
        n = 1u << 22;
    if (n < 65536)
        n = 65536;
    e->streams = calloc((size_t)e->cfg.max_flows * 2, sizeof(*e->streams));
    e->segs = calloc(n, sizeof(*e->segs));
    if (!e->streams || !e->segs)
        return -ENOMEM;
    e->nsegs = (uint32_t)n;
    return 0;
}

void stream_fini(mbx_engine *e)
{
    for (int k = 0; k < STREAM_NCLASS; k++) {
        void *b = e->buf_free[k];
        while (b) {
            void *next;
            memcpy(&next, b, sizeof(next));
            free(b);
            b = next;
        }
        e->buf_free[k] = NULL;
    }
    free(e->streams);
    free(e->segs);
    e->streams = NULL;
    e->segs = NULL;
}

/* ---------------------------------------------------------------- pools */

static int buf_class(uint64_t size)
{
    int k = 0;
    while ((uint64_t)STREAM_MIN_BUF << k < size)
        k++;
    return k;
}

static uint8_t *buf_get(mbx_engine *e, int k)
{
    uint8_t *b = e->buf_free[k];
    if (b) {
        memcpy(&e->buf_free[k], b, sizeof(void *));
        return b;
    }
    return malloc((size_t)STREAM_MIN_BUF << k);
}

static void buf_put(mbx_engine *e, uint8_t *b, uint32_t cap)
{
    if (!b)
        return;
    int k = buf_class(cap);
    memcpy(b, &e->buf_free[k], sizeof(void *));
    e->buf_free[k] = b;
    e->mem_used -= cap;
}

static struct stream_seg *seg_at(mbx_engine *e, uint32_t i)
{
    return &e->segs[i - 1];
}

static uint32_t seg_alloc(mbx_engine *e, uint64_t start, uint64_t end)
{
    uint32_t i;
    if (e->seg_free) {
        i = e->seg_free;
        e->seg_free = seg_at(e, i)->next;
    } else if (e->seg_bump < e->nsegs) {
        i = ++e->seg_bump;
    } else {
        return 0;
    }
    struct stream_seg *s = seg_at(e, i);
    s->start = start;
    s->end = end;
    s->next = 0;
    return i;
}

static void seg_free(mbx_engine *e, uint32_t i)
{
    seg_at(e, i)->next = e->seg_free;
    e->seg_free = i;
}

/* ---------------------------------------------------------------- life cycle */

bool stream_wanted(const mbx_engine *e, const struct mbx_flow *f, enum mbx_side s)
{
    if (f->proto != 6 || (f->fflags & F_DROPPED) || f->end != MBX_END_NONE)
        return false;
    return e->read_always[s] || (e->read_mask[s] & ~f->sub_off);
}

struct mbx_stream *stream_get(mbx_engine *e, struct mbx_flow *f, enum mbx_side s)
{
    if (!(f->fflags & (s ? F_STREAM1 : F_STREAM0)))
        return NULL;
    return &e->streams[2 * (size_t)flow_index(e, f) + s];
}

/* Open side s's stream; it starts at the next byte that side will send. */
struct mbx_stream *stream_open(mbx_engine *e, struct mbx_flow *f, enum mbx_side s)
{
    struct mbx_stream *st = &e->streams[2 * (size_t)flow_index(e, f) + s];
    const struct mbx_half *h = &f->half[s];
    memset(st, 0, sizeof(*st));
    st->base_seq = half_base_seq(h);
    /* A side that sent bytes before its stream was wanted starts where it is
     * now; otherwise the stream starts at its first byte (offset 0). */
    int64_t off = (h->hflags & H_ISN) && h->payload ? seq_to_off(h->next_seq, st->base_seq, 0) : 0;
    if (off < 0)
        off = 0;
    st->base_off = st->read_off = st->end_off = st->hi_off = st->valid_lo = (uint64_t)off;
    st->fin_off = UINT64_MAX;
    st->sflags = S_OPEN;
    st->side = (uint8_t)s;
    st->flow = flow_index(e, f);
    st->eng = e;
    f->fflags |= s ? F_STREAM1 : F_STREAM0;
    /* Opened late (at the side's first byte): what is known already. */
    const struct mbx_half *r = &f->half[!s];
    if (r->hflags & H_ACKED)
        stream_set_ack(st, seq_to_off(r->last_ack, st->base_seq, st->end_off));
    if (h->hflags & H_FIN)
        stream_set_fin(st, seq_to_off(h->fin_seq, st->base_seq, st->end_off));
    return st;
}

void stream_close(mbx_engine *e, struct mbx_flow *f, enum mbx_side s)
{
    struct mbx_stream *st = stream_get(e, f, s);
    if (!st)
        return;
    buf_put(e, st->buf, st->cap);
    for (uint32_t i = st->ooo; i;) {
        uint32_t next = seg_at(e, i)->next;
        seg_free(e, i);
        i = next;
    }
    st->buf = NULL;
    st->ooo = 0;
    st->sflags = 0;
    f->fflags &= (uint8_t) ~(s ? F_STREAM1 : F_STREAM0);
}

/* After subscriptions changed on f: open the streams now read, release the others. */
void stream_recheck(mbx_engine *e, struct mbx_flow *f)
{
    f->fflags &= (uint8_t)~F_RECHECK;
    for (int i = 0; i < 2; i++) {
        enum mbx_side s = (enum mbx_side)i;
        bool want = stream_wanted(e, f, s), have = stream_get(e, f, s) != NULL;
        if (want && !have && f->half[s].payload)
            stream_open(e, f, s); /* otherwise at its first byte */
        else if (!want && have)
            stream_close(e, f, s);
    }
}

/* ---------------------------------------------------------------- storage */

/* Make the buffer cover offsets up to hi.  Returns 0, or the reason it cannot
 * (MBX_GAP_MEMORY or MBX_GAP_OOO_FULL) + 1. */
static int stream_reserve(mbx_engine *e, struct mbx_stream *st, uint64_t hi)
{
    if (st->buf && hi - st->base_off <= st->cap &&
        (st->cap <= STREAM_GROW_BUF || hi - st->read_off > st->cap / 8))
        return 0;
    uint64_t keep = st->read_off > STREAM_KEEP ? st->read_off - STREAM_KEEP : 0;
    if (keep < st->base_off)
        keep = st->base_off;
    if (hi - keep > STREAM_MAX_BUF) {
        /* The reader holds too much: consume delivered bytes for it. */
        st->read_off = st->end_off;
        keep = st->end_off;
        if (hi - keep > STREAM_MAX_BUF)
            return MBX_GAP_OOO_FULL + 1;
    }
    if (st->buf && keep > st->base_off) {
        uint64_t used = st->hi_off > keep ? st->hi_off - keep : 0;
        if (used)
            memmove(st->buf, st->buf + (keep - st->base_off), (size_t)used);
        st->base_off = keep;
    } else if (!st->buf) {
        st->base_off = keep;
    }
    /* Compacting moves the kept and unread bytes: grow a small buffer rather
     * than move often (at most 1/8 of the bytes stored move once the buffer
     * holds STREAM_GROW_BUF). */
    uint64_t need = (hi > st->hi_off ? hi : st->hi_off) - st->base_off;
    /* A big buffer that now holds little (a burst of queued bytes was
     * delivered) shrinks, so that idle streams do not pin stream_mem. */
    bool shrink = st->buf && st->cap > STREAM_GROW_BUF && need <= st->cap / 8;
    if (st->buf && need <= st->cap && !shrink &&
        (st->cap >= STREAM_GROW_BUF || need <= st->cap / 2))
        return 0;
    if (shrink)
        need *= 2;
    if (st->buf && need < STREAM_GROW_BUF)
        need = STREAM_GROW_BUF;
    int k = buf_class(need);
    uint32_t ncap = STREAM_MIN_BUF << k;
    bool fits = st->buf && hi - st->base_off <= st->cap; /* growing is only better */
    if (e->mem_used - st->cap + ncap > e->cfg.stream_mem)
        return fits ? 0 : MBX_GAP_MEMORY + 1;
    uint8_t *nb = buf_get(e, k);
    if (!nb)
        return fits ? 0 : MBX_GAP_MEMORY + 1;
    if (st->buf) {
        uint64_t used = st->hi_off > st->base_off ? st->hi_off - st->base_off : 0;
        memcpy(nb, st->buf, (size_t)used);
        buf_put(e, st->buf, st->cap);
    }
    st->buf = nb;
    st->cap = ncap;
    e->mem_used += ncap;
    return 0;
}

static void stream_drop(mbx_engine *e, struct mbx_stream *st, uint64_t lo, uint64_t hi,
                        enum mbx_gap_reason why)
{
    if (why == MBX_GAP_OOO_FULL)
        e->stats.ooo_dropped++;
    st->drop_lo = lo;
    st->drop_hi = hi;
    st->drop_reason = (uint8_t)why;
}

/* Report len bytes at off as missing and skip them. */
static void stream_gap(mbx_engine *e, struct mbx_stream *st, uint64_t off, uint64_t len,
                       enum mbx_gap_reason why)
{
    struct mbx_flow *f = &e->flows[st->flow];
    struct mbx_half *h = &f->half[st->side];
    if (why == MBX_GAP_DEPTH || why == MBX_GAP_MEMORY) { /* a limit, not a loss */
        h->depth_bytes += len;
        e->stats.depth_bytes += len;
        e->stats.depth_limits++;
    } else {
        h->gap_bytes += len;
        e->stats.gap_bytes += len;
        e->stats.gaps++;
    }
    if (off == st->end_off) {
        st->end_off += len;
        st->read_off = st->valid_lo = st->end_off;
    }
    if (disp_want(e, MBX_EV_TCP_GAP)) {
        struct mbx_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.id = MBX_EV_TCP_GAP;
        ev.engine = e;
        ev.flow = f;
        ev.pkt = e->pkt;
        ev.side = (enum mbx_side)st->side;
        ev.offset = off;
        ev.len = len;
        ev.gap_reason = why;
        disp_fire(e, &ev);
    }
}

/* Where delivered byte off is still held: *p and how many bytes follow it
 * contiguously (up to end_off); 0 if it is not held. */
static uint64_t stream_held(const mbx_engine *e, const struct mbx_stream *st, uint64_t off,
                            const uint8_t **p)
{
    if (off < st->valid_lo || off >= st->end_off)
        return 0;
    if ((st->sflags & S_ZC) && off >= st->new_off) {
        *p = st->zc + (off - st->new_off);
        return st->end_off - off;
    }
    if (st->buf && off >= st->base_off) {
        uint64_t top = st->end_off;
        if ((st->sflags & S_ZC) && top > st->new_off)
            top = st->new_off;
        if (off < top) {
            *p = st->buf + (off - st->base_off);
            return top - off;
        }
    }
    for (int i = 0; i < STREAM_NREF; i++) {
        const struct stream_ref *r = &st->ref[i];
        if (r->len && off >= r->off && off < r->off + r->len && r->gen == pcapf_generation()) {
            *p = r->p + (off - r->off);
            return r->off + r->len - off;
        }
    }
    return 0;
}

/* Do the bytes data[lo - off, hi - off) differ from those held? (Bytes no
 * longer held are not compared.) */
static bool stream_differs(const mbx_engine *e, const struct mbx_stream *st, uint64_t off,
                           const uint8_t *data, uint64_t lo, uint64_t hi)
{
    while (lo < hi) {
        const uint8_t *p;
        uint64_t n = stream_held(e, st, lo, &p);
        if (!n) {
            lo++;
            continue;
        }
        if (n > hi - lo)
            n = hi - lo;
        if (memcmp(p, data + (lo - off), (size_t)n))
            return true;
        lo += n;
    }
    return false;
}

int stream_insert(mbx_engine *e, struct mbx_stream *st, int64_t soff, const uint8_t *data,
                  uint32_t len, uint32_t wire_len)
{
    struct mbx_flow *f = &e->flows[st->flow];
    bool last = e->cfg.policy == MBX_POLICY_LAST;
    int incons = 0;
    if (soff < 0) { /* bytes before the stream's start */
        if ((uint64_t)-soff >= wire_len)
            return STREAM_OVERLAP;
        uint32_t skip = (uint32_t)-soff;
        wire_len -= skip;
        len = len > skip ? len - skip : 0;
        data += len ? skip : 0;
        soff = 0;
    }
    uint64_t off = (uint64_t)soff, cend = off + len, end = off + wire_len;
    if (end > cend && end > st->end_off)
        stream_drop(e, st, cend > st->end_off ? cend : st->end_off, end, MBX_GAP_SNAPLEN);
    uint64_t depth = e->cfg.stream_depth;
    if (depth && end > depth) {
        uint64_t from = st->depth_end > depth ? st->depth_end : depth;
        if (end > from) {
            st->depth_end = end;
            stream_gap(e, st, from, end - from, MBX_GAP_DEPTH);
        }
        if (cend > depth)
            cend = depth;
    }
    /* Bytes already delivered: compare with those still kept. */
    if (off < st->end_off) {
        incons |= STREAM_OVERLAP;
        uint64_t lo = off > st->valid_lo ? off : st->valid_lo;
        uint64_t hi = cend < st->end_off ? cend : st->end_off;
        if (lo < hi && stream_differs(e, st, off, data, lo, hi))
            incons |= STREAM_INCONSISTENT;
        if (cend <= st->end_off)
            return incons;
        data += st->end_off - off;
        off = st->end_off;
    }
    if (off >= cend)
        return incons;
    /* In order, nothing unread or queued: deliver in place (zero copy). */
    if (e->frames_persist && !last && off == st->end_off && !st->ooo &&
        st->read_off == st->end_off && !(st->sflags & (S_INDATA | S_ZCPEND)) &&
        cend - off <= STREAM_MAX_BUF) {
        st->zc = data;
        st->zc_len = (uint32_t)(cend - off);
        st->sflags |= S_ZCPEND;
        return incons;
    }
    /* Does it touch a queued interval, or need a new one? */
    bool touches = false;
    for (uint32_t i = st->ooo; i; i = seg_at(e, i)->next) {
        struct stream_seg *g = seg_at(e, i);
        if (g->start > cend)
            break;
        if (g->end >= off) {
            touches = true;
            break;
        }
    }
    struct mbx_half *peer = &f->half[!st->side];
    if (!touches && off > st->end_off && st->nooo >= e->cfg.ooo_max_segs &&
        (peer->hflags & H_SEEN)) {
        stream_drop(e, st, off, cend, MBX_GAP_OOO_FULL);
        return incons;
    }
    int r = stream_reserve(e, st, cend);
    if (r) {
        stream_drop(e, st, off, cend, (enum mbx_gap_reason)(r - 1));
        return incons;
    }
    /* Write the bytes not yet stored (first-wins) or all of them (last-wins). */
    uint64_t pos = off;
#define B(o) (st->buf + ((o)-st->base_off)) /* where stream offset o is stored */
    for (uint32_t i = st->ooo; pos < cend;) {
        struct stream_seg *g = i ? seg_at(e, i) : NULL;
        if (!g || g->start >= cend) {
            memcpy(B(pos), data + (pos - off), (size_t)(cend - pos));
            break;
        }
        if (g->end <= pos) {
            i = g->next;
            continue;
        }
        if (g->start > pos) {
            memcpy(B(pos), data + (pos - off), (size_t)(g->start - pos));
            pos = g->start;
        }
        uint64_t oe = g->end < cend ? g->end : cend;
        incons |= STREAM_OVERLAP;
        if (memcmp(B(pos), data + (pos - off), (size_t)(oe - pos))) {
            incons |= STREAM_INCONSISTENT;
            if (last)
                memcpy(B(pos), data + (pos - off), (size_t)(oe - pos));
        }
        pos = oe;
        i = g->next;
    }
#undef B
    if (cend > st->hi_off)
        st->hi_off = cend;
    /* Merge [off, cend) into the sorted interval list. */
    uint32_t *link = &st->ooo;
    while (*link && seg_at(e, *link)->end < off)
        link = &seg_at(e, *link)->next;
    if (!*link || seg_at(e, *link)->start > cend) {
        uint32_t n = seg_alloc(e, off, cend);
        if (!n) {
            stream_drop(e, st, off, cend, MBX_GAP_MEMORY);
            return incons;
        }
        seg_at(e, n)->next = *link;
        *link = n;
        st->nooo++;
    } else {
        struct stream_seg *g = seg_at(e, *link);
        if (off < g->start)
            g->start = off;
        if (cend > g->end)
            g->end = cend;
        while (g->next && seg_at(e, g->next)->start <= g->end) {
            uint32_t nx = g->next;
            if (seg_at(e, nx)->end > g->end)
                g->end = seg_at(e, nx)->end;
            g->next = seg_at(e, nx)->next;
            seg_free(e, nx);
            st->nooo--;
        }
    }
    return incons;
}

void stream_set_ack(struct mbx_stream *st, int64_t ack_off)
{
    if (ack_off <= 0)
        return;
    uint64_t a = (uint64_t)ack_off;
    if (a > st->fin_off)
        a = st->fin_off;
    if (a <= st->end_off)
        return; /* old */
    if (!(st->sflags & S_ACKED) || a > st->ack_off) {
        st->ack_off = a;
        st->sflags |= S_ACKED;
    }
}

void stream_set_fin(struct mbx_stream *st, int64_t fin_off)
{
    if (fin_off >= 0 && st->fin_off == UINT64_MAX)
        st->fin_off = (uint64_t)fin_off;
}

bool stream_complete(const mbx_engine *e, const struct mbx_stream *st)
{
    if (st->fin_off == UINT64_MAX)
        return false;
    uint64_t fin = st->fin_off;
    if (e->cfg.stream_depth && fin > e->cfg.stream_depth)
        fin = e->cfg.stream_depth;
    if (st->end_off >= fin)
        return true;
    const struct stream_seg *g = st->ooo ? &e->segs[st->ooo - 1] : NULL;
    return g && g->start <= st->end_off && g->end >= fin;
}

/* Deliver the segment pending in place (S_ZCPEND) with tcp.data, then keep
 * it referenced and copy into the buffer only what the readers left unread.
 * Returns false if a handler closed the stream. */
static bool stream_deliver_zc(mbx_engine *e, struct mbx_stream *st)
{
    struct mbx_flow *f = &e->flows[st->flow];
    st->sflags &= (uint8_t)~S_ZCPEND;
    st->new_off = st->end_off;
    st->new_len = st->zc_len;
    st->end_off += st->zc_len;
    st->hi_off = st->end_off;
    f->half[st->side].delivered += st->zc_len;
    if (disp_want(e, MBX_EV_TCP_DATA)) {
        st->sflags |= S_INDATA | S_ZC;
        struct mbx_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.id = MBX_EV_TCP_DATA;
        ev.engine = e;
        ev.flow = f;
        ev.pkt = e->pkt;
        ev.side = (enum mbx_side)st->side;
        ev.offset = st->new_off;
        ev.len = st->new_len;
        disp_fire(e, &ev);
        if (!(f->fflags & (st->side ? F_STREAM1 : F_STREAM0)))
            return false; /* closed by a handler (flow dropped) */
        st->sflags &= (uint8_t) ~(S_INDATA | S_ZC);
    }
    struct stream_ref *r = &st->ref[st->nref];
    st->nref = (st->nref + 1) % STREAM_NREF;
    r->p = st->zc;
    r->off = st->new_off;
    r->len = (uint32_t)st->new_len;
    r->gen = pcapf_generation();
    /* The buffer now starts at the first unread byte: what it held before is
     * delivered and read (the refs keep the latest for comparisons). */
    st->base_off = st->read_off;
    st->hi_off = st->read_off;
    if (st->read_off < st->end_off) {
        uint64_t n = st->end_off - st->read_off;
        if (stream_reserve(e, st, st->end_off) == 0) {
            memcpy(st->buf + (st->read_off - st->base_off), st->zc + (st->read_off - st->new_off),
                   (size_t)n);
            st->hi_off = st->end_off;
        } else {
            /* No memory to keep them: consume them for the reader (each was
             * announced by tcp.data), as when a reader holds too much. */
            st->read_off = st->end_off;
            st->base_off = st->hi_off = st->end_off;
        }
    }
    st->zc = NULL;
    return true;
}

/* Deliver the bytes that can go now (tcp.data), report the holes that are
 * known to be final (tcp.gap).  flush: the flow ends, deliver everything and
 * report every hole left, with hole_reason. */
void stream_deliver(mbx_engine *e, struct mbx_stream *st, bool flush,
                    enum mbx_gap_reason hole_reason)
{
    struct mbx_flow *f = &e->flows[st->flow];
    struct mbx_half *h = &f->half[st->side];
    bool peer_seen = f->half[!st->side].hflags & H_SEEN;
    bool hold = e->cfg.policy == MBX_POLICY_LAST && !flush && peer_seen;
    uint64_t depth = e->cfg.stream_depth ? e->cfg.stream_depth : UINT64_MAX;
    if ((st->sflags & S_ZCPEND) && !stream_deliver_zc(e, st))
        return; /* closed by a handler */
    for (;;) {
        struct stream_seg *g = st->ooo ? seg_at(e, st->ooo) : NULL;
        if (g && g->start <= st->end_off) {
            uint64_t lim = g->end;
            if (hold && g->end - st->end_off <= HOLD_MAX) {
                uint64_t acked = (st->sflags & S_ACKED) ? st->ack_off : st->end_off;
                if (acked < lim)
                    lim = acked;
            }
            if (lim <= st->end_off)
                break;
            st->new_off = st->end_off;
            st->new_len = lim - st->end_off;
            st->end_off = lim;
            h->delivered += st->new_len;
            g->start = lim;
            if (g->start >= g->end) {
                uint32_t i = st->ooo;
                st->ooo = g->next;
                seg_free(e, i);
                st->nooo--;
            }
            if (disp_want(e, MBX_EV_TCP_DATA)) {
                st->sflags |= S_INDATA;
                struct mbx_event ev;
                memset(&ev, 0, sizeof(ev));
                ev.id = MBX_EV_TCP_DATA;
                ev.engine = e;
                ev.flow = f;
                ev.pkt = e->pkt;
                ev.side = (enum mbx_side)st->side;
                ev.offset = st->new_off;
                ev.len = st->new_len;
                disp_fire(e, &ev);
                st->sflags &= (uint8_t)~S_INDATA;
                if (!(f->fflags & (st->side ? F_STREAM1 : F_STREAM0)))
                    return; /* closed by a handler (flow dropped) */
            }
            continue;
        }
        /* A hole at end_off: is it final? */
        uint64_t hole_end = g ? g->start : UINT64_MAX, to = 0;
        enum mbx_gap_reason why = hole_reason;
        if (st->end_off >= depth)
            break;
        if (st->drop_lo <= st->end_off && st->end_off < st->drop_hi) {
            to = st->drop_hi;
            why = (enum mbx_gap_reason)st->drop_reason;
        } else if ((st->sflags & S_ACKED) && st->ack_off > st->end_off) {
            to = st->ack_off;
            why = MBX_GAP_LOSS;
            if (st->drop_lo > st->end_off && st->drop_lo < to && st->drop_hi > st->drop_lo)
                to = st->drop_lo; /* report the purposeful drop with its reason */
        } else if (g && !peer_seen && st->nooo > e->cfg.ooo_max_segs) {
            to = g->start; /* one-sided and the queue overflows: nobody will ACK */
            why = MBX_GAP_LOSS;
        } else if (flush && g) {
            to = g->start;
        } else if (flush && st->fin_off != UINT64_MAX && st->fin_off > st->end_off) {
            to = st->fin_off;
        }
        if (to > hole_end)
            to = hole_end;
        if (to > depth)
            to = depth;
        if (to <= st->end_off)
            break;
        stream_gap(e, st, st->end_off, to - st->end_off, why);
    }
}

/* ---------------------------------------------------------------- public API */

mbx_stream *mbx_flow_stream(mbx_flow *f, enum mbx_side s)
{
    if ((unsigned)s > 1)
        return NULL;
    mbx_engine *e = flow_engine(f);
    if (!e)
        return NULL;
    if (f->proto == 17)
        return e->udp_cur == f && e->udp_stream.side == s ? &e->udp_stream : NULL;
    struct mbx_stream *st = stream_get(e, f, s);
    if (!st && stream_wanted(e, f, s))
        st = stream_open(e, f, s); /* asked for before the side's first byte */
    return st;
}

uint64_t mbx_stream_read_off(const mbx_stream *s)
{
    return s->read_off;
}

uint64_t mbx_stream_end_off(const mbx_stream *s)
{
    return s->end_off;
}

size_t mbx_stream_peek(mbx_stream *s, const uint8_t **data)
{
    if ((s->sflags & S_ZC) && s->read_off >= s->new_off && s->read_off < s->end_off) {
        *data = s->zc + (s->read_off - s->new_off);
        return (size_t)(s->end_off - s->read_off);
    }
    if (!s->buf || s->read_off >= s->end_off) {
        *data = NULL;
        return 0;
    }
    *data = s->buf + (s->read_off - s->base_off);
    return (size_t)(s->end_off - s->read_off);
}

size_t mbx_stream_peek_at(const mbx_stream *s, uint64_t off, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        const uint8_t *p;
        uint64_t k = s->eng ? stream_held(s->eng, s, off + done, &p) : 0;
        if (!k)
            break;
        if (k > n - done)
            k = n - done;
        memcpy((uint8_t *)buf + done, p, (size_t)k);
        done += (size_t)k;
    }
    return done;
}

void mbx_stream_consume(mbx_stream *s, size_t n)
{
    if (n > s->end_off - s->read_off)
        n = (size_t)(s->end_off - s->read_off);
    s->read_off += n;
}

size_t mbx_stream_new_bytes(mbx_stream *s, const uint8_t **data)
{
    if ((s->sflags & (S_INDATA | S_ZC)) == (S_INDATA | S_ZC)) {
        *data = s->zc;
        return (size_t)s->new_len;
    }
    if (!(s->sflags & S_INDATA) || !s->buf) {
        *data = NULL;
        return 0;
    }
    *data = s->buf + (s->new_off - s->base_off);
    return (size_t)s->new_len;
}

const char *mbx_gap_reason_name(enum mbx_gap_reason r)
{
    static const char *const names[] = {"loss",     "depth",   "memory",
                                        "ooo_full", "evicted", "snaplen"};
    if ((unsigned)r >= sizeof(names) / sizeof(names[0]))
        return "?";
    return names[r];
}
