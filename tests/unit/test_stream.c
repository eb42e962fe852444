/*
 * test_stream.c - stream reassembly (stream.c) with crafted segments: exact
 * bytes delivered in order, out of order and overlapping under both policies,
 * inconsistent retransmissions, gaps (offset, length, reason), the
 * out-of-order queue limit, the depth and memory limits, truncated packets.
 * The overlap cases are suricata-verify's eve-payload-01/02/04 shapes: GOOD
 * then EVIL at the same sequence numbers, then the ACK; test.yaml expects
 * "GOOD" under the first-wins policy and "EVIL" under last-wins (oldlinux).
 */
#include "engine_util.h"

static const int data_evs[] = {MBX_EV_TCP_DATA, MBX_EV_TCP_GAP, MBX_EV_TCP_REXMIT, MBX_EV_TCP_CLOSE,
                               -1};

static mbx_engine *setup(struct tconn *c, struct evlog *l, struct mbx_config *cfg)
{
    mbx_engine *e = mbx_engine_new(cfg);
    assert_non_null(e);
    evlog_sub(e, l, data_evs);
    *c = (struct tconn){.e = e,
                        .cip = "192.168.1.1",
                        .sip = "192.168.1.2",
                        .cport = 5555,
                        .sport = 8080,
                        .ts = 10 * SEC};
    C2S(c, SYN, 100, 0, NULL);
    S2C(c, SYN | ACK, 300, 101, NULL);
    C2S(c, ACK, 101, 301, NULL);
    return e;
}

static struct mbx_config cfg_with(enum mbx_overlap_policy pol)
{
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    cfg.max_flows = 16;
    cfg.policy = pol;
    return cfg;
}

static void test_in_and_out_of_order(void **state)
{
    (void)state;
    for (int pol = 0; pol < 2; pol++) {
        struct tconn c;
        struct evlog l = {0};
        struct mbx_config cfg = cfg_with((enum mbx_overlap_policy)pol);
        mbx_engine *e = setup(&c, &l, &cfg);
        C2S(&c, ACK, 101, 301, "AAAA");
        C2S(&c, ACK, 109, 301, "CCCC"); /* out of order */
        C2S(&c, ACK, 105, 301, "BBBB"); /* fills the hole */
        S2C(&c, ACK, 301, 113, NULL);
        if (pol == MBX_POLICY_FIRST) /* delivered as soon as in order */
            assert_string_equal(l.text, "data c 0 AAAA;data c 4 BBBBCCCC;");
        else /* delivered when ACKed */
            assert_string_equal(l.text, "data c 0 AAAABBBBCCCC;");
        struct mbx_half_info h;
        mbx_flow_half(only_flow(e), MBX_CLIENT, &h);
        assert_int_equal(h.delivered, 12);
        assert_int_equal(h.gap_bytes, 0);
        mbx_engine_free(e);
    }
}

/* eve-payload-01 (first: GOOD) and eve-payload-02 (last/oldlinux: EVIL). */
static void test_exact_overlap(void **state)
{
    (void)state;
    const char *want[2] = {"data c 0 GOOD;rexmit c 1;", "rexmit c 1;data c 0 EVIL;"};
    for (int pol = 0; pol < 2; pol++) {
        struct tconn c;
        struct evlog l = {0};
        struct mbx_config cfg = cfg_with((enum mbx_overlap_policy)pol);
        mbx_engine *e = setup(&c, &l, &cfg);
        C2S(&c, ACK, 101, 301, "GOOD");
        C2S(&c, ACK, 101, 301, "EVIL");
        S2C(&c, ACK, 301, 105, NULL);
        assert_string_equal(l.text, want[pol]);
        assert_int_equal(e->stats.inconsistent_rexmits, 1);
        assert_int_equal(e->stats.rexmits, 1);
        mbx_engine_free(e);
    }
}

/* eve-payload-04 shape: a partial overlap starting one byte in. */
static void test_partial_overlap(void **state)
{
    (void)state;
    const char *want[2] = {"data c 0 GOOD;rexmit c 1;", "rexmit c 1;data c 0 GEVI;"};
    for (int pol = 0; pol < 2; pol++) {
        struct tconn c;
        struct evlog l = {0};
        struct mbx_config cfg = cfg_with((enum mbx_overlap_policy)pol);
        mbx_engine *e = setup(&c, &l, &cfg);
        C2S(&c, ACK, 101, 301, "GOOD");
        C2S(&c, ACK, 102, 301, "EVI");
        S2C(&c, ACK, 301, 105, NULL);
        assert_string_equal(l.text, want[pol]);
        mbx_engine_free(e);
    }
}

/* A retransmission with the same bytes is a rexmit, not inconsistent. */
static void test_consistent_rexmit(void **state)
{
    (void)state;
    struct tconn c;
    struct evlog l = {0};
    struct mbx_config cfg = cfg_with(MBX_POLICY_FIRST);
    mbx_engine *e = setup(&c, &l, &cfg);
    C2S(&c, ACK, 101, 301, "same");
    C2S(&c, ACK, 101, 301, "same");
    assert_string_equal(l.text, "data c 0 same;rexmit c 0;");
    assert_int_equal(e->stats.inconsistent_rexmits, 0);
    mbx_engine_free(e);
}

/* The peer ACKs past a hole: tcp.gap with its offset and length, then carry on
 * (Zeek's content-gap rule). */
static void test_gap_acked(void **state)
{
    (void)state;
    struct tconn c;
    struct evlog l = {0};
    struct mbx_config cfg = cfg_with(MBX_POLICY_FIRST);
    mbx_engine *e = setup(&c, &l, &cfg);
    C2S(&c, ACK, 101, 301, "AAAA");
    C2S(&c, ACK, 109, 301, "CCCC"); /* 105..108 never captured */
    assert_string_equal(l.text, "data c 0 AAAA;");
    S2C(&c, ACK, 301, 113, NULL);
    assert_string_equal(l.text, "data c 0 AAAA;gap c 4 4 loss;data c 8 CCCC;");
    struct mbx_half_info h;
    mbx_flow_half(only_flow(e), MBX_CLIENT, &h);
    assert_int_equal(h.gap_bytes, 4);
    assert_int_equal(e->stats.gaps, 1);
    assert_int_equal(e->stats.gap_bytes, 4);
    mbx_engine_free(e);
}

/* Zeek miss_end_data.pcap's shape: the server's data is missing, its FIN is at
 * 1 + 2902, the client ACKs the FIN: a 2,902-byte gap (conn.log missed_bytes). */
static void test_gap_before_fin(void **state)
{
    (void)state;
    struct tconn c;
    struct evlog l = {0};
    struct mbx_config cfg = cfg_with(MBX_POLICY_FIRST);
    mbx_engine *e = setup(&c, &l, &cfg);
    C2S(&c, ACK | PSH, 101, 301, "GET");
    S2C(&c, ACK, 301, 104, NULL);
    S2C(&c, FIN | ACK, 301 + 2902, 104, NULL);
    C2S(&c, ACK, 104, 301 + 2903, NULL);
    C2S(&c, FIN | ACK, 104, 301 + 2903, NULL);
    S2C(&c, ACK, 301 + 2903, 105, NULL);
    assert_string_equal(l.text, "data c 0 GET;gap s 0 2902 loss;tcp.close fin;");
    mbx_engine_free(e);
}

/* suricata-verify tcp-rst-unacked-stream: data the peer never ACKed is still
 * delivered when a reset ends the connection, with no gap (both policies). */
static void test_rst_delivers_unacked(void **state)
{
    (void)state;
    for (int pol = 0; pol < 2; pol++) {
        struct tconn c;
        struct evlog l = {0};
        struct mbx_config cfg = cfg_with((enum mbx_overlap_policy)pol);
        mbx_engine *e = setup(&c, &l, &cfg);
        C2S(&c, ACK | PSH, 101, 301, "DATA");
        S2C(&c, RST | ACK, 301, 101, NULL);
        assert_string_equal(l.text, "data c 0 DATA;tcp.close rst;");
        assert_int_equal(e->stats.gaps, 0);
        mbx_engine_free(e);
    }
}

/* ooo_max_segs = 2: a third separate out-of-order segment is dropped, counted,
 * and reported as an OOO_FULL gap when the stream reaches it. */
static void test_ooo_limit(void **state)
{
    (void)state;
    struct tconn c;
    struct evlog l = {0};
    struct mbx_config cfg = cfg_with(MBX_POLICY_FIRST);
    cfg.ooo_max_segs = 2;
    mbx_engine *e = setup(&c, &l, &cfg);
    S2C(&c, ACK, 301, 101, NULL); /* the server is seen: holes may still be filled */
    C2S(&c, ACK, 101, 301, "A");
    C2S(&c, ACK, 103, 301, "C");
    C2S(&c, ACK, 105, 301, "E");
    C2S(&c, ACK, 107, 301, "G"); /* third queued interval: dropped */
    assert_int_equal(e->stats.ooo_dropped, 1);
    C2S(&c, ACK, 102, 301, "B");
    C2S(&c, ACK, 104, 301, "D");
    C2S(&c, ACK, 106, 301, "F");
    assert_string_equal(l.text, "data c 0 A;data c 1 BC;data c 3 DE;data c 5 F;"
                                "gap c 6 1 ooo_full;");
    C2S(&c, ACK, 108, 301, "H");
    assert_string_equal(l.text, "data c 0 A;data c 1 BC;data c 3 DE;data c 5 F;"
                                "gap c 6 1 ooo_full;data c 7 H;");
    struct mbx_half_info h;
    mbx_flow_half(only_flow(e), MBX_CLIENT, &h);
    assert_int_equal(h.gap_bytes, 1);
    assert_int_equal(h.delivered, 7);
    mbx_engine_free(e);
}

/* stream_depth = 4: 4 bytes delivered, every later byte counted once as DEPTH. */
static void test_depth(void **state)
{
    (void)state;
    struct tconn c;
    struct evlog l = {0};
    struct mbx_config cfg = cfg_with(MBX_POLICY_FIRST);
    cfg.stream_depth = 4;
    mbx_engine *e = setup(&c, &l, &cfg);
    C2S(&c, ACK, 101, 301, "ABCDEF");
    C2S(&c, ACK, 101, 301, "ABCDEF"); /* retransmission: not counted twice */
    C2S(&c, ACK, 107, 301, "GH");
    assert_string_equal(l.text, "gap c 4 2 depth;data c 0 ABCD;rexmit c 0;gap c 6 2 depth;");
    struct mbx_half_info h;
    mbx_flow_half(only_flow(e), MBX_CLIENT, &h);
    assert_int_equal(h.delivered, 4);
    assert_int_equal(h.depth_bytes, 4);
    assert_int_equal(e->stats.depth_bytes, 4);
    /* the two depth gaps above are limits, not losses (issue 2: gaps counts
     * bytes never seen only) */
    assert_int_equal(e->stats.depth_limits, 2);
    assert_int_equal(e->stats.gaps, 0);
    assert_int_equal(e->stats.gap_bytes, 0);
    mbx_engine_free(e);
}

struct memlog {
    uint64_t data, gap, gap_off, ngap;
    int reason;
};
static void mem_handler(const struct mbx_event *ev, void *udata)
{
    struct memlog *m = udata;
    if (ev->id == MBX_EV_TCP_DATA) {
        m->data += ev->len;
        mbx_stream *st = mbx_flow_stream(ev->flow, ev->side);
        const uint8_t *d;
        mbx_stream_consume(st, mbx_stream_peek(st, &d));
    } else {
        m->gap += ev->len;
        m->ngap++;
        m->gap_off = ev->offset;
        m->reason = (int)ev->gap_reason;
    }
}

/* stream_mem = 4096: one minimal buffer; the second 3000 bytes cannot be held
 * (3000 delivered bytes are kept for comparison): a MEMORY gap, counted. */
static void test_memory_limit(void **state)
{
    (void)state;
    struct mbx_config cfg = cfg_with(MBX_POLICY_FIRST);
    cfg.stream_mem = 4096;
    mbx_engine *e = mbx_engine_new(&cfg);
    struct memlog m = {0};
    mbx_subscribe(e, MBX_EV_TCP_DATA, mem_handler, &m, 0);
    mbx_subscribe(e, MBX_EV_TCP_GAP, mem_handler, &m, 0);
    struct tconn c = {.e = e, .cip = "1.1.1.1", .sip = "2.2.2.2", .cport = 1000, .sport = 80};
    static char big[3001];
    memset(big, 'x', 3000);
    C2S(&c, SYN, 0, 0, NULL);
    S2C(&c, SYN | ACK, 0, 1, NULL);
    C2S(&c, ACK, 1, 1, big);
    C2S(&c, ACK, 3001, 1, big);
    C2S(&c, ACK, 6001, 1, "z");
    assert_int_equal(m.data, 3000 + 0);
    assert_int_equal(m.gap, 3001);
    assert_int_equal(m.reason, MBX_GAP_MEMORY);
    assert_int_equal(e->stats.depth_bytes, 3001);
    assert_int_equal(e->stats.depth_limits, m.ngap); /* every MEMORY gap event */
    assert_true(m.ngap >= 1);
    assert_int_equal(e->stats.gaps, 0);
    mbx_engine_free(e);
}

/* A packet cut by the snap length: the captured bytes are delivered, the rest
 * is an immediate SNAPLEN gap (MBX_PKT_TRUNCATED). */
static void test_truncated(void **state)
{
    (void)state;
    struct tconn c;
    struct evlog l = {0};
    struct mbx_config cfg = cfg_with(MBX_POLICY_FIRST);
    mbx_engine *e = setup(&c, &l, &cfg);
    struct mbx_pkt p = tc_pkt(&c, 0, ACK, 101, 301, "ABCD", 4);
    p.pflags = MBX_PKT_TRUNCATED;
    p.ip_len = 40 + 10; /* 10 payload bytes were sent */
    mbx__engine_packet(e, &p);
    C2S(&c, ACK, 111, 301, "XY");
    assert_string_equal(l.text, "data c 0 ABCD;gap c 4 6 snaplen;data c 10 XY;");
    mbx_engine_free(e);
}

/* Read API: peek, peek_at an absolute offset, consume. */
static void test_read_api(void **state)
{
    (void)state;
    struct mbx_config cfg = cfg_with(MBX_POLICY_FIRST);
    mbx_engine *e = mbx_engine_new(&cfg);
    int sub =
        mbx_subscribe(e, MBX_EV_TCP_OPEN, evlog_handler, &(struct evlog){0}, MBX_SUB_READ_CLIENT);
    assert_true(sub >= 0);
    struct tconn c = {.e = e, .cip = "1.1.1.1", .sip = "2.2.2.2", .cport = 1000, .sport = 80};
    C2S(&c, SYN, 0, 0, NULL);
    S2C(&c, SYN | ACK, 0, 1, NULL);
    C2S(&c, ACK, 1, 1, "hello ");
    C2S(&c, ACK, 7, 1, "world");
    mbx_stream *st = mbx_flow_stream(only_flow(e), MBX_CLIENT);
    assert_non_null(st);
    assert_null(mbx_flow_stream(only_flow(e), MBX_SERVER)); /* nobody reads it */
    const uint8_t *d;
    assert_int_equal(mbx_stream_peek(st, &d), 11);
    assert_memory_equal(d, "hello world", 11);
    char buf[8];
    assert_int_equal(mbx_stream_peek_at(st, 6, buf, 8), 5);
    assert_memory_equal(buf, "world", 5);
    assert_int_equal(mbx_stream_peek_at(st, 11, buf, 8), 0); /* not yet */
    mbx_stream_consume(st, 6);
    assert_int_equal(mbx_stream_read_off(st), 6);
    assert_int_equal(mbx_stream_end_off(st), 11);
    assert_int_equal(mbx_stream_peek(st, &d), 5);
    assert_memory_equal(d, "world", 5);
    assert_int_equal(mbx_stream_peek_at(st, 0, buf, 5), 5); /* kept after consume */
    mbx_engine_free(e);
}

/* Sequence numbers wrap inside the stream: offsets keep counting (RFC 9293
 * 3.4: arithmetic modulo 2^32), out-of-order bytes across the wrap too. */
static void test_wrap(void **state)
{
    (void)state;
    struct mbx_config cfg = cfg_with(MBX_POLICY_FIRST);
    mbx_engine *e = mbx_engine_new(&cfg);
    struct evlog l = {0};
    evlog_sub(e, &l, data_evs);
    struct tconn c = {.e = e, .cip = "1.1.1.1", .sip = "2.2.2.2", .cport = 1000, .sport = 80};
    C2S(&c, SYN, 0xfffffff9u, 0, NULL);
    S2C(&c, SYN | ACK, 7, 0xfffffffau, NULL);
    C2S(&c, ACK, 0xfffffffau, 8, NULL);
    C2S(&c, ACK, 0xfffffffau, 8, "012345");
    C2S(&c, ACK, 0x00000004u, 8, "abcd"); /* offset 10, past the wrap: queued */
    C2S(&c, ACK, 0x00000000u, 8, "6789"); /* offset 6, fills the hole */
    assert_string_equal(l.text, "data c 0 012345;data c 6 6789abcd;");
    mbx_engine_free(e);
}

/* At the end of input, queued bytes are delivered and the holes before them
 * reported (LOSS), so nothing is lost silently. */
static void test_flush_at_end(void **state)
{
    (void)state;
    struct tconn c;
    struct evlog l = {0};
    struct mbx_config cfg = cfg_with(MBX_POLICY_FIRST);
    mbx_engine *e = setup(&c, &l, &cfg);
    static const int more[] = {MBX_EV_TCP_TIMEOUT, -1};
    evlog_sub(e, &l, more);
    C2S(&c, ACK, 101, 301, "AB");
    C2S(&c, ACK, 105, 301, "EF");
    C2S(&c, ACK, 109, 301, "IJ");
    mbx_engine_finish(e);
    assert_string_equal(l.text, "data c 0 AB;gap c 2 2 loss;data c 4 EF;gap c 6 2 loss;"
                                "data c 8 IJ;tcp.timeout eof;");
    assert_int_equal(e->stats.gap_bytes, 4);
    mbx_engine_free(e);
}

/* A burst queued behind a hole grows the buffer; once delivered and read,
 * the buffer shrinks back, so idle streams do not pin stream_mem. */
static void test_buffer_shrinks(void **state)
{
    (void)state;
    struct mbx_config cfg = cfg_with(MBX_POLICY_FIRST);
    mbx_engine *e = mbx_engine_new(&cfg);
    struct memlog m = {0};
    mbx_subscribe(e, MBX_EV_TCP_DATA, mem_handler, &m, 0);
    struct tconn c = {.e = e, .cip = "1.1.1.1", .sip = "2.2.2.2", .cport = 1000, .sport = 80};
    static char seg[1001];
    memset(seg, 'y', 1000);
    C2S(&c, SYN, 0, 0, NULL);
    S2C(&c, SYN | ACK, 0, 1, NULL);
    for (uint32_t i = 1; i < 200; i++) /* 199 KB queued behind a 1000-byte hole */
        C2S(&c, ACK, 1 + i * 1000, 1, seg);
    uint64_t peak = e->mem_used;
    assert_true(peak >= 199000);
    C2S(&c, ACK, 1, 1, seg); /* the hole: all 200 KB delivered */
    assert_int_equal(m.data, 200000);
    C2S(&c, ACK, 200001, 1, seg);
    assert_true(e->mem_used <= 64 * 1024);
    assert_int_equal(m.data, 201000);
    mbx_engine_free(e);
}

/* RUNTIME.md order rule "close after the last data", under last-wins where
 * bytes wait for their ACK: each side's bytes are delivered when the other
 * side acknowledges them, the client's only with the server's FIN/ACK, and
 * tcp.close comes after both. */
static void test_close_after_data_last(void **state)
{
    (void)state;
    struct tconn c;
    struct evlog l = {0};
    struct mbx_config cfg = cfg_with(MBX_POLICY_LAST);
    mbx_engine *e = setup(&c, &l, &cfg);
    C2S(&c, ACK | PSH, 101, 301, "DATA");
    S2C(&c, ACK | PSH, 301, 101, "resp"); /* acks nothing new: DATA is held */
    assert_string_equal(l.text, "");
    C2S(&c, FIN | ACK, 105, 305, NULL); /* releases the server's "resp" */
    S2C(&c, FIN | ACK, 305, 106, NULL); /* acks DATA and the FIN */
    C2S(&c, ACK, 106, 306, NULL);
    assert_string_equal(l.text, "data s 0 resp;data c 0 DATA;tcp.close fin;");
    mbx_engine_free(e);
}

/* Issue 2 (memory per connection): a side that sent no payload byte has no
 * stream state, even when tcp.data is subscribed: the handshake and a close
 * without data leave the flow's stream entries untouched (all zero, as
 * calloc'd), and the first byte of a side opens its stream at offset 0. */
static void test_stream_state_at_first_byte(void **state)
{
    (void)state;
    struct tconn c;
    struct evlog l = {0};
    struct mbx_config cfg = cfg_with(MBX_POLICY_FIRST);
    mbx_engine *e = setup(&c, &l, &cfg);
    static const struct mbx_stream zero;
    struct mbx_flow *f = &e->flows[0];
    assert_true(f->fflags & F_LIVE);
    assert_false(f->fflags & (F_STREAM0 | F_STREAM1));
    assert_memory_equal(&e->streams[0], &zero, sizeof(zero));
    assert_memory_equal(&e->streams[1], &zero, sizeof(zero));
    S2C(&c, ACK | PSH, 301, 101, "220 ok");
    assert_true(f->fflags & F_STREAM1);
    assert_false(f->fflags & F_STREAM0);
    assert_memory_equal(&e->streams[0], &zero, sizeof(zero));
    C2S(&c, FIN | ACK, 101, 307, NULL);
    S2C(&c, FIN | ACK, 307, 102, NULL);
    C2S(&c, ACK, 102, 308, NULL);
    assert_false(f->fflags & F_STREAM0); /* the client's FIN carried no byte */
    assert_memory_equal(&e->streams[0], &zero, sizeof(zero));
    assert_string_equal(l.text, "data s 0 220 ok;tcp.close fin;");
    mbx_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_and_out_of_order),
        cmocka_unit_test(test_exact_overlap),
        cmocka_unit_test(test_partial_overlap),
        cmocka_unit_test(test_consistent_rexmit),
        cmocka_unit_test(test_gap_acked),
        cmocka_unit_test(test_gap_before_fin),
        cmocka_unit_test(test_rst_delivers_unacked),
        cmocka_unit_test(test_ooo_limit),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_read_api),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_flush_at_end),
        cmocka_unit_test(test_buffer_shrinks),
        cmocka_unit_test(test_close_after_data_last),
        cmocka_unit_test(test_stream_state_at_first_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
