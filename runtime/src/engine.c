/*
 * engine.c - the engine's life cycle and per-packet loop: configuration,
 * input bursts (decode, time, flow, TCP/UDP, verdict), end of input, stats.
 *
 * Time: offline, the clock is packet time (a capture gives the same results
 * on any machine); with config.live_clock it is the wall clock.  Before a
 * packet is processed, everything due before its time runs in time order:
 * idle timeouts (a flow idle for longer than its class's timeout ends with
 * tcp.timeout) and timers (due when the packet's time reaches them; a timer
 * with several ticks due fires once, at the last, see timer.c).
 *
 * mbx__engine_packet() is the entry point for one decoded packet; tests and
 * the fuzz target use it with packets they build.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"

#define SEC 1000000000ull

void mbx_config_default(struct mbx_config *c)
{
    memset(c, 0, sizeof(*c));
    c->max_flows = 1000000;
    c->policy = MBX_POLICY_FIRST;
    c->stream_mem = 1ull << 30;
    c->ooo_max_segs = 1024;
    c->timeout_syn = 30 * SEC;
    c->timeout_est = 3600 * SEC;
    c->timeout_closing = 30 * SEC;
    c->timeout_udp = 120 * SEC;
    c->linger = 5 * SEC;
    c->defrag = true;
    c->defrag_max_datagrams = 8192;
    c->defrag_mem = 32ull << 20;
    c->defrag_max_frags = 256;
    c->defrag_timeout = 60 * SEC;
}

static void config_fill(struct mbx_config *c)
{
    struct mbx_config d;
    mbx_config_default(&d);
    if (!c->max_flows)
        c->max_flows = d.max_flows;
    if (!c->stream_mem)
        c->stream_mem = d.stream_mem;
    if (!c->ooo_max_segs)
        c->ooo_max_segs = d.ooo_max_segs;
    if (!c->timeout_syn)
        c->timeout_syn = d.timeout_syn;
    if (!c->timeout_est)
        c->timeout_est = d.timeout_est;
    if (!c->timeout_closing)
        c->timeout_closing = d.timeout_closing;
    if (!c->timeout_udp)
        c->timeout_udp = d.timeout_udp;
    if (!c->linger)
        c->linger = d.linger;
    if (!c->defrag_max_datagrams)
        c->defrag_max_datagrams = d.defrag_max_datagrams;
    if (!c->defrag_mem)
        c->defrag_mem = d.defrag_mem;
    if (!c->defrag_max_frags)
        c->defrag_max_frags = d.defrag_max_frags;
    if (!c->defrag_timeout)
        c->defrag_timeout = d.defrag_timeout;
}

mbx_engine *mbx_engine_new(const struct mbx_config *c)
{
    mbx_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    if (c)
        e->cfg = *c;
    else
        mbx_config_default(&e->cfg);
    config_fill(&e->cfg);
    if (e->cfg.nworkers <= 1)
        e->cfg.worker = 0;
    if ((e->cfg.policy != MBX_POLICY_FIRST && e->cfg.policy != MBX_POLICY_LAST) ||
        e->cfg.nworkers > MBX_MAX_WORKERS ||
        (e->cfg.nworkers > 1 && e->cfg.worker >= e->cfg.nworkers)) {
        free(e);
        return NULL;
    }
    if (flow_init(e) || stream_init(e) || disp_init(e) || timer_init(e) || defrag_init(e)) {
        mbx_engine_free(e);
        return NULL;
    }
    return e;
}

void mbx_engine_free(mbx_engine *e)
{
    if (!e)
        return;
    /* Buffers still held by live flows go back to the pools first. */
    for (uint32_t i = 0; e->flows && i < e->bump; i++)
        if (e->flows[i].fflags & F_LIVE)
            for (int s = 0; s < 2; s++)
                stream_close(e, &e->flows[i], (enum mbx_side)s);
    defrag_fini(e);
    timer_fini(e);
    disp_fini(e);
    stream_fini(e);
    flow_fini(e);
    free(e);
}

static mbx_time wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (mbx_time)ts.tv_sec * SEC + (mbx_time)ts.tv_nsec;
}

/* Run idle timeouts (deadline < now) and timers (due <= now) in time order. */
void engine_advance(mbx_engine *e, mbx_time now)
{
    const struct mbx_pkt *saved = e->pkt;
    e->pkt = NULL;
    for (;;) {
        mbx_time tf = flow_next_expiry(e), tt = timer_next(e);
        if (tt <= now && now - tt >= e->timers[0].period) {
            timer_catch_up(e, now); /* several ticks due: one firing, at the last */
            tt = timer_next(e);
        }
        if (tf < now && tf <= tt) {
            mbx_time was = e->now;
            if (tf > e->now)
                e->now = tf;
            flow_expire(e, now);
            if (was > e->now)
                e->now = was;
        } else if (tt <= now) {
            timer_run_one(e);
        } else {
            break;
        }
    }
    if (now > e->now)
        e->now = now;
    e->pkt = saved;
}

static void engine_clock(mbx_engine *e, mbx_time ts)
{
    if (e->cfg.live_clock)
        ts = wall_now();
    if (!e->clock_started)
        timer_start_clock(e, ts);
    if (ts > e->now || !e->now)
        engine_advance(e, ts);
}

static bool engine_packet(mbx_engine *e, const struct mbx_pkt *p, uint64_t h);

bool mbx__engine_packet(mbx_engine *e, const struct mbx_pkt *p)
{
    return engine_packet(e, p, flow_pkt_hash(p));
}

static bool engine_packet(mbx_engine *e, const struct mbx_pkt *p, uint64_t h)
{
    enum mbx_side side;
    e->started = true;
    engine_clock(e, p->ts);
    e->stats.decoded++;
    if (p->proto != 6 && p->proto != 17)
        return true;
    e->pkt = p;
    e->verdict = true;
    struct mbx_flow *f = flow_get(e, p, h, &side);
    if (!f) {
        e->pkt = NULL;
        return true;
    }
    flow_touch(e, f, p->ts);
    if (f->fflags & F_RECHECK)
        stream_recheck(e, f);
    if (disp_want(e, MBX_EV_PKT_IN) && !(f->fflags & F_DROPPED))
        disp_flow_event(e, MBX_EV_PKT_IN, f, side);
    if (p->proto == 6)
        tcp_packet(e, f, p, side);
    else
        udp_packet(e, f, p, side);
    if (f->fflags & F_RECHECK)
        stream_recheck(e, f);
    bool v = e->verdict && !(f->fflags & F_DROPPED);
    if (!v)
        e->stats.dropped_packets++;
    e->pkt = NULL;
    return v;
}

/* A fragment: into reassembly; when it completes a datagram, the rebuilt
 * frame is decoded and processed now, at the time of this last fragment, and
 * the verdict is this fragment's (earlier fragments were forwarded).  A
 * rebuilt IPv6 datagram may hold another fragment header: that is a fragment
 * again (each round removes 8 bytes, so this ends).  The rebuilt frame is
 * reused by the next datagram, so streams must copy what they keep of it
 * (frames_persist off while it is processed).  Accounting: packets +
 * frag_reassembled = decoded + decode_errors + frags. */
__attribute__((noinline, cold)) static bool
engine_fragment(mbx_engine *e, const struct mbx_pkt *frag, int linktype)
{
    struct mbx_frame rf;
    struct mbx_pkt p;
    enum mbx_decode_err err;
    for (;;) {
        if (!defrag_input(e, frag, linktype, &rf))
            return true;
        err = mbx_decode(&p, rf.linktype, rf.data, rf.caplen, rf.wirelen, rf.ts);
        if (err != MBX_DECODE_FRAGMENT)
            break;
        frag = &p;
        linktype = rf.linktype;
    }
    if (err != MBX_DECODE_OK) {
        e->stats.decode_errors++;
        if ((unsigned)err < MBX_DECODE_NREASONS)
            e->stats.decode_err[err]++;
        return true;
    }
    bool persist = e->frames_persist;
    e->frames_persist = false;
    bool v = engine_packet(e, &p, flow_pkt_hash(&p));
    e->frames_persist = persist;
    return v;
}

/* A burst is decoded first and the hash buckets of its flows prefetched, then
 * each packet's first flow entry four packets ahead, so that the table's cache
 * misses overlap instead of adding up.  Fragments (when config.defrag) are not
 * decode errors: they go to engine_fragment() in their turn. */
#define BURST 32

int mbx_engine_input(mbx_engine *e, const struct mbx_frame *f, bool *forward, int n)
{
    struct mbx_pkt p[BURST];
    uint64_t h[BURST];
    uint8_t err[BURST]; /* enum mbx_decode_err */
    bool mine[BURST];
    /* Frames of a mapped capture file stay valid until it closes (mbx.h
     * section 3): streams may deliver their bytes in place (stream.c).  A
     * burst comes from one source. */
    e->frames_persist = n > 0 && pcapf_persists(f[0].data);
    for (int base = 0; base < n; base += BURST) {
        int m = n - base < BURST ? n - base : BURST;
        for (int i = 0; i < m; i++) {
            const struct mbx_frame *fr = &f[base + i];
            err[i] =
                (uint8_t)mbx_decode(&p[i], fr->linktype, fr->data, fr->caplen, fr->wirelen, fr->ts);
            /* workers (mbx.h section 4): another worker's frame only moves the clock;
             * fragments go by their addresses like the rest of their flow */
            mine[i] = e->cfg.nworkers <= 1 || mbx_worker_of((enum mbx_decode_err)err[i], &p[i],
                                                            e->cfg.nworkers) == e->cfg.worker;
            if (!mine[i])
                continue;
            if (err[i] != MBX_DECODE_OK) {
                if (err[i] == MBX_DECODE_FRAGMENT && e->defrag)
                    continue;
                e->stats.decode_errors++;
                if (err[i] < MBX_DECODE_NREASONS)
                    e->stats.decode_err[err[i]]++;
                continue;
            }
            h[i] = flow_pkt_hash(&p[i]);
            flow_prefetch(e, h[i]);
        }
        for (int i = 0; i < m; i++) {
            const struct mbx_frame *fr = &f[base + i];
            if (i + 4 < m && err[i + 4] == MBX_DECODE_OK && mine[i + 4])
                flow_prefetch_entry(e, h[i + 4]);
            if (!mine[i]) {
                engine_clock(e, fr->ts);
                forward[base + i] = true;
                continue;
            }
            e->stats.packets++;
            e->stats.bytes += fr->wirelen;
            if (err[i] != MBX_DECODE_OK) {
                engine_clock(e, fr->ts);
                forward[base + i] = true;
                if (err[i] == MBX_DECODE_FRAGMENT && e->defrag)
                    forward[base + i] = engine_fragment(e, &p[i], fr->linktype);
                continue;
            }
            forward[base + i] = engine_packet(e, &p[i], h[i]);
        }
    }
    return n;
}

void mbx_engine_finish(mbx_engine *e)
{
    if (e->finished)
        return;
    e->finished = true;
    e->pkt = NULL;
    e->frames_persist = false;
    defrag_finish(e);
    flow_finish_all(e);
}

int mbx_engine_run(mbx_engine *e, struct mbx_source *src)
{
    struct mbx_frame fr[32];
    bool fwd[32];
    int rc = 0;
    for (;;) {
        int n = mbx_source_next(src, fr, 32);
        if (n == -EAGAIN) /* a live source with nothing right now (mbx.h section 3) */
            continue;
        if (n < 0) {
            rc = n;
            break;
        }
        if (n == 0)
            break;
        mbx_engine_input(e, fr, fwd, n);
        mbx_source_done(src, fr, fwd, n);
    }
    mbx_engine_finish(e);
    return rc;
}

void mbx_engine_advance(mbx_engine *e, mbx_time ts)
{
    if (!e->finished)
        engine_clock(e, ts);
}

mbx_time mbx_engine_now(const mbx_engine *e)
{
    return e->cfg.live_clock ? wall_now() : e->now;
}

void mbx_engine_stats(const mbx_engine *e, struct mbx_stats *out)
{
    *out = e->stats;
}

void mbx_count_div0(mbx_engine *e)
{
    e->stats.div_by_zero++;
}

void mbx_engine_set_output(mbx_engine *e, struct mbx_out *o)
{
    e->out = o;
}

struct mbx_out *mbx_engine_output(mbx_engine *e)
{
    return e->out;
}
