/*
 * test_timer.c - mbx_every (timer.c) on packet time.  The rule checked is
 * LANGUAGE.md section 8: `every D` fires at first-packet time + kD, before the
 * packet that passes that time, and never after the last packet.  A packet
 * whose time equals t0 + kD sees the timer fire first.  Ticks skipped by a
 * jump in packet time fire once, at the last tick due (mbx.h section 9).
 */
#include "engine_util.h"

struct tl {
    char text[1024];
};

static void t_add(struct tl *l, const char *what, mbx_time t)
{
    char b[64];
    snprintf(b, sizeof(b), "%s@%llu;", what, (unsigned long long)(t / SEC));
    strcat(l->text, b);
}

static void on_tick(mbx_engine *e, void *u)
{
    t_add(u, "T", mbx_engine_now(e));
}
static void on_tock(mbx_engine *e, void *u)
{
    t_add(u, "U", mbx_engine_now(e));
}
static void on_pkt(const struct mbx_event *ev, void *u)
{
    t_add(u, "p", ev->pkt->ts);
}

static void udp_at(mbx_engine *e, mbx_time t)
{
    struct tconn u = {
        .e = e, .cip = "1.1.1.1", .sip = "2.2.2.2", .cport = 53, .sport = 53, .ts = t - MS};
    struct mbx_pkt p = tc_pkt(&u, 0, 0, 0, 0, "q", 1);
    p.proto = 17;
    mbx__engine_packet(e, &p);
}

static void test_every(void **state)
{
    (void)state;
    mbx_engine *e = engine_with(MBX_POLICY_FIRST);
    struct tl l = {{0}};
    assert_int_equal(mbx_every(e, 10 * SEC, on_tick, &l), 0);
    assert_int_equal(mbx_every(e, 0, on_tick, &l), -EINVAL);
    mbx_subscribe(e, MBX_EV_PKT_IN, on_pkt, &l, 0);
    udp_at(e, 100 * SEC);
    udp_at(e, 105 * SEC);
    udp_at(e, 112 * SEC);
    udp_at(e, 120 * SEC); /* reaches 120 exactly: the timer first */
    udp_at(e, 155 * SEC); /* a jump: 130, 140, 150 are due; one firing, at 150 */
    udp_at(e, 159 * SEC); /* the last packet */
    mbx_engine_finish(e); /* 160 is after the last packet: never */
    assert_string_equal(l.text, "p@100;p@105;T@110;p@112;T@120;p@120;T@150;p@155;p@159;");
    assert_int_equal(e->stats.timer_ticks_skipped, 2); /* 130 and 140 */
    mbx_engine_free(e);
}

/* Two timers due at the same time fire in the order they were created. */
static void test_two_timers(void **state)
{
    (void)state;
    mbx_engine *e = engine_with(MBX_POLICY_FIRST);
    struct tl l = {{0}};
    mbx_every(e, 2 * SEC, on_tick, &l);
    mbx_every(e, 1 * SEC, on_tock, &l);
    udp_at(e, 10 * SEC);
    udp_at(e, 12 * SEC);
    /* U's ticks 11 and 12 are both due before the packet at 12: one firing at
     * 12 (mbx.h section 9), after T's, created first. */
    assert_string_equal(l.text, "T@12;U@12;");
    assert_int_equal(e->stats.timer_ticks_skipped, 1);
    mbx_engine_free(e);
}

/* Timers and idle timeouts interleave in time order. */
static int n_timeouts;
static void on_timeout(const struct mbx_event *ev, void *u)
{
    t_add(u, "x", mbx_engine_now(ev->engine));
    n_timeouts++;
}

static void test_timeouts_with_timers(void **state)
{
    (void)state;
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    cfg.max_flows = 8;
    cfg.timeout_syn = 5 * SEC;
    mbx_engine *e = mbx_engine_new(&cfg);
    struct tl l = {{0}};
    mbx_every(e, 3 * SEC, on_tick, &l);
    mbx_subscribe(e, MBX_EV_TCP_TIMEOUT, on_timeout, &l, 0);
    struct tconn c = {.e = e,
                      .cip = "1.1.1.1",
                      .sip = "2.2.2.2",
                      .cport = 999,
                      .sport = 80,
                      .ts = 100 * SEC - MS};
    C2S(&c, SYN, 1, 0, NULL); /* t0 = 100 s; SYN-only flow expires after 105 s */
    udp_at(e, 107 * SEC);
    assert_int_equal(n_timeouts, 1);
    /* 103 and 106 are due before 107: one firing at 106, after the timeout. */
    assert_string_equal(l.text, "x@105;T@106;");
    assert_int_equal(e->stats.timer_ticks_skipped, 1);
    mbx_engine_free(e);
}

/* Packet time jumps 11 years (two captures merged: the runtime issue's
 * mergecap of zeek qi_internet_SYNACK_curl_jsonip.pcap and scan
 * portscan-nmap.pcap did that): `every 10s` fires once for the jump, at the
 * last tick before the packet, on the grid t0 + 10k, and counts the rest.
 * 11 years of 365.25 days = 347,133,600 s; with 3 s more, the ticks due are
 * k = 1 .. 34,713,360, the last at t0 + 347,133,600 s. */
static mbx_time fired_at[4];
static int nfired;
static void on_jump(mbx_engine *e, void *u)
{
    (void)u;
    if (nfired < 4)
        fired_at[nfired] = mbx_engine_now(e);
    nfired++;
}

static void test_jump_11_years(void **state)
{
    (void)state;
    mbx_engine *e = engine_with(MBX_POLICY_FIRST);
    const mbx_time t0 = 1300000000ull * SEC, years = 347133600ull * SEC;
    nfired = 0;
    mbx_every(e, 10 * SEC, on_jump, NULL);
    udp_at(e, t0);
    udp_at(e, t0 + 5 * SEC);
    udp_at(e, t0 + years + 3 * SEC);
    assert_int_equal(nfired, 1);
    assert_int_equal(fired_at[0], t0 + years);
    assert_int_equal(e->stats.timer_ticks_skipped, 34713360ull - 1);
    udp_at(e, t0 + years + 25 * SEC); /* +10 and +20 due: one firing, at +20 */
    assert_int_equal(nfired, 2);
    assert_int_equal(fired_at[1], t0 + years + 20 * SEC);
    assert_int_equal(e->stats.timer_ticks_skipped, 34713360ull);
    udp_at(e, t0 + years + 30 * SEC); /* one tick due: fires normally */
    assert_int_equal(nfired, 3);
    assert_int_equal(fired_at[2], t0 + years + 30 * SEC);
    assert_int_equal(e->stats.timer_ticks_skipped, 34713360ull);
    mbx_engine_free(e);
}

#include <time.h>

static int live_ticks;
static void on_live(mbx_engine *e, void *u)
{
    (void)e, (void)u;
    live_ticks++;
}

/* config.live_clock: timers follow the wall clock, not packet times. */
static void test_live_clock(void **state)
{
    (void)state;
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    cfg.max_flows = 8;
    cfg.live_clock = true;
    mbx_engine *e = mbx_engine_new(&cfg);
    mbx_every(e, 2 * MS, on_live, NULL);
    udp_at(e, 1 * SEC); /* packet times far in the past: ignored */
    udp_at(e, 1 * SEC);
    assert_int_equal(live_ticks, 0);
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    udp_at(e, 1 * SEC);
    /* 10 ms of wall clock, 2 ms period: at least 5 ticks due, one firing. */
    assert_int_equal(live_ticks, 1);
    assert_true(e->stats.timer_ticks_skipped >= 4);
    assert_true(mbx_engine_now(e) > 1600000000ull * SEC); /* wall clock: after 2020 */
    mbx_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every),         cmocka_unit_test(test_two_timers),
        cmocka_unit_test(test_jump_11_years), cmocka_unit_test(test_timeouts_with_timers),
        cmocka_unit_test(test_live_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
