/*
 * test_dispatch.c - events and subscriptions (dispatch.c): user-defined event
 * trees with filters evaluated once per firing, call order and depth-first
 * raise, per-flow unsubscribe/subscribe (effective after the running handler,
 * buffers released), MBX_SUB_PER_FLOW, drop packet and drop flow.
 * The rules checked are those of RUNTIME.md "Events and dispatch" and
 * LANGUAGE.md section 8 "Events and handlers".
 */
#include "engine_util.h"

static struct tconn mk(mbx_engine *e, uint16_t cport)
{
    return (struct tconn){
        .e = e, .cip = "10.0.0.1", .sip = "10.0.0.2", .cport = cport, .sport = 80, .ts = SEC};
}

static void handshake(struct tconn *c)
{
    C2S(c, SYN, 100, 0, NULL);
    S2C(c, SYN | ACK, 300, 101, NULL);
    C2S(c, ACK, 101, 301, NULL);
}

static int calls_client, calls_long, calls_unused;
static bool f_client(const struct mbx_event *ev, void *u)
{
    (void)u;
    calls_client++;
    return ev->side == MBX_CLIENT;
}
static bool f_long(const struct mbx_event *ev, void *u)
{
    (void)u;
    calls_long++;
    return ev->len > 3;
}
static bool f_unused(const struct mbx_event *ev, void *u)
{
    (void)ev, (void)u;
    calls_unused++;
    return true;
}

static void test_event_tree(void **state)
{
    (void)state;
    mbx_engine *e = engine_with(MBX_POLICY_FIRST);
    int d1 = mbx_event_define(e, "client_data", MBX_EV_TCP_DATA, f_client, NULL);
    int d2 = mbx_event_define(e, "long_client_data", d1, f_long, NULL);
    int d3 = mbx_event_define(e, "unused", MBX_EV_TCP_DATA, f_unused, NULL);
    assert_true(d1 >= MBX_EV_NBUILTIN && d2 > d1 && d3 > d2);
    assert_int_equal(mbx_event_define(e, "client_data", MBX_EV_TCP_DATA, f_client, NULL), -EEXIST);
    assert_int_equal(mbx_event_define(e, "x", 9999, f_client, NULL), -EINVAL);
    assert_string_equal(mbx_event_name(e, d2), "long_client_data");
    struct evlog l = {0};
    mbx_subscribe(e, d1, evlog_handler, &l, 0);
    mbx_subscribe(e, d2, evlog_handler, &l, 0);
    struct tconn c = mk(e, 1000);
    handshake(&c);
    C2S(&c, ACK, 101, 301, "ab"); /* d1 matches, d2 evaluated once, fails */
    assert_int_equal(calls_client, 1);
    assert_int_equal(calls_long, 1);
    S2C(&c, ACK, 301, 103, "server"); /* d1 fails: d2 not evaluated */
    assert_int_equal(calls_client, 2);
    assert_int_equal(calls_long, 1);
    C2S(&c, ACK, 103, 307, "abcd"); /* both match */
    assert_int_equal(calls_client, 3);
    assert_int_equal(calls_long, 2);
    assert_int_equal(calls_unused, 0); /* nobody subscribes to it: never evaluated */
    assert_string_equal(l.text, "client_data c;client_data c;long_client_data c;");
    mbx_engine_free(e);
}

struct order {
    char text[256];
    int raised;
};
static void h_a(const struct mbx_event *ev, void *u)
{
    struct order *o = u;
    strcat(o->text, "A<;");
    mbx_raise(ev->engine, o->raised, ev->flow, ev->side, "payload");
    strcat(o->text, "A>;");
}
static void h_b(const struct mbx_event *ev, void *u)
{
    (void)ev;
    strcat(((struct order *)u)->text, "B;");
}
static void h_r(const struct mbx_event *ev, void *u)
{
    struct order *o = u;
    strcat(o->text, "R:");
    strcat(o->text, (const char *)ev->payload);
    strcat(o->text, ev->pkt ? "+pkt;" : ";");
}

/* Handlers run in subscription order; raise calls subscribers at once, depth
 * first, and a raised event carries the packet of the event that raised it. */
static void test_order_and_raise(void **state)
{
    (void)state;
    mbx_engine *e = engine_with(MBX_POLICY_FIRST);
    struct order o = {{0}, 0};
    o.raised = mbx_event_register(e, "my.event");
    assert_true(o.raised >= MBX_EV_NBUILTIN);
    mbx_subscribe(e, MBX_EV_TCP_OPEN, h_a, &o, 0);
    mbx_subscribe(e, MBX_EV_TCP_OPEN, h_b, &o, 0);
    mbx_subscribe(e, o.raised, h_r, &o, 0);
    struct tconn c = mk(e, 1000);
    handshake(&c);
    assert_string_equal(o.text, "A<;R:payload+pkt;A>;B;");
    mbx_engine_free(e);
}

static int sub_self, sub_other, n_self, n_other;
static void h_self(const struct mbx_event *ev, void *u)
{
    (void)u;
    n_self++;
    mbx_flow_unsubscribe(ev->flow, sub_self);  /* stop me on this flow */
    mbx_flow_unsubscribe(ev->flow, sub_other); /* and the next handler */
}
static void h_other(const struct mbx_event *ev, void *u)
{
    (void)ev, (void)u;
    n_other++;
}

static void test_per_flow_unsubscribe(void **state)
{
    (void)state;
    mbx_engine *e = engine_with(MBX_POLICY_FIRST);
    sub_self = mbx_subscribe(e, MBX_EV_TCP_DATA, h_self, NULL, MBX_SUB_READ_CLIENT);
    sub_other = mbx_subscribe(e, MBX_EV_TCP_DATA, h_other, NULL, MBX_SUB_READ_CLIENT);
    struct tconn a = mk(e, 1000), b = mk(e, 2000);
    handshake(&a);
    C2S(&a, ACK, 101, 301, "one");
    assert_int_equal(n_self, 1);
    assert_int_equal(n_other, 0); /* turned off before its turn */
    /* Nobody reads the client side of a any more: its buffers are gone. */
    struct mbx_flow *fa = NULL;
    for (uint32_t i = 0; i < e->bump; i++)
        if (e->flows[i].port[0] == 1000)
            fa = &e->flows[i];
    assert_null(mbx_flow_stream(fa, MBX_CLIENT));
    C2S(&a, ACK, 104, 301, "two");
    assert_int_equal(n_self, 1);
    handshake(&b); /* another flow still has both */
    C2S(&b, ACK, 101, 301, "one");
    assert_int_equal(n_self, 2);
    /* Turn one back on for flow a. */
    assert_int_equal(mbx_flow_subscribe(fa, sub_other), 0);
    C2S(&a, ACK, 107, 301, "three");
    assert_int_equal(n_other, 1);
    assert_int_equal(mbx_flow_subscribe(fa, 77), -EINVAL);
    mbx_engine_free(e);
}

static int sub_pf;
static struct evlog pf_log;
static void h_open_enable(const struct mbx_event *ev, void *u)
{
    (void)u;
    if (mbx_flow_port(ev->flow, MBX_CLIENT) == 2000)
        mbx_flow_subscribe(ev->flow, sub_pf);
}

/* MBX_SUB_PER_FLOW: off on every flow until turned on for it. */
static void test_per_flow_subscription(void **state)
{
    (void)state;
    mbx_engine *e = engine_with(MBX_POLICY_FIRST);
    memset(&pf_log, 0, sizeof(pf_log));
    mbx_subscribe(e, MBX_EV_TCP_OPEN, h_open_enable, NULL, 0);
    sub_pf = mbx_subscribe(e, MBX_EV_TCP_DATA, evlog_handler, &pf_log,
                           MBX_SUB_PER_FLOW | MBX_SUB_READ_CLIENT);
    struct tconn a = mk(e, 1000), b = mk(e, 2000);
    handshake(&a);
    handshake(&b);
    C2S(&a, ACK, 101, 301, "nope");
    C2S(&b, ACK, 101, 301, "yes");
    assert_string_equal(pf_log.text, "data c 0 yes;");
    mbx_engine_free(e);
}

static void h_drop_flow(const struct mbx_event *ev, void *u)
{
    (void)u;
    mbx_drop_flow(ev->flow);
}
static void h_drop_pkt(const struct mbx_event *ev, void *u)
{
    (void)u;
    if (ev->pkt && ev->pkt->payload_len == 4)
        mbx_drop_packet(ev->engine);
}

static void test_drop(void **state)
{
    (void)state;
    mbx_engine *e = engine_with(MBX_POLICY_FIRST);
    struct evlog l = {0};
    mbx_subscribe(e, MBX_EV_TCP_SYN, h_drop_flow, NULL, 0);
    static const int evs[] = {MBX_EV_TCP_OPEN, MBX_EV_TCP_DATA, MBX_EV_TCP_CLOSE, -1};
    evlog_sub(e, &l, evs);
    struct tconn c = mk(e, 1000);
    assert_false(C2S(&c, SYN, 100, 0, NULL));
    assert_false(S2C(&c, SYN | ACK, 300, 101, NULL));
    assert_false(C2S(&c, ACK, 101, 301, "data"));
    assert_false(S2C(&c, RST, 301, 0, NULL));
    assert_string_equal(l.text, "tcp.close rst;"); /* only the end */
    assert_int_equal(e->stats.dropped_packets, 4);
    mbx_engine_free(e);

    e = engine_with(MBX_POLICY_FIRST);
    mbx_subscribe(e, MBX_EV_PKT_IN, h_drop_pkt, NULL, 0);
    c = mk(e, 1000);
    assert_true(C2S(&c, SYN, 100, 0, NULL));
    S2C(&c, SYN | ACK, 300, 101, NULL);
    assert_false(C2S(&c, ACK, 101, 301, "four")); /* this packet only */
    assert_true(C2S(&c, ACK, 105, 301, "fiver"));
    assert_int_equal(e->stats.dropped_packets, 1);
    mbx_engine_free(e);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    mbx_engine *e = engine_with(MBX_POLICY_FIRST);
    assert_int_equal(mbx_subscribe(e, -1, h_b, NULL, 0), -EINVAL);
    assert_int_equal(mbx_subscribe(e, MBX_EV_TCP_OPEN, NULL, NULL, 0), -EINVAL);
    assert_int_equal(mbx_subscribe(e, MBX_EV_TCP_OPEN, h_b, NULL, 0x100), -EINVAL);
    assert_int_equal(mbx_event_define(e, "f", MBX_EV_TCP_OPEN, NULL, NULL), -EINVAL);
    assert_int_equal(mbx_event_register(e, ""), -EINVAL);
    assert_null(mbx_event_name(e, 12345));
    for (int i = 0; i < 64; i++)
        assert_int_equal(mbx_subscribe(e, MBX_EV_TCP_OPEN, h_b, NULL, 0), i);
    /* Only the first 64 subscriptions can be turned off per flow. */
    assert_int_equal(mbx_subscribe(e, MBX_EV_TCP_OPEN, h_b, NULL, MBX_SUB_PER_FLOW), -ENOSPC);
    assert_int_equal(mbx_subscribe(e, MBX_EV_TCP_OPEN, h_b, NULL, 0), 64);
    mbx_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_tree),
        cmocka_unit_test(test_order_and_raise),
        cmocka_unit_test(test_per_flow_unsubscribe),
        cmocka_unit_test(test_per_flow_subscription),
        cmocka_unit_test(test_drop),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
