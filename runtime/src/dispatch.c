/*
 * dispatch.c - events and subscriptions: built-in events (mbx_events.def),
 * user-defined events (a base event and a filter), events raised by modules,
 * global and per-flow subscriptions.
 *
 * Events form a forest: a built-in or raised event is a root; a user-defined
 * event is a child of its base.  Firing an event calls its subscribers in
 * subscription order, then evaluates the filter of each child once and fires
 * the children that matched (so a derived event's own children are evaluated
 * only when it matched), depth first.  Each event knows whether any
 * subscription exists in its subtree (want), so an event nobody listens to
 * costs one test on the hot path and its filters never run.
 *
 * Per-flow control: each flow has a 64-bit mask of subscriptions turned off on
 * it, so subscriptions 0..63 can be turned off and on per flow (MBX_SUB_PER_FLOW
 * ones start off).  The mask is read before each handler call, so a change made
 * by a running handler takes effect after it returns.  Stream need follows the
 * subscriptions: a side has a stream while a subscription that reads it is on;
 * subscribing to tcp.data, tcp.rexmit or tcp.gap (or an event derived from
 * them) without MBX_SUB_READ_* flags reads both sides.  Buffers of a side no
 * subscription reads any more are released after the packet being processed.
 * A dropped flow (mbx_drop_flow) gets no event but its end (tcp.close,
 * tcp.timeout).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static const char *const builtin_names[] = {
#define MBX_EVENT(id, name, owner, pkt) name,
#include "mbx_events.def"
#undef MBX_EVENT
};

static int ev_add(mbx_engine *e, const char *name, int base)
{
    if (!name || !*name || strlen(name) >= sizeof(e->ev[0].name))
        return -EINVAL;
    for (int i = 0; i < e->nev; i++)
        if (!strcmp(e->ev[i].name, name))
            return -EEXIST;
    if (e->nev == e->capev) {
        int ncap = e->capev ? 2 * e->capev : 32;
        struct ev_def *n = realloc(e->ev, sizeof(*n) * (size_t)ncap);
        if (!n)
            return -ENOMEM;
        e->ev = n;
        e->capev = ncap;
    }
    struct ev_def *d = &e->ev[e->nev];
    memset(d, 0, sizeof(*d));
    strcpy(d->name, name);
    d->base = base;
    return e->nev++;
}

static int int_push(int **v, int *n, int *cap, int x)
{
    if (*n == *cap) {
        int ncap = *cap ? 2 * *cap : 4;
        int *nv = realloc(*v, sizeof(int) * (size_t)ncap);
        if (!nv)
            return -ENOMEM;
        *v = nv;
        *cap = ncap;
    }
    (*v)[(*n)++] = x;
    return 0;
}

int disp_init(mbx_engine *e)
{
    for (int i = 0; i < MBX_EV_NBUILTIN; i++)
        if (ev_add(e, builtin_names[i], -1) != i)
            return -ENOMEM;
    return 0;
}

void disp_fini(mbx_engine *e)
{
    for (int i = 0; i < e->nev; i++) {
        free(e->ev[i].subs);
        free(e->ev[i].kids);
    }
    free(e->ev);
    free(e->subs);
    e->ev = NULL;
    e->subs = NULL;
}

static int ev_root(const mbx_engine *e, int ev)
{
    while (e->ev[ev].base >= 0)
        ev = e->ev[ev].base;
    return ev;
}

void disp_fire(mbx_engine *e, struct mbx_event *ev)
{
    const struct ev_def *d = &e->ev[ev->id];
    if (!d->want)
        return;
    struct mbx_flow *f = ev->flow;
    if (f && (f->fflags & F_DROPPED)) {
        int root = ev_root(e, ev->id);
        if (root != MBX_EV_TCP_CLOSE && root != MBX_EV_TCP_TIMEOUT)
            return;
    }
    int id = ev->id;
    for (int i = 0; i < e->ev[id].nsubs; i++) {
        int sid = e->ev[id].subs[i];
        if (f && sid < SUB_MASKED && ((f->sub_off >> sid) & 1))
            continue;
        const struct sub *s = &e->subs[sid];
        s->fn(ev, s->udata);
    }
    for (int i = 0; i < e->ev[id].nkids; i++) {
        int k = e->ev[id].kids[i];
        const struct ev_def *kd = &e->ev[k];
        if (!kd->want || !kd->filter(ev, kd->fudata))
            continue;
        struct mbx_event child = *ev;
        child.id = k;
        disp_fire(e, &child);
    }
}

void disp_flow_event(mbx_engine *e, int ev, struct mbx_flow *f, enum mbx_side s)
{
    struct mbx_event x;
    memset(&x, 0, sizeof(x));
    x.id = ev;
    x.engine = e;
    x.flow = f;
    x.pkt = e->pkt;
    x.side = s;
    disp_fire(e, &x);
}

void disp_flow_start(mbx_engine *e, struct mbx_flow *f)
{
    f->sub_off = e->perflow_default;
}

/* ---------------------------------------------------------------- public API */

const char *mbx_event_name(const mbx_engine *e, int ev)
{
    if (ev < 0 || ev >= e->nev)
        return NULL;
    return e->ev[ev].name;
}

int mbx_event_define(mbx_engine *e, const char *name, int base, mbx_filter_fn filter, void *udata)
{
    if (base < 0 || base >= e->nev || !filter)
        return -EINVAL;
    int id = ev_add(e, name, base);
    if (id < 0)
        return id;
    e->ev[id].filter = filter;
    e->ev[id].fudata = udata;
    if (int_push(&e->ev[base].kids, &e->ev[base].nkids, &e->ev[base].capkids, id) < 0) {
        e->nev--;
        return -ENOMEM;
    }
    return id;
}

int mbx_event_register(mbx_engine *e, const char *name)
{
    return ev_add(e, name, -1);
}

int mbx_subscribe(mbx_engine *e, int ev, mbx_handler_fn fn, void *udata, unsigned flags)
{
    if (ev < 0 || ev >= e->nev || !fn ||
        (flags & ~(unsigned)(MBX_SUB_READ_CLIENT | MBX_SUB_READ_SERVER | MBX_SUB_PER_FLOW)))
        return -EINVAL;
    int id = e->nsubs;
    if ((flags & MBX_SUB_PER_FLOW) && id >= SUB_MASKED)
        return -ENOSPC;
    int root = ev_root(e, ev);
    if (!(flags & (MBX_SUB_READ_CLIENT | MBX_SUB_READ_SERVER)) &&
        (root == MBX_EV_TCP_DATA || root == MBX_EV_TCP_REXMIT || root == MBX_EV_TCP_GAP))
        flags |= MBX_SUB_READ_CLIENT | MBX_SUB_READ_SERVER;
    if (e->nsubs == e->capsubs) {
        int ncap = e->capsubs ? 2 * e->capsubs : 16;
        struct sub *n = realloc(e->subs, sizeof(*n) * (size_t)ncap);
        if (!n)
            return -ENOMEM;
        e->subs = n;
        e->capsubs = ncap;
    }
    if (int_push(&e->ev[ev].subs, &e->ev[ev].nsubs, &e->ev[ev].capsubs, id) < 0)
        return -ENOMEM;
    e->subs[id] = (struct sub){.ev = ev, .fn = fn, .udata = udata, .flags = flags};
    e->nsubs++;
    for (int s = 0; s < 2; s++) {
        unsigned rd = s ? MBX_SUB_READ_SERVER : MBX_SUB_READ_CLIENT;
        if (!(flags & rd))
            continue;
        if (id < SUB_MASKED)
            e->read_mask[s] |= 1ull << id;
        else
            e->read_always[s] = true;
    }
    if (flags & MBX_SUB_PER_FLOW)
        e->perflow_default |= 1ull << id;
    for (int x = ev; x >= 0; x = e->ev[x].base)
        e->ev[x].want = true;
    return id;
}

static int flow_sub_set(mbx_flow *f, int sub, bool off)
{
    mbx_engine *e = flow_engine(f);
    if (!e || sub < 0 || sub >= e->nsubs)
        return -EINVAL;
    if (sub >= SUB_MASKED)
        return -ENOSPC;
    uint64_t bit = 1ull << sub;
    if (off)
        f->sub_off |= bit;
    else
        f->sub_off &= ~bit;
    if (e->subs[sub].flags & (MBX_SUB_READ_CLIENT | MBX_SUB_READ_SERVER)) {
        f->fflags |= F_RECHECK;
        if (!e->pkt) /* outside packet processing (a timer, tcp.timeout): now */
            stream_recheck(e, f);
    }
    return 0;
}

int mbx_flow_unsubscribe(mbx_flow *f, int sub)
{
    return flow_sub_set(f, sub, true);
}

int mbx_flow_subscribe(mbx_flow *f, int sub)
{
    return flow_sub_set(f, sub, false);
}

void mbx_raise(mbx_engine *e, int ev, mbx_flow *f, enum mbx_side s, const void *payload)
{
    if (ev < 0 || ev >= e->nev)
        return;
    struct mbx_event x;
    memset(&x, 0, sizeof(x));
    x.id = ev;
    x.engine = e;
    x.flow = f;
    x.pkt = e->pkt;
    x.side = s;
    x.payload = payload;
    disp_fire(e, &x);
}

void mbx_drop_packet(mbx_engine *e)
{
    e->verdict = false;
}

void mbx_drop_flow(mbx_flow *f)
{
    f->fflags |= F_DROPPED | F_RECHECK;
    mbx_engine *e = flow_engine(f);
    if (e)
        e->verdict = false;
}
