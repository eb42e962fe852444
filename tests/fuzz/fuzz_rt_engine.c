/*
 * fuzz_rt_engine.c - libFuzzer target for the engine core: the input is read
 * as a configuration byte and then a sequence of synthetic TCP segments on up
 * to four connections (direction, flags, sequence and ACK near each side's
 * current position, payload length, time step), fed through
 * mbx__engine_packet() with both sides read.  Besides memory safety, it checks
 * the stream invariant "no silent loss": per flow and side, tcp.data and
 * tcp.gap (but DEPTH gaps, reported where the depth is passed) are contiguous
 * in stream offset, and new_bytes() agrees with the event's length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "mbx.h"

struct track {
    uint64_t id;      /* flow id + 1 (0: unused) */
    uint64_t next[2]; /* expected next offset per side (UINT64_MAX: not started) */
};
static struct track tracks[64];

static void check_contiguous(const struct mbx_event *ev, uint64_t off, uint64_t len)
{
    uint64_t id = mbx_flow_id(ev->flow);
    struct track *t = &tracks[id % 64];
    if (t->id != id + 1) {
        t->id = id + 1;
        t->next[0] = t->next[1] = UINT64_MAX;
    }
    uint64_t *n = &t->next[ev->side];
    if (*n != UINT64_MAX && *n != off)
        abort(); /* bytes skipped or repeated without an event */
    *n = off + len;
}

static void on_event(const struct mbx_event *ev, void *u)
{
    (void)u;
    if (ev->id == MBX_EV_TCP_DATA) {
        mbx_stream *st = mbx_flow_stream(ev->flow, ev->side);
        if (!st)
            abort();
        const uint8_t *d;
        size_t n = mbx_stream_new_bytes(st, &d);
        if (n != ev->len || (n && !d))
            abort();
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < n; i++)
            sum ^= d[i];
        check_contiguous(ev, ev->offset, ev->len);
        uint8_t tmp[16];
        mbx_stream_peek_at(st, ev->offset, tmp, sizeof(tmp));
        if (ev->offset & 1) /* consume sometimes, so unread bytes pile up too */
            mbx_stream_consume(st, mbx_stream_peek(st, &d));
    } else if (ev->id == MBX_EV_TCP_GAP) {
        if (ev->gap_reason != MBX_GAP_DEPTH)
            check_contiguous(ev, ev->offset, ev->len);
    }
}

/* A second reader of the server side, turned off on some flows. */
static void on_data2(const struct mbx_event *ev, void *u)
{
    (void)u;
    const uint8_t *d;
    mbx_stream *st = mbx_flow_stream(ev->flow, ev->side);
    if (!st || mbx_stream_new_bytes(st, &d) != ev->len)
        abort();
}

static int sub_toggle;
static void on_open(const struct mbx_event *ev, void *u)
{
    (void)u;
    if (mbx_flow_port(ev->flow, MBX_CLIENT) == 1003)
        mbx_flow_unsubscribe(ev->flow, sub_toggle);
    if (ev->pkt && ev->pkt->win == 7)
        mbx_drop_flow(ev->flow);
}

static uint8_t payload[256];

static void on_tick(mbx_engine *e, void *u)
{
    (void)u;
    (void)mbx_engine_now(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    memset(tracks, 0, sizeof(tracks));
    for (int i = 0; i < 256; i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    uint8_t c0 = data[0];
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    cfg.max_flows = (c0 & 0x40) ? 2 : 16;
    cfg.policy = (c0 & 1) ? MBX_POLICY_LAST : MBX_POLICY_FIRST;
    cfg.ooo_max_segs = (c0 & 2) ? 2 : 16;
    cfg.stream_depth = (c0 & 4) ? 300 : 0;
    cfg.stream_mem = (c0 & 8) ? 8192 : 0;
    cfg.timeout_est = (c0 & 0x10) ? 1000000000ull : 0;
    mbx_engine *e = mbx_engine_new(&cfg);
    if (!e)
        return 0;
    mbx_subscribe(e, MBX_EV_TCP_DATA, on_event, NULL, 0);
    mbx_subscribe(e, MBX_EV_TCP_GAP, on_event, NULL, 0);
    mbx_subscribe(e, MBX_EV_TCP_REXMIT, on_event, NULL, 0);
    sub_toggle = mbx_subscribe(e, MBX_EV_TCP_DATA, on_data2, NULL, MBX_SUB_READ_SERVER);
    mbx_subscribe(e, MBX_EV_TCP_OPEN, on_open, NULL, 0);
    if (c0 & 0x20)
        mbx_every(e, 50000000ull, on_tick, NULL);
    /* The payload bytes stay valid for the whole run, as frames of a mapped
     * capture do: half the inputs take the zero-copy path (stream.c). */
    e->frames_persist = c0 & 0x80;

    uint32_t pos[4][2] = {{1000, 5000}, {0xfffffff0u, 77}, {1, 1}, {0x7ffffff0u, 0}};
    mbx_time ts = 1000000000ull;
    struct mbx_addr a, b;
    mbx_addr_parse("10.0.0.1", &a);
    mbx_addr_parse("10.0.0.2", &b);
    for (size_t i = 1; i + 7 <= size; i += 7) {
        const uint8_t *r = data + i;
        int fl = r[0] & 3, side = (r[0] >> 2) & 1;
        uint8_t flags = (uint8_t)((r[1] & 0x17) | MBX_TCP_ACK);
        if ((r[1] & 0xc0) == 0xc0)
            flags = (uint8_t)(r[1] & 0x1f); /* sometimes no ACK, raw flags */
        int16_t dseq = (int16_t)((r[2] << 8) | r[3]);
        uint32_t len = r[4];
        int8_t dack = (int8_t)r[5];
        ts += (mbx_time)r[6] * 10000000ull;
        struct mbx_pkt p;
        memset(&p, 0, sizeof(p));
        p.src = side ? b : a;
        p.dst = side ? a : b;
        p.sport = side ? 80 : (uint16_t)(1000 + fl);
        p.dport = side ? (uint16_t)(1000 + fl) : 80;
        p.proto = (r[1] & 0xe0) == 0x20 ? 17 : 6; /* some UDP on the same ports */
        p.ip_ver = 4;
        p.tcp_flags = flags;
        p.seq = pos[fl][side] + (uint32_t)(dseq >> 4);
        p.ack = pos[fl][!side] + (uint32_t)dack;
        p.win = (uint16_t)(r[5] | 0x100) ^ (r[0] & 0x80 ? 0x106 : 0);
        p.payload = payload;
        p.payload_len = len;
        p.l3_off = 14;
        p.l4_off = 34;
        p.tcp_hlen = 20;
        p.ip_len = 40 + len;
        if (r[0] & 0x40) { /* truncated by the snap length */
            p.pflags = MBX_PKT_TRUNCATED;
            p.ip_len += r[3];
        }
        if (flags & MBX_TCP_SYN) {
            p.opts = MBX_OPT_WSCALE | MBX_OPT_MSS;
            p.wscale = r[3] & 15;
            p.mss = 1460;
        }
        p.ts = ts;
        if (r[0] & 0x20) /* advance this side's position: mostly in-order traffic */
            pos[fl][side] = p.seq + len;
        mbx__engine_packet(e, &p);
    }
    mbx_engine_finish(e);
    struct mbx_stats st;
    mbx_engine_stats(e, &st);
    mbx_engine_free(e);
    return 0;
}
