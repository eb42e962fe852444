/*
 * timer.c - periodic timers (mbx_every), on packet time or the wall clock.
 *
 * A pipeline has a handful of `every` clauses, so the timers are a binary
 * min-heap on their next firing time: the engine compares one number per
 * packet (timer_next) and pops only timers that are due.  The clock starts at
 * the first packet: a timer of period P fires at t0 + P, t0 + 2P, ..., each
 * before the first packet whose time reaches it (ts >= t0 + kP), so a timer
 * never fires after the last packet of a capture.  When packet time jumps
 * past several ticks (a quiet link, two captures merged years apart), the
 * timer fires once for all of them, at the last tick due, and stays on its
 * grid; the ticks skipped are counted (stats timer_ticks_skipped): a jump of
 * 11 years under `every 10s` is one firing, not 36.6 million.  Idle timeouts
 * do not use this heap: they are the flow table's LRU lists (flow.c).
 */
#include <errno.h>
#include <stdlib.h>

#include "engine.h"

int timer_init(mbx_engine *e)
{
    (void)e;
    return 0;
}

void timer_fini(mbx_engine *e)
{
    free(e->timers);
    e->timers = NULL;
    e->ntimers = e->captimers = 0;
}

static void heap_swap(struct timer *h, int a, int b)
{
    struct timer t = h[a];
    h[a] = h[b];
    h[b] = t;
}

static bool heap_before(const struct timer *a, const struct timer *b)
{
    return a->next < b->next || (a->next == b->next && a->id < b->id);
}

static void heap_up(struct timer *h, int i)
{
    while (i > 0 && heap_before(&h[i], &h[(i - 1) / 2])) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(struct timer *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && heap_before(&h[l], &h[m]))
            m = l;
        if (r < n && heap_before(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(h, i, m);
        i = m;
    }
}

mbx_time timer_next(const mbx_engine *e)
{
    if (!e->clock_started || !e->ntimers)
        return UINT64_MAX;
    return e->timers[0].next;
}

void timer_start_clock(mbx_engine *e, mbx_time t0)
{
    e->clock_started = true;
    e->t0 = t0;
    for (int i = 0; i < e->ntimers; i++)
        e->timers[i].next = t0 + e->timers[i].period;
    for (int i = e->ntimers / 2; i >= 0; i--)
        heap_down(e->timers, e->ntimers, i);
}

void timer_catch_up(mbx_engine *e, mbx_time now)
{
    bool moved = false;
    for (int i = 0; i < e->ntimers; i++) {
        struct timer *t = &e->timers[i];
        if (t->next >= now || now - t->next < t->period)
            continue;
        uint64_t k = (now - t->next) / t->period; /* ticks due after the first one */
        t->next += k * t->period;
        e->stats.timer_ticks_skipped += k;
        moved = true;
    }
    if (moved)
        for (int i = e->ntimers / 2; i >= 0; i--)
            heap_down(e->timers, e->ntimers, i);
}

void timer_run_one(mbx_engine *e)
{
    struct timer t = e->timers[0];
    e->timers[0].next += t.period;
    heap_down(e->timers, e->ntimers, 0);
    mbx_time saved = e->now;
    e->now = t.next;
    t.fn(e, t.udata);
    if (saved > e->now)
        e->now = saved;
}

int mbx_every(mbx_engine *e, mbx_time period, mbx_timer_fn fn, void *udata)
{
    if (!period || !fn)
        return -EINVAL;
    if (e->ntimers == e->captimers) {
        int ncap = e->captimers ? 2 * e->captimers : 8;
        struct timer *n = realloc(e->timers, sizeof(*n) * (size_t)ncap);
        if (!n)
            return -ENOMEM;
        e->timers = n;
        e->captimers = ncap;
    }
    int id = e->ntimers;
    struct timer *t = &e->timers[e->ntimers++];
    t->period = period;
    t->fn = fn;
    t->udata = udata;
    t->id = id;
    /* Added while running: first firing one period after now, on the same grid. */
    t->next = e->clock_started ? e->now + period : UINT64_MAX;
    heap_up(e->timers, e->ntimers - 1);
    return id;
}
