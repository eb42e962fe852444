/*
 * dispatch_workers.c - the dispatcher: one thread reads a source that workers
 * cannot each read themselves (stdin or a pipe, a live interface, a DPDK port)
 * and hands every frame to the worker mbx_worker_of() picks, through one
 * single-producer single-consumer ring per worker (mbx.h section 4).
 *
 * Frames are copied into the ring (a source's frame is valid only until its
 * next read); the worker's engine reads them in place, in bursts.  The packet
 * clock: the timestamp of every frame that went to another worker follows to
 * this one as a time mark, in order, so each engine's clock moves through the
 * same times as if it had read every frame itself (the same timers and idle
 * timeouts at the same packet times as one worker: the reading of a capture
 * file by every worker, app.c).  Marks are coalesced: up to MARKS timestamps
 * a record, flushed before the worker's next frame and at the end of each
 * burst; a timestamp not later than what the worker has already seen is left
 * out (the engine's clock would not move).  On an idle live source every
 * worker gets an idle mark at most every IDLE_NS, so its wall clock timers run
 * and its output is flushed.
 *
 * Back-pressure: a full ring makes the dispatcher wait (lossless: files,
 * stdin, DPDK replaying a capture) or drop the frame and count it (live).
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatch_workers.h"
#include "engine.h"

/* ---------------------------------------------------------------- the ring */

#define HDR       8u
#define ALIGN8(x) (((x) + 7u) & ~(uint64_t)7u)

struct rec_hdr {
    uint32_t len;  /* payload bytes */
    uint32_t type; /* RING_PAD or the user's type */
};

struct ring *ring_new(uint64_t size)
{
    if (size < 64 || (size & (size - 1)) != 0)
        return NULL;
    struct ring *r = aligned_alloc(RING_LINE, sizeof(*r));
    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof(*r));
    r->buf = aligned_alloc(RING_LINE, size);
    if (r->buf == NULL) {
        free(r);
        return NULL;
    }
    r->size = size;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return r;
}

void ring_free(struct ring *r)
{
    if (r == NULL)
        return;
    free(r->buf);
    free(r);
}

uint32_t ring_max_payload(const struct ring *r)
{
    uint64_t m = r->size / 2 - HDR;
    return m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}

void *ring_reserve(struct ring *r, uint32_t type, uint32_t len)
{
    if (len > ring_max_payload(r) || type == RING_PAD)
        return NULL;
    uint64_t need = HDR + ALIGN8((uint64_t)len);
    uint64_t off = r->p_head & (r->size - 1);
    uint64_t room = r->size - off; /* bytes before the end of the buffer */
    uint64_t total = need + (room < need ? room : 0);
    if (r->p_head + total - r->p_tail > r->size) {
        r->p_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (r->p_head + total - r->p_tail > r->size)
            return NULL;
    }
    if (room < need) { /* a pad record to the end (room >= 8: all is 8-aligned) */
        struct rec_hdr pad = {.len = (uint32_t)(room - HDR), .type = RING_PAD};
        memcpy(r->buf + off, &pad, HDR);
        r->p_head += room;
        off = 0;
    }
    struct rec_hdr h = {.len = len, .type = type};
    memcpy(r->buf + off, &h, HDR);
    r->p_head += need;
    return r->buf + off + HDR;
}

void ring_publish(struct ring *r)
{
    atomic_store_explicit(&r->head, r->p_head, memory_order_release);
}

const void *ring_peek(struct ring *r, uint32_t *type, uint32_t *len)
{
    for (;;) {
        if (r->c_tail == r->c_head) {
            r->c_head = atomic_load_explicit(&r->head, memory_order_acquire);
            if (r->c_tail == r->c_head)
                return NULL;
        }
        uint64_t off = r->c_tail & (r->size - 1);
        struct rec_hdr h;
        memcpy(&h, r->buf + off, HDR);
        if (h.type == RING_PAD) {
            r->c_tail += r->size - off;
            continue;
        }
        r->c_len = (uint32_t)(HDR + ALIGN8((uint64_t)h.len));
        *type = h.type;
        *len = h.len;
        return r->buf + off + HDR;
    }
}

void ring_consume(struct ring *r)
{
    r->c_tail += r->c_len;
    r->c_len = 0;
}

void ring_release(struct ring *r)
{
    atomic_store_explicit(&r->tail, r->c_tail, memory_order_release);
}

/* ---------------------------------------------------------------- waiting */

/* One round of waiting for the other side: spin a little, then yield the
 * core (the dispatcher and the workers may share cores), then sleep. */
static void backoff(unsigned *spins)
{
    unsigned s = (*spins)++;
    if (s < 64) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else if (s < 256) {
        sched_yield();
    } else {
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- dispatcher */

enum { REC_FRAME = 1, REC_MARKS, REC_IDLE, REC_END };

#define MARKS         64           /* timestamps in one mark record */
#define PUBLISH_EVERY 32           /* records between two publishes */
#define IDLE_NS       10000000ull  /* idle marks on a live source: every 10 ms */
#define RING_DEFAULT  (4ull << 20) /* bytes per worker ring */
#define BURST         32

struct frame_rec { /* a REC_FRAME payload: this, then caplen bytes */
    mbx_time ts;
    uint32_t caplen, wirelen;
    int32_t linktype;
    uint32_t pad_;
};

struct dworker {
    struct ring *ring;
    _Atomic bool gone;    /* the worker will read no more: discard its records */
    uint32_t unpublished; /* records written since the last publish */
    bool seen;            /* a timestamp went to this worker */
    mbx_time last;        /* the latest timestamp that went to it */
    uint32_t nmarks;      /* marks waiting in marks[] */
    mbx_time marks[MARKS];
};

struct mbx_dispatch {
    unsigned n;        /* workers */
    bool lossless;     /* wait on a full ring (else drop and count) */
    bool ended;        /* mbx_dispatch_end() done */
    uint64_t dropped;  /* frames dropped: ring full (live) or too big */
    uint64_t idle_at;  /* monotonic time of the last idle marks */
    struct dworker *w; /* n */
};

struct mbx_dispatch *mbx_dispatch_new(unsigned nworkers, uint64_t ring_bytes, bool lossless)
{
    if (nworkers == 0 || nworkers > MBX_MAX_WORKERS) {
        errno = EINVAL;
        return NULL;
    }
    if (ring_bytes == 0)
        ring_bytes = RING_DEFAULT;
    struct mbx_dispatch *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->n = nworkers;
    d->lossless = lossless;
    d->w = calloc(nworkers, sizeof(*d->w));
    if (d->w == NULL) {
        free(d);
        return NULL;
    }
    for (unsigned k = 0; k < nworkers; k++) {
        atomic_init(&d->w[k].gone, false);
        d->w[k].ring = ring_new(ring_bytes);
        if (d->w[k].ring == NULL) {
            mbx_dispatch_free(d);
            errno = ENOMEM;
            return NULL;
        }
    }
    return d;
}

void mbx_dispatch_free(struct mbx_dispatch *d)
{
    if (d == NULL)
        return;
    for (unsigned k = 0; k < d->n; k++)
        ring_free(d->w[k].ring);
    free(d->w);
    free(d);
}

uint64_t mbx_dispatch_dropped(const struct mbx_dispatch *d)
{
    return d->dropped;
}

void mbx_dispatch_leave(struct mbx_dispatch *d, unsigned worker)
{
    if (worker < d->n)
        atomic_store_explicit(&d->w[worker].gone, true, memory_order_release);
}

/* Space for a record to worker k: waits while its ring is full when must
 * (lossless, or a record that may not be lost); NULL when the worker is gone,
 * or the ring is full and the record may be dropped. */
static void *put(struct mbx_dispatch *d, unsigned k, uint32_t type, uint32_t len, bool must)
{
    struct dworker *w = &d->w[k];
    unsigned spins = 0;
    /* the records before this one are whole: publish them now and then (this
     * one is written by the caller after we return) */
    if (w->unpublished >= PUBLISH_EVERY) {
        ring_publish(w->ring);
        w->unpublished = 0;
    }
    for (;;) {
        if (atomic_load_explicit(&w->gone, memory_order_acquire))
            return NULL;
        void *p = ring_reserve(w->ring, type, len);
        if (p != NULL) {
            w->unpublished++;
            return p;
        }
        if (len > ring_max_payload(w->ring))
            return NULL;
        ring_publish(w->ring); /* what is written must be readable before waiting */
        w->unpublished = 0;
        if (!must)
            return NULL;
        backoff(&spins);
    }
}

/* The marks waiting for worker k into its ring.  Lossless, they wait for
 * room (a lost mark would change when timers fire); lossy (live: the engines
 * run on the wall clock) they stay waiting when the ring is full.  False:
 * some are still waiting. */
static bool flush_marks(struct mbx_dispatch *d, unsigned k)
{
    struct dworker *w = &d->w[k];
    if (w->nmarks == 0)
        return true;
    void *p = put(d, k, REC_MARKS, w->nmarks * (uint32_t)sizeof(mbx_time), d->lossless);
    if (p == NULL && !atomic_load_explicit(&w->gone, memory_order_relaxed))
        return false;
    if (p != NULL)
        memcpy(p, w->marks, w->nmarks * sizeof(mbx_time));
    w->nmarks = 0;
    return true;
}

static void add_mark(struct mbx_dispatch *d, unsigned k, mbx_time ts)
{
    struct dworker *w = &d->w[k];
    if (w->seen && ts <= w->last)
        return;
    w->seen = true;
    w->last = ts;
    if (w->nmarks == MARKS && !flush_marks(d, k)) {
        w->marks[MARKS - 1] = ts; /* lossy and full: the latest time is what counts */
        return;
    }
    w->marks[w->nmarks++] = ts;
}

static void publish_all(struct mbx_dispatch *d)
{
    for (unsigned k = 0; k < d->n; k++) {
        flush_marks(d, k);
        if (d->w[k].unpublished) {
            ring_publish(d->w[k].ring);
            d->w[k].unpublished = 0;
        }
    }
}

static void send_frame(struct mbx_dispatch *d, const struct mbx_frame *f)
{
    struct mbx_pkt p;
    enum mbx_decode_err err = mbx_decode(&p, f->linktype, f->data, f->caplen, f->wirelen, f->ts);
    unsigned k = mbx_worker_of(err, &p, d->n);
    for (unsigned j = 0; j < d->n; j++)
        if (j != k)
            add_mark(d, j, f->ts);
    struct dworker *w = &d->w[k];
    struct frame_rec *r = NULL;
    if (flush_marks(d, k)) /* the times before it first */
        r = put(d, k, REC_FRAME, (uint32_t)sizeof(*r) + f->caplen, d->lossless);
    if (r == NULL) {
        if (!atomic_load_explicit(&w->gone, memory_order_relaxed))
            d->dropped++;
        add_mark(d, k, f->ts); /* its time still passes */
        return;
    }
    r->ts = f->ts;
    r->caplen = f->caplen;
    r->wirelen = f->wirelen;
    r->linktype = f->linktype;
    r->pad_ = 0;
    memcpy(r + 1, f->data, f->caplen);
    if (!w->seen || f->ts > w->last) {
        w->seen = true;
        w->last = f->ts;
    }
}

int mbx_dispatch_run(struct mbx_dispatch *d, struct mbx_source *src, const volatile int *stop)
{
    struct mbx_frame fr[BURST];
    bool fwd[BURST];
    for (int i = 0; i < BURST; i++)
        fwd[i] = true;
    if (d->ended)
        return -EINVAL;
    for (;;) {
        if (stop != NULL && *stop)
            return 0;
        int n = mbx_source_next(src, fr, BURST);
        if (n == -EAGAIN) { /* a live source with nothing now: let the workers' time run */
            uint64_t now = mono_ns();
            if (now - d->idle_at >= IDLE_NS) {
                d->idle_at = now;
                for (unsigned k = 0; k < d->n; k++)
                    put(d, k, REC_IDLE, 0, false);
                publish_all(d);
            }
            continue;
        }
        if (n <= 0)
            return n;
        for (int i = 0; i < n; i++)
            send_frame(d, &fr[i]);
        mbx_source_done(src, fr, fwd, n); /* copied: the source may reuse them */
        publish_all(d);
    }
}

void mbx_dispatch_end(struct mbx_dispatch *d)
{
    if (d->ended)
        return;
    d->ended = true;
    publish_all(d);
    for (unsigned k = 0; k < d->n; k++) {
        put(d, k, REC_END, 0, true);
        ring_publish(d->w[k].ring);
        d->w[k].unpublished = 0;
    }
}

/* The frames gathered so far into the engine; their ring space back. */
static void work_frames(mbx_engine *e, struct ring *r, struct mbx_frame *fr, int *nf)
{
    bool fwd[BURST];
    if (*nf > 0)
        mbx_engine_input(e, fr, fwd, *nf);
    *nf = 0;
    ring_release(r);
}

uint64_t mbx_dispatch_work(struct mbx_dispatch *d, unsigned worker, mbx_engine *e)
{
    if (worker >= d->n)
        return 0;
    struct ring *r = d->w[worker].ring;
    struct mbx_frame fr[BURST];
    int nf = 0;
    uint64_t frames = 0;
    unsigned spins = 0;
    for (;;) {
        uint32_t type, len;
        const uint8_t *p = ring_peek(r, &type, &len);
        if (p == NULL) {
            if (nf > 0) {
                work_frames(e, r, fr, &nf);
                continue;
            }
            backoff(&spins);
            continue;
        }
        spins = 0;
        if (type == REC_FRAME && len >= sizeof(struct frame_rec)) {
            struct frame_rec h;
            memcpy(&h, p, sizeof(h));
            if (h.caplen > len - sizeof(h)) /* never: the dispatcher wrote it */
                h.caplen = len - (uint32_t)sizeof(h);
            fr[nf] = (struct mbx_frame){.data = p + sizeof(h),
                                        .caplen = h.caplen,
                                        .wirelen = h.wirelen,
                                        .ts = h.ts,
                                        .linktype = h.linktype};
            nf++;
            frames++;
            ring_consume(r);
            if (nf == BURST)
                work_frames(e, r, fr, &nf);
            continue;
        }
        work_frames(e, r, fr, &nf); /* frames before a mark come first */
        if (type == REC_MARKS) {
            for (uint32_t i = 0; i + sizeof(mbx_time) <= len; i += sizeof(mbx_time)) {
                mbx_time ts;
                memcpy(&ts, p + i, sizeof(ts));
                mbx_engine_advance(e, ts);
            }
        } else if (type == REC_IDLE) {
            mbx_engine_advance(e, mbx_engine_now(e));
            mbx_out_flush(mbx_engine_output(e));
        }
        ring_consume(r);
        ring_release(r);
        if (type == REC_END)
            break;
    }
    return frames;
}
