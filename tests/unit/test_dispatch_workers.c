/*
 * test_dispatch_workers.c - the dispatcher of workers (mbx.h section 4,
 * "Dispatcher"; dispatch_workers.c): its single-producer single-consumer byte
 * ring (records of any size up to half the ring, wrap-around with a pad
 * record, full and empty, batched publish and release, two threads passing a
 * million records in order), and the dispatcher itself: engines fed through
 * it see the same flows and the same timer ticks as one engine reading every
 * frame, and a live (lossy) dispatcher whose workers do not read counts its
 * drops and never blocks.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dispatch_workers.h"
#include "mbx.h"

#define SEC 1000000000ull

/* ---------------------------------------------------------------- the ring */

static void test_ring_basic(void **state)
{
    (void)state;
    assert_null(ring_new(48));  /* too small */
    assert_null(ring_new(100)); /* not a power of two */
    struct ring *r = ring_new(256);
    assert_non_null(r);
    assert_int_equal(ring_max_payload(r), 120);
    uint32_t type, len;
    assert_null(ring_peek(r, &type, &len)); /* empty */
    assert_null(ring_reserve(r, 1, 121));   /* over half the ring */
    assert_null(ring_reserve(r, RING_PAD, 4));
    char *p = ring_reserve(r, 7, 5);
    assert_non_null(p);
    memcpy(p, "hello", 5);
    assert_null(ring_peek(r, &type, &len)); /* not published yet */
    ring_publish(r);
    const char *q = ring_peek(r, &type, &len);
    assert_non_null(q);
    assert_int_equal(type, 7);
    assert_int_equal(len, 5);
    assert_memory_equal(q, "hello", 5);
    assert_ptr_equal(ring_peek(r, &type, &len), q); /* peeking again: the same record */
    ring_consume(r);
    assert_null(ring_peek(r, &type, &len));
    assert_non_null(ring_reserve(r, 2, 0)); /* an empty payload is a record too */
    ring_publish(r);
    assert_non_null(ring_peek(r, &type, &len));
    assert_int_equal(len, 0);
    assert_int_equal(type, 2);
    ring_consume(r);
    ring_release(r);
    ring_free(r);
    ring_free(NULL);
}

/* Full: records fill the ring exactly; consumed ones give their space back
 * only when released. */
static void test_ring_full(void **state)
{
    (void)state;
    struct ring *r = ring_new(256);
    int n = 0;
    while (ring_reserve(r, 1, 24) != NULL) /* 32 bytes a record */
        n++;
    assert_int_equal(n, 8);
    ring_publish(r);
    uint32_t type, len;
    assert_non_null(ring_peek(r, &type, &len));
    ring_consume(r);
    assert_null(ring_reserve(r, 1, 24)); /* consumed, not released */
    ring_release(r);
    assert_non_null(ring_reserve(r, 1, 24));
    assert_null(ring_reserve(r, 1, 0)); /* full again */
    ring_free(r);
}

/* Records of every size wrap around a small ring many times: each comes
 * back whole, in order, the pad records never seen. */
static void test_ring_wrap(void **state)
{
    (void)state;
    struct ring *r = ring_new(256);
    uint32_t max = ring_max_payload(r), seq = 0, got = 0;
    for (int round = 0; round < 5000; round++) {
        uint32_t size = (uint32_t)(round * 37) % (max + 1);
        uint8_t *p = ring_reserve(r, 1 + (uint32_t)round % 3, size);
        if (p == NULL) { /* full: read everything, then the record fits */
            ring_publish(r);
            uint32_t type, len;
            const uint8_t *q;
            while ((q = ring_peek(r, &type, &len)) != NULL) {
                assert_int_equal(type, 1 + got % 3);
                assert_int_equal(len, (got * 37) % (max + 1));
                for (uint32_t i = 0; i < len; i++)
                    assert_int_equal(q[i], (uint8_t)(got + i));
                ring_consume(r);
                got++;
            }
            ring_release(r);
            p = ring_reserve(r, 1 + (uint32_t)round % 3, size);
            assert_non_null(p);
        }
        for (uint32_t i = 0; i < size; i++)
            p[i] = (uint8_t)(seq + i);
        seq++;
    }
    assert_true(got > 1000);
    ring_free(r);
}

/* ---------------------------------------------------------------- two threads */

#define NREC 1000000u

static void *producer(void *arg)
{
    struct ring *r = arg;
    for (uint32_t i = 0; i < NREC; i++) {
        uint32_t size = 4 + (i * 13) % 61;
        uint8_t *p;
        while ((p = ring_reserve(r, 1, size)) == NULL) {
            ring_publish(r);
            sched_yield();
        }
        memcpy(p, &i, 4);
        for (uint32_t k = 4; k < size; k++)
            p[k] = (uint8_t)(i ^ k);
        if (i % 16 == 15)
            ring_publish(r);
    }
    ring_publish(r);
    return NULL;
}

static void test_ring_threads(void **state)
{
    (void)state;
    struct ring *r = ring_new(4096);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, producer, r), 0);
    uint32_t next = 0;
    while (next < NREC) {
        uint32_t type, len;
        const uint8_t *p = ring_peek(r, &type, &len);
        if (p == NULL) {
            ring_release(r);
            sched_yield();
            continue;
        }
        uint32_t i;
        memcpy(&i, p, 4);
        assert_int_equal(i, next);
        assert_int_equal(len, 4 + (i * 13) % 61);
        for (uint32_t k = 4; k < len; k++)
            if (p[k] != (uint8_t)(i ^ k))
                fail_msg("record %u byte %u", i, k);
        ring_consume(r);
        if (++next % 8 == 0)
            ring_release(r);
    }
    ring_release(r);
    pthread_join(t, NULL);
    uint32_t type, len;
    assert_null(ring_peek(r, &type, &len));
    ring_free(r);
}

/* ---------------------------------------------------------------- the dispatcher */

/* An Ethernet + IPv4 + TCP SYN (54 bytes). */
static uint32_t frame_syn(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sp, uint32_t seq)
{
    memset(buf, 0, 54);
    buf[12] = 0x08;
    uint8_t *ip = buf + 14;
    ip[0] = 0x45;
    ip[3] = 40;
    ip[8] = 64;
    ip[9] = 6;
    for (int i = 0; i < 4; i++) {
        ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
        ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    uint8_t *t = ip + 20;
    t[0] = (uint8_t)(sp >> 8);
    t[1] = (uint8_t)sp;
    t[3] = 80;
    for (int i = 0; i < 4; i++)
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
    t[12] = 5 << 4;
    t[13] = 0x02;
    t[14] = 0xff;
    t[15] = 0xff;
    return 54;
}

/* A classic pcap of 300 SYNs between 40 address pairs over 30 s (a pair
 * comes back every 4 s, so a worker's own frames are seconds apart) and ARP
 * frames; returns its path. */
static void write_capture(char *path)
{
    strcpy(path, "/tmp/mbx_dispatch_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "wb");
    uint32_t gh[6] = {0xa1b2c3d4u, 2 | (4u << 16), 0, 0, 65535, 1};
    fwrite(gh, sizeof(gh), 1, fp);
    for (uint32_t i = 0; i < 300; i++) {
        uint8_t buf[64];
        uint32_t len;
        if (i % 21 == 20) {
            memset(buf, 0, 42);
            buf[12] = 0x08;
            buf[13] = 0x06;
            len = 42;
        } else {
            len = frame_syn(buf, 0x0a000001u + i % 40, 0xc0a80001u + i % 7, (uint16_t)(1000 + i),
                            i * 1000);
        }
        uint32_t rh[4] = {1000 + i / 10, (i % 10) * 100000, len, len};
        fwrite(rh, sizeof(rh), 1, fp);
        fwrite(buf, len, 1, fp);
    }
    fclose(fp);
}

struct seen {
    uint64_t syns;
    mbx_time ticks[64];
    int nticks;
};

static void on_syn(const struct mbx_event *ev, void *udata)
{
    (void)ev;
    ((struct seen *)udata)->syns++;
}

static void on_tick(mbx_engine *e, void *udata)
{
    struct seen *s = udata;
    if (s->nticks < 64)
        s->ticks[s->nticks++] = mbx_engine_now(e);
}

static mbx_engine *engine(unsigned w, unsigned n, struct seen *s)
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

struct job {
    struct mbx_dispatch *d;
    unsigned w;
    mbx_engine *e;
    uint64_t frames;
};

static void *work(void *arg)
{
    struct job *j = arg;
    j->frames = mbx_dispatch_work(j->d, j->w, j->e);
    mbx_engine_finish(j->e);
    return NULL;
}

static void test_dispatch_same(void **state)
{
    (void)state;
    char path[64], err[256];
    write_capture(path);
    struct seen one;
    memset(&one, 0, sizeof(one));
    mbx_engine *e1 = engine(0, 1, &one);
    struct mbx_source *src = mbx_source_open_file(path, err, sizeof(err));
    assert_non_null(src);
    assert_int_equal(mbx_engine_run(e1, src), 0);
    mbx_source_close(src);
    struct mbx_stats s1;
    mbx_engine_stats(e1, &s1);
    assert_true(one.nticks >= 25);

    enum { N = 3 };
    /* a small ring: the dispatcher waits on full rings (lossless) */
    struct mbx_dispatch *d = mbx_dispatch_new(N, 1024, true);
    assert_non_null(d);
    static struct seen part[N];
    struct job jobs[N];
    pthread_t t[N];
    memset(part, 0, sizeof(part));
    for (unsigned w = 0; w < N; w++) {
        jobs[w] = (struct job){.d = d, .w = w, .e = engine(w, N, &part[w])};
        assert_int_equal(pthread_create(&t[w], NULL, work, &jobs[w]), 0);
    }
    src = mbx_source_open_file(path, err, sizeof(err));
    assert_int_equal(mbx_dispatch_run(d, src, NULL), 0);
    mbx_dispatch_end(d);
    mbx_dispatch_end(d); /* once is enough */
    struct mbx_stats sum, sk;
    memset(&sum, 0, sizeof(sum));
    uint64_t frames = 0, syns = 0;
    for (unsigned w = 0; w < N; w++) {
        pthread_join(t[w], NULL);
        frames += jobs[w].frames;
        syns += part[w].syns;
        assert_true(part[w].syns > 0);
        /* the same ticks at the same packet times: the time marks */
        assert_int_equal(part[w].nticks, one.nticks);
        assert_memory_equal(part[w].ticks, one.ticks, sizeof(one.ticks[0]) * (size_t)one.nticks);
        assert_int_equal(mbx_engine_now(jobs[w].e), mbx_engine_now(e1));
        mbx_engine_stats(jobs[w].e, &sk);
        mbx_stats_add(&sum, &sk);
        mbx_engine_free(jobs[w].e);
    }
    assert_int_equal(frames, 300);
    assert_int_equal(syns, one.syns);
    assert_memory_equal(&sum, &s1, sizeof(s1));
    assert_int_equal(mbx_dispatch_dropped(d), 0);
    mbx_dispatch_free(d);
    mbx_source_close(src);
    mbx_engine_free(e1);
    unlink(path);
}

/* Lossy (live): workers that never read make the dispatcher drop and count,
 * not wait; the end does not wait on workers that left. */
static void test_dispatch_lossy(void **state)
{
    (void)state;
    char path[64], err[256];
    write_capture(path);
    assert_null(mbx_dispatch_new(0, 0, true));
    assert_null(mbx_dispatch_new(MBX_MAX_WORKERS + 1, 0, true));
    assert_null(mbx_dispatch_new(2, 1000, true)); /* not a power of two */
    struct mbx_dispatch *d = mbx_dispatch_new(2, 1024, false);
    assert_non_null(d);
    struct mbx_source *src = mbx_source_open_file(path, err, sizeof(err));
    assert_int_equal(mbx_dispatch_run(d, src, NULL), 0);
    uint64_t dropped = mbx_dispatch_dropped(d);
    assert_true(dropped > 200 && dropped < 300);
    mbx_dispatch_leave(d, 0);
    mbx_dispatch_leave(d, 1);
    mbx_dispatch_end(d);
    mbx_dispatch_free(d);
    mbx_source_close(src);
    volatile int stop = 1; /* a stop flag set: nothing is read */
    d = mbx_dispatch_new(2, 0, true);
    src = mbx_source_open_file(path, err, sizeof(err));
    assert_int_equal(mbx_dispatch_run(d, src, &stop), 0);
    assert_int_equal(mbx_dispatch_dropped(d), 0);
    mbx_dispatch_end(d); /* room for the end records: no wait */
    mbx_dispatch_free(d);
    mbx_source_close(src);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_basic),    cmocka_unit_test(test_ring_full),
        cmocka_unit_test(test_ring_wrap),     cmocka_unit_test(test_ring_threads),
        cmocka_unit_test(test_dispatch_same), cmocka_unit_test(test_dispatch_lossy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
