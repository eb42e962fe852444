/*
 * engine_util.h - helpers for the engine unit tests: build TCP/UDP packets
 * (struct mbx_pkt) by hand, feed them to the engine through
 * mbx__engine_packet(), and record every event as one line of text so a test
 * can compare the whole sequence with what the RFC or a peer's case says.
 */
#ifndef MBX_ENGINE_UTIL_H
#define MBX_ENGINE_UTIL_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "mbx.h"

#define MS  1000000ull
#define SEC 1000000000ull

/* One connection's two endpoints and a clock advancing 1 ms per packet. */
struct tconn {
    mbx_engine *e;
    const char *cip, *sip;
    uint16_t cport, sport;
    mbx_time ts;
    uint32_t pflags;
};

static inline struct mbx_pkt tc_pkt(struct tconn *c, int from_server, uint8_t flags, uint32_t seq,
                                    uint32_t ack, const char *data, uint32_t len)
{
    struct mbx_pkt p;
    memset(&p, 0, sizeof(p));
    mbx_addr_parse(from_server ? c->sip : c->cip, &p.src);
    mbx_addr_parse(from_server ? c->cip : c->sip, &p.dst);
    p.sport = from_server ? c->sport : c->cport;
    p.dport = from_server ? c->cport : c->sport;
    p.proto = 6;
    p.ip_ver = 4;
    p.tcp_flags = flags;
    p.seq = seq;
    p.ack = ack;
    p.win = 65535;
    p.payload = (const uint8_t *)data;
    p.payload_len = len;
    p.l3_off = 14;
    p.l4_off = 34;
    p.tcp_hlen = 20;
    p.ip_len = 40 + len;
    c->ts += MS;
    p.ts = c->ts;
    return p;
}

/* Send a segment: from_server 0 = client to server. Returns the verdict. */
static inline bool tc_send(struct tconn *c, int from_server, uint8_t flags, uint32_t seq,
                           uint32_t ack, const char *data)
{
    struct mbx_pkt p =
        tc_pkt(c, from_server, flags, seq, ack, data, data ? (uint32_t)strlen(data) : 0);
    return mbx__engine_packet(c->e, &p);
}

#define C2S(c, fl, seq, ack, data) tc_send((c), 0, (fl), (seq), (ack), (data))
#define S2C(c, fl, seq, ack, data) tc_send((c), 1, (fl), (seq), (ack), (data))
#define SYN                        MBX_TCP_SYN
#define ACK                        MBX_TCP_ACK
#define FIN                        MBX_TCP_FIN
#define RST                        MBX_TCP_RST
#define PSH                        MBX_TCP_PSH

/* ------------------------------------------------------------ event log */

struct evlog {
    char text[16384];
    size_t len;
    int read_side; /* -1: don't consume; else consume new bytes on tcp.data */
};

__attribute__((format(printf, 2, 3))) static inline void evlog_add(struct evlog *l, const char *fmt,
                                                                   ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->text + l->len, sizeof(l->text) - l->len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof(l->text) - l->len)
        l->len += (size_t)n;
}

/* Records "name side detail;" per event. */
static inline void evlog_handler(const struct mbx_event *ev, void *udata)
{
    struct evlog *l = udata;
    const char *name = mbx_event_name(ev->engine, ev->id);
    char side = ev->side == MBX_CLIENT ? 'c' : 's';
    switch (ev->id) {
    case MBX_EV_TCP_DATA: {
        const uint8_t *d;
        mbx_stream *st = mbx_flow_stream(ev->flow, ev->side);
        size_t n = mbx_stream_new_bytes(st, &d);
        evlog_add(l, "data %c %llu %.*s;", side, (unsigned long long)ev->offset, (int)n,
                  (const char *)d);
        const uint8_t *u;
        mbx_stream_consume(st, mbx_stream_peek(st, &u));
        break;
    }
    case MBX_EV_TCP_GAP:
        evlog_add(l, "gap %c %llu %llu %s;", side, (unsigned long long)ev->offset,
                  (unsigned long long)ev->len, mbx_gap_reason_name(ev->gap_reason));
        break;
    case MBX_EV_TCP_REXMIT:
        evlog_add(l, "rexmit %c %d;", side, ev->inconsistent);
        break;
    case MBX_EV_TCP_STATE_CHANGE: {
        struct mbx_half_info h;
        mbx_flow_half(ev->flow, ev->side, &h);
        evlog_add(l, "state %c %s;", side, mbx_tcp_state_name(h.state));
        break;
    }
    case MBX_EV_TCP_CLOSE:
    case MBX_EV_TCP_TIMEOUT:
        evlog_add(l, "%s %s;", name, mbx_flow_end_name(mbx_flow_end(ev->flow)));
        break;
    default:
        evlog_add(l, "%s %c;", name, side);
    }
}

/* Subscribe the log to the given built-in events (-1 terminated). */
static inline void evlog_sub(mbx_engine *e, struct evlog *l, const int *evs)
{
    for (; *evs >= 0; evs++)
        assert_true(mbx_subscribe(e, *evs, evlog_handler, l, 0) >= 0);
}

static inline mbx_engine *engine_with(enum mbx_overlap_policy pol)
{
    struct mbx_config c;
    mbx_config_default(&c);
    c.max_flows = 64;
    c.policy = pol;
    mbx_engine *e = mbx_engine_new(&c);
    assert_non_null(e);
    return e;
}

/* The only live flow (tests with one connection). */
static inline struct mbx_flow *only_flow(mbx_engine *e)
{
    for (uint32_t i = 0; i < e->bump; i++)
        if (e->flows[i].fflags & F_LIVE)
            return &e->flows[i];
    return NULL;
}

#endif /* MBX_ENGINE_UTIL_H */
