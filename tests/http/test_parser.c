/*
 * test_http_parser.c - unit tests of std.http's parser core (http_parser.h).
 *
 * Every case feeds a request stream and a response stream written here by
 * hand, and checks what the parser reports against what those bytes say by
 * construction (RFC 9112 framing): methods, URIs, statuses, body lengths, file
 * states, and SHA-256 of the plain body computed independently with libcrypto
 * over the plain text (bodies are compressed here with zlib's own encoder).
 * Each stream is also fed in every split (whole, byte by byte, and several
 * fixed chunk sizes): the report must be identical.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "http_parser.h"

/* ------------------------------------------------------------ recorder */

#define LOG_MAX 65536

struct rec {
    char log[LOG_MAX]; /* one line per callback */
    size_t len;
    int ntx, nfiles, nreq, nresp;
    struct mbx_http_tx tx[HTTP_TX_MAX + 8]; /* completed transactions, in order */
    struct mbx_http_file_info file[64];     /* closed files, in order */
    char fname[64][128];
    uint64_t data_bytes;  /* file_data bytes */
    uint64_t next_off[2]; /* file_data offsets must increase */
    bool off_ok;
    uint32_t anomalies; /* bit per anomaly seen */
};

__attribute__((format(printf, 2, 3))) static void logf_(struct rec *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->log + r->len, LOG_MAX - r->len, fmt, ap);
    va_end(ap);
    if (n > 0 && r->len + (size_t)n < LOG_MAX)
        r->len += (size_t)n;
}

static void c_req(void *u, const struct mbx_http_tx *tx)
{
    struct rec *r = u;
    r->nreq++;
    logf_(r, "REQ %llu %s %s %s\n", (unsigned long long)tx->tx_id, tx->method, tx->uri, tx->host);
}

static void c_resp(void *u, const struct mbx_http_tx *tx)
{
    struct rec *r = u;
    r->nresp++;
    logf_(r, "RESP %llu %d\n", (unsigned long long)tx->tx_id, tx->status);
}

static void c_data(void *u, const struct mbx_http_file_data *d)
{
    struct rec *r = u;
    int s = d->file->side;
    if (d->offset < r->next_off[s]) /* increasing; a jump only across a gap */
        r->off_ok = false;
    r->next_off[s] = d->offset + d->len;
    r->data_bytes += d->len;
}

static void c_end(void *u, const struct mbx_http_file_info *f)
{
    struct rec *r = u;
    char hex[65] = "-";
    if (f->has_sha256)
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", f->sha256[i]);
    logf_(r, "FILE %d %s %llu %s gaps=%d %s\n", f->side, f->name, (unsigned long long)f->size,
          mbx_http_file_state_name(f->state), f->gaps, hex);
    if (r->nfiles < 64) {
        r->file[r->nfiles] = *f;
        snprintf(r->fname[r->nfiles], sizeof r->fname[0], "%s", f->name);
    }
    r->nfiles++;
    r->next_off[f->side] = 0;
}

static void c_done(void *u, const struct mbx_http_tx *tx)
{
    struct rec *r = u;
    logf_(r, "TX %llu %s %s %s %d req=%llu resp=%llu gaps=%d anom=%x\n",
          (unsigned long long)tx->tx_id, tx->method, tx->uri, tx->protocol, tx->status,
          (unsigned long long)tx->request_body_len, (unsigned long long)tx->response_body_len,
          tx->gaps, tx->anomalies);
    if (r->ntx < HTTP_TX_MAX + 8)
        r->tx[r->ntx] = *tx;
    r->ntx++;
}

static void c_anom(void *u, const struct mbx_http_tx *tx, enum mbx_http_anomaly a)
{
    struct rec *r = u;
    r->anomalies |= 1u << a;
    logf_(r, "ANOM %s\n", mbx_http_anomaly_name(a));
}

static const struct http_callbacks cbs = {c_req, c_resp, c_data, c_end, c_done, c_anom};

/* A scripted connection: steps of (direction, bytes) or gaps or eof. */
struct step {
    int kind; /* 0 data, 1 gap */
    enum http_dir d;
    const void *data;
    size_t len; /* bytes (data) or gap length */
};
#define REQ(s)                                                                                     \
    {                                                                                              \
        0, HTTP_DIR_REQ, (s), sizeof(s) - 1                                                        \
    }
#define RESP(s)                                                                                    \
    {                                                                                              \
        0, HTTP_DIR_RESP, (s), sizeof(s) - 1                                                       \
    }
#define RAWREQ(p, n)                                                                               \
    {                                                                                              \
        0, HTTP_DIR_REQ, (p), (n)                                                                  \
    }
#define RAWRESP(p, n)                                                                              \
    {                                                                                              \
        0, HTTP_DIR_RESP, (p), (n)                                                                 \
    }
#define GAP(dir, n)                                                                                \
    {                                                                                              \
        1, (dir), NULL, (n)                                                                        \
    }

/* Runs the steps, each data step cut into chunks of `chunk` bytes (0: whole). */
static struct rec *run(const struct step *st, int nst, size_t chunk, bool clean)
{
    struct rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->off_ok = true;
    struct http_parser *p = http_parser_new(&cbs, r, true);
    assert_non_null(p);
    for (int i = 0; i < nst; i++) {
        if (st[i].kind == 1) {
            http_parser_gap(p, st[i].d, st[i].len);
            continue;
        }
        const uint8_t *b = st[i].data;
        size_t n = st[i].len;
        size_t c = chunk ? chunk : n;
        for (size_t off = 0; off < n; off += c)
            http_parser_feed(p, st[i].d, b + off, n - off < c ? n - off : c);
    }
    http_parser_close(p, clean);
    http_parser_free(p);
    return r;
}

/* Runs in every split and checks the reports agree; returns the whole-feed one. */
static struct rec *run_all(const struct step *st, int nst, bool clean)
{
    static const size_t chunks[] = {1, 2, 3, 5, 7, 13, 64, 1000};
    struct rec *whole = run(st, nst, 0, clean);
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        struct rec *r = run(st, nst, chunks[i], clean);
        if (strcmp(whole->log, r->log) != 0)
            fail_msg("chunk %zu differs:\n--- whole\n%s--- split\n%s", chunks[i], whole->log,
                     r->log);
        assert_int_equal(r->data_bytes, whole->data_bytes);
        assert_true(r->off_ok);
        free(r);
    }
    assert_true(whole->off_ok);
    return whole;
}

static void sha256_hex(const void *d, size_t n, uint8_t out[32])
{
    unsigned len = 0;
    EVP_Digest(d, n, out, &len, EVP_sha256(), NULL);
    assert_int_equal(len, 32);
}

static bool has_anom(const struct rec *r, enum mbx_http_anomaly a)
{
    return (r->anomalies >> a) & 1u;
}

/* ------------------------------------------------------------ cases */

static void test_simple_get(void **state)
{
    static const struct step st[] = {
        REQ("GET /dir/file.txt?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: ua/1\r\n\r\n"),
        RESP("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\n"
             "hello world"),
    };
    struct rec *r = run_all(st, 2, true);
    assert_int_equal(r->ntx, 1);
    assert_string_equal(r->tx[0].method, "GET");
    assert_string_equal(r->tx[0].uri, "/dir/file.txt?x=1");
    assert_string_equal(r->tx[0].host, "example.com");
    assert_string_equal(r->tx[0].user_agent, "ua/1");
    assert_string_equal(r->tx[0].protocol, "HTTP/1.1");
    assert_string_equal(r->tx[0].content_type, "text/plain");
    assert_int_equal(r->tx[0].status, 200);
    assert_int_equal(r->tx[0].response_body_len, 11);
    assert_int_equal(r->nfiles, 1);
    assert_string_equal(r->fname[0], "/dir/file.txt");
    assert_int_equal(r->file[0].size, 11);
    assert_int_equal(r->file[0].state, MBX_HTTP_FILE_CLOSED);
    assert_false(r->file[0].gaps);
    uint8_t want[32];
    sha256_hex("hello world", 11, want);
    assert_true(r->file[0].has_sha256);
    assert_memory_equal(r->file[0].sha256, want, 32);
    assert_int_equal(r->anomalies, 0);
    free(r);
}

/* Three pipelined requests, then three responses: matched in order; the
 * middle one has an empty body (no file), a request body is a file too. */
static void test_pipelining_keepalive(void **state)
{
    static const struct step st[] = {
        REQ("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
            "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd"
            "GET /c HTTP/1.1\r\nHost: h\r\n\r\n"),
        RESP("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
             "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
             "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nCCC"),
        REQ("GET /d HTTP/1.1\r\nHost: h\r\n\r\n"),
        RESP("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nDD"),
    };
    struct rec *r = run_all(st, 4, true);
    assert_int_equal(r->ntx, 4);
    const char *uris[] = {"/a", "/b", "/c", "/d"};
    const int status[] = {200, 201, 404, 200};
    const uint64_t rlen[] = {1, 0, 3, 2};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r->tx[i].tx_id, i);
        assert_string_equal(r->tx[i].uri, uris[i]);
        assert_int_equal(r->tx[i].status, status[i]);
        assert_int_equal(r->tx[i].response_body_len, rlen[i]);
    }
    assert_int_equal(r->tx[1].request_body_len, 4);
    assert_int_equal(r->nfiles, 4); /* A, abcd (request), CCC, DD */
    assert_int_equal(r->anomalies, 0);
    free(r);
}

static void test_chunked_trailers(void **state)
{
    static const struct step st[] = {
        REQ("GET /c HTTP/1.1\r\nHost: h\r\n\r\n"),
        RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5;ext=1\r\nhello\r\n"
             "06\r\n world\r\n"
             "0\r\nX-Trailer: yes\r\nContent-Length: 99\r\n\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        REQ("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
    };
    struct rec *r = run_all(st, 3, true);
    assert_int_equal(r->ntx, 2);
    assert_int_equal(r->tx[0].response_body_len, 11);
    assert_int_equal(r->tx[1].status, 200);
    assert_string_equal(r->tx[1].uri, "/next");
    assert_int_equal(r->nfiles, 1);
    uint8_t want[32];
    sha256_hex("hello world", 11, want);
    assert_memory_equal(r->file[0].sha256, want, 32);
    assert_int_equal(r->file[0].state, MBX_HTTP_FILE_CLOSED);
    free(r);
}

/* Zeek issue 261 variant 01: a chunk size of 2^64 must not wrap to 0; the
 * parser flags it and resynchronises on the request behind it. */
static void test_chunk_overflow(void **state)
{
    static const struct step st[] = {
        REQ("POST /upload HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked\r\n\r\n"
            "10000000000000000\r\n\r\n"
            "GET /smuggled-chunk-2pow64 HTTP/1.1\r\nHost: target\r\n\r\n"),
        RESP("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
    };
    struct rec *r = run_all(st, 2, true);
    assert_true(has_anom(r, MBX_HTTP_ANOM_INVALID_CHUNK_LEN));
    assert_int_equal(r->ntx, 2);
    assert_string_equal(r->tx[0].uri, "/upload");
    assert_int_equal(r->tx[0].status, 400);
    assert_string_equal(r->tx[1].uri, "/smuggled-chunk-2pow64");
    assert_string_equal(r->tx[1].method, "GET");
    free(r);
}

static void test_100_continue_multiple(void **state)
{
    static const struct step st[] = {
        REQ("POST /p HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"),
        RESP("HTTP/1.1 100 Continue\r\n\r\n"),
        REQ("xyz"),
        RESP("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    };
    struct rec *r = run_all(st, 4, true);
    assert_int_equal(r->ntx, 1);
    assert_int_equal(r->nresp, 1); /* interim responses are not reported */
    assert_int_equal(r->tx[0].status, 200);
    assert_int_equal(r->tx[0].request_body_len, 3);
    assert_int_equal(r->tx[0].response_body_len, 2);
    assert_int_equal(r->anomalies, 0);
    free(r);
}

static void test_connect_opaque(void **state)
{
    static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x00, 0x05, 'G', 'E', 'T', ' ', '\n'};
    static const struct step st[] = {
        REQ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
        RESP("HTTP/1.1 200 Connection established\r\n\r\n"),
        RAWREQ(tls, sizeof tls),
        RAWRESP(tls, sizeof tls),
        REQ("GET /not-http HTTP/1.1\r\n\r\n"),
    };
    struct rec *r = run_all(st, 5, true);
    assert_int_equal(r->ntx, 1);
    assert_string_equal(r->tx[0].method, "CONNECT");
    assert_string_equal(r->tx[0].uri, "example.com:443");
    assert_int_equal(r->tx[0].status, 200);
    assert_int_equal(r->nfiles, 0);
    free(r);
}

/* suricata-verify http-connect-simple's shape: plain HTTP inside the tunnel is parsed. */
static void test_connect_http_inside(void **state)
{
    static const struct step st[] = {
        REQ("CONNECT www.example.com:80 HTTP/1.1\r\nHost: www.example.com:80\r\n\r\n"),
        RESP("HTTP/1.1 200 Connection established\r\n\r\n"),
        REQ("GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n"),
        RESP("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
    };
    struct rec *r = run_all(st, 4, true);
    assert_int_equal(r->ntx, 2);
    assert_string_equal(r->tx[0].method, "CONNECT");
    assert_string_equal(r->tx[1].method, "GET");
    assert_int_equal(r->tx[1].status, 200);
    free(r);
}

static void test_bodiless(void **state)
{
    static const struct step st[] = {
        REQ("HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n"
            "GET /n HTTP/1.1\r\nHost: h\r\n\r\n"
            "GET /m HTTP/1.1\r\nHost: h\r\n\r\n"
            "GET /last HTTP/1.1\r\nHost: h\r\n\r\n"),
        RESP("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
             "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
             "HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast"),
    };
    struct rec *r = run_all(st, 2, true);
    assert_int_equal(r->ntx, 4);
    assert_int_equal(r->tx[0].status, 200);
    assert_int_equal(r->tx[0].response_body_len, 0);
    assert_int_equal(r->tx[1].status, 204);
    assert_int_equal(r->tx[2].status, 304);
    assert_int_equal(r->tx[3].response_body_len, 4);
    assert_int_equal(r->nfiles, 1);
    free(r);
}

/* The response comes first (asynchronous capture): it still pairs, with an anomaly. */
static void test_response_first(void **state)
{
    static const struct step st[] = {
        RESP("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nWorld"),
        REQ("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"),
    };
    struct rec *r = run_all(st, 2, true);
    assert_int_equal(r->ntx, 1);
    assert_string_equal(r->tx[0].uri, "/1");
    assert_int_equal(r->tx[0].status, 200);
    assert_true(has_anom(r, MBX_HTTP_ANOM_UNABLE_TO_MATCH_RESPONSE_TO_REQUEST));
    free(r);
}

/* suricata-verify http-not09's request: no version, LF line ends, a header
 * without a colon; not HTTP/0.9: headers are still read. */
static void test_not_http09(void **state)
{
    static const struct step st[] = {
        REQ("GET /\nFakeHeader\nHost: localhost\nUser-Agent: myscript\n\n"),
        RESP("<html>a 0.9-style reply</html>\n"),
    };
    struct rec *r = run_all(st, 2, true);
    assert_int_equal(r->ntx, 1);
    assert_string_equal(r->tx[0].user_agent, "myscript");
    assert_string_equal(r->tx[0].host, "localhost");
    assert_string_equal(r->tx[0].protocol, "");
    assert_true(has_anom(r, MBX_HTTP_ANOM_REQUEST_LINE_MISSING_PROTOCOL));
    assert_true(has_anom(r, MBX_HTTP_ANOM_HEADER_INVALID));
    free(r);
}

/* A hole inside a Content-Length body: the body keeps its length, the file
 * is TRUNCATED with gaps, and the next transaction is intact. */
static void test_gap_in_body(void **state)
{
    static const struct step st[] = {
        REQ("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
        RESP("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123"),
        GAP(HTTP_DIR_RESP, 4),
        RESP("89HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    };
    struct rec *r = run_all(st, 4, true);
    assert_int_equal(r->ntx, 2);
    assert_true(r->tx[0].gaps);
    assert_int_equal(r->tx[0].response_body_len, 10);
    assert_int_equal(r->nfiles, 2);
    assert_int_equal(r->file[0].size, 10);
    assert_true(r->file[0].gaps);
    assert_int_equal(r->file[0].state, MBX_HTTP_FILE_TRUNCATED);
    assert_false(r->file[0].has_sha256);
    assert_int_equal(r->file[1].state, MBX_HTTP_FILE_CLOSED);
    assert_int_equal(r->tx[1].status, 200);
    free(r);
}

/* A hole past the end of a body: resynchronise on the next status line. */
static void test_gap_beyond_body(void **state)
{
    static const struct step st[] = {
        REQ("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n"),
        RESP("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123"),
        GAP(HTTP_DIR_RESP, 30),
        RESP("Type: text/plain\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz"),
    };
    struct rec *r = run_all(st, 4, true);
    assert_int_equal(r->ntx, 3);
    assert_int_equal(r->file[0].state, MBX_HTTP_FILE_TRUNCATED);
    assert_int_equal(r->file[0].size, 10);
    assert_true(has_anom(r, MBX_HTTP_ANOM_RESYNC));
    /* the status line after the hole pairs with the next request in order */
    assert_int_equal(r->tx[1].status, 200);
    assert_int_equal(r->tx[1].response_body_len, 3);
    assert_int_equal(r->tx[2].status, 0);
    free(r);
}

/* Compress with zlib's encoder: wbits 15+16 gzip, 15 zlib, -15 raw deflate. */
static size_t zcomp(const uint8_t *in, size_t n, uint8_t *out, size_t cap, int wbits)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t m = cap - z.avail_out;
    deflateEnd(&z);
    return m;
}

static void check_encoded(const char *encoding, const int *wbits, int nlayers)
{
    static uint8_t plain[50000], a[60000], b[60000];
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = (uint8_t)("The quick brown fox "[i % 20] + (i / 997) % 3);
    size_t n = sizeof plain;
    const uint8_t *cur = plain;
    uint8_t *bufs[2] = {a, b};
    for (int i = 0; i < nlayers; i++) {
        n = zcomp(cur, n, bufs[i % 2], sizeof a, wbits[i]);
        cur = bufs[i % 2];
    }
    static char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %zu\r\n\r\n",
                      encoding, n);
    const struct step st[] = {
        REQ("GET /z.bin HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip, deflate\r\n\r\n"),
        RAWRESP(head, (size_t)hl),
        RAWRESP(cur, n),
    };
    struct rec *r = run_all(st, 3, true);
    assert_int_equal(r->ntx, 1);
    assert_int_equal(r->tx[0].response_body_len, n); /* on the wire */
    assert_int_equal(r->nfiles, 1);
    assert_int_equal(r->file[0].size, sizeof plain); /* decoded */
    assert_int_equal(r->file[0].state, MBX_HTTP_FILE_CLOSED);
    uint8_t want[32];
    sha256_hex(plain, sizeof plain, want);
    assert_true(r->file[0].has_sha256);
    assert_memory_equal(r->file[0].sha256, want, 32);
    assert_int_equal(r->anomalies, 0);
    free(r);
}

static void test_gzip(void **state)
{
    const int w[] = {15 + 16};
    check_encoded("gzip", w, 1);
}

static void test_deflate_zlib_and_raw(void **state)
{
    const int w1[] = {15};
    check_encoded("deflate", w1, 1);
    const int w2[] = {-15};
    check_encoded("deflate", w2, 1);
}

/* "Content-Encoding: gzip, deflate, gzip": gzip applied first, then deflate,
 * then gzip; decoded in the opposite order. */
static void test_stacked_encodings(void **state)
{
    const int w[] = {15 + 16, 15, 15 + 16};
    check_encoded("gzip, deflate, gzip", w, 3);
}

static void test_corrupt_gzip(void **state)
{
    static const struct step st[] = {
        REQ("GET /bad HTTP/1.1\r\n\r\n"),
        RESP("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\n"
             "\x1f\x8bnot gzip!!"),
    };
    struct rec *r = run_all(st, 2, true);
    assert_true(has_anom(r, MBX_HTTP_ANOM_DECOMPRESSION_FAILED));
    assert_int_equal(r->nfiles, 1);
    assert_int_equal(r->file[0].state, MBX_HTTP_FILE_TRUNCATED);
    assert_int_equal(r->tx[0].response_body_len, 12);
    free(r);
}

/* Lines after a complete response body that are not a status line belong to
 * that body, as in libhtp: suricata-verify http-gap-simple (test.yaml) expects
 * file size 14 for "Content-Length: 12" followed by "Hello World!\r\n". */
static void test_response_extra_lines(void **state)
{
    static const struct step st[] = {
        REQ("GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n"),
        RESP("HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\nHello World!\r\n"
             "HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\nHello People\r\n"),
    };
    struct rec *r = run_all(st, 2, true);
    assert_int_equal(r->ntx, 2);
    assert_int_equal(r->nfiles, 2);
    assert_int_equal(r->file[0].size, 14);
    assert_int_equal(r->file[1].size, 14);
    assert_int_equal(r->file[0].state, MBX_HTTP_FILE_CLOSED);
    uint8_t want[32];
    sha256_hex("Hello World!\r\n", 14, want);
    assert_memory_equal(r->file[0].sha256, want, 32);
    free(r);
}

/* multipart/form-data (RFC 7578): each part with a filename is a file; the
 * content holds near-delimiters ("\r\n--", "\r\n--XY") that must stay content. */
static void test_multipart(void **state)
{
    static const char part1[] = "line1\r\n--not\r\n--XYnot\r\r\n-\r\nend";
    static const char body[] =
        "--XYZ\r\n"
        "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
        "plain field\r\n"
        "--XYZ\r\n"
        "Content-Disposition: form-data; name=\"f\"; filename=\"up.bin\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
        "line1\r\n--not\r\n--XYnot\r\r\n-\r\nend\r\n"
        "--XYZ\r\n"
        "Content-Disposition: form-data; name=\"g\"; filename=\"two.txt\"\r\n\r\n"
        "2\r\n"
        "--XYZ--\r\nepilogue";
    static char req[1024];
    int n = snprintf(req, sizeof req,
                     "POST /up HTTP/1.1\r\nHost: h\r\n"
                     "Content-Type: multipart/form-data; boundary=\"XYZ\"\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     sizeof body - 1, body);
    const struct step st[] = {
        RAWREQ(req, (size_t)n),
        RESP("HTTP/1.1 204 No Content\r\n\r\n"),
    };
    struct rec *r = run_all(st, 2, true);
    assert_int_equal(r->ntx, 1);
    assert_int_equal(r->tx[0].request_body_len, sizeof body - 1);
    assert_int_equal(r->nfiles, 2);
    assert_string_equal(r->fname[0], "up.bin");
    assert_int_equal(r->file[0].size, sizeof part1 - 1);
    uint8_t want[32];
    sha256_hex(part1, sizeof part1 - 1, want);
    assert_memory_equal(r->file[0].sha256, want, 32);
    assert_int_equal(r->file[0].state, MBX_HTTP_FILE_CLOSED);
    assert_string_equal(r->fname[1], "two.txt");
    assert_int_equal(r->file[1].size, 1);
    free(r);
}

/* Without bodies, a body until close needs no bytes: the parser says so, and
 * counts bytes it is told went by unread. */
static void test_wants_data(void **state)
{
    struct rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    struct http_parser *p = http_parser_new(&cbs, r, false);
    assert_non_null(p);
    static const char req[] = "GET /old HTTP/1.0\r\n\r\n";
    static const char resp[] = "HTTP/1.0 200 OK\r\n\r\nfirst";
    http_parser_feed(p, HTTP_DIR_REQ, (const uint8_t *)req, sizeof req - 1);
    assert_true(http_parser_wants_data(p, HTTP_DIR_RESP));
    http_parser_feed(p, HTTP_DIR_RESP, (const uint8_t *)resp, sizeof resp - 1);
    assert_false(http_parser_wants_data(p, HTTP_DIR_RESP));
    assert_true(http_parser_wants_data(p, HTTP_DIR_REQ));
    http_parser_skipped(p, HTTP_DIR_RESP, 1000);
    http_parser_close(p, true);
    http_parser_free(p);
    assert_int_equal(r->ntx, 1);
    assert_int_equal(r->tx[0].response_body_len, 5 + 1000);
    assert_int_equal(r->tx[0].response_body_decoded, 5 + 1000);
    assert_int_equal(r->nfiles, 0);
    free(r);
}

/* A body until close ends when its side ends (FIN), before the connection does. */
static void test_eof_ends_body(void **state)
{
    struct rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    struct http_parser *p = http_parser_new(&cbs, r, true);
    assert_non_null(p);
    static const char req[] = "GET /e HTTP/1.0\r\n\r\n";
    static const char resp[] = "HTTP/1.0 200 OK\r\n\r\nuntil the end";
    http_parser_feed(p, HTTP_DIR_REQ, (const uint8_t *)req, sizeof req - 1);
    http_parser_feed(p, HTTP_DIR_RESP, (const uint8_t *)resp, sizeof resp - 1);
    assert_int_equal(r->ntx, 0);
    http_parser_eof(p, HTTP_DIR_RESP);
    assert_int_equal(r->ntx, 1); /* done at the FIN, not at the close */
    assert_int_equal(r->nfiles, 1);
    assert_int_equal(r->file[0].state, MBX_HTTP_FILE_CLOSED);
    assert_int_equal(r->file[0].size, 13);
    http_parser_close(p, false);
    http_parser_free(p);
    assert_int_equal(r->ntx, 1);
    free(r);
}

/* "GET  HTTP/1.1" (Zeek's no-uri trace): an empty target, not a missing version. */
static void test_empty_uri(void **state)
{
    static const struct step st[] = {
        REQ("GET  HTTP/1.1\r\nHost: bro.org\r\n\r\n"),
        RESP("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    };
    struct rec *r = run_all(st, 2, true);
    assert_int_equal(r->ntx, 1);
    assert_string_equal(r->tx[0].uri, "");
    assert_string_equal(r->tx[0].protocol, "HTTP/1.1");
    assert_false(has_anom(r, MBX_HTTP_ANOM_REQUEST_LINE_MISSING_PROTOCOL));
    free(r);
}

/* libhtp's leniency, as suricata-verify's http-evader cases need it (each
 * body is the EICAR string's stand-in "HELLO-WORLD!" here): junk after a chunk
 * size, stray empty lines, "chunked" inside another token, a folded
 * Transfer-Encoding, a lone CR between headers, a lowercase version, and a
 * Content-Disposition filename naming the file. */
static void check_lenient(const char *resp, size_t n, const char *want_body)
{
    const struct step st[] = {
        REQ("GET /x/y HTTP/1.1\r\nHost: evader\r\n\r\n"),
        RAWRESP(resp, n),
    };
    struct rec *r = run_all(st, 2, true);
    assert_int_equal(r->ntx, 1);
    assert_int_equal(r->tx[0].status, 200);
    assert_int_equal(r->nfiles, 1);
    assert_string_equal(r->fname[0], "e.txt");
    uint8_t want[32];
    sha256_hex(want_body, strlen(want_body), want);
    assert_true(r->file[0].has_sha256);
    assert_memory_equal(r->file[0].sha256, want, 32);
    free(r);
}
#define LENIENT(resp, body) check_lenient(resp, sizeof(resp) - 1, body)
#define CD                  "Content-Disposition: attachment; filename=\"e.txt\"\r\n"

static void test_lenient_framing(void **state)
{
    LENIENT("HTTP/1.1 200 ok\r\n" CD "Transfer-Encoding: chunked\r\n\r\n"
            "6x\r\nHELLO-\r\n6,\r\nWORLD!\r\n0\r\n\r\n",
            "HELLO-WORLD!");
    LENIENT("HTTP/1.1 200 ok\r\n" CD "Transfer-Encoding: chunked\r\n\r\n"
            "\n6\r\nHELLO-\r\n\n\x0c"
            "6\r\nWORLD!\r\n0\r\n\r\n",
            "HELLO-WORLD!");
    LENIENT("HTTP/1.1 200 ok\r\n" CD "Transfer-Encoding: xchunked\r\n\r\n"
            "6\r\nHELLO-\r\n6\r\nWORLD!\r\n0\r\n\r\n",
            "HELLO-WORLD!");
    LENIENT("HTTP/1.1 200 ok\r\n" CD "Transfer-Encoding:\r\n chunked\r\n\r\n"
            "6\r\nHELLO-\r\n6\r\nWORLD!\r\n0\r\n\r\n",
            "HELLO-WORLD!");
    LENIENT("http/1.1 200 ok\r\n"
            "Content-Disposition: attachment; filename=e.txt\r"
            "Transfer-Encoding: chunked\r\n\r\n"
            "6\r\nHELLO-\r\n6\r\nWORLD!\r\n0\r\n\r\n",
            "HELLO-WORLD!");
    /* "chunked" over a body that is not: Content-Length frames it */
    LENIENT("HTTP/1.1 200 ok\r\n" CD "Transfer-Encoding: chunked\r\nContent-Length: 14\r\n\r\n"
            "HELLO-WORLD!\r\n",
            "HELLO-WORLD!\r\n");
    /* ... or the close, even without a line end */
    LENIENT("HTTP/1.0 200 ok\r\n" CD "Transfer-Encoding: chunked\r\n\r\nHELLO-WORLD!",
            "HELLO-WORLD!");
}

/* No framing: the body runs to the end of the connection. */
static void test_until_close(void **state)
{
    static const struct step st[] = {
        REQ("GET /old HTTP/1.0\r\n\r\n"),
        RESP("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>body</html>"),
    };
    struct rec *r = run_all(st, 2, true);
    assert_int_equal(r->ntx, 1);
    assert_string_equal(r->tx[0].protocol, "HTTP/1.0");
    assert_int_equal(r->tx[0].response_body_len, 17);
    assert_int_equal(r->file[0].state, MBX_HTTP_FILE_CLOSED);
    free(r);
    /* a capture that ends before the connection does: TRUNCATED */
    r = run_all(st, 2, false);
    assert_int_equal(r->file[0].state, MBX_HTTP_FILE_TRUNCATED);
    free(r);
}

static void test_limits_and_bad_lengths(void **state)
{
    static char big[3 * HTTP_LINE_MAX];
    static char req[4 * HTTP_LINE_MAX];
    memset(big, 'a', sizeof big - 1);
    int n = snprintf(req, sizeof req, "GET /long HTTP/1.1\r\nX-Big: %s\r\nHost: h\r\n\r\n", big);
    const struct step st[] = {
        RAWREQ(req, (size_t)n),
        RESP("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nabc"),
    };
    struct rec *r = run_all(st, 2, true);
    assert_true(has_anom(r, MBX_HTTP_ANOM_LINE_TOO_LONG));
    assert_true(has_anom(r, MBX_HTTP_ANOM_INVALID_CONTENT_LENGTH));
    assert_int_equal(r->ntx, 1);
    assert_string_equal(r->tx[0].host, "h");
    assert_int_equal(r->tx[0].response_body_len, 3); /* read until close */
    free(r);

    /* a header section above HTTP_HEADERS_MAX is flagged, memory stays bounded */
    static char many[2 * HTTP_HEADERS_MAX];
    size_t m = (size_t)snprintf(many, sizeof many, "GET /many HTTP/1.1\r\n");
    while (m < HTTP_HEADERS_MAX + HTTP_HEADERS_MAX / 2)
        m += (size_t)snprintf(many + m, sizeof many - m, "X-A: 0123456789\r\n");
    m += (size_t)snprintf(many + m, sizeof many - m, "\r\n");
    const struct step st2[] = {RAWREQ(many, m)};
    r = run(st2, 1, 0, true);
    assert_true(has_anom(r, MBX_HTTP_ANOM_HEADERS_TOO_LONG));
    assert_int_equal(r->ntx, 1);
    free(r);
}

/* More requests queued than the ring holds: the oldest are reported early,
 * nothing is lost or crashes. */
static void test_pipeline_overflow(void **state)
{
    static char req[32768];
    size_t n = 0;
    for (int i = 0; i < HTTP_TX_MAX + 4; i++)
        n += (size_t)snprintf(req + n, sizeof req - n, "GET /%d HTTP/1.1\r\n\r\n", i);
    const struct step st[] = {RAWREQ(req, n)};
    struct rec *r = run_all(st, 1, true);
    assert_int_equal(r->ntx, HTTP_TX_MAX + 4);
    assert_true(has_anom(r, MBX_HTTP_ANOM_TOO_MANY_PIPELINED));
    for (int i = 0; i < HTTP_TX_MAX + 4; i++)
        assert_int_equal(r->tx[i].tx_id, i);
    free(r);
}

/* Garbage in either direction never crashes and yields no transaction. */
static void test_garbage(void **state)
{
    static uint8_t junk[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (uint8_t)(x >> 16);
    }
    const struct step st[] = {RAWREQ(junk, sizeof junk), RAWRESP(junk, sizeof junk)};
    struct rec *r = run_all(st, 2, true);
    assert_int_equal(r->nreq, 0);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_pipelining_keepalive),
        cmocka_unit_test(test_chunked_trailers),
        cmocka_unit_test(test_chunk_overflow),
        cmocka_unit_test(test_100_continue_multiple),
        cmocka_unit_test(test_connect_opaque),
        cmocka_unit_test(test_connect_http_inside),
        cmocka_unit_test(test_bodiless),
        cmocka_unit_test(test_response_first),
        cmocka_unit_test(test_not_http09),
        cmocka_unit_test(test_gap_in_body),
        cmocka_unit_test(test_gap_beyond_body),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_deflate_zlib_and_raw),
        cmocka_unit_test(test_stacked_encodings),
        cmocka_unit_test(test_corrupt_gzip),
        cmocka_unit_test(test_response_extra_lines),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_wants_data),
        cmocka_unit_test(test_empty_uri),
        cmocka_unit_test(test_eof_ends_body),
        cmocka_unit_test(test_lenient_framing),
        cmocka_unit_test(test_until_close),
        cmocka_unit_test(test_limits_and_bad_lengths),
        cmocka_unit_test(test_pipeline_overflow),
        cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
