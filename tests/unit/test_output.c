/*
 * test_output.c - the EVE JSON-lines writer (output.c) and the stats record (stats.c).
 *
 * Expected lines are written by hand from RFC 8259 (JSON string escapes:
 * section 7), RFC 3629 (which byte sequences are well-formed UTF-8: table 3)
 * and Suricata's EVE timestamp format as documented in Suricata's
 * "Eve JSON Format" page ("timestamp": "2009-11-24T21:27:09.534255+0100",
 * microseconds and a numeric zone; mbx always writes UTC, +0000).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <locale.h>
#include <wchar.h>

#include <cmocka.h>

#include "mbx.h"

static char tmp_path[64];

static struct mbx_out *open_tmp(void)
{
    strcpy(tmp_path, "/tmp/mbx_test_output_XXXXXX");
    int fd = mkstemp(tmp_path);
    assert_true(fd >= 0);
    close(fd);
    char err[128];
    struct mbx_out *o = mbx_out_open(tmp_path, err, sizeof(err));
    assert_non_null(o);
    return o;
}

/* Closes the writer and returns the file's contents (caller frees). */
static char *close_and_read(struct mbx_out *o, size_t *lenp)
{
    mbx_out_close(o);
    FILE *fp = fopen(tmp_path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    unlink(tmp_path);
    if (lenp)
        *lenp = (size_t)n;
    return buf;
}

/* 1359539512 s = 2013-01-30 09:51:52 UTC (date -u -d @1359539512); the
 * nanoseconds are cut to microseconds, as Suricata prints them. */
static void test_timestamp(void **state)
{
    struct mbx_out *o = open_tmp();
    mbx_out_begin(o, 1359539512123456789ull, "test", NULL);
    mbx_out_end(o);
    mbx_out_begin(o, 0, "epoch", NULL);
    mbx_out_end(o);
    char *s = close_and_read(o, NULL);
    assert_string_equal(
        s, "{\"timestamp\":\"2013-01-30T09:51:52.123456+0000\",\"event_type\":\"test\"}\n"
           "{\"timestamp\":\"1970-01-01T00:00:00.000000+0000\",\"event_type\":\"epoch\"}\n");
    free(s);
}

/* RFC 8259 section 7: '"', '\\' and control characters must be escaped (short
 * forms for \b \f \n \r \t); DEL (0x7f) is escaped too, by choice.  RFC 3629:
 * C3 A9 is "é" (kept as is); FF never appears in UTF-8; E2 82 41 is a cut
 * three-byte sequence, so E2 and the stray 82 are each written as \u00XX. */
static void test_escaping(void **state)
{
    static const unsigned char raw[] = {0x00, 0x01, '"',  '\\', '\n', '\t', '\r', 0x08, 0x0c,
                                        0x1f, 0x7f, 0xc3, 0xa9, 0xff, 0xe2, 0x82, 'A',  0xed,
                                        0xa0, 0x80, 0xf0, 0x9f, 0x98, 0x80, 0xc0, 0xaf, '/'};
    struct mbx_out *o = open_tmp();
    mbx_out_begin(o, 0, "esc", NULL);
    mbx_out_strn(o, "s", raw, sizeof(raw));
    mbx_out_str(o, "k\"ey", "plain");
    mbx_out_str(o, "null", NULL);
    mbx_out_end(o);
    char *s = close_and_read(o, NULL);
    assert_string_equal(s,
                        "{\"timestamp\":\"1970-01-01T00:00:00.000000+0000\",\"event_type\":\"esc\","
                        "\"s\":\"\\u0000\\u0001\\\"\\\\\\n\\t\\r\\b\\f\\u001f\\u007f\xc3\xa9"
                        "\\u00ff\\u00e2\\u0082A"
                        /* ED A0 80 would be a surrogate (U+D800): three escapes */
                        "\\u00ed\\u00a0\\u0080"
                        /* F0 9F 98 80 is U+1F600, well-formed: kept */
                        "\xf0\x9f\x98\x80"
                        /* C0 AF is an overlong '/': two escapes */
                        "\\u00c0\\u00af/\","
                        "\"k\\\"ey\":\"plain\",\"null\":null}\n");
    free(s);
}

static void test_members_and_nesting(void **state)
{
    static const uint8_t bytes[] = {0xde, 0xad, 0x00, 0x0f};
    struct mbx_addr v4 = {{0}}, v6 = {{0}};
    v4.b[10] = v4.b[11] = 0xff;
    v4.b[12] = 10;
    v4.b[15] = 1;
    v6.b[0] = 0x20;
    v6.b[1] = 0x01;
    v6.b[2] = 0x0d;
    v6.b[3] = 0xb8;
    v6.b[15] = 1;
    struct mbx_out *o = open_tmp();
    mbx_out_begin(o, 0, "t", NULL);
    mbx_out_object(o, "obj");
    mbx_out_int(o, "neg", INT64_MIN);
    mbx_out_uint(o, "max", UINT64_MAX);
    mbx_out_bool(o, "yes", true);
    mbx_out_bool(o, "no", false);
    mbx_out_double(o, "half", 0.5);
    mbx_out_double(o, "nan", 0.0 / 0.0);
    mbx_out_hex(o, "hex", bytes, sizeof(bytes));
    mbx_out_array(o, "arr");
    mbx_out_uint(o, NULL, 1);
    mbx_out_str(o, NULL, "two");
    mbx_out_object(o, NULL);
    mbx_out_end_object(o);
    mbx_out_array(o, NULL);
    mbx_out_end_array(o);
    mbx_out_end_array(o);
    mbx_out_addr(o, "v4", &v4);
    mbx_out_addr(o, "v6", &v6);
    mbx_out_end_object(o);
    mbx_out_object(o, "left_open"); /* mbx_out_end closes what is still open */
    mbx_out_uint(o, "x", 7);
    mbx_out_end(o);
    char *s = close_and_read(o, NULL);
    assert_string_equal(s,
                        "{\"timestamp\":\"1970-01-01T00:00:00.000000+0000\",\"event_type\":\"t\","
                        "\"obj\":{\"neg\":-9223372036854775808,\"max\":18446744073709551615,"
                        "\"yes\":true,\"no\":false,\"half\":0.5,\"nan\":null,\"hex\":\"dead000f\","
                        "\"arr\":[1,\"two\",{},[]],\"v4\":\"10.0.0.1\",\"v6\":\"2001:db8::1\"},"
                        "\"left_open\":{\"x\":7}}\n");
    free(s);
}

/* Unbalanced closes are ignored, and nesting deeper than the writer's stack
 * still gives one well-formed line (the too-deep member becomes null). */
static void test_misuse(void **state)
{
    struct mbx_out *o = open_tmp();
    mbx_out_uint(o, "outside", 1); /* before begin: ignored */
    mbx_out_begin(o, 0, "m", NULL);
    mbx_out_end_object(o);
    mbx_out_end_array(o);
    for (int i = 0; i < 40; i++)
        mbx_out_array(o, i == 0 ? "deep" : NULL);
    mbx_out_uint(o, NULL, 5);
    for (int i = 0; i < 40; i++)
        mbx_out_end_array(o);
    mbx_out_uint(o, "after", 2);
    mbx_out_end(o);
    mbx_out_end(o); /* nothing open: no empty line */
    size_t n;
    char *s = close_and_read(o, &n);
    const char *head = "{\"timestamp\":\"1970-01-01T00:00:00.000000+0000\",\"event_type\":\"m\","
                       "\"deep\":";
    assert_memory_equal(s, head, strlen(head));
    /* 31 arrays fit under the record's object (32 levels), the 32nd is null. */
    const char *p = s + strlen(head);
    for (int i = 0; i < 31; i++, p++)
        assert_int_equal(*p, '[');
    const char *tail = "null";
    assert_memory_equal(p, tail, 4);
    p += 4;
    for (int i = 0; i < 31; i++, p++)
        assert_int_equal(*p, ']');
    assert_string_equal(p, ",\"after\":2}\n");
    assert_int_equal(strchr(s, '\n') - s + 1, (long)n); /* one line */
    free(s);
}

/* More than the writer's buffer: every record arrives whole and in order. */
static void test_large_output(void **state)
{
    struct mbx_out *o = open_tmp();
    char big[5000];
    memset(big, 'x', sizeof(big));
    for (int i = 0; i < 200; i++) {
        mbx_out_begin(o, 0, "big", NULL);
        mbx_out_int(o, "i", i);
        mbx_out_strn(o, "s", big, sizeof(big));
        mbx_out_end(o);
    }
    size_t n;
    char *s = close_and_read(o, &n);
    size_t line =
        strlen("{\"timestamp\":\"1970-01-01T00:00:00.000000+0000\",\"event_type\":\"big\","
               "\"i\":,\"s\":\"\"}\n") +
        sizeof(big);
    size_t want = 0;
    for (int i = 0; i < 200; i++)
        want += line + (i < 10 ? 1 : i < 100 ? 2 : 3);
    assert_int_equal(n, want);
    const char *p = s;
    for (int i = 0; i < 200; i++) {
        char key[32];
        snprintf(key, sizeof(key), "\"i\":%d,", i);
        assert_non_null(strstr(p, key));
        p = strchr(p, '\n') + 1;
    }
    free(s);
}

static void test_open_error(void **state)
{
    char err[128] = "";
    assert_null(mbx_out_open("/nonexistent-dir/x.json", err, sizeof(err)));
    assert_string_equal(err, "/nonexistent-dir/x.json: No such file or directory");
}

/* The stats record: every MBX_STATS counter under "stats", decode errors by
 * the names mbx.h gives them (MBX_DECODE_ERRORS). */
static void test_stats_record(void **state)
{
    struct mbx_stats st;
    memset(&st, 0, sizeof(st));
    st.packets = 12;
    st.bytes = 3456;
    st.decode_errors = 3;
    st.decode_err[MBX_DECODE_TRUNC_TCP] = 2;
    st.decode_err[MBX_DECODE_NOT_IP] = 1;
    st.gap_bytes = 2902;
    st.div_by_zero = 1;
    struct mbx_out *o = open_tmp();
    mbx_stats_write(&st, o, 1359539512000000000ull);
    char *s = close_and_read(o, NULL);
    const char *head =
        "{\"timestamp\":\"2013-01-30T09:51:52.000000+0000\",\"event_type\":\"stats\","
        "\"stats\":{\"packets\":12,\"bytes\":3456,\"decoded\":0,\"decode_errors\":3,";
    assert_memory_equal(s, head, strlen(head));
    assert_non_null(strstr(s, ",\"gap_bytes\":2902,"));
    assert_non_null(strstr(s, ",\"div_by_zero\":1"));
    assert_non_null(strstr(s, ",\"decode_error_reasons\":{\"TRUNC_L2\":0,"));
    assert_non_null(strstr(s, ",\"NOT_IP\":1,"));
    assert_non_null(strstr(s, ",\"TRUNC_TCP\":2,"));
    assert_non_null(strstr(s, ",\"OTHER_L4\":0}}}\n"));
    free(s);

    /* The text form: one line per counter and per reason that occurred. */
    char *text = NULL;
    size_t tlen = 0;
    FILE *fp = open_memstream(&text, &tlen);
    assert_non_null(fp);
    mbx_stats_print(&st, fp);
    fclose(fp);
    assert_non_null(strstr(text, "  packets read "));
    assert_non_null(strstr(text, "  bytes in stream gaps "));
    assert_non_null(strstr(text, "    truncated TCP header "));
    assert_null(strstr(text, "truncated UDP header"));
    int lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    int ncounters = 0;
#define MBX_X_(name, txt) ncounters++;
    MBX_STATS(MBX_X_)
#undef MBX_X_
    assert_int_equal(lines, 1 + ncounters + 2);
    free(text);
}

/* Reads back one JSON string value written by the writer (RFC 8259 section 7
 * escapes; the writer only uses \u00XX for single bytes): returns its bytes. */
static size_t json_unescape(const char *p, const char *end, uint8_t *out)
{
    size_t n = 0;
    while (p < end) {
        if (*p != '\\') {
            assert_true((unsigned char)*p >= 0x20 && *p != 0x7f && *p != '"'); /* RFC 8259 */
            out[n++] = (uint8_t)*p++;
            continue;
        }
        p++;
        switch (*p++) {
        case '"':
            out[n++] = '"';
            break;
        case '\\':
            out[n++] = '\\';
            break;
        case '/':
            out[n++] = '/';
            break;
        case 'b':
            out[n++] = '\b';
            break;
        case 'f':
            out[n++] = '\f';
            break;
        case 'n':
            out[n++] = '\n';
            break;
        case 'r':
            out[n++] = '\r';
            break;
        case 't':
            out[n++] = '\t';
            break;
        case 'u': {
            char hex[5] = {p[0], p[1], p[2], p[3], 0};
            unsigned long v = strtoul(hex, NULL, 16);
            assert_true(v < 0x100);
            out[n++] = (uint8_t)v;
            p += 4;
            break;
        }
        default:
            fail_msg("bad escape");
        }
    }
    return n;
}

/* Random byte strings, biased towards UTF-8 lead and continuation bytes,
 * control bytes and the characters JSON escapes: every one reads back to the
 * same bytes, and what is written unescaped is valid UTF-8 (checked with the C
 * library's own decoder, mbrtowc in the C.UTF-8 locale). */
static void test_escaping_roundtrip(void **state)
{
    static const uint8_t pool[] = {0x00, 0x01, 0x1f, '"',  '\\', '/',  'a',  0x7f,
                                   0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef,
                                   0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0, 0x8f, 0x90};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    struct mbx_out *o = open_tmp();
    enum { N = 3000, L = 24 };
    static uint8_t in[N][L];
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < L; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
            in[i][k] = (x >> 40) % 4 ? pool[(x >> 8) % sizeof(pool)] : (uint8_t)(x >> 16);
        }
        mbx_out_begin(o, 0, "r", NULL);
        mbx_out_strn(o, "s", in[i], L);
        mbx_out_end(o);
    }
    char *s = close_and_read(o, NULL);
    assert_non_null(setlocale(LC_CTYPE, "C.UTF-8"));
    const char *line = s;
    for (int i = 0; i < N; i++) {
        const char *v = strstr(line, "\"s\":\"") + 5;
        const char *nl = strchr(line, '\n');
        const char *end = nl - 2; /* before the closing quote and brace */
        assert_int_equal(end[0], '"');
        uint8_t back[6 * L];
        assert_int_equal(json_unescape(v, end, back), L);
        assert_memory_equal(back, in[i], L);
        /* The unescaped runs are valid UTF-8. */
        mbstate_t ms;
        memset(&ms, 0, sizeof(ms));
        for (const char *p = v; p < end;) {
            if (*p == '\\') {
                p += p[1] == 'u' ? 6 : 2;
                continue;
            }
            wchar_t wc;
            size_t k = mbrtowc(&wc, p, (size_t)(end - p), &ms);
            assert_true(k != (size_t)-1 && k != (size_t)-2 && k > 0);
            assert_false(wc >= 0xd800 && wc <= 0xdfff);
            p += k;
        }
        line = nl + 1;
    }
    setlocale(LC_CTYPE, "C");
    free(s);
}

/* ------------------------------------------------------------ common fields */

/* An Ethernet + IPv4 + TCP frame (checksums left zero: mbx does not verify them). */
static size_t tcp_frame(uint8_t *b, const uint8_t src[4], const uint8_t dst[4], uint16_t sport,
                        uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack)
{
    memset(b, 0, 54);
    b[12] = 0x08; /* IPv4 */
    uint8_t *ip = b + 14, *tcp = b + 34;
    ip[0] = 0x45;
    ip[3] = 40; /* total length */
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    tcp[0] = (uint8_t)(sport >> 8);
    tcp[1] = (uint8_t)sport;
    tcp[2] = (uint8_t)(dport >> 8);
    tcp[3] = (uint8_t)dport;
    for (int i = 0; i < 4; i++) {
        tcp[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        tcp[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    tcp[12] = 0x50;
    tcp[13] = flags;
    tcp[14] = 0xff;
    tcp[15] = 0xff;
    return 54;
}

static void on_open(const struct mbx_event *ev, void *udata)
{
    mbx_out_begin(udata, mbx_engine_now(ev->engine), "open", ev->flow);
    mbx_out_end(udata);
}

/* mbx_out_begin with a flow: the client (the SYN's sender) is the source even
 * when the event fires on the server's packet, and community_id is the Community
 * ID spec's published value for this tuple (community-id-spec README: TCP
 * 128.232.110.120:34855 -> 66.35.250.204:80 = 1:LQU9qZlK+B5F3KDmev6m5PMibrg=). */
static void test_common_fields(void **state)
{
    static const uint8_t cli[4] = {128, 232, 110, 120}, srv[4] = {66, 35, 250, 204};
    uint8_t fb[3][64];
    struct mbx_frame fr[3];
    memset(fr, 0, sizeof(fr));
    size_t n0 = tcp_frame(fb[0], cli, srv, 34855, 80, MBX_TCP_SYN, 1000, 0);
    size_t n1 = tcp_frame(fb[1], srv, cli, 80, 34855, MBX_TCP_SYN | MBX_TCP_ACK, 5000, 1001);
    size_t n2 = tcp_frame(fb[2], cli, srv, 34855, 80, MBX_TCP_ACK, 1001, 5001);
    size_t lens[3] = {n0, n1, n2};
    for (int i = 0; i < 3; i++) {
        fr[i].data = fb[i];
        fr[i].caplen = fr[i].wirelen = (uint32_t)lens[i];
        fr[i].ts = 1359539512000000000ull + (mbx_time)i * 1000000; /* 1 ms apart */
        fr[i].linktype = MBX_LINK_ETHERNET;
    }
    struct mbx_out *o = open_tmp();
    mbx_engine *e = mbx_engine_new(NULL);
    assert_non_null(e);
    assert_true(mbx_subscribe(e, MBX_EV_TCP_SYN, on_open, o, 0) >= 0);
    assert_true(mbx_subscribe(e, MBX_EV_TCP_OPEN, on_open, o, 0) >= 0);
    bool fwd[3];
    assert_int_equal(mbx_engine_input(e, fr, fwd, 3), 3);
    mbx_engine_finish(e);
    mbx_engine_free(e);
    char *s = close_and_read(o, NULL);
    const char *tail = ",\"event_type\":\"open\",\"src_ip\":\"128.232.110.120\",\"src_port\":34855,"
                       "\"dest_ip\":\"66.35.250.204\",\"dest_port\":80,\"proto\":\"TCP\","
                       "\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\"}\n";
    /* tcp.syn on the first packet, tcp.open when the handshake completes. */
    char *second = strchr(s, '\n');
    assert_non_null(second);
    second++;
    assert_non_null(strstr(s, "{\"timestamp\":\"2013-01-30T09:51:52.000000+0000\",\"flow_id\":"));
    assert_non_null(strstr(second, "{\"timestamp\":\"2013-01-30T09:51:52.00"));
    assert_memory_equal(second - strlen(tail), tail, strlen(tail));
    assert_string_equal(second + strlen(second) - strlen(tail), tail);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timestamp),           cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_members_and_nesting), cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_large_output),        cmocka_unit_test(test_open_error),
        cmocka_unit_test(test_stats_record),        cmocka_unit_test(test_common_fields),
        cmocka_unit_test(test_escaping_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
