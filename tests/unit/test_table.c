/*
 * test_table.c - the tables of .mbx programs (runtime/src/table.c, mbx.h
 * section 12) against the rules of LANGUAGE.md §8 "Tables": a missing key
 * reads as the default without being inserted, writes insert, an entry
 * expires D after its last write (set elements one by one), `max N` evicts
 * the oldest entry and counts it, iteration follows insertion order.  The
 * expected values follow from those rules by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mbx.h"

static mbx_table *mk(uint8_t key, uint8_t val, uint8_t elem, mbx_time expire, uint64_t max)
{
    struct mbx_table_def d = {"test.t", key, val, elem, expire, max};
    mbx_table *t = mbx_table_new(&d);
    assert_non_null(t);
    return t;
}

static void test_default_without_insert(void **state)
{
    (void)state;
    mbx_table *t = mk(MBX_TK_UINT, MBX_TK_INT, 0, 0, 0);
    assert_null(mbx_table_get(t, mbx_tkey_u(7), 0));
    assert_int_equal(mbx_table_len(t, 0), 0); /* reading inserted nothing */
    int64_t *v = mbx_table_put(t, mbx_tkey_u(7), 0);
    assert_non_null(v);
    assert_int_equal(*v, 0); /* inserted with the default */
    *v += 5;
    v = mbx_table_put(t, mbx_tkey_u(7), 1);
    *v += 3;
    assert_int_equal(*(const int64_t *)mbx_table_get(t, mbx_tkey_u(7), 1), 8);
    assert_int_equal(mbx_table_len(t, 1), 1);
    assert_true(mbx_table_remove(t, mbx_tkey_u(7)));
    assert_false(mbx_table_remove(t, mbx_tkey_u(7)));
    assert_int_equal(mbx_table_len(t, 1), 0);
    mbx_table_free(t);
}

static void test_expire_after_last_write(void **state)
{
    (void)state;
    mbx_table *t = mk(MBX_TK_UINT, MBX_TK_UINT, 0, 10, 0);
    mbx_table_put(t, mbx_tkey_u(1), 0);
    mbx_table_put(t, mbx_tkey_u(2), 0);
    mbx_table_put(t, mbx_tkey_u(2), 8); /* rewritten: its 10 restart at 8 */
    assert_non_null(mbx_table_get(t, mbx_tkey_u(1), 9));
    assert_null(mbx_table_get(t, mbx_tkey_u(1), 10)); /* 10 after its last write */
    assert_non_null(mbx_table_get(t, mbx_tkey_u(2), 17));
    assert_int_equal(mbx_table_len(t, 12), 1);
    assert_int_equal(mbx_table_len(t, 18), 0);
    /* an expired key written again starts from the default */
    uint64_t *v = mbx_table_put(t, mbx_tkey_u(1), 30);
    assert_int_equal(*v, 0);
    mbx_table_free(t);
}

static void test_set_elements_expire_one_by_one(void **state)
{
    (void)state;
    mbx_table *t = mk(MBX_TK_ADDR, MBX_TK_SET, MBX_TK_UINT, 10, 0);
    struct mbx_addr a;
    assert_int_equal(mbx_addr_parse("10.0.0.1", &a), 0);
    mbx_table *s = mbx_table_put_set(t, mbx_tkey_addr(&a), 0);
    assert_non_null(s);
    mbx_table_put(s, mbx_tkey_u(80), 0);
    s = mbx_table_put_set(t, mbx_tkey_addr(&a), 5);
    mbx_table_put(s, mbx_tkey_u(443), 5);
    mbx_table *const *got = mbx_table_get(t, mbx_tkey_addr(&a), 12);
    assert_non_null(got);                         /* the map entry was written at 5 */
    assert_int_equal(mbx_table_len(*got, 12), 1); /* port 80 (written at 0) is gone */
    assert_true(mbx_table_contains(*got, mbx_tkey_u(443), 12));
    assert_null(mbx_table_get(t, mbx_tkey_addr(&a), 15));
    mbx_table_free(t);
}

static void test_max_evicts_oldest(void **state)
{
    (void)state;
    mbx_table *t = mk(MBX_TK_INT, MBX_TK_NONE, 0, 0, 3);
    for (int64_t k = 1; k <= 3; k++)
        mbx_table_put(t, mbx_tkey_u((uint64_t)k), 0);
    mbx_table_put(t, mbx_tkey_u(1), 1); /* rewriting does not make it younger */
    mbx_table_put(t, mbx_tkey_u(4), 2);
    assert_int_equal(mbx_table_len(t, 2), 3);
    assert_int_equal(mbx_table_evicted(t), 1);
    assert_false(mbx_table_contains(t, mbx_tkey_u(1), 2)); /* the first inserted */
    uint32_t it = 0;
    struct mbx_tkey k;
    uint64_t order[4], n = 0;
    while (mbx_table_next(t, &it, 2, &k, NULL))
        order[n++] = k.u;
    assert_int_equal(n, 3);
    assert_int_equal(order[0], 2);
    assert_int_equal(order[1], 3);
    assert_int_equal(order[2], 4);
    mbx_table_free(t);
}

static void test_iteration_order_and_removal_inside(void **state)
{
    (void)state;
    mbx_table *t = mk(MBX_TK_STR, MBX_TK_UINT, 0, 0, 0);
    const char *names[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        struct mbx_str s = {(const uint8_t *)names[i], 1};
        *(uint64_t *)mbx_table_put(t, mbx_tkey_str(s), 0) = (uint64_t)i + 1;
    }
    struct mbx_str b = {(const uint8_t *)"b", 1};
    mbx_table_remove(t, mbx_tkey_str(b));
    *(uint64_t *)mbx_table_put(t, mbx_tkey_str(b), 0) = 9; /* re-inserted: now last */
    char seen[8] = "";
    uint64_t sum = 0;
    uint32_t it = 0;
    struct mbx_tkey k;
    const void *v;
    while (mbx_table_next(t, &it, 0, &k, &v)) {
        strncat(seen, (const char *)k.p, k.n);
        sum += *(const uint64_t *)v;
        struct mbx_str cur = {k.p, k.n};
        if (k.n == 1 && ((const char *)k.p)[0] == 'c') /* remove the entry we stand on */
            mbx_table_remove(t, mbx_tkey_str(cur));
    }
    assert_string_equal(seen, "acdb");
    assert_int_equal(sum, 1 + 3 + 4 + 9);
    assert_int_equal(mbx_table_len(t, 0), 3);
    mbx_table_free(t);
}

static void test_long_str_keys_and_values(void **state)
{
    (void)state;
    mbx_table *t = mk(MBX_TK_STR, MBX_TK_STR, 0, 0, 0);
    char k1[100], k2[100], big[400];
    memset(k1, 'x', sizeof(k1));
    memcpy(k2, k1, sizeof(k2));
    k2[99] = 'y'; /* differs only past the bytes kept whole */
    memset(big, 'v', sizeof(big));
    struct mbx_str s1 = {(const uint8_t *)k1, 100}, s2 = {(const uint8_t *)k2, 100};
    struct mbx_str vb = {(const uint8_t *)big, sizeof(big)}, vs = {(const uint8_t *)"short", 5};
    assert_int_equal(mbx_table_put_str(t, mbx_tkey_str(s1), vb, 0), 0);
    assert_int_equal(mbx_table_put_str(t, mbx_tkey_str(s2), vs, 0), 0);
    assert_int_equal(mbx_table_len(t, 0), 2);
    const struct mbx_str *v1 = mbx_table_get(t, mbx_tkey_str(s1), 0);
    const struct mbx_str *v2 = mbx_table_get(t, mbx_tkey_str(s2), 0);
    assert_int_equal(v1->n, MBX_TABLE_STR_MAX); /* cut to the bound */
    assert_int_equal(v2->n, 5);
    assert_memory_equal(v2->p, "short", 5);
    mbx_table_free(t);
}

static void test_growth_keeps_everything(void **state)
{
    (void)state;
    mbx_table *t = mk(MBX_TK_UINT, MBX_TK_STR, 0, 0, 0);
    char buf[32];
    for (uint64_t i = 0; i < 20000; i++) {
        int n = snprintf(buf, sizeof(buf), "v%llu", (unsigned long long)i);
        struct mbx_str s = {(const uint8_t *)buf, (size_t)n};
        assert_int_equal(mbx_table_put_str(t, mbx_tkey_u(i * 7919), s, 0), 0);
    }
    assert_int_equal(mbx_table_len(t, 0), 20000);
    for (uint64_t i = 0; i < 20000; i += 97) {
        int n = snprintf(buf, sizeof(buf), "v%llu", (unsigned long long)i);
        const struct mbx_str *v = mbx_table_get(t, mbx_tkey_u(i * 7919), 0);
        assert_non_null(v);
        assert_int_equal(v->n, (size_t)n);
        assert_memory_equal(v->p, buf, (size_t)n); /* views moved with the arrays */
    }
    mbx_table_free(t);
}

static void test_nested_sets_recycled(void **state)
{
    (void)state;
    mbx_table *t = mk(MBX_TK_UINT, MBX_TK_SET, MBX_TK_UINT, 0, 0);
    mbx_table *s = mbx_table_put_set(t, mbx_tkey_u(1), 0);
    mbx_table_put(s, mbx_tkey_u(5), 0);
    mbx_table_remove(t, mbx_tkey_u(1));
    mbx_table *s2 = mbx_table_put_set(t, mbx_tkey_u(2), 0);
    assert_ptr_equal(s, s2);                   /* recycled ... */
    assert_int_equal(mbx_table_len(s2, 0), 0); /* ... and empty */
    assert_false(mbx_table_contains(s2, mbx_tkey_u(5), 0));
    mbx_table_free(t);
}

static void test_sorted_json_keys(void **state)
{
    (void)state;
    char path[] = "/tmp/test_table.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char err[128];
    struct mbx_out *o = mbx_out_open(path, err, sizeof(err));
    assert_non_null(o);
    mbx_table *t = mk(MBX_TK_INT, MBX_TK_NONE, 0, 0, 0);
    int64_t ks[] = {30, -2, 7};
    for (int i = 0; i < 3; i++)
        mbx_table_put(t, mbx_tkey_u((uint64_t)ks[i]), 0);
    mbx_out_begin(o, 0, "test", NULL);
    mbx_table_out_keys(t, o, "k", 0);
    mbx_out_end(o);
    mbx_out_close(o);
    FILE *f = fdopen(fd, "r");
    char line[512] = "";
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    unlink(path);
    assert_non_null(strstr(line, "\"k\":[-2,7,30]"));
    mbx_table_free(t);

    /* more keys than the writer holds on its stack (256): sorted all the same */
    char path2[] = "/tmp/test_table.XXXXXX";
    fd = mkstemp(path2);
    assert_true(fd >= 0);
    o = mbx_out_open(path2, err, sizeof(err));
    assert_non_null(o);
    t = mk(MBX_TK_UINT, MBX_TK_NONE, 0, 0, 0);
    for (uint64_t i = 1000; i-- > 0;)
        mbx_table_put(t, mbx_tkey_u(i * 3), 0);
    mbx_out_begin(o, 0, "test", NULL);
    mbx_table_out_keys(t, o, "k", 0);
    mbx_out_end(o);
    mbx_out_close(o);
    static char big[16384];
    f = fdopen(fd, "r");
    assert_non_null(fgets(big, sizeof(big), f));
    fclose(f);
    unlink(path2);
    char *p = strstr(big, "\"k\":[");
    assert_non_null(p);
    p += 5;
    for (uint64_t i = 0; i < 1000; i++) {
        char *end;
        assert_int_equal(strtoull(p, &end, 10), i * 3);
        assert_true(*end == (i < 999 ? ',' : ']'));
        p = end + 1;
    }
    mbx_table_free(t);
}

static void test_bad_defs(void **state)
{
    (void)state;
    struct mbx_table_def d = {"bad", MBX_TK_SET, MBX_TK_NONE, 0, 0, 0};
    assert_null(mbx_table_new(&d));
    d.key = MBX_TK_UINT;
    d.val = MBX_TK_SET;
    d.elem = MBX_TK_NONE; /* a set of nothing */
    assert_null(mbx_table_new(&d));
    assert_null(mbx_table_new(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_without_insert),
        cmocka_unit_test(test_expire_after_last_write),
        cmocka_unit_test(test_set_elements_expire_one_by_one),
        cmocka_unit_test(test_max_evicts_oldest),
        cmocka_unit_test(test_iteration_order_and_removal_inside),
        cmocka_unit_test(test_long_str_keys_and_values),
        cmocka_unit_test(test_growth_keeps_everything),
        cmocka_unit_test(test_nested_sets_recycled),
        cmocka_unit_test(test_sorted_json_keys),
        cmocka_unit_test(test_bad_defs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
