/*
 * test_flow.c - the flow table (flow.c): both directions find one flow, flow
 * ids increase, the table bound evicts the least recently active flow (counted,
 * tcp.timeout with MBX_END_EVICTED, holes reported as EVICTED gaps), idle
 * timeouts by state on packet time, the 256-byte flow size.
 */
#include "engine_util.h"

struct endlog {
    char text[1024];
    size_t len;
};

static void end_handler(const struct mbx_event *ev, void *udata)
{
    struct endlog *l = udata;
    int n = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%u:%s@%llu;",
                     (unsigned)mbx_flow_port(ev->flow, MBX_CLIENT),
                     mbx_flow_end_name(mbx_flow_end(ev->flow)),
                     (unsigned long long)(mbx_engine_now(ev->engine) / SEC));
    if (n > 0)
        l->len += (size_t)n;
}

static struct tconn mk(mbx_engine *e, uint16_t cport, mbx_time ts)
{
    return (struct tconn){
        .e = e, .cip = "10.1.1.1", .sip = "10.2.2.2", .cport = cport, .sport = 443, .ts = ts};
}

static void test_symmetric_and_ids(void **state)
{
    (void)state;
    mbx_engine *e = engine_with(MBX_POLICY_FIRST);
    struct tconn a = mk(e, 1111, 0), b = mk(e, 2222, 0);
    C2S(&a, SYN, 1, 0, NULL);
    S2C(&a, SYN | ACK, 9, 2, NULL);
    C2S(&b, SYN, 1, 0, NULL);
    assert_int_equal(e->stats.flows, 2);
    assert_int_equal(e->nflows, 2);
    uint64_t ida = 0, idb = 0;
    for (uint32_t i = 0; i < e->bump; i++) {
        if (e->flows[i].port[0] == 1111)
            ida = e->flows[i].id;
        if (e->flows[i].port[0] == 2222)
            idb = e->flows[i].id;
    }
    assert_int_equal(ida, 1);
    assert_int_equal(idb, 2);
    assert_true(sizeof(struct mbx_flow) <= 256); /* 1M flows in 256 MiB */
    mbx_engine_free(e);
}

/* max_flows = 2: the least recently active flow is evicted for a third one. */
static void test_eviction(void **state)
{
    (void)state;
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    cfg.max_flows = 2;
    mbx_engine *e = mbx_engine_new(&cfg);
    struct endlog el = {0};
    struct evlog l = {0};
    mbx_subscribe(e, MBX_EV_TCP_TIMEOUT, end_handler, &el, 0);
    static const int evs[] = {MBX_EV_TCP_DATA, MBX_EV_TCP_GAP, MBX_EV_TCP_TIMEOUT, -1};
    evlog_sub(e, &l, evs);
    struct tconn a = mk(e, 1111, 1 * SEC), b = mk(e, 2222, 2 * SEC), c = mk(e, 3333, 4 * SEC);
    C2S(&a, SYN, 100, 0, NULL);
    S2C(&a, SYN | ACK, 300, 101, NULL);
    C2S(&a, ACK, 101, 301, NULL);
    C2S(&b, SYN, 100, 0, NULL);
    S2C(&b, SYN | ACK, 300, 101, NULL);
    C2S(&b, ACK, 101, 301, NULL);
    C2S(&b, ACK, 101, 301, "AA");
    C2S(&b, ACK, 105, 301, "CC"); /* a hole at 2..3 */
    a.ts = 3 * SEC;
    C2S(&a, ACK, 101, 301, NULL); /* a is now more recent than b */
    C2S(&c, SYN, 100, 0, NULL);   /* table full: b goes */
    assert_string_equal(el.text, "2222:evicted@4;");
    assert_string_equal(l.text, "data c 0 AA;gap c 2 2 evicted;data c 4 CC;tcp.timeout evicted;");
    assert_int_equal(e->stats.flows_evicted, 1);
    assert_int_equal(e->nflows, 2);
    mbx_engine_free(e);
}

static void send_udp(mbx_engine *e, uint16_t cport, mbx_time ts)
{
    struct tconn u = mk(e, cport, ts - MS);
    struct mbx_pkt p = tc_pkt(&u, 0, 0, 0, 0, "q", 1);
    p.proto = 17;
    mbx__engine_packet(e, &p);
}

/* Idle timeouts by state: SYN-only 5 s, established 100 s, closing 2 s, UDP 10 s;
 * a flow idle for longer than its timeout ends before the packet that shows it. */
static void test_idle_timeouts(void **state)
{
    (void)state;
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    cfg.max_flows = 16;
    cfg.timeout_syn = 5 * SEC;
    cfg.timeout_est = 100 * SEC;
    cfg.timeout_closing = 2 * SEC;
    cfg.timeout_udp = 10 * SEC;
    mbx_engine *e = mbx_engine_new(&cfg);
    struct endlog el = {0};
    mbx_subscribe(e, MBX_EV_TCP_TIMEOUT, end_handler, &el, 0);
    mbx_subscribe(e, MBX_EV_TCP_CLOSE, end_handler, &el, 0);
    struct tconn s = mk(e, 1000, 0), est = mk(e, 2000, 0), cl = mk(e, 3000, 0);
    C2S(&s, SYN, 1, 0, NULL); /* t = 1 ms */
    C2S(&est, SYN, 1, 0, NULL);
    S2C(&est, SYN | ACK, 1, 2, NULL);
    C2S(&est, ACK, 2, 2, NULL);
    C2S(&cl, SYN, 1, 0, NULL);
    S2C(&cl, SYN | ACK, 1, 2, NULL);
    C2S(&cl, ACK, 2, 2, NULL);
    C2S(&cl, FIN | ACK, 2, 2, NULL); /* closing from ~1 s... */
    send_udp(e, 4000, 1 * SEC);
    send_udp(e, 5000, 4 * SEC); /* at 4 s: the closing flow (idle > 2 s) is gone */
    assert_string_equal(el.text, "3000:timeout@2;");
    send_udp(e, 5000, 5 * SEC); /* SYN flow idle 4.999 s: not yet */
    assert_string_equal(el.text, "3000:timeout@2;");
    send_udp(e, 5000, 6 * SEC);
    assert_string_equal(el.text, "3000:timeout@2;1000:timeout@5;");
    send_udp(e, 5000, 12 * SEC); /* UDP 4000 (last at 1 s) expired silently at 11 s */
    assert_int_equal(e->stats.flows_timed_out, 3);
    send_udp(e, 5000, 101 * SEC);
    assert_string_equal(el.text, "3000:timeout@2;1000:timeout@5;2000:timeout@100;");
    /* at 101 s: UDP 5000 (last 12 s, deadline 22 s) and the established flow
     * (deadline 100.004 s) both expired: 5 in all. */
    assert_int_equal(e->stats.flows_timed_out, 5);
    mbx_engine_free(e);
}

static char udp_seen[256];
static void on_udp(const struct mbx_event *ev, void *u)
{
    (void)u;
    mbx_stream *st = mbx_flow_stream(ev->flow, ev->side);
    const uint8_t *d;
    size_t n = mbx_stream_new_bytes(st, &d);
    size_t m = mbx_stream_peek(st, &d);
    assert_int_equal(n, m);
    char b[64];
    snprintf(b, sizeof(b), "%c:%.*s;", ev->side == MBX_CLIENT ? 'c' : 's', (int)n, (const char *)d);
    strcat(udp_seen, b);
    assert_null(mbx_flow_stream(ev->flow, (enum mbx_side) !ev->side));
}

/* UDP: the first sender is the client; udp.data per datagram, both directions
 * on one flow; the side's stream is the current datagram (LANGUAGE.md 8). */
static void test_udp(void **state)
{
    (void)state;
    mbx_engine *e = engine_with(MBX_POLICY_FIRST);
    mbx_subscribe(e, MBX_EV_UDP_DATA, on_udp, NULL, 0);
    struct tconn c = mk(e, 5353, SEC);
    struct mbx_pkt q = tc_pkt(&c, 0, 0, 0, 0, "query", 5);
    q.proto = 17;
    mbx__engine_packet(e, &q);
    struct mbx_pkt r = tc_pkt(&c, 1, 0, 0, 0, "answer", 6);
    r.proto = 17;
    mbx__engine_packet(e, &r);
    assert_string_equal(udp_seen, "c:query;s:answer;");
    assert_int_equal(e->stats.udp_flows, 1);
    struct mbx_flow *f = only_flow(e);
    assert_int_equal(mbx_flow_port(f, MBX_CLIENT), 5353);
    assert_null(mbx_flow_stream(f, MBX_CLIENT)); /* outside udp.data */
    struct mbx_half_info h;
    mbx_flow_half(f, MBX_SERVER, &h);
    assert_int_equal(h.pkts, 1);
    assert_int_equal(h.payload, 6);
    mbx_engine_free(e);
}

/* A flow holds no engine pointer (issue 2: 248 bytes per flow); the calls
 * given only a flow find its engine by address, also with several engines. */
static void test_engine_of_flow(void **state)
{
    (void)state;
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    cfg.max_flows = 8;
    mbx_engine *a = mbx_engine_new(&cfg), *b = mbx_engine_new(&cfg);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_equal(flow_engine(&a->flows[0]), a);
    assert_ptr_equal(flow_engine(&a->flows[7]), a);
    assert_ptr_equal(flow_engine(&b->flows[3]), b);
    assert_ptr_equal(flow_engine(&b->flows[0]), b);
    struct mbx_flow other;
    assert_null(flow_engine(&other));
    int slot = mbx_flow_ext_register(b, 16);
    assert_true(slot >= 0);
    assert_ptr_equal(mbx_flow_ext(&b->flows[2], slot), b->ext + 2 * b->ext_size + (size_t)slot);
    mbx_engine_free(a);
    assert_ptr_equal(flow_engine(&b->flows[1]), b);
    mbx_engine_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symmetric_and_ids),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_engine_of_flow),
        cmocka_unit_test(test_idle_timeouts),
        cmocka_unit_test(test_udp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
