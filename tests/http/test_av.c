/*
 * test_av.c - unit tests of std.av (mbx_av.h): literal signatures over streams
 * with Hyperscan.  The EICAR string is the one eicar.org publishes; each
 * stream is fed whole, byte by byte and in every split point, and the match
 * must be found exactly once with the right end offset (its position in the
 * stream as the test built it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mbx_av.h"

static const char eicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

struct hits {
    int n;        /* matches reported */
    uint64_t end; /* end offset of the last */
    unsigned id;  /* its signature id */
};

static void on_hit(const struct mbx_av_sig *sig, uint64_t end, void *u)
{
    struct hits *h = u;
    h->n++;
    h->end = end;
    h->id = sig->id;
}

/* Scans buf in pieces of `piece` bytes (0: whole) and returns the hits. */
static struct hits scan(struct mbx_av *av, const uint8_t *buf, size_t n, size_t piece)
{
    struct hits h = {0, 0, 0};
    struct mbx_av_stream *s = mbx_av_open(av);
    assert_non_null(s);
    size_t c = piece ? piece : n;
    for (size_t off = 0; off < n; off += c)
        assert_int_equal(mbx_av_scan(av, s, buf + off, n - off < c ? n - off : c, on_hit, &h), 0);
    assert_int_equal(mbx_av_close(av, s, on_hit, &h), 0);
    return h;
}

static void test_eicar_builtin(void **state)
{
    assert_int_equal(mbx_av_eicar.len, sizeof eicar - 1);
    assert_memory_equal(mbx_av_eicar.content, eicar, sizeof eicar - 1);
    assert_string_equal(mbx_av_eicar.name, "EICAR-Test-File");
}

static void test_eicar_every_split(void **state)
{
    char err[256];
    struct mbx_av *av = mbx_av_new(&mbx_av_eicar, 1, err, sizeof err);
    assert_non_null(av);
    static uint8_t buf[1200];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)('a' + i % 23);
    memcpy(buf + 1000, eicar, sizeof eicar - 1);
    for (size_t piece = 0; piece <= 80; piece++) {
        struct hits h = scan(av, buf, sizeof buf, piece);
        assert_int_equal(h.n, 1);
        assert_int_equal(h.end, 1000 + sizeof eicar - 1);
        assert_int_equal(h.id, 1);
    }
    mbx_av_free(av);
}

static void test_near_miss_and_once(void **state)
{
    char err[256];
    struct mbx_av *av = mbx_av_new(&mbx_av_eicar, 1, err, sizeof err);
    assert_non_null(av);
    uint8_t buf[200];
    memcpy(buf, eicar, sizeof eicar - 1);
    buf[30] ^= 0x20; /* one byte off: no match */
    struct hits h = scan(av, buf, sizeof eicar - 1, 1);
    assert_int_equal(h.n, 0);
    /* twice in one stream: reported once (HS_FLAG_SINGLEMATCH) */
    memcpy(buf, eicar, sizeof eicar - 1);
    memcpy(buf + 100, eicar, sizeof eicar - 1);
    h = scan(av, buf, 100 + sizeof eicar - 1, 7);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.end, sizeof eicar - 1);
    mbx_av_free(av);
}

static void test_several_signatures(void **state)
{
    static const struct mbx_av_sig sigs[] = {
        {"first", 10, "needle", 6},
        {"second", 20, "\0bin\xff", 5},
    };
    char err[256];
    struct mbx_av *av = mbx_av_new(sigs, 2, err, sizeof err);
    assert_non_null(av);
    static const uint8_t buf[] = "xx\0bin\xffyy needle";
    struct hits h = scan(av, buf, sizeof buf - 1, 1);
    assert_int_equal(h.n, 2);
    assert_int_equal(h.id, 10); /* "needle" ends last */
    assert_int_equal(h.end, sizeof buf - 1);
    mbx_av_free(av);
}

static void test_bad_signatures(void **state)
{
    static const struct mbx_av_sig empty = {"empty", 1, "", 0};
    char err[256] = "";
    assert_null(mbx_av_new(&empty, 1, err, sizeof err));
    assert_non_null(strstr(err, "empty"));
    assert_null(mbx_av_new(&empty, 0, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eicar_builtin),      cmocka_unit_test(test_eicar_every_split),
        cmocka_unit_test(test_near_miss_and_once), cmocka_unit_test(test_several_signatures),
        cmocka_unit_test(test_bad_signatures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
