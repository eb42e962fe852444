/*
 * flow.c - the flow table: bidirectional keys, symmetric hash, a pool of flows
 * sized at engine start, idle timeouts by state and eviction when full.
 *
 * A flow is found from either direction: the key is the (address, port) pair of
 * each endpoint plus the protocol, put in canonical order (the lower endpoint
 * first) before hashing with XXH3, so both directions hash to the same bucket
 * (and, with the same hash upstream, the same worker).  Buckets and chains hold
 * indices into the flow array, which is calloc'd once for config.max_flows flows
 * of 248 bytes, plus a bucket array of the next power of two >= max_flows
 * indices: 1M flows take 252 MiB, and only slots in use are touched.  A flow
 * holds no pointer to its engine: the public calls given only a flow find it
 * by address in a small registry of live engines (flow_engine).
 *
 * Idle timeouts run on packet time (or the wall clock on live ports).  Every
 * flow sits on one of four LRU lists (SYN-only, established, closing, UDP), each
 * with one timeout, so the oldest flow of a class is its list's head and expiry
 * costs O(1) per packet, never a scan.  When the table is full the least
 * recently active flow among the heads is evicted: it ends with MBX_END_EVICTED
 * and its subscribers see tcp.timeout.  A connection that has ended (FIN
 * exchange or accepted RST) lingers on a fifth list for config.linger of packet
 * time (as TIME_WAIT does) to absorb stragglers - late ACKs, retransmissions, the
 * peer's in-flight data and RST replies after a reset - counted on it with no
 * event, until it expires, is evicted or a SYN with a new ISN reuses its 4-tuple.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "engine.h"

/* Issue 2: <= 256 bytes per tracked connection (flow + its hash bucket). */
_Static_assert(sizeof(struct mbx_flow) + sizeof(uint32_t) <= 256,
               "a flow and its bucket must fit in 256 bytes");
_Static_assert(sizeof(struct mbx_flow) == 248,
               "struct mbx_flow changed size: update flow.c's header");

/* Registry of live engines' flow arrays: slot i is in use while lo != NULL. */
#define FLOW_MAX_ENGINES 256
static struct {
    const struct mbx_flow *_Atomic lo; /* first flow (NULL: free slot) */
    const struct mbx_flow *hi;         /* one past the last */
    mbx_engine *eng;
} flow_reg[FLOW_MAX_ENGINES];
static pthread_mutex_t flow_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local unsigned flow_reg_last; /* slot found last by this thread */

static bool flow_reg_has(unsigned i, const struct mbx_flow *f)
{
    const struct mbx_flow *lo = atomic_load_explicit(&flow_reg[i].lo, memory_order_acquire);
    return lo && f >= lo && f < flow_reg[i].hi;
}

mbx_engine *flow_engine(const struct mbx_flow *f)
{
    unsigned i = flow_reg_last;
    if (flow_reg_has(i, f))
        return flow_reg[i].eng;
    for (i = 0; i < FLOW_MAX_ENGINES; i++)
        if (flow_reg_has(i, f)) {
            flow_reg_last = i;
            return flow_reg[i].eng;
        }
    return NULL;
}

static int flow_reg_add(mbx_engine *e)
{
    int r = -EMFILE;
    pthread_mutex_lock(&flow_reg_lock);
    for (unsigned i = 0; i < FLOW_MAX_ENGINES; i++)
        if (!atomic_load_explicit(&flow_reg[i].lo, memory_order_relaxed)) {
            flow_reg[i].hi = e->flows + e->cfg.max_flows;
            flow_reg[i].eng = e;
            atomic_store_explicit(&flow_reg[i].lo, e->flows, memory_order_release);
            r = 0;
            break;
        }
    pthread_mutex_unlock(&flow_reg_lock);
    return r;
}

static void flow_reg_del(const mbx_engine *e)
{
    pthread_mutex_lock(&flow_reg_lock);
    for (unsigned i = 0; i < FLOW_MAX_ENGINES; i++)
        if (flow_reg[i].eng == e &&
            atomic_load_explicit(&flow_reg[i].lo, memory_order_relaxed) == e->flows) {
            atomic_store_explicit(&flow_reg[i].lo, NULL, memory_order_release);
            flow_reg[i].eng = NULL;
        }
    pthread_mutex_unlock(&flow_reg_lock);
}

int flow_init(mbx_engine *e)
{
    uint32_t n = e->cfg.max_flows, nb = 1024;
    while (nb < n && nb < (1u << 31))
        nb <<= 1;
    e->flows = calloc(n, sizeof(*e->flows));
    e->bucket = calloc(nb, sizeof(*e->bucket));
    if (!e->flows || !e->bucket)
        return -ENOMEM;
    int r = flow_reg_add(e);
    if (r < 0)
        return r;
    e->nbucket_mask = nb - 1;
    e->timeout[LRU_SYN] = e->cfg.timeout_syn;
    e->timeout[LRU_EST] = e->cfg.timeout_est;
    e->timeout[LRU_CLOSING] = e->cfg.timeout_closing;
    e->timeout[LRU_UDP] = e->cfg.timeout_udp;
    e->timeout[LRU_ENDED] = e->cfg.linger;
    e->next_id = 1 + (uint64_t)e->cfg.worker; /* ids of worker w of n: w + 1 + k n */
    return 0;
}

void flow_fini(mbx_engine *e)
{
    if (e->flows)
        flow_reg_del(e);
    free(e->flows);
    free(e->bucket);
    free(e->ext);
    e->flows = NULL;
    e->bucket = NULL;
    e->ext = NULL;
}

/* The symmetric hash: the two endpoints in canonical order, then XXH3. */
static uint64_t flow_hash(const struct mbx_addr *a, uint16_t pa, const struct mbx_addr *b,
                          uint16_t pb, uint8_t proto)
{
    struct {
        uint8_t lo[16], hi[16];
        uint16_t plo, phi;
        uint8_t proto, pad[3];
    } k;
    int c = memcmp(a->b, b->b, 16);
    if (c > 0 || (c == 0 && pa > pb)) {
        const struct mbx_addr *t = a;
        uint16_t tp = pa;
        a = b, pa = pb, b = t, pb = tp;
    }
    memcpy(k.lo, a->b, 16);
    memcpy(k.hi, b->b, 16);
    k.plo = pa;
    k.phi = pb;
    k.proto = proto;
    memset(k.pad, 0, sizeof(k.pad));
    return XXH3_64bits(&k, sizeof(k));
}

static uint32_t *flow_bucket(mbx_engine *e, const struct mbx_flow *f)
{
    uint64_t h = flow_hash(&f->addr[0], f->port[0], &f->addr[1], f->port[1], f->proto);
    return &e->bucket[h & e->nbucket_mask];
}

/* ---------------------------------------------------------------- LRU lists */

static void lru_unlink(mbx_engine *e, struct mbx_flow *f)
{
    uint32_t c = f->lru;
    if (f->lru_prev)
        e->flows[f->lru_prev - 1].lru_next = f->lru_next;
    else
        e->lru_head[c] = f->lru_next;
    if (f->lru_next)
        e->flows[f->lru_next - 1].lru_prev = f->lru_prev;
    else
        e->lru_tail[c] = f->lru_prev;
    f->lru_prev = f->lru_next = 0;
}

static void lru_append(mbx_engine *e, struct mbx_flow *f, enum lru_class c)
{
    uint32_t i = flow_index(e, f) + 1;
    f->lru = (uint8_t)c;
    f->lru_next = 0;
    f->lru_prev = e->lru_tail[c];
    if (e->lru_tail[c])
        e->flows[e->lru_tail[c] - 1].lru_next = i;
    else
        e->lru_head[c] = i;
    e->lru_tail[c] = i;
}

/* A packet of f at time ts: it becomes the most recently active of its class. */
void flow_touch(mbx_engine *e, struct mbx_flow *f, mbx_time ts)
{
    if (ts > f->last)
        f->last = ts;
    if (e->lru_tail[f->lru] != flow_index(e, f) + 1) {
        lru_unlink(e, f);
        lru_append(e, f, (enum lru_class)f->lru);
    }
}

void flow_set_class(mbx_engine *e, struct mbx_flow *f, enum lru_class c)
{
    if (f->lru == c)
        return;
    lru_unlink(e, f);
    lru_append(e, f, c);
}

/* The class head whose deadline (last activity + its timeout) comes first. */
static struct mbx_flow *flow_oldest(const mbx_engine *e, mbx_time *deadline)
{
    struct mbx_flow *best = NULL;
    mbx_time bd = UINT64_MAX;
    for (int c = 0; c < LRU_N; c++) {
        if (!e->lru_head[c])
            continue;
        struct mbx_flow *f = &e->flows[e->lru_head[c] - 1];
        mbx_time d = f->last + e->timeout[c];
        if (d < bd)
            bd = d, best = f;
    }
    if (deadline)
        *deadline = bd;
    return best;
}

mbx_time flow_next_expiry(const mbx_engine *e)
{
    mbx_time d;
    flow_oldest(e, &d);
    return d;
}

/* Expire the flow whose deadline is earliest, if it lies before now. */
void flow_expire(mbx_engine *e, mbx_time now)
{
    mbx_time d;
    struct mbx_flow *f = flow_oldest(e, &d);
    if (!f || d >= now)
        return;
    flow_end(e, f, MBX_END_TIMEOUT);
    flow_release(e, f);
}

/* ---------------------------------------------------------------- life cycle */

void flow_end(mbx_engine *e, struct mbx_flow *f, enum mbx_flow_end why)
{
    if (f->end != MBX_END_NONE)
        return;
    if (f->proto == 6) {
        enum mbx_gap_reason hole = why == MBX_END_EVICTED ? MBX_GAP_EVICTED : MBX_GAP_LOSS;
        for (int s = 0; s < 2; s++) {
            struct mbx_stream *st = stream_get(e, f, (enum mbx_side)s);
            if (st)
                stream_deliver(e, st, true, hole);
        }
    }
    if ((why == MBX_END_TIMEOUT || why == MBX_END_EOF || why == MBX_END_REUSED) && f->proto == 6 &&
        (f->half[0].hflags & H_FIN) && (f->half[1].hflags & H_FIN))
        why = MBX_END_FIN; /* both sides closed; only the last ACK was missing */
    f->end = (uint8_t)why;
    if (why == MBX_END_TIMEOUT)
        e->stats.flows_timed_out++;
    else if (why == MBX_END_EVICTED)
        e->stats.flows_evicted++;
    if (f->proto == 6) {
        int ev = (why == MBX_END_FIN || why == MBX_END_RST) ? MBX_EV_TCP_CLOSE : MBX_EV_TCP_TIMEOUT;
        const struct mbx_pkt *saved = e->pkt;
        if (ev == MBX_EV_TCP_TIMEOUT)
            e->pkt = NULL; /* tcp.timeout carries no packet */
        disp_flow_event(e, ev, f, MBX_CLIENT);
        e->pkt = saved;
        flow_set_class(e, f, LRU_ENDED); /* the linger (a no-op if released next) */
    }
}

void flow_release(mbx_engine *e, struct mbx_flow *f)
{
    uint32_t i = flow_index(e, f) + 1;
    uint32_t *pp = flow_bucket(e, f);
    while (*pp && *pp != i)
        pp = &e->flows[*pp - 1].hnext;
    if (*pp == i)
        *pp = f->hnext;
    lru_unlink(e, f);
    for (int s = 0; s < 2; s++)
        if (f->fflags & (s ? F_STREAM1 : F_STREAM0))
            stream_close(e, f, (enum mbx_side)s);
    f->fflags = 0;
    f->hnext = e->free_head;
    e->free_head = i;
    e->nflows--;
}

static struct mbx_flow *flow_alloc(mbx_engine *e)
{
    if (e->nflows >= e->cfg.max_flows) {
        struct mbx_flow *old = flow_oldest(e, NULL);
        if (!old)
            return NULL;
        flow_end(e, old, MBX_END_EVICTED);
        flow_release(e, old);
    }
    uint32_t i;
    if (e->free_head) {
        i = e->free_head - 1;
        e->free_head = e->flows[i].hnext;
    } else {
        i = e->bump++;
    }
    e->nflows++;
    struct mbx_flow *f = &e->flows[i];
    memset(f, 0, sizeof(*f));
    return f;
}

/* Create the flow of p; sender_is_client says which endpoint is the client. */
static struct mbx_flow *flow_create(mbx_engine *e, const struct mbx_pkt *p, uint64_t h,
                                    bool sender_is_client)
{
    struct mbx_flow *f = flow_alloc(e);
    if (!f)
        return NULL;
    int c = sender_is_client ? 0 : 1;
    f->addr[c] = p->src;
    f->port[c] = p->sport;
    f->addr[!c] = p->dst;
    f->port[!c] = p->dport;
    f->proto = p->proto;
    f->id = e->next_id;
    e->next_id += e->cfg.nworkers > 1 ? e->cfg.nworkers : 1;
    f->start = f->last = p->ts;
    f->fflags = F_LIVE;
    uint32_t *b = &e->bucket[h & e->nbucket_mask];
    f->hnext = *b;
    *b = flow_index(e, f) + 1;
    lru_append(e, f, p->proto == 6 ? LRU_SYN : LRU_UDP);
    if (e->ext_size)
        memset(e->ext + (size_t)flow_index(e, f) * e->ext_size, 0, e->ext_size);
    e->stats.flows++;
    if (p->proto == 6)
        e->stats.tcp_flows++;
    else
        e->stats.udp_flows++;
    disp_flow_start(e, f);
    return f;
}

/* The flow of packet p (created if new; a reused 4-tuple ends the old
 * connection first) and the side that sent p.  NULL only if the table is
 * full and nothing can be evicted (max_flows 0 is refused at start). */
uint64_t flow_pkt_hash(const struct mbx_pkt *p)
{
    return flow_hash(&p->src, p->sport, &p->dst, p->dport, p->proto);
}

/* One address folded to 64 bits (for mbx_worker_of). */
static uint64_t worker_addr_mix(const struct mbx_addr *a)
{
    uint64_t lo, hi;
    memcpy(&lo, a->b, 8);
    memcpy(&hi, a->b + 8, 8);
    uint64_t x = (lo ^ (hi * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
    return x ^ (x >> 31);
}

unsigned mbx_worker_of(enum mbx_decode_err err, const struct mbx_pkt *p, unsigned n)
{
    /* the IP fields are filled on these (mbx.h section 2) */
    if (n <= 1 ||
        (err != MBX_DECODE_OK && err != MBX_DECODE_FRAGMENT && err != MBX_DECODE_OTHER_L4))
        return 0;
    /* a sum does not depend on the order of the two addresses */
    uint64_t h = (worker_addr_mix(&p->src) + worker_addr_mix(&p->dst)) * 0x94d049bb133111ebull;
    h ^= h >> 29;
    return (unsigned)(((h >> 32) * (uint64_t)n) >> 32);
}

void flow_prefetch(const mbx_engine *e, uint64_t h)
{
    __builtin_prefetch(&e->bucket[h & e->nbucket_mask]);
}

void flow_prefetch_entry(const mbx_engine *e, uint64_t h)
{
    uint32_t i = e->bucket[h & e->nbucket_mask];
    if (i)
        __builtin_prefetch(&e->flows[i - 1]);
}

struct mbx_flow *flow_get(mbx_engine *e, const struct mbx_pkt *p, uint64_t h, enum mbx_side *side)
{
    uint32_t i = e->bucket[h & e->nbucket_mask];
    int role = -1;
    while (i) {
        struct mbx_flow *f = &e->flows[i - 1];
        i = f->hnext;
        if (f->proto != p->proto)
            continue;
        enum mbx_side s;
        if (f->port[0] == p->sport && f->port[1] == p->dport && !memcmp(&f->addr[0], &p->src, 16) &&
            !memcmp(&f->addr[1], &p->dst, 16))
            s = MBX_CLIENT;
        else if (f->port[1] == p->sport && f->port[0] == p->dport &&
                 !memcmp(&f->addr[1], &p->src, 16) && !memcmp(&f->addr[0], &p->dst, 16))
            s = MBX_SERVER;
        else
            continue;
        if (p->proto == 6 && tcp_is_new_connection(f, p, s)) {
            bool fin = (f->half[0].hflags | f->half[1].hflags) & H_FIN;
            if (!(p->tcp_flags & MBX_TCP_SYN))
                role = s; /* reused without a SYN: same roles, mid-stream */
            flow_end(e, f, fin ? MBX_END_FIN : MBX_END_REUSED);
            flow_release(e, f);
            break;
        }
        *side = s;
        return f;
    }
    bool sender_is_client = p->proto != 6 || tcp_sender_is_client(p);
    if (role >= 0)
        sender_is_client = role == MBX_CLIENT;
    struct mbx_flow *f = flow_create(e, p, h, sender_is_client);
    if (!f)
        return NULL;
    *side = sender_is_client ? MBX_CLIENT : MBX_SERVER;
    if (p->proto == 6)
        tcp_flow_init(e, f, p, *side);
    return f;
}

static _Thread_local const struct mbx_flow *flow_sort_base; /* flow_cmp_id's array */

static int flow_cmp_id(const void *a, const void *b)
{
    const struct mbx_flow *x = &flow_sort_base[*(const uint32_t *)a],
                          *y = &flow_sort_base[*(const uint32_t *)b];
    return x->id < y->id ? -1 : x->id > y->id;
}

/* End of input: every live flow ends (MBX_END_EOF, tcp.timeout) in flow-id order.
 * The live flows' indices are sorted in the bucket array (no lookup happens
 * any more and it has >= max_flows entries), so finishing a full table needs
 * no extra memory. */
void flow_finish_all(mbx_engine *e)
{
    if (!e->nflows)
        return;
    size_t nb = (size_t)e->nbucket_mask + 1;
    uint32_t *v = e->nflows <= nb ? e->bucket : malloc(sizeof(*v) * e->nflows);
    uint32_t n = 0;
    if (!v)
        return;
    for (uint32_t i = 0; i < e->bump; i++)
        if (e->flows[i].fflags & F_LIVE)
            v[n++] = i;
    flow_sort_base = e->flows;
    qsort(v, n, sizeof(*v), flow_cmp_id);
    for (uint32_t i = 0; i < n; i++)
        flow_end(e, &e->flows[v[i]], MBX_END_EOF);
    /* Release everything at once: no per-flow chain walks over a cold table. */
    for (uint32_t i = 0; i < n; i++) {
        for (int s = 0; s < 2; s++)
            stream_close(e, &e->flows[v[i]], (enum mbx_side)s);
        e->flows[v[i]].fflags = 0;
    }
    memset(e->bucket, 0, sizeof(*e->bucket) * nb);
    memset(e->lru_head, 0, sizeof(e->lru_head));
    memset(e->lru_tail, 0, sizeof(e->lru_tail));
    e->nflows = 0;
    e->free_head = 0;
    e->bump = 0;
    if (v != e->bucket)
        free(v);
}

/* ---------------------------------------------------------------- public API */

uint64_t mbx_flow_id(const mbx_flow *f)
{
    return f->id;
}
int mbx_flow_proto(const mbx_flow *f)
{
    return f->proto;
}
const struct mbx_addr *mbx_flow_addr(const mbx_flow *f, enum mbx_side s)
{
    return &f->addr[s];
}
uint16_t mbx_flow_port(const mbx_flow *f, enum mbx_side s)
{
    return f->port[s];
}
mbx_time mbx_flow_start(const mbx_flow *f)
{
    return f->start;
}
mbx_time mbx_flow_last(const mbx_flow *f)
{
    return f->last;
}
bool mbx_flow_midstream(const mbx_flow *f)
{
    return f->fflags & F_MIDSTREAM;
}
enum mbx_flow_end mbx_flow_end(const mbx_flow *f)
{
    return (enum mbx_flow_end)f->end;
}

void mbx_flow_half(const mbx_flow *f, enum mbx_side s, struct mbx_half_info *out)
{
    const struct mbx_half *h = &f->half[s];
    memset(out, 0, sizeof(*out));
    out->state = (enum mbx_tcp_state)h->state;
    out->isn = h->isn;
    out->next_seq = h->next_seq;
    out->last_ack = h->last_ack;
    out->window = h->window;
    out->wscale = h->wscale;
    out->mss = h->mss;
    out->pkts = h->pkts;
    out->bytes = h->bytes;
    out->payload = h->payload;
    out->delivered = h->delivered;
    out->gap_bytes = h->gap_bytes;
    out->depth_bytes = h->depth_bytes;
    out->rexmits = h->rexmits;
    out->inconsistent = h->inconsistent;
    out->tcp_flags = h->tcp_flags;
}

void *mbx_flow_ext(mbx_flow *f, int slot)
{
    mbx_engine *e = flow_engine(f);
    if (!e || !e->ext || slot < 0 || (size_t)slot >= e->ext_size)
        return NULL;
    return e->ext + (size_t)flow_index(e, f) * e->ext_size + (size_t)slot;
}

/* Slots are byte offsets into the flow's extension area, 16-byte aligned. */
int mbx_flow_ext_register(mbx_engine *e, size_t size)
{
    if (e->started)
        return -EBUSY;
    if (size == 0 || size > (1u << 20))
        return -EINVAL;
    size_t slot = e->ext_size;
    size_t nsize = (slot + size + 15) & ~(size_t)15;
    uint8_t *n = realloc(e->ext, nsize * e->cfg.max_flows);
    if (!n)
        return -ENOMEM;
    e->ext = n;
    e->ext_size = nsize;
    return (int)slot;
}
