/*
 * test_workers.c - what lets several engines share one input (mbx.h section 4,
 * "Workers"): the symmetric address hash that places a frame (mbx_worker_of),
 * engines that keep only their share while their clock follows every frame,
 * flow ids unique across workers, statistics that add up (mbx_stats_add), and
 * worker writers (mbx_out_worker) whose lines never tear or interleave, even
 * for records longer than a writer's buffer.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mbx.h"

#define SEC 1000000000ull

/* ---------------------------------------------------------------- frames */

/* An Ethernet + IPv4 + TCP frame (20-byte headers, no payload) into buf. */
static uint32_t frame_tcp(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp,
                          uint8_t flags, uint32_t seq)
{
    memset(buf, 0, 54);
    buf[12] = 0x08; /* IPv4 */
    uint8_t *ip = buf + 14;
    ip[0] = 0x45;
    ip[3] = 40; /* total length */
    ip[8] = 64;
    ip[9] = 6;
    for (int i = 0; i < 4; i++) {
        ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
        ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    uint8_t *t = ip + 20;
    t[0] = (uint8_t)(sp >> 8);
    t[1] = (uint8_t)sp;
    t[2] = (uint8_t)(dp >> 8);
    t[3] = (uint8_t)dp;
    for (int i = 0; i < 4; i++)
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
    t[12] = 5 << 4;
    t[13] = flags;
    t[14] = 0xff;
    t[15] = 0xff;
    return 54;
}

/* An ARP frame (not IP). */
static uint32_t frame_arp(uint8_t *buf)
{
    memset(buf, 0, 42);
    buf[12] = 0x08;
    buf[13] = 0x06;
    return 42;
}

/* ---------------------------------------------------------------- the hash */

static void test_worker_of(void **state)
{
    (void)state;
    struct mbx_pkt p, q;
    int count[4] = {0, 0, 0, 0};
    for (uint32_t i = 0; i < 4000; i++) {
        memset(&p, 0, sizeof(p));
        char a[32], b[32];
        snprintf(a, sizeof(a), "10.%u.%u.1", i % 251, i / 251);
        snprintf(b, sizeof(b), "2001:db8::%x", i * 7 + 1);
        mbx_addr_parse(a, &p.src);
        mbx_addr_parse(i % 2 ? b : "192.0.2.1", &p.dst);
        p.sport = (uint16_t)i;
        q = p;
        q.src = p.dst;
        q.dst = p.src;
        q.sport = 80; /* ports do not matter */
        unsigned w = mbx_worker_of(MBX_DECODE_OK, &p, 4);
        assert_true(w < 4);
        assert_int_equal(w, mbx_worker_of(MBX_DECODE_OK, &q, 4));       /* symmetric */
        assert_int_equal(w, mbx_worker_of(MBX_DECODE_FRAGMENT, &p, 4)); /* fragments too */
        assert_int_equal(w, mbx_worker_of(MBX_DECODE_OTHER_L4, &q, 4));
        assert_int_equal(mbx_worker_of(MBX_DECODE_NOT_IP, &p, 4), 0);
        assert_int_equal(mbx_worker_of(MBX_DECODE_TRUNC_IP, &p, 4), 0);
        assert_int_equal(mbx_worker_of(MBX_DECODE_OK, &p, 1), 0);
        count[w]++;
    }
    for (int w = 0; w < 4; w++) /* spread: each worker gets a fair share */
        assert_true(count[w] > 800 && count[w] < 1200);
}

/* ---------------------------------------------------------------- engines */

struct seen {
    uint64_t ids[256];
    int n;
    mbx_time ticks[64];
    int nticks;
};

static void on_syn(const struct mbx_event *ev, void *udata)
{
    struct seen *s = udata;
    if (s->n < 256)
        s->ids[s->n++] = mbx_flow_id(ev->flow);
}

static void on_tick(mbx_engine *e, void *udata)
{
    struct seen *s = udata;
    if (s->nticks < 64)
        s->ticks[s->nticks++] = mbx_engine_now(e);
}

/* 120 SYNs between 40 address pairs over 12 s, and 6 ARP frames. */
static int make_frames(uint8_t (*buf)[64], struct mbx_frame *f)
{
    int n = 0;
    for (int i = 0; i < 126; i++) {
        uint32_t len;
        if (i % 21 == 20)
            len = frame_arp(buf[n]);
        else
            len =
                frame_tcp(buf[n], 0x0a000001u + (uint32_t)(i % 40), 0xc0a80001u + (uint32_t)(i % 7),
                          (uint16_t)(1000 + i), 80, 0x02, (uint32_t)i * 1000);
        f[n].data = buf[n];
        f[n].caplen = f[n].wirelen = len;
        f[n].ts = 1000 * SEC + (mbx_time)i * SEC / 10;
        f[n].linktype = MBX_LINK_ETHERNET;
        f[n].priv = NULL;
        n++;
    }
    return n;
}

static mbx_engine *worker_engine(unsigned w, unsigned n, struct seen *s)
{
    struct mbx_config c;
    mbx_config_default(&c);
    c.max_flows = 1024;
    c.worker = (uint16_t)w;
    c.nworkers = (uint16_t)n;
    mbx_engine *e = mbx_engine_new(&c);
    assert_non_null(e);
    assert_true(mbx_subscribe(e, MBX_EV_TCP_SYN, on_syn, s, 0) >= 0);
    assert_true(mbx_every(e, SEC, on_tick, s) >= 0);
    return e;
}

static void test_engines_share(void **state)
{
    (void)state;
    static uint8_t buf[128][64];
    struct mbx_frame f[128];
    bool fwd[128];
    int nf = make_frames(buf, f);
    static struct seen one, part[3];
    memset(&one, 0, sizeof(one));
    memset(part, 0, sizeof(part));
    mbx_engine *e1 = worker_engine(0, 1, &one);
    mbx_engine_input(e1, f, fwd, nf);
    mbx_engine_finish(e1);
    struct mbx_stats s1, sum, sk;
    mbx_engine_stats(e1, &s1);
    memset(&sum, 0, sizeof(sum));
    int total = 0;
    for (unsigned w = 0; w < 3; w++) {
        mbx_engine *e = worker_engine(w, 3, &part[w]);
        mbx_engine_input(e, f, fwd, nf);
        /* the clock follows every frame, not only the worker's own */
        assert_int_equal(mbx_engine_now(e), mbx_engine_now(e1));
        mbx_engine_finish(e);
        mbx_engine_stats(e, &sk);
        mbx_stats_add(&sum, &sk);
        if (w != 0) /* not IP: worker 0's */
            assert_int_equal(sk.decode_err[MBX_DECODE_NOT_IP], 0);
        assert_true(part[w].n > 0); /* every worker got a share */
        /* ids of worker w of 3: w + 1 + 3k, increasing */
        for (int i = 0; i < part[w].n; i++) {
            assert_int_equal((part[w].ids[i] - 1) % 3, w);
            if (i)
                assert_true(part[w].ids[i] > part[w].ids[i - 1]);
        }
        /* the same timer ticks at the same packet times */
        assert_int_equal(part[w].nticks, one.nticks);
        assert_memory_equal(part[w].ticks, one.ticks, sizeof(one.ticks[0]) * (size_t)one.nticks);
        total += part[w].n;
        mbx_engine_free(e);
    }
    assert_int_equal(total, one.n);
    /* the statistics add up to the single engine's */
    assert_memory_equal(&sum, &s1, sizeof(s1));
    assert_int_equal(s1.packets, (uint64_t)nf);
    assert_int_equal(s1.decode_err[MBX_DECODE_NOT_IP], 6);
    mbx_engine_free(e1);
}

static void test_bad_worker_config(void **state)
{
    (void)state;
    struct mbx_config c;
    mbx_config_default(&c);
    c.max_flows = 16;
    c.nworkers = 2;
    c.worker = 2;
    assert_null(mbx_engine_new(&c));
    c.nworkers = MBX_MAX_WORKERS + 1;
    c.worker = 0;
    assert_null(mbx_engine_new(&c));
    c.nworkers = 1;
    c.worker = 5; /* one worker: the index does not matter */
    mbx_engine *e = mbx_engine_new(&c);
    assert_non_null(e);
    mbx_engine_free(e);
}

static void test_stats_add(void **state)
{
    (void)state;
    struct mbx_stats a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.packets = 3;
    a.timer_ticks_skipped = 4;
    a.decode_err[MBX_DECODE_NOT_IP] = 1;
    b.packets = 5;
    b.timer_ticks_skipped = 4;
    b.decode_err[MBX_DECODE_NOT_IP] = 2;
    mbx_stats_add(&a, &b);
    assert_int_equal(a.packets, 8);
    assert_int_equal(a.timer_ticks_skipped, 4); /* the same timers: not summed */
    assert_int_equal(a.decode_err[MBX_DECODE_NOT_IP], 3);
}

/* ---------------------------------------------------------------- output */

#define NTHREADS 4
#define NRECS    3000

struct writer {
    struct mbx_out *o;
    int t;
};

/* Record i of thread t: {"timestamp":...,"event_type":"w","t":T,"i":I,"pad":"ccc"}, the pad
 * of (i * 37) % 700 bytes, and every 1000th one 300 KiB (longer than the buffer). */
static size_t pad_len(int i)
{
    return i % 1000 == 999 ? 300 * 1024 : (size_t)(i * 37) % 700;
}

static void *writer_run(void *arg)
{
    struct writer *w = arg;
    char *pad = malloc(300 * 1024);
    assert_non_null(pad);
    memset(pad, 'a' + w->t, 300 * 1024);
    for (int i = 0; i < NRECS; i++) {
        mbx_out_begin(w->o, SEC, "w", NULL);
        mbx_out_int(w->o, "t", w->t);
        mbx_out_int(w->o, "i", i);
        mbx_out_strn(w->o, "pad", pad, pad_len(i));
        mbx_out_end(w->o);
    }
    free(pad);
    return NULL;
}

static void test_worker_writers(void **state)
{
    (void)state;
    char path[] = "/tmp/mbx_test_workers_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[128];
    struct mbx_out *o = mbx_out_open(path, err, sizeof(err));
    assert_non_null(o);
    assert_null(mbx_out_worker(NULL));
    pthread_t tid[NTHREADS];
    struct writer w[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        w[t].o = mbx_out_worker(o);
        w[t].t = t;
        assert_non_null(w[t].o);
        assert_null(mbx_out_worker(w[t].o)); /* a worker writer has no workers */
        assert_int_equal(pthread_create(&tid[t], NULL, writer_run, &w[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(tid[t], NULL);
        mbx_out_close(w[t].o);
    }
    mbx_out_close(o);

    /* every line whole, each thread's records in its order */
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    int next[NTHREADS] = {0};
    size_t cap = 400 * 1024;
    char *line = malloc(cap);
    assert_non_null(line);
    int lines = 0;
    while (fgets(line, (int)cap, fp) != NULL) {
        size_t n = strlen(line);
        assert_true(n > 0 && line[n - 1] == '\n');
        int t = -1, i = -1, off = 0;
        const char *at = strstr(line, "\"t\":");
        assert_non_null(at);
        assert_int_equal(sscanf(at, "\"t\":%d,\"i\":%d,\"pad\":\"%n", &t, &i, &off), 2);
        assert_true(t >= 0 && t < NTHREADS && off > 0);
        assert_int_equal(i, next[t]);
        next[t]++;
        const char *p = at + off;
        size_t k = 0;
        while (p[k] == 'a' + t)
            k++;
        assert_int_equal(k, pad_len(i));
        assert_string_equal(p + k, "\"}\n");
        lines++;
    }
    assert_int_equal(lines, NTHREADS * NRECS);
    free(line);
    fclose(fp);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_of),         cmocka_unit_test(test_engines_share),
        cmocka_unit_test(test_bad_worker_config), cmocka_unit_test(test_stats_add),
        cmocka_unit_test(test_worker_writers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
