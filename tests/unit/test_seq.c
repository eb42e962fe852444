/*
 * test_seq.c - serial-number arithmetic (seq.h) against RFC 1982 section 3.2:
 * s1 < s2 iff (i1 < i2 and i2 - i1 < 2^31) or (i1 > i2 and i1 - i2 > 2^31).
 */
#include "engine_util.h"
#include "seq.h"

static void test_compare_across_wrap(void **state)
{
    (void)state;
    assert_true(seq_lt(1, 2));
    assert_true(seq_lt(0xfffffff0u, 0x10u)); /* i1 > i2, i1 - i2 > 2^31: before */
    assert_true(seq_gt(0x10u, 0xfffffff0u));
    assert_true(seq_leq(5, 5));
    assert_true(seq_geq(0, 0xffffffffu));
    assert_true(seq_lt(0x80000011u, 0x10u));  /* i1 > i2 and i1 - i2 > 2^31: before */
    assert_false(seq_lt(0x7fffffffu, 0x10u)); /* i1 > i2, i1 - i2 < 2^31: after */
    assert_true(seq_in(0xfffffffeu, 0xfffffff0u, 0x20u));
    assert_false(seq_in(0x20u, 0xfffffff0u, 0x20u));
    assert_int_equal(seq_max(0xffffff00u, 0x100u), 0x100u);
    assert_int_equal(seq_diff(0x5u, 0xfffffffbu), 10);
}

static void test_offsets_across_wrap(void **state)
{
    (void)state;
    uint32_t base = 0xfffffff0u; /* offset 0 is 16 before the wrap */
    assert_int_equal(seq_to_off(0xfffffff0u, base, 0), 0);
    assert_int_equal(seq_to_off(0x10u, base, 0), 32);        /* past the wrap */
    assert_int_equal(seq_to_off(0xffffffe0u, base, 0), -16); /* before the start */
    /* A stream past 4 GiB: the offset nearest the reference is chosen. */
    uint64_t ref = (1ull << 32) + 100;
    assert_int_equal(seq_to_off(base + 110, base, ref), (int64_t)ref + 10);
    assert_int_equal(seq_to_off(base + 90, base, ref), (int64_t)ref - 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_across_wrap),
        cmocka_unit_test(test_offsets_across_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
