/*
 * test_engine.c - the engine end to end on real captures (source -> decode ->
 * flows -> TCP -> streams -> events) and through mbx_engine_input bursts:
 * peers' cases with their documented expectations, event order inside one
 * burst, source errors, statistics.
 */
#include "engine_util.h"

#define SV MBX_SHARED_DIR "/corpora/suricata-verify/"
#define ZT MBX_SHARED_DIR "/corpora/zeek/Traces/tcp/"

struct run {
    char text[2][65536]; /* bytes delivered per side (gaps as '?') */
    size_t len[2];
    int inconsistent[2];
    uint64_t gap[2];
    char events[4096];
};

static void app(struct run *r, int side, const uint8_t *d, size_t n, int fill)
{
    for (size_t i = 0; i < n && r->len[side] < sizeof(r->text[side]) - 1; i++)
        r->text[side][r->len[side]++] = d ? (char)d[i] : (char)fill;
}

static void h_run(const struct mbx_event *ev, void *u)
{
    struct run *r = u;
    const char *name = mbx_event_name(ev->engine, ev->id);
    if (strlen(r->events) + strlen(name) + 2 < sizeof(r->events)) {
        strcat(r->events, name);
        strcat(r->events, ";");
    }
    if (ev->id == MBX_EV_TCP_DATA) {
        mbx_stream *st = mbx_flow_stream(ev->flow, ev->side);
        const uint8_t *d;
        size_t n = mbx_stream_new_bytes(st, &d);
        assert_int_equal(n, ev->len);
        app(r, ev->side, d, n, 0);
        mbx_stream_consume(st, mbx_stream_peek(st, &d));
    } else if (ev->id == MBX_EV_TCP_GAP) {
        r->gap[ev->side] += ev->len;
        app(r, ev->side, NULL, ev->len < 64 ? ev->len : 64, '?');
    } else if (ev->id == MBX_EV_TCP_REXMIT && ev->inconsistent) {
        r->inconsistent[ev->side]++;
    }
}

static int run_file(const char *path, enum mbx_overlap_policy pol, struct run *r,
                    struct mbx_stats *st)
{
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    cfg.max_flows = 1024;
    cfg.policy = pol;
    mbx_engine *e = mbx_engine_new(&cfg);
    assert_non_null(e);
    memset(r, 0, sizeof(*r));
    static const int evs[] = {MBX_EV_TCP_SYN,    MBX_EV_TCP_OPEN,   MBX_EV_TCP_DATA,
                              MBX_EV_TCP_GAP,    MBX_EV_TCP_REXMIT, MBX_EV_TCP_CLOSE,
                              MBX_EV_TCP_TIMEOUT};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        assert_true(mbx_subscribe(e, evs[i], h_run, r, 0) >= 0);
    char err[256];
    struct mbx_source *src = mbx_source_open_file(path, err, sizeof(err));
    if (!src)
        fail_msg("%s: %s", path, err);
    int rc = mbx_engine_run(e, src);
    mbx_source_close(src);
    if (st)
        mbx_engine_stats(e, st);
    mbx_engine_free(e);
    return rc;
}

/* suricata-verify eve-payload-01/-02 (test.yaml: first-wins payload "GOOD",
 * oldlinux/last-wins "EVIL"), eve-payload-04 (partial overlap: "GOOD" first). */
static void test_suricata_overlaps(void **state)
{
    (void)state;
    struct run *r = malloc(sizeof(*r));
    assert_int_equal(
        run_file(SV "eve-payload-01-tcp-exact-overlap/tcp-overlap.pcap", MBX_POLICY_FIRST, r, NULL),
        0);
    assert_string_equal(r->text[MBX_CLIENT], "GOOD");
    assert_int_equal(r->inconsistent[MBX_CLIENT], 1);
    assert_int_equal(run_file(SV
                              "eve-payload-02-tcp-exact-overlap-policy-oldlinux/tcp-overlap.pcap",
                              MBX_POLICY_LAST, r, NULL),
                     0);
    assert_string_equal(r->text[MBX_CLIENT], "EVIL");
    assert_int_equal(
        run_file(SV "eve-payload-04-partial-overlap/tcp-overlap2.pcap", MBX_POLICY_FIRST, r, NULL),
        0);
    assert_string_equal(r->text[MBX_CLIENT], "GOOD");
    free(r);
}

/* Zeek core.tcp.quantum-insert: exactly one rexmit_inconsistency, on the
 * server's side, t1 the injected "HTTP/1.1 200 OK...BANG!" (first-wins keeps it). */
static void test_zeek_quantum_insert(void **state)
{
    (void)state;
    struct run *r = malloc(sizeof(*r));
    assert_int_equal(run_file(ZT "qi_internet_SYNACK_curl_jsonip.pcap", MBX_POLICY_FIRST, r, NULL),
                     0);
    assert_int_equal(r->inconsistent[MBX_SERVER], 1);
    assert_int_equal(r->inconsistent[MBX_CLIENT], 0);
    assert_true(
        !strncmp(r->text[MBX_SERVER], "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nBANG!", 43));
    free(r);
}

/* Zeek core.tcp.miss-end-data conn.log: missed_bytes 2902, resp_bytes 2902,
 * orig_bytes 538, conn_state SF (closed by FIN both ways). */
static void test_zeek_miss_end_data(void **state)
{
    (void)state;
    struct run *r = malloc(sizeof(*r));
    struct mbx_stats st;
    assert_int_equal(run_file(ZT "miss_end_data.pcap", MBX_POLICY_FIRST, r, &st), 0);
    assert_int_equal(r->gap[MBX_SERVER], 2902);
    assert_int_equal(r->len[MBX_CLIENT], 538);
    assert_int_equal(st.gap_bytes, 2902);
    assert_int_equal(st.gaps, 1);
    assert_non_null(strstr(r->events, "tcp.gap;tcp.close;"));
    assert_null(strstr(r->events, "tcp.timeout"));
    free(r);
}

struct sums {
    uint64_t data[2], gap[2];
    int closes;
};
static void h_sums(const struct mbx_event *ev, void *u)
{
    struct sums *m = u;
    if (mbx_flow_port(ev->flow, MBX_SERVER) != 37150)
        return; /* the FTP data connection */
    if (ev->id == MBX_EV_TCP_DATA)
        m->data[ev->side] += ev->len;
    else if (ev->id == MBX_EV_TCP_GAP)
        m->gap[ev->side] += ev->len;
    else if (ev->id == MBX_EV_TCP_CLOSE && mbx_flow_end(ev->flow) == MBX_END_FIN)
        m->closes++;
}

/* Zeek core.tcp.large-file-reassembly (ftp/bigtransfer.pcap, cut on purpose,
 * sequence jumps of up to 1.7 GB and a wrap): conn.log says resp_bytes
 * 5416666670 and conn_state SF; every one of those bytes is delivered or
 * reported as a gap, and the connection closes with FIN. */
static void test_zeek_bigtransfer(void **state)
{
    (void)state;
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    cfg.max_flows = 64;
    mbx_engine *e = mbx_engine_new(&cfg);
    struct sums m = {{0}, {0}, 0};
    mbx_subscribe(e, MBX_EV_TCP_DATA, h_sums, &m, 0);
    mbx_subscribe(e, MBX_EV_TCP_GAP, h_sums, &m, 0);
    mbx_subscribe(e, MBX_EV_TCP_CLOSE, h_sums, &m, 0);
    char err[256];
    struct mbx_source *src = mbx_source_open_file(
        MBX_SHARED_DIR "/corpora/zeek/Traces/ftp/bigtransfer.pcap", err, sizeof(err));
    assert_non_null(src);
    assert_int_equal(mbx_engine_run(e, src), 0);
    mbx_source_close(src);
    assert_int_equal(m.data[MBX_SERVER] + m.gap[MBX_SERVER], 5416666670ull);
    assert_int_equal(m.data[MBX_CLIENT] + m.gap[MBX_CLIENT], 0);
    assert_int_equal(m.closes, 1);
    mbx_engine_free(e);
}

/* Build Ethernet/IPv4/TCP frames for one connection and feed them in ONE burst:
 * every event is there, in order (mOS loses events when a flow opens and
 * closes in one batch). */
static size_t frame(uint8_t *b, int from_server, uint8_t flags, uint32_t seq, uint32_t ack,
                    const char *data)
{
    size_t n = data ? strlen(data) : 0;
    memset(b, 0, 54);
    b[12] = 0x08; /* IPv4 */
    uint8_t *ip = b + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((40 + n) >> 8);
    ip[3] = (uint8_t)(40 + n);
    ip[8] = 64;
    ip[9] = 6;
    uint8_t a[4] = {10, 0, 0, 1}, z[4] = {10, 0, 0, 2};
    memcpy(ip + 12, from_server ? z : a, 4);
    memcpy(ip + 16, from_server ? a : z, 4);
    uint8_t *t = ip + 20;
    uint16_t sp = from_server ? 80 : 33333, dp = from_server ? 33333 : 80;
    t[0] = (uint8_t)(sp >> 8), t[1] = (uint8_t)sp, t[2] = (uint8_t)(dp >> 8), t[3] = (uint8_t)dp;
    for (int i = 0; i < 4; i++) {
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    t[12] = 0x50;
    t[13] = flags;
    t[14] = 0xff, t[15] = 0xff;
    memcpy(t + 20, data ? data : "", n);
    return 54 + n;
}

static void test_one_burst(void **state)
{
    (void)state;
    static uint8_t buf[8][128];
    struct mbx_frame f[8];
    bool fwd[8];
    int n = 0;
    struct {
        int srv;
        uint8_t fl;
        uint32_t s, a;
        const char *d;
    } seq[] = {{0, SYN, 100, 0, NULL},         {1, SYN | ACK, 300, 101, NULL},
               {0, ACK, 101, 301, "req"},      {1, ACK | PSH, 301, 104, "resp"},
               {0, FIN | ACK, 104, 305, NULL}, {1, FIN | ACK, 305, 105, NULL},
               {0, ACK, 105, 306, NULL}};
    for (; n < 7; n++) {
        size_t len = frame(buf[n], seq[n].srv, seq[n].fl, seq[n].s, seq[n].a, seq[n].d);
        f[n] = (struct mbx_frame){.data = buf[n],
                                  .caplen = (uint32_t)len,
                                  .wirelen = (uint32_t)len,
                                  .ts = (mbx_time)(n + 1) * MS,
                                  .linktype = MBX_LINK_ETHERNET};
    }
    /* and one garbage frame */
    memset(buf[7], 0xee, 20);
    f[7] = (struct mbx_frame){
        .data = buf[7], .caplen = 20, .wirelen = 20, .ts = 9 * MS, .linktype = MBX_LINK_ETHERNET};
    mbx_engine *e = engine_with(MBX_POLICY_FIRST);
    struct evlog l = {0};
    static const int evs[] = {MBX_EV_TCP_SYN, MBX_EV_TCP_OPEN, MBX_EV_TCP_DATA, MBX_EV_TCP_CLOSE,
                              -1};
    evlog_sub(e, &l, evs);
    assert_int_equal(mbx_engine_input(e, f, fwd, 8), 8);
    for (int i = 0; i < 8; i++)
        assert_true(fwd[i]);
    /* RUNTIME.md order: state change (open) before data, close after the last data. */
    assert_string_equal(l.text, "tcp.syn c;tcp.open c;data c 0 req;data s 0 resp;tcp.close fin;");
    struct mbx_stats st;
    mbx_engine_stats(e, &st);
    assert_int_equal(st.packets, 8);
    assert_int_equal(st.decoded, 7);
    assert_int_equal(st.decode_errors, 1);
    assert_int_equal(st.tcp_flows, 1);
    mbx_engine_free(e);
}

/* A capture cut in the middle of a record: everything before it is processed,
 * the flows are finished, and mbx_engine_run returns the source's error. */
static void test_source_error(void **state)
{
    (void)state;
    const char *in = ZT "miss_end_data.pcap", *out = "test_engine_truncated.pcap";
    FILE *fi = fopen(in, "rb"), *fo = fopen(out, "wb");
    assert_non_null(fi);
    assert_non_null(fo);
    static uint8_t b[1 << 16];
    size_t n = fread(b, 1, sizeof(b), fi);
    fclose(fi);
    assert_true(n > 600);
    fwrite(b, 1, 600, fo); /* a few whole records, then half of one */
    fclose(fo);
    struct run *r = malloc(sizeof(*r));
    int rc = run_file(out, MBX_POLICY_FIRST, r, NULL);
    assert_true(rc < 0);
    assert_non_null(strstr(r->events, "tcp.syn;"));
    assert_non_null(strstr(r->events, "tcp.timeout;")); /* finished at the end */
    remove(out);
    free(r);
}

static void test_config(void **state)
{
    (void)state;
    struct mbx_config c;
    mbx_config_default(&c);
    assert_int_equal(c.max_flows, 1000000);
    assert_int_equal(c.ooo_max_segs, 1024);
    c.policy = (enum mbx_overlap_policy)7;
    assert_null(mbx_engine_new(&c)); /* refused, not crashed */
    mbx_engine *e = mbx_engine_new(NULL);
    assert_non_null(e);
    assert_int_equal(mbx_flow_ext_register(e, 0), -EINVAL);
    int slot = mbx_flow_ext_register(e, 24);
    assert_int_equal(slot, 0);
    assert_int_equal(mbx_flow_ext_register(e, 8), 32);
    mbx_engine_free(e);
}

/* Zero copy (stream.c): frames of a mapped pcap file are delivered in place;
 * the same frames copied into a transient buffer per packet (as libpcap hands
 * them over) go through the buffer.  The two paths must agree on every event:
 * bytes delivered, what a reader that consumes only part of them sees later,
 * peek_at of bytes already read (held in place or in the buffer), gaps and
 * inconsistent retransmissions (compared with bytes held in place).  The
 * copy path is the reference; the captures are peers' cases with
 * retransmissions, overlaps, loss and port reuse. */
struct zc_log {
    uint64_t hash;     /* FNV-1a over everything observed */
    uint64_t events;   /* events seen */
    uint64_t in_place; /* tcp.data whose bytes were read in the mapped file */
};

static void zc_mix(struct zc_log *l, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        l->hash = (l->hash ^ b[i]) * 0x100000001b3ull;
}

static void h_zc(const struct mbx_event *ev, void *u)
{
    struct zc_log *l = u;
    l->events++;
    uint64_t hdr[5] = {(uint64_t)ev->id, mbx_flow_id(ev->flow), (uint64_t)ev->side, ev->offset,
                       ev->len};
    zc_mix(l, hdr, sizeof(hdr));
    if (ev->id == MBX_EV_TCP_REXMIT) {
        zc_mix(l, &ev->inconsistent, sizeof(ev->inconsistent));
        return;
    }
    if (ev->id != MBX_EV_TCP_DATA)
        return;
    mbx_stream *st = mbx_flow_stream(ev->flow, ev->side);
    const uint8_t *d;
    size_t n = mbx_stream_new_bytes(st, &d);
    assert_int_equal(n, ev->len);
    zc_mix(l, d, n);
    l->in_place += n && pcapf_persists(d);
    size_t unread = mbx_stream_peek(st, &d);
    zc_mix(l, d, unread);
    uint8_t back[300];
    uint64_t from = ev->offset > 200 ? ev->offset - 200 : 0;
    size_t got = mbx_stream_peek_at(st, from, back, sizeof(back));
    zc_mix(l, &got, sizeof(got));
    zc_mix(l, back, got);
    mbx_stream_consume(st, unread - unread / 3); /* leave a third for later */
}

static struct zc_log zc_run(const char *path, bool copy)
{
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    cfg.max_flows = 256;
    mbx_engine *e = mbx_engine_new(&cfg);
    struct zc_log l = {0xcbf29ce484222325ull, 0, 0};
    mbx_subscribe(e, MBX_EV_TCP_DATA, h_zc, &l, 0);
    mbx_subscribe(e, MBX_EV_TCP_GAP, h_zc, &l, 0);
    mbx_subscribe(e, MBX_EV_TCP_REXMIT, h_zc, &l, 0);
    mbx_subscribe(e, MBX_EV_TCP_CLOSE, h_zc, &l, 0);
    mbx_subscribe(e, MBX_EV_TCP_TIMEOUT, h_zc, &l, 0);
    char err[256];
    struct mbx_source *src = mbx_source_open_file(path, err, sizeof(err));
    assert_non_null(src);
    struct mbx_frame fr[32];
    bool fwd[32];
    static uint8_t tmp[65536 + 64];
    int n;
    while ((n = mbx_source_next(src, fr, 32)) > 0) {
        for (int i = 0; i < n; i++) {
            if (!copy) {
                mbx_engine_input(e, &fr[i], &fwd[i], 1);
                continue;
            }
            struct mbx_frame c = fr[i];
            assert_true(c.caplen <= sizeof(tmp));
            memcpy(tmp, c.data, c.caplen);
            c.data = tmp;
            mbx_engine_input(e, &c, &fwd[i], 1);
            memset(tmp, 0xa5, c.caplen); /* the frame is gone */
        }
        mbx_source_done(src, fr, fwd, n);
    }
    mbx_engine_finish(e);
    mbx_source_close(src);
    mbx_engine_free(e);
    return l;
}

static void test_zero_copy_same_events(void **state)
{
    (void)state;
    static const char *const caps[] = {
        ZT "qi_internet_SYNACK_curl_jsonip.pcap", /* quantum insert: inconsistent rexmit */
        ZT "miss_end_data.pcap",                  /* a 2,902-byte gap */
        ZT "rst-inject-rae.pcap",
        ZT "ssh-dups.pcap",
        ZT "reassembly.pcap",
        SV "eve-payload-04-partial-overlap/tcp-overlap2.pcap", /* overlaps */
        MBX_SOURCE_DIR "/tests/data/reuse_lossy.pcap",
        MBX_SOURCE_DIR "/tests/data/defrag_v6.pcap", /* a segment rebuilt from fragments */
    };
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        struct zc_log a = zc_run(caps[i], false), b = zc_run(caps[i], true);
        if (a.hash != b.hash || a.events != b.events)
            fail_msg("%s: zero copy %llu events %016llx, copy %llu events %016llx", caps[i],
                     (unsigned long long)a.events, (unsigned long long)a.hash,
                     (unsigned long long)b.events, (unsigned long long)b.hash);
        assert_true(a.events > 0);
        assert_true(a.in_place > 0);     /* the zero-copy path ran */
        assert_int_equal(b.in_place, 0); /* the copy path did not */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suricata_overlaps),     cmocka_unit_test(test_zeek_quantum_insert),
        cmocka_unit_test(test_zeek_miss_end_data),    cmocka_unit_test(test_zeek_bigtransfer),
        cmocka_unit_test(test_zero_copy_same_events), cmocka_unit_test(test_one_burst),
        cmocka_unit_test(test_source_error),          cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
