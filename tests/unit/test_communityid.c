/*
 * test_communityid.c - Community ID v1 (communityid.c) against values computed elsewhere.
 *
 * Sources of the expected values:
 *  - the Community ID spec's README (corelight/community-id-spec), its TCP and
 *    UDP examples with seed 0;
 *  - Python's hashlib over the spec's byte layout (the equal-address case,
 *    computed for this test with the snippet quoted beside it);
 *  - tshark 4.0.17 `--enable-protocol communityid -T fields -e communityid` on
 *    ../shared/corpora/pcapplusplus/one_ipv6_http_stream.pcap (IPv6 TCP).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "communityid.h"

static struct mbx_addr addr(const char *s)
{
    struct mbx_addr a;
    memset(&a, 0, sizeof(a));
    if (strchr(s, ':')) {
        assert_int_equal(inet_pton(AF_INET6, s, a.b), 1);
    } else {
        a.b[10] = 0xff;
        a.b[11] = 0xff;
        assert_int_equal(inet_pton(AF_INET, s, a.b + 12), 1);
    }
    return a;
}

static void check(uint16_t seed, uint8_t proto, const char *sa, uint16_t sp, const char *da,
                  uint16_t dp, const char *want)
{
    struct mbx_addr a = addr(sa), b = addr(da);
    char buf[64];
    assert_non_null(mbx__community_id(seed, proto, &a, sp, &b, dp, buf, sizeof(buf)));
    assert_string_equal(buf, want);
    /* Either direction hashes alike. */
    assert_non_null(mbx__community_id(seed, proto, &b, dp, &a, sp, buf, sizeof(buf)));
    assert_string_equal(buf, want);
}

/* community-id-spec README: "128.232.110.120 66.35.250.204 6 34855 80" -> this value. */
static void test_spec_tcp(void **state)
{
    check(0, 6, "128.232.110.120", 34855, "66.35.250.204", 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
}

/* community-id-spec README: UDP 192.168.1.52:54585 -> 8.8.8.8:53 (DNS). */
static void test_spec_udp(void **state)
{
    check(0, 17, "192.168.1.52", 54585, "8.8.8.8", 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
}

/* tshark 4.0.17 on pcapplusplus/one_ipv6_http_stream.pcap:
 * 2001:618:400::5199:cc70 35997 -> 2001:618:1:8000::5 80 1:RsDC+mTloq4eATbxrOd+A01SQEY= */
static void test_tshark_ipv6(void **state)
{
    check(0, 6, "2001:618:400::5199:cc70", 35997, "2001:618:1:8000::5", 80,
          "1:RsDC+mTloq4eATbxrOd+A01SQEY=");
}

/* tshark 4.0.17 on netem-http/client.pcap: 10.201.0.1 38504 -> 10.201.0.2 80. */
static void test_tshark_ipv4(void **state)
{
    check(0, 6, "10.201.0.1", 38504, "10.201.0.2", 80, "1:3pYAvu+KemgQufokyrGV98+yuaY=");
}

/* Equal addresses: the port decides the order.  Expected value from Python:
 *   hashlib.sha1(b"\0\0" + a + a + bytes([6, 0]) + pack("!HH", 80, 1234)) with
 *   a = inet_aton("10.0.0.1"), then base64. */
static void test_same_address(void **state)
{
    check(0, 6, "10.0.0.1", 1234, "10.0.0.1", 80, "1:WaobEo3Uyp/JjlL9QX3lvrl1Oag=");
}

static void test_short_buffer(void **state)
{
    struct mbx_addr a = addr("10.0.0.1"), b = addr("10.0.0.2");
    char buf[16];
    assert_null(mbx__community_id(0, 6, &a, 1, &b, 2, buf, sizeof(buf)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_tcp),     cmocka_unit_test(test_spec_udp),
        cmocka_unit_test(test_tshark_ipv6),  cmocka_unit_test(test_tshark_ipv4),
        cmocka_unit_test(test_same_address), cmocka_unit_test(test_short_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
