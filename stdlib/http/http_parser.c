/*
 * http_parser.c - the HTTP/1.x push parser core of std.http (see http_parser.h).
 *
 * Each direction is a small state machine over lines (start line, headers,
 * chunk sizes, trailers) and counted byte runs (bodies).  Lines are gathered
 * in a fixed buffer, so a line split over any number of chunks parses as if
 * it came whole; bytes past HTTP_LINE_MAX are dropped with an anomaly.  Body
 * bytes are never copied: they go straight from the caller's chunk through
 * the zlib layers into the digest and the file_data callback.
 *
 * Transactions live in a ring that doubles as requests queue up (to
 * HTTP_TX_MAX; beyond, the oldest is reported early).  The request side
 * claims the next transaction when it parses a request line, the response
 * side when it parses a status line; whichever comes first creates it, so a
 * response seen before its request (an asynchronous capture) still pairs
 * with it, with an anomaly.  A transaction is reported done when both sides
 * have finished with it.
 *
 * Where real traffic and evasions call for leniency, the parser does what
 * libhtp (Suricata) does, and the tests name the case that shows it: lines
 * after a complete body that are not a start line extend that body; junk
 * after a chunk size is ignored; "chunked" anywhere in a Transfer-Encoding
 * token counts; a chunked body whose first line is not a size is plain; a
 * lone CR ends a header line; a version may be lowercase.  HTTP/0.9 is not
 * assumed: a request line without a version still has headers.
 */
#include "http_parser.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <zlib.h>

enum http_state {
    ST_START,        /* expecting a request or status line */
    ST_FINALIZE,     /* after a body: lines that are not a start line extend it */
    ST_HEADERS,      /* header lines until the empty line */
    ST_BODY_LEN,     /* Content-Length body: remaining bytes */
    ST_CHUNK_SIZE,   /* chunk size line */
    ST_CHUNK_DATA,   /* chunk data: remaining bytes */
    ST_CHUNK_CRLF,   /* the empty line after chunk data */
    ST_TRAILERS,     /* trailer lines after the last chunk */
    ST_BODY_CLOSE,   /* body until the connection closes */
    ST_TUNNEL_PROBE, /* after CONNECT: HTTP inside, or opaque? */
    ST_TUNNEL,       /* opaque: bytes ignored */
    ST_RESYNC,       /* framing lost: skipping lines until a start line */
};

enum http_enc { ENC_GZIP = 1, ENC_DEFLATE = 2 };
enum http_hdr { HDR_OTHER = 0, HDR_TE, HDR_CE }; /* headers whose folded lines matter */

#define HTTP_MP_BOUNDARY_MAX 70 /* RFC 2046 5.1.1 */

enum http_mp_state { MP_PREAMBLE, MP_AFTER_DELIM, MP_PAD, MP_HEADERS, MP_DATA, MP_EPILOGUE };

/* A multipart/form-data request body (RFC 7578): each part that names a
 * filename is a file of its own, as Suricata reports them. */
struct http_mp {
    bool on;                                 /* the body is multipart */
    uint8_t delim[4 + HTTP_MP_BOUNDARY_MAX]; /* "\r\n--" boundary */
    size_t dlen;                             /* its length */
    size_t match;                            /* bytes of delim matched (held back) */
    enum http_mp_state st;                   /* where the parser is */
    uint8_t after[2];                        /* bytes after a delimiter ("--": the end) */
    size_t nafter;                           /* their count */
    uint8_t line[512];                       /* a part header line */
    size_t linelen;                          /* its bytes */
    char fname[MBX_HTTP_FIELD_MAX];          /* the part's filename, "" if none */
};

struct http_body {
    struct mbx_http_file_info info; /* what file_end reports */
    char name[MBX_HTTP_URI_MAX];    /* info.name points here */
    bool open;                      /* a file exists (a byte or a gap was seen) */
    bool dec_failed;                /* a zlib layer failed: output stopped */
    EVP_MD_CTX *md;                 /* SHA-256 of the decoded bytes */
    int nlayers;                    /* Content-Encodings to undo */
    int kind[HTTP_MAX_LAYERS];      /* enum http_enc, in header order */
    z_stream z[HTTP_MAX_LAYERS];    /* one inflater per layer */
    bool zinit[HTTP_MAX_LAYERS];    /* z[i] initialised */
    bool zend[HTTP_MAX_LAYERS];     /* z[i] saw the end of its stream */
    uint64_t off;                   /* decoded bytes so far (of the open file) */
    bool started;                   /* body bytes or a gap were seen */
    struct http_mp mp;              /* multipart/form-data: one file per part */
};

struct http_half {
    enum http_state st;          /* where this direction is */
    uint8_t line[HTTP_LINE_MAX]; /* the line being gathered */
    size_t linelen;              /* bytes in line */
    bool line_over;              /* the line overflowed (anomaly sent) */
    size_t hdr_bytes;            /* header section bytes so far */
    bool hdr_over;               /* header section over the limit (anomaly sent) */
    uint64_t remaining;          /* body or chunk bytes still expected */
    bool has_cur;                /* cur names a transaction */
    uint64_t cur;                /* the transaction this direction is on */
    /* framing of the message being parsed, from its headers */
    bool chunked;                            /* Transfer-Encoding names chunked */
    bool chunked_any;                        /* some Transfer-Encoding token held "chunked" */
    bool te;                                 /* a Transfer-Encoding header was present */
    bool has_cl;                             /* a valid Content-Length was present */
    bool cl_bad;                             /* an invalid Content-Length was present */
    uint64_t cl;                             /* its value */
    int nenc;                                /* Content-Encoding layers listed */
    int enc[HTTP_MAX_LAYERS];                /* enum http_enc in header order */
    bool enc_unknown;                        /* a coding we cannot undo was listed */
    bool enc_many;                           /* more than HTTP_MAX_LAYERS listed */
    int status;                              /* response: status of this message */
    char boundary[HTTP_MP_BOUNDARY_MAX + 1]; /* multipart/form-data boundary, "" if none */
    char dispo[MBX_HTTP_FIELD_MAX];          /* Content-Disposition filename, "" if none */
    int last_hdr;                            /* enum http_hdr of the last header line */
    bool first_chunk;                        /* the next chunk size line is the body's first */
    struct http_body body;                   /* the body in progress */
};

struct http_parser {
    struct http_callbacks cb; /* where events go */
    void *u;                  /* their first argument */
    bool bodies;              /* decode/hash bodies */
    struct mbx_http_tx *ring; /* transactions [head, tail), at id % cap */
    uint64_t cap;             /* ring slots: HTTP_TX_INIT .. HTTP_TX_MAX */
    uint64_t head, tail;      /* ids of the oldest and next transaction */
    uint64_t claimed[2];      /* next id each direction claims */
    struct http_half h[2];    /* by enum http_dir */
};

static const char *const anomaly_names[] = {
#define MBX_X_(id, text) #id,
    MBX_HTTP_ANOMALIES(MBX_X_)
#undef MBX_X_
};

const char *mbx_http_anomaly_name(enum mbx_http_anomaly a)
{
    return (unsigned)a < MBX_HTTP_ANOM_N ? anomaly_names[a] : "UNKNOWN";
}

const char *mbx_http_file_state_name(enum mbx_http_file_state s)
{
    switch (s) {
    case MBX_HTTP_FILE_OPEN:
        return "OPEN";
    case MBX_HTTP_FILE_CLOSED:
        return "CLOSED";
    case MBX_HTTP_FILE_TRUNCATED:
        return "TRUNCATED";
    }
    return "UNKNOWN";
}

/* ------------------------------------------------------------ helpers */

static struct mbx_http_tx *tx_get(struct http_parser *p, uint64_t id)
{
    if (id < p->head || id >= p->tail)
        return NULL;
    return &p->ring[id % p->cap];
}

static struct mbx_http_tx *cur_tx(struct http_parser *p, enum http_dir d)
{
    return p->h[d].has_cur ? tx_get(p, p->h[d].cur) : NULL;
}

static void anomaly(struct http_parser *p, struct mbx_http_tx *tx, enum mbx_http_anomaly a)
{
    if (tx)
        tx->anomalies |= 1u << a;
    if (p->cb.anomaly)
        p->cb.anomaly(p->u, tx, a);
}

/* Copy a field, truncating to its buffer (with an anomaly). */
static void set_field(struct http_parser *p, struct mbx_http_tx *tx, char *dst, size_t cap,
                      const uint8_t *s, size_t n)
{
    if (n >= cap) {
        n = cap - 1;
        anomaly(p, tx, MBX_HTTP_ANOM_FIELD_TRUNCATED);
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static bool is_tchar(uint8_t c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool ieq(const uint8_t *s, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower(s[i]) != tolower((unsigned char)lit[i]))
            return false;
    return true;
}

static void trim(const uint8_t **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* ------------------------------------------------------------ transactions */

static void tx_try_complete(struct http_parser *p)
{
    while (p->head < p->tail) {
        struct mbx_http_tx *tx = &p->ring[p->head % p->cap];
        if (!tx->req_done || !tx->resp_done)
            break;
        if (p->cb.tx_done)
            p->cb.tx_done(p->u, tx);
        p->head++;
    }
}

static void body_end(struct http_parser *p, enum http_dir d, bool truncated);

/* The ring is full: report the oldest transaction done as it is. */
static void tx_evict(struct http_parser *p)
{
    struct mbx_http_tx *tx = &p->ring[p->head % p->cap];
    anomaly(p, tx, MBX_HTTP_ANOM_TOO_MANY_PIPELINED);
    for (int d = 0; d < 2; d++) {
        struct http_half *h = &p->h[d];
        if (h->has_cur && h->cur == p->head) {
            body_end(p, (enum http_dir)d, true);
            h->has_cur = false;
            h->st = ST_RESYNC;
            h->linelen = 0;
        }
    }
    tx->req_done = tx->resp_done = true;
    if (p->cb.tx_done)
        p->cb.tx_done(p->u, tx);
    p->head++;
    for (int d = 0; d < 2; d++)
        if (p->claimed[d] < p->head)
            p->claimed[d] = p->head;
}

/* Double the ring (up to HTTP_TX_MAX); false if it cannot grow. */
static bool ring_grow(struct http_parser *p)
{
    if (p->cap >= HTTP_TX_MAX)
        return false;
    uint64_t cap = p->cap * 2;
    struct mbx_http_tx *r = malloc(cap * sizeof *r);
    if (!r)
        return false;
    for (uint64_t id = p->head; id < p->tail; id++)
        r[id % cap] = p->ring[id % p->cap];
    free(p->ring);
    p->ring = r;
    p->cap = cap;
    return true;
}

/* The next transaction for direction d: one the other side started, or a new one. */
static struct mbx_http_tx *tx_claim(struct http_parser *p, enum http_dir d)
{
    if (p->claimed[d] < p->head)
        p->claimed[d] = p->head;
    uint64_t id = p->claimed[d];
    if (id == p->tail) {
        if (p->tail - p->head == p->cap && !ring_grow(p)) {
            tx_evict(p);
            id = p->claimed[d];
        }
        struct mbx_http_tx *tx = &p->ring[p->tail % p->cap];
        memset(tx, 0, sizeof *tx);
        tx->tx_id = p->tail;
        p->tail++;
        id = tx->tx_id;
    }
    p->claimed[d] = id + 1;
    p->h[d].has_cur = true;
    p->h[d].cur = id;
    return tx_get(p, id);
}

/* ------------------------------------------------------------ bodies */

static void file_open(struct http_body *b, const char *name)
{
    memset(&b->info, 0, sizeof b->info);
    snprintf(b->name, sizeof b->name, "%s", name);
    b->info.name = b->name;
    b->open = true;
    b->off = 0;
    b->md = EVP_MD_CTX_new();
    if (b->md && EVP_DigestInit_ex(b->md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(b->md);
        b->md = NULL;
    }
}

/* The open file of d ends (truncated: not all of it was seen). */
static void file_close(struct http_parser *p, enum http_dir d, bool truncated)
{
    struct http_body *b = &p->h[d].body;
    if (!b->open)
        return;
    b->open = false;
    bool complete = !truncated && !b->info.gaps && !b->dec_failed;
    b->info.state = complete ? MBX_HTTP_FILE_CLOSED : MBX_HTTP_FILE_TRUNCATED;
    unsigned len = 0;
    b->info.has_sha256 =
        complete && b->md && EVP_DigestFinal_ex(b->md, b->info.sha256, &len) == 1 && len == 32;
    b->info.tx = cur_tx(p, d);
    b->info.side = d == HTTP_DIR_REQ ? MBX_CLIENT : MBX_SERVER;
    if (p->cb.file_end)
        p->cb.file_end(p->u, &b->info);
    if (b->md) {
        EVP_MD_CTX_free(b->md);
        b->md = NULL;
    }
}

static void file_write(struct http_parser *p, enum http_dir d, const uint8_t *data, size_t n)
{
    struct http_body *b = &p->h[d].body;
    if (!b->open || n == 0)
        return;
    b->info.tx = cur_tx(p, d); /* the ring may have moved */
    b->info.side = d == HTTP_DIR_REQ ? MBX_CLIENT : MBX_SERVER;
    if (b->md)
        EVP_DigestUpdate(b->md, data, n);
    b->info.size += n;
    if (p->cb.file_data) {
        struct mbx_http_file_data fd = {&b->info, b->off, data, n};
        p->cb.file_data(p->u, &fd);
    }
    b->off += n;
}

static void disposition_filename(const uint8_t *s, size_t n, char *out, size_t cap);

/* A part's "Content-Disposition: form-data; name="f"; filename="a.bin"" -> a.bin */
static void mp_header(struct http_mp *m, const uint8_t *s, size_t n)
{
    static const char cd[] = "content-disposition:";
    if (n < sizeof cd - 1 || strncasecmp((const char *)s, cd, sizeof cd - 1) != 0)
        return;
    disposition_filename(s + sizeof cd - 1, n - (sizeof cd - 1), m->fname, sizeof m->fname);
}

/* Bytes of a part's content (or of the preamble/epilogue, dropped). */
static void mp_emit(struct http_parser *p, enum http_dir d, const uint8_t *s, size_t n)
{
    if (p->h[d].body.mp.st == MP_DATA)
        file_write(p, d, s, n);
}

/* A multipart body, after content decoding.  The delimiter "\r\n--B" has its
 * only CR first, so after a mismatch no suffix of the held bytes can start a
 * new match: the held bytes are content, and scanning resumes at the byte
 * that broke the match. */
static void mp_feed(struct http_parser *p, enum http_dir d, const uint8_t *s, size_t n)
{
    struct http_mp *m = &p->h[d].body.mp;
    size_t i = 0;
    while (i < n) {
        if (m->st == MP_EPILOGUE)
            return;
        if (m->st == MP_AFTER_DELIM) {
            m->after[m->nafter++] = s[i++];
            if (m->nafter == 2) {
                m->st = m->after[0] == '-' && m->after[1] == '-' ? MP_EPILOGUE : MP_PAD;
                if (m->after[1] == '\n')
                    m->st = MP_HEADERS;
            }
            continue;
        }
        if (m->st == MP_PAD) { /* transport padding up to the end of the line */
            if (s[i++] == '\n')
                m->st = MP_HEADERS;
            continue;
        }
        if (m->st == MP_HEADERS) {
            uint8_t c = s[i++];
            if (c != '\n') {
                if (m->linelen < sizeof m->line)
                    m->line[m->linelen++] = c;
                continue;
            }
            size_t ll = m->linelen;
            if (ll && m->line[ll - 1] == '\r')
                ll--;
            m->linelen = 0;
            if (ll > 0) {
                mp_header(m, m->line, ll);
                continue;
            }
            m->st = MP_DATA;
            m->match = 0;
            if (m->fname[0])
                file_open(&p->h[d].body, m->fname);
            continue;
        }
        /* MP_PREAMBLE or MP_DATA: look for the delimiter */
        size_t run = i;
        for (; i < n; i++) {
            uint8_t c = s[i];
            if (m->match > 0 && c == m->delim[m->match]) {
                if (++m->match == m->dlen)
                    break;
                continue;
            }
            if (m->match > 0) { /* mismatch: what was held back is content */
                mp_emit(p, d, m->delim, m->match);
                m->match = 0;
                run = i;
            }
            if (c == '\r') {
                mp_emit(p, d, s + run, i - run);
                m->match = 1;
                run = i + 1;
            }
        }
        if (i < n) { /* the delimiter is complete at s[i] */
            if (p->h[d].body.mp.st == MP_DATA)
                file_close(p, d, false);
            m->fname[0] = '\0';
            m->match = 0;
            m->nafter = 0;
            m->st = MP_AFTER_DELIM;
            i++;
            continue;
        }
        if (m->match == 0)
            mp_emit(p, d, s + run, n - run);
        return;
    }
}

static void sink(struct http_parser *p, enum http_dir d, const uint8_t *data, size_t n)
{
    struct mbx_http_tx *tx = cur_tx(p, d);
    if (tx && d == HTTP_DIR_REQ)
        tx->request_body_decoded += n;
    else if (tx)
        tx->response_body_decoded += n;
    if (p->h[d].body.mp.on)
        mp_feed(p, d, data, n);
    else
        file_write(p, d, data, n);
}

static void dec_fail(struct http_parser *p, enum http_dir d)
{
    struct http_body *b = &p->h[d].body;
    if (!b->dec_failed)
        anomaly(p, cur_tx(p, d), MBX_HTTP_ANOM_DECOMPRESSION_FAILED);
    b->dec_failed = true;
}

/* Undo layer i (the last-applied coding is nlayers-1) and pass the output on. */
static void dec_push(struct http_parser *p, enum http_dir d, int i, const uint8_t *data, size_t n)
{
    struct http_body *b = &p->h[d].body;
    if (i < 0) {
        sink(p, d, data, n);
        return;
    }
    if (b->dec_failed || b->zend[i] || n == 0)
        return;
    z_stream *z = &b->z[i];
    if (!b->zinit[i]) {
        int wbits = 15 + 32; /* gzip or zlib, detected */
        if (b->kind[i] == ENC_DEFLATE && !((data[0] & 0x0f) == 8 && (data[0] >> 4) <= 7))
            wbits = -15; /* raw deflate, as some servers send it */
        memset(z, 0, sizeof *z);
        if (inflateInit2(z, wbits) != Z_OK) {
            dec_fail(p, d);
            return;
        }
        b->zinit[i] = true;
    }
    uint8_t out[16384];
    z->next_in = (Bytef *)(uintptr_t)data;
    z->avail_in = (uInt)n;
    for (;;) {
        z->next_out = out;
        z->avail_out = sizeof out;
        int r = inflate(z, Z_NO_FLUSH);
        size_t got = sizeof out - z->avail_out;
        if (got)
            dec_push(p, d, i - 1, out, got);
        if (r == Z_STREAM_END) {
            b->zend[i] = true;
            break;
        }
        if (r == Z_BUF_ERROR)
            break;
        if (r != Z_OK) {
            dec_fail(p, d);
            break;
        }
        if (z->avail_in == 0 && z->avail_out != 0)
            break;
    }
}

/* A body starts for the current transaction of d (file opened lazily). */
static void body_begin(struct http_parser *p, enum http_dir d)
{
    struct http_half *h = &p->h[d];
    struct http_body *b = &h->body;
    struct mbx_http_tx *tx = cur_tx(p, d);
    memset(&b->info, 0, sizeof b->info);
    b->open = b->dec_failed = b->started = false;
    b->off = 0;
    b->nlayers = 0;
    b->name[0] = '\0';
    memset(&b->mp, 0, sizeof b->mp);
    if (d == HTTP_DIR_REQ && h->boundary[0]) {
        size_t bl = strlen(h->boundary);
        b->mp.on = true;
        memcpy(b->mp.delim, "\r\n--", 4);
        memcpy(b->mp.delim + 4, h->boundary, bl);
        b->mp.dlen = 4 + bl;
        b->mp.match = 2; /* the first delimiter may open the body: CRLF implied */
        b->mp.st = MP_PREAMBLE;
    }
    if (tx) {
        /* The file name is the URI's path: no scheme and authority, no query. */
        const char *u = tx->uri;
        const char *s = strstr(u, "://");
        if (s && (size_t)(s - u) < 8) {
            const char *slash = strchr(s + 3, '/');
            u = slash ? slash : "";
        }
        size_t n = strcspn(u, "?#");
        memcpy(b->name, u, n);
        b->name[n] = '\0';
    }
    if (h->dispo[0]) /* as Suricata: Content-Disposition's filename names the file */
        snprintf(b->name, sizeof b->name, "%s", h->dispo);
    b->info.tx = tx;
    b->info.side = d == HTTP_DIR_REQ ? MBX_CLIENT : MBX_SERVER;
    b->info.name = b->name;
    if (!h->enc_unknown && !h->enc_many) {
        b->nlayers = h->nenc;
        memcpy(b->kind, h->enc, sizeof b->kind);
    }
}

/* The first body byte or gap: the whole body is one file unless multipart. */
static void body_open(struct http_parser *p, enum http_dir d)
{
    struct http_body *b = &p->h[d].body;
    if (b->started)
        return;
    b->started = true;
    memset(b->zinit, 0, sizeof b->zinit);
    memset(b->zend, 0, sizeof b->zend);
    if (!b->mp.on) {
        char name[MBX_HTTP_URI_MAX];
        memcpy(name, b->name, sizeof name);
        file_open(b, name);
    }
}

/* Body bytes not decoded (bodies off): lengths only. */
static void body_data_len(struct http_parser *p, enum http_dir d, uint64_t n)
{
    struct mbx_http_tx *tx = cur_tx(p, d);
    if (!tx)
        return;
    if (d == HTTP_DIR_REQ) {
        tx->request_body_len += n;
        tx->request_body_decoded += n;
    } else {
        tx->response_body_len += n;
        tx->response_body_decoded += n;
    }
}

static void body_data(struct http_parser *p, enum http_dir d, const uint8_t *data, size_t n)
{
    struct mbx_http_tx *tx = cur_tx(p, d);
    if (tx) {
        if (d == HTTP_DIR_REQ)
            tx->request_body_len += n;
        else
            tx->response_body_len += n;
        if (!p->bodies) { /* not decoded: the decoded length is the wire length */
            if (d == HTTP_DIR_REQ)
                tx->request_body_decoded += n;
            else
                tx->response_body_decoded += n;
        }
    }
    if (!p->bodies || n == 0)
        return;
    body_open(p, d);
    dec_push(p, d, p->h[d].body.nlayers - 1, data, n);
}

static void body_gap(struct http_parser *p, enum http_dir d, uint64_t n)
{
    struct mbx_http_tx *tx = cur_tx(p, d);
    struct http_body *b = &p->h[d].body;
    if (tx) {
        tx->gaps = true;
        if (d == HTTP_DIR_REQ) {
            tx->request_body_len += n;
            tx->request_body_decoded += n;
        } else {
            tx->response_body_len += n;
            tx->response_body_decoded += n;
        }
    }
    if (!p->bodies || n == 0)
        return;
    body_open(p, d);
    if (b->open) {
        b->info.gaps = true;
        b->info.size += n;
        b->off += n;
    }
    b->mp.match = 0; /* a delimiter cannot be matched across a hole */
    if (b->nlayers > 0)
        b->dec_failed = true; /* a compressed stream cannot continue past a hole */
}

static void body_free(struct http_body *b)
{
    for (int i = 0; i < HTTP_MAX_LAYERS; i++)
        if (b->zinit[i]) {
            inflateEnd(&b->z[i]);
            b->zinit[i] = false;
        }
    if (b->md) {
        EVP_MD_CTX_free(b->md);
        b->md = NULL;
    }
}

/* The body of d's current message is over; report its file if it has one. */
static void body_end(struct http_parser *p, enum http_dir d, bool truncated)
{
    struct http_body *b = &p->h[d].body;
    if (!b->started)
        return;
    b->started = false;
    /* a part still open at the end of a multipart body lacks its delimiter */
    file_close(p, d, truncated || b->mp.on);
    body_free(b);
}

/* ------------------------------------------------------------ messages */

static void reset_framing(struct http_half *h)
{
    h->chunked = h->chunked_any = h->te = h->has_cl = h->cl_bad = false;
    h->cl = 0;
    h->nenc = 0;
    h->enc_unknown = h->enc_many = false;
    h->status = 0;
    h->boundary[0] = '\0';
    h->dispo[0] = '\0';
    h->last_hdr = HDR_OTHER;
    h->hdr_bytes = 0;
    h->hdr_over = false;
}

static void enter_resync(struct http_parser *p, enum http_dir d)
{
    struct http_half *h = &p->h[d];
    anomaly(p, cur_tx(p, d), MBX_HTTP_ANOM_RESYNC);
    h->st = ST_RESYNC;
    h->linelen = 0;
    h->line_over = false;
}

/* d's current message is over (truncated: its body is incomplete). */
static void msg_done(struct http_parser *p, enum http_dir d, bool truncated)
{
    struct http_half *h = &p->h[d];
    struct mbx_http_tx *tx = cur_tx(p, d);
    body_end(p, d, truncated);
    h->st = ST_START;
    if (tx) {
        if (d == HTTP_DIR_REQ) {
            tx->req_done = true;
            if (strcmp(tx->method, "CONNECT") == 0)
                h->st = ST_TUNNEL_PROBE;
        } else {
            tx->resp_done = true;
            if (tx->status == 101) {
                h->st = ST_TUNNEL;
                p->h[HTTP_DIR_REQ].st = ST_TUNNEL;
            } else if (strcmp(tx->method, "CONNECT") == 0 && tx->status / 100 == 2) {
                h->st = ST_TUNNEL_PROBE;
            }
        }
    }
    h->has_cur = false;
    reset_framing(h);
    tx_try_complete(p);
}

/* A message ended.  A message whose body ended complete waits in
 * ST_FINALIZE: as libhtp does (and Suricata's file sizes show, e.g.
 * suricata-verify http-gap-simple: Content-Length 12, "Hello World!\r\n",
 * file size 14; Zeek's request_body_len too, e.g. its http-no-crlf
 * baseline), lines that follow and are not a start line are more of that
 * body; the next start line, a gap or the end closes it. */
static void msg_end(struct http_parser *p, enum http_dir d, bool truncated)
{
    struct http_half *h = &p->h[d];
    if (!truncated && h->has_cur && (h->st == ST_BODY_LEN || h->st == ST_TRAILERS)) {
        h->st = ST_FINALIZE;
        return;
    }
    msg_done(p, d, truncated);
}

/* The header section of d's message ended: choose how its body is framed. */
static void headers_done(struct http_parser *p, enum http_dir d)
{
    struct http_half *h = &p->h[d];
    struct mbx_http_tx *tx = cur_tx(p, d);
    if (h->chunked && (h->has_cl || h->cl_bad))
        anomaly(p, tx, MBX_HTTP_ANOM_CHUNKED_AND_CONTENT_LENGTH);
    if (d == HTTP_DIR_REQ) {
        if (tx && p->cb.request)
            p->cb.request(p->u, tx);
        if (h->chunked) {
            body_begin(p, d);
            h->st = ST_CHUNK_SIZE;
            h->first_chunk = true;
        } else if (h->has_cl && h->cl > 0 && !h->te) {
            body_begin(p, d);
            h->st = ST_BODY_LEN;
            h->remaining = h->cl;
        } else {
            msg_end(p, d, false);
        }
        return;
    }
    int status = h->status;
    if (status >= 100 && status < 200 && status != 101) {
        /* interim response: the final one follows for the same transaction */
        h->st = ST_START;
        reset_framing(h);
        return;
    }
    if (tx) {
        tx->status = status;
        tx->resp_seen = true;
        if (p->cb.response)
            p->cb.response(p->u, tx);
    }
    const char *m = tx ? tx->method : "";
    bool connect_ok = strcmp(m, "CONNECT") == 0 && status / 100 == 2;
    if (strcmp(m, "HEAD") == 0 || status == 204 || status == 304 || status == 101 || connect_ok) {
        msg_end(p, d, false);
    } else if (h->chunked) {
        body_begin(p, d);
        h->st = ST_CHUNK_SIZE;
        h->first_chunk = true;
    } else if (h->has_cl && !h->te) {
        if (h->cl == 0) {
            msg_end(p, d, false);
        } else {
            body_begin(p, d);
            h->st = ST_BODY_LEN;
            h->remaining = h->cl;
        }
    } else {
        body_begin(p, d);
        h->st = ST_BODY_CLOSE;
    }
}

static void parse_content_length(struct http_parser *p, enum http_dir d, const uint8_t *v, size_t n)
{
    struct http_half *h = &p->h[d];
    struct mbx_http_tx *tx = cur_tx(p, d);
    uint64_t val = 0;
    size_t i = 0, sig = 0;
    if (n == 0)
        goto bad;
    for (; i < n; i++) {
        if (!isdigit(v[i]))
            goto bad;
        if (sig == 0 && v[i] == '0')
            continue;
        if (++sig > 18) /* above 10^18: absurd, and overflow-safe below */
            goto bad;
        val = val * 10 + (uint64_t)(v[i] - '0');
    }
    if (h->has_cl && h->cl != val) {
        anomaly(p, tx, MBX_HTTP_ANOM_DUPLICATE_CONTENT_LENGTH);
        return;
    }
    h->has_cl = true;
    h->cl = val;
    return;
bad:
    anomaly(p, tx, MBX_HTTP_ANOM_INVALID_CONTENT_LENGTH);
    h->cl_bad = true;
}

/* The comma-separated codings of a Transfer-Encoding (te) or Content-Encoding
 * value ("gzip, deflate"; parameters dropped) into d's framing. */
static void parse_codings(struct http_parser *p, enum http_dir d, const uint8_t *v, size_t n,
                          bool te)
{
    struct http_half *h = &p->h[d];
    size_t i = 0;
    bool last_chunked = false;
    while (i < n) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        const uint8_t *t = v + i;
        size_t tn = j - i;
        trim(&t, &tn);
        /* drop parameters (";q=...") */
        for (size_t k = 0; k < tn; k++)
            if (t[k] == ';') {
                tn = k;
                trim(&t, &tn);
                break;
            }
        i = j + 1;
        if (tn == 0)
            continue;
        if (te) {
            /* as libhtp: "chunked" anywhere in the token ("xchunked",
             * "chunked-x" in http-evader) means chunked */
            last_chunked = false;
            for (size_t k = 0; k + 7 <= tn && !last_chunked; k++)
                last_chunked = strncasecmp((const char *)t + k, "chunked", 7) == 0;
            if (last_chunked)
                h->chunked_any = true;
            continue;
        }
        int kind = 0;
        if (ieq(t, tn, "gzip") || ieq(t, tn, "x-gzip"))
            kind = ENC_GZIP;
        else if (ieq(t, tn, "deflate"))
            kind = ENC_DEFLATE;
        else if (ieq(t, tn, "identity"))
            continue;
        else {
            if (!h->enc_unknown)
                anomaly(p, cur_tx(p, d), MBX_HTTP_ANOM_UNKNOWN_ENCODING);
            h->enc_unknown = true;
            continue;
        }
        if (h->nenc == HTTP_MAX_LAYERS) {
            if (!h->enc_many)
                anomaly(p, cur_tx(p, d), MBX_HTTP_ANOM_TOO_MANY_ENCODINGS);
            h->enc_many = true;
            continue;
        }
        h->enc[h->nenc++] = kind;
    }
    if (te) {
        h->te = true;
        h->chunked = last_chunked || h->chunked_any;
    }
}

/* "attachment; filename="a.txt"" -> a.txt (RFC 6266; also a multipart
 * part's form-data disposition). */
static void disposition_filename(const uint8_t *s, size_t n, char *out, size_t cap)
{
    for (size_t i = 0; i + 9 <= n; i++) {
        if (strncasecmp((const char *)s + i, "filename=", 9) != 0 ||
            (i > 0 && s[i - 1] != ' ' && s[i - 1] != ';' && s[i - 1] != '\t'))
            continue;
        size_t a = i + 9, e;
        if (a < n && s[a] == '"') {
            a++;
            for (e = a; e < n && s[e] != '"'; e++)
                ;
        } else {
            for (e = a; e < n && s[e] != ';' && s[e] != ' '; e++)
                ;
        }
        size_t len = e - a < cap - 1 ? e - a : cap - 1;
        memcpy(out, s + a, len);
        out[len] = '\0';
        return;
    }
}

/* multipart/form-data; boundary="B" -> h->boundary */
static void parse_boundary(struct http_half *h, const uint8_t *v, size_t n)
{
    static const char mt[] = "multipart/form-data";
    if (n < sizeof mt - 1 || strncasecmp((const char *)v, mt, sizeof mt - 1) != 0)
        return;
    for (size_t i = sizeof mt - 1; i + 9 <= n; i++) {
        if (strncasecmp((const char *)v + i, "boundary=", 9) != 0)
            continue;
        size_t a = i + 9, e;
        if (a < n && v[a] == '"') {
            a++;
            for (e = a; e < n && v[e] != '"'; e++)
                ;
        } else {
            for (e = a; e < n && v[e] != ';' && v[e] != ' ' && v[e] != '\t'; e++)
                ;
        }
        if (e > a && e - a <= HTTP_MP_BOUNDARY_MAX && !memchr(v + a, '\r', e - a)) {
            memcpy(h->boundary, v + a, e - a);
            h->boundary[e - a] = '\0';
        }
        return;
    }
}

static void header_line(struct http_parser *p, enum http_dir d, const uint8_t *s, size_t n)
{
    struct http_half *h = &p->h[d];
    struct mbx_http_tx *tx = cur_tx(p, d);
    const uint8_t *name, *val;
    size_t nn, vn;
    if (s[0] == ' ' || s[0] == '\t') {
        /* obsolete line folding: more of the previous header's value; only
         * the framing headers need it ("Transfer-Encoding:\r\n chunked") */
        anomaly(p, tx, MBX_HTTP_ANOM_OBS_FOLD);
        val = s;
        vn = n;
        trim(&val, &vn);
        if (h->last_hdr == HDR_TE)
            parse_codings(p, d, val, vn, true);
        else if (h->last_hdr == HDR_CE)
            parse_codings(p, d, val, vn, false);
        return;
    }
    h->last_hdr = HDR_OTHER;
    const uint8_t *colon = memchr(s, ':', n);
    if (!colon) {
        anomaly(p, tx, MBX_HTTP_ANOM_HEADER_INVALID);
        return;
    }
    name = s;
    val = colon + 1;
    nn = (size_t)(colon - s);
    vn = n - nn - 1;
    trim(&name, &nn);
    trim(&val, &vn);
    if (ieq(name, nn, "transfer-encoding"))
        h->last_hdr = HDR_TE;
    else if (ieq(name, nn, "content-encoding"))
        h->last_hdr = HDR_CE;
    if (ieq(name, nn, "content-disposition") && !h->dispo[0])
        disposition_filename(val, vn, h->dispo, sizeof h->dispo);
    if (ieq(name, nn, "content-length"))
        parse_content_length(p, d, val, vn);
    else if (ieq(name, nn, "transfer-encoding"))
        parse_codings(p, d, val, vn, true);
    else if (ieq(name, nn, "content-encoding"))
        parse_codings(p, d, val, vn, false);
    if (!tx)
        return;
    if (d == HTTP_DIR_REQ) {
        if (ieq(name, nn, "host") && !tx->host[0])
            set_field(p, tx, tx->host, sizeof tx->host, val, vn);
        else if (ieq(name, nn, "user-agent") && !tx->user_agent[0])
            set_field(p, tx, tx->user_agent, sizeof tx->user_agent, val, vn);
        else if (ieq(name, nn, "referer") && !tx->referer[0])
            set_field(p, tx, tx->referer, sizeof tx->referer, val, vn);
        else if (ieq(name, nn, "content-type") && !tx->req_content_type[0]) {
            set_field(p, tx, tx->req_content_type, sizeof tx->req_content_type, val, vn);
            parse_boundary(h, val, vn);
        }
    } else if (h->status < 100 || h->status >= 200 || h->status == 101) {
        if (ieq(name, nn, "content-type") && !tx->content_type[0])
            set_field(p, tx, tx->content_type, sizeof tx->content_type, val, vn);
        else if (ieq(name, nn, "location") && !tx->redirect[0])
            set_field(p, tx, tx->redirect, sizeof tx->redirect, val, vn);
    }
}

/* Split a start line into up to 3 fields at runs of spaces; the third takes the rest. */
static int split3(const uint8_t *s, size_t n, const uint8_t *f[3], size_t fl[3])
{
    int k = 0;
    size_t i = 0;
    while (k < 3) {
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == n)
            break;
        size_t j = i;
        if (k < 2)
            while (j < n && s[j] != ' ' && s[j] != '\t')
                j++;
        else
            j = n;
        f[k] = s + i;
        fl[k] = j - i;
        trim(&f[k], &fl[k]);
        k++;
        i = j;
    }
    return k;
}

static bool is_version(const uint8_t *s, size_t n)
{
    /* "http/1.1" too, as libhtp and Zeek accept it (lowercase_HTTP_keyword) */
    return n >= 8 && strncasecmp((const char *)s, "HTTP/", 5) == 0 && isdigit(s[5]) &&
           s[6] == '.' && isdigit(s[7]);
}

/* A cheap necessary condition for a strict start line, so that resynchronising
 * over body bytes (every line of a lost body's remainder) rarely pays for
 * split3: the first word starts with a token byte (a method, or "HTTP/" for a
 * status line) and the line holds "HTTP/" in any case. */
static bool maybe_start_line(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i == n || !is_tchar(s[i]))
        return false;
    for (const uint8_t *sl = memchr(s + i, '/', n - i); sl;
         sl = memchr(sl + 1, '/', (size_t)(s + n - sl - 1))) {
        if (sl - s >= 4 && strncasecmp((const char *)sl - 4, "HTTP", 4) == 0)
            return true;
    }
    return false;
}

/* A request line; strict: only a full "METHOD URI HTTP/x.y" is accepted
 * (used while resynchronising and probing a tunnel).  Returns true if taken. */
static bool request_line(struct http_parser *p, const uint8_t *s, size_t n, bool strict)
{
    if (strict && !maybe_start_line(s, n))
        return false;
    const uint8_t *f[3];
    size_t fl[3];
    int k = split3(s, n, f, fl);
    bool method_ok = k >= 1;
    for (size_t i = 0; method_ok && i < fl[0]; i++)
        method_ok = is_tchar(f[0][i]);
    if (k == 2 && is_version(f[1], fl[1])) { /* "GET  HTTP/1.1": an empty target */
        f[2] = f[1];
        fl[2] = fl[1];
        fl[1] = 0;
        k = 3;
    }
    bool proto_ok = k == 3 && is_version(f[2], fl[2]);
    if (k == 3 && !proto_ok) {
        /* spaces inside the URI: the version is the last word, if any */
        const uint8_t *end = f[2] + fl[2];
        const uint8_t *sp = end;
        while (sp > f[2] && sp[-1] != ' ' && sp[-1] != '\t')
            sp--;
        if (sp > f[2] && is_version(sp, (size_t)(end - sp))) {
            fl[1] = (size_t)(sp - f[1]);
            trim(&f[1], &fl[1]);
            f[2] = sp;
            fl[2] = (size_t)(end - sp);
            proto_ok = true;
        } else {
            fl[1] = (size_t)(end - f[1]);
        }
    }
    if (strict && !(method_ok && proto_ok))
        return false;
    if (!method_ok || k < 2) {
        anomaly(p, NULL, MBX_HTTP_ANOM_REQUEST_LINE_INVALID);
        return false;
    }
    struct mbx_http_tx *tx = tx_claim(p, HTTP_DIR_REQ);
    struct http_half *h = &p->h[HTTP_DIR_REQ];
    reset_framing(h);
    tx->req_seen = true;
    set_field(p, tx, tx->method, sizeof tx->method, f[0], fl[0]);
    set_field(p, tx, tx->uri, sizeof tx->uri, f[1], fl[1]);
    if (proto_ok)
        set_field(p, tx, tx->protocol, sizeof tx->protocol, f[2], fl[2]);
    else
        anomaly(p, tx, MBX_HTTP_ANOM_REQUEST_LINE_MISSING_PROTOCOL);
    h->st = ST_HEADERS;
    return true;
}

static bool status_line(struct http_parser *p, const uint8_t *s, size_t n, bool strict)
{
    if (strict && !maybe_start_line(s, n))
        return false;
    const uint8_t *f[3];
    size_t fl[3];
    int k = split3(s, n, f, fl);
    bool ok = k >= 2 && is_version(f[0], fl[0]) && fl[1] == 3 && isdigit(f[1][0]) &&
              isdigit(f[1][1]) && isdigit(f[1][2]);
    if (!ok) {
        if (!strict)
            anomaly(p, cur_tx(p, HTTP_DIR_RESP), MBX_HTTP_ANOM_STATUS_LINE_INVALID);
        return false;
    }
    struct http_half *h = &p->h[HTTP_DIR_RESP];
    struct mbx_http_tx *tx = cur_tx(p, HTTP_DIR_RESP); /* after a 1xx: the same one */
    if (!tx) {
        tx = tx_claim(p, HTTP_DIR_RESP);
        if (!tx->req_seen)
            anomaly(p, tx, MBX_HTTP_ANOM_UNABLE_TO_MATCH_RESPONSE_TO_REQUEST);
    }
    reset_framing(h);
    h->status = (f[1][0] - '0') * 100 + (f[1][1] - '0') * 10 + (f[1][2] - '0');
    set_field(p, tx, tx->resp_protocol, sizeof tx->resp_protocol, f[0], fl[0]);
    h->st = ST_HEADERS;
    return true;
}

/* A chunk size line.  raw: the line's length before its CR was cut. */
static void chunk_size_line(struct http_parser *p, enum http_dir d, const uint8_t *s, size_t n,
                            size_t raw)
{
    struct http_half *h = &p->h[d];
    size_t i = 0, sig = 0, digits = 0;
    uint64_t v = 0;
    if (n == 0)
        return; /* a stray empty line before a size (http-evader "lf-size") */
    while (i < n && isspace(s[i]))
        i++;
    for (; i < n && isxdigit(s[i]); i++, digits++) {
        int x = isdigit(s[i]) ? s[i] - '0' : tolower(s[i]) - 'a' + 10;
        if (sig == 0 && x == 0)
            continue;
        sig++;
        v = (v << 4) | (uint64_t)x;
    }
    /* As libhtp: what follows the digits (extensions, or junk such as "fx",
     * "f,", "f\\0" in http-evader) is ignored; the size must not be absurd. */
    bool ok = digits > 0 && sig <= 15; /* 2^60 bytes: anything above is an attack */
    if (ok && i < n && s[i] != ';' && s[i] != ' ' && s[i] != '\t')
        anomaly(p, cur_tx(p, d), MBX_HTTP_ANOM_CHUNK_FRAMING);
    if (digits == 0 && h->first_chunk) {
        /* "Transfer-Encoding: chunked" over a body that is not: the first
         * line is body (as libhtp, which http-evader's "do_clen" cases
         * show); the body then runs by Content-Length or to the close. */
        static const uint8_t crlf[2] = {'\r', '\n'};
        bool cr = n < raw;
        anomaly(p, cur_tx(p, d), MBX_HTTP_ANOM_INVALID_CHUNK_LEN);
        h->first_chunk = false;
        h->chunked = false;
        uint64_t line = raw + 1;
        if (h->has_cl && h->cl > line) {
            h->st = ST_BODY_LEN;
            h->remaining = h->cl - line;
        } else if (h->has_cl) {
            h->st = ST_BODY_LEN;
            h->remaining = 0;
        } else {
            h->st = ST_BODY_CLOSE;
        }
        body_data(p, d, s, n);
        body_data(p, d, crlf + !cr, cr ? 2 : 1);
        if (h->st == ST_BODY_LEN && h->remaining == 0)
            msg_end(p, d, false);
        return;
    }
    h->first_chunk = false;
    if (!ok) {
        anomaly(p, cur_tx(p, d), MBX_HTTP_ANOM_INVALID_CHUNK_LEN);
        msg_end(p, d, true);
        enter_resync(p, d);
        return;
    }
    if (v == 0) {
        h->st = ST_TRAILERS;
    } else {
        h->remaining = v;
        h->st = ST_CHUNK_DATA;
    }
}

/* Could this line start a message?  A response: "HTTP" after blanks; a
 * request: a method token, a space, more. */
static bool looks_start(enum http_dir d, const uint8_t *s, size_t n)
{
    size_t k = 0;
    if (d == HTTP_DIR_RESP) {
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
            k++;
        return n - k >= 4 && strncasecmp((const char *)s + k, "HTTP", 4) == 0;
    }
    while (k < n && is_tchar(s[k]))
        k++;
    return k > 0 && k + 1 < n && s[k] == ' ';
}

/* A complete line (without its LF, CR stripped) in a line state. */
static void on_line(struct http_parser *p, enum http_dir d, const uint8_t *s, size_t n)
{
    struct http_half *h = &p->h[d];
    size_t raw = n;
    if (n && s[n - 1] == '\r')
        n--;
    switch (h->st) {
    case ST_FINALIZE: {
        if (!looks_start(d, s, n)) {
            /* the raw line with its line end, as it was sent */
            static const uint8_t crlf[2] = {'\r', '\n'};
            bool cr = n < raw;
            body_data(p, d, s, n);
            body_data(p, d, crlf + !cr, cr ? 2 : 1);
            return;
        }
        msg_done(p, d, false);
        if (h->st != ST_START) { /* e.g. a tunnel: the line belongs to it */
            on_line(p, d, s, raw);
            return;
        }
    }
        /* fall through */
    case ST_START:
        if (n == 0)
            return; /* empty lines between messages are tolerated */
        if (d == HTTP_DIR_REQ ? !request_line(p, s, n, false) : !status_line(p, s, n, false))
            enter_resync(p, d);
        return;
    case ST_RESYNC:
        if (n && (d == HTTP_DIR_REQ ? request_line(p, s, n, true) : status_line(p, s, n, true)))
            return;
        return;
    case ST_TUNNEL_PROBE:
        if (n == 0)
            return;
        if (!(d == HTTP_DIR_REQ ? request_line(p, s, n, true) : status_line(p, s, n, true)))
            h->st = ST_TUNNEL;
        return;
    case ST_HEADERS:
    case ST_TRAILERS:
        if (!h->hdr_over && (h->hdr_bytes += n + 1) > HTTP_HEADERS_MAX) {
            h->hdr_over = true;
            anomaly(p, cur_tx(p, d), MBX_HTTP_ANOM_HEADERS_TOO_LONG);
        }
        if (n == 0) {
            if (h->st == ST_HEADERS)
                headers_done(p, d);
            else
                msg_end(p, d, false);
        } else if (h->st == ST_HEADERS) {
            /* a lone CR ends a header line too (libhtp; http-evader "cronly") */
            const uint8_t *cr;
            while ((cr = memchr(s, '\r', n)) != NULL) {
                if (cr > s)
                    header_line(p, d, s, (size_t)(cr - s));
                n -= (size_t)(cr - s) + 1;
                s = cr + 1;
            }
            if (n)
                header_line(p, d, s, n);
        }
        return;
    case ST_CHUNK_CRLF:
        h->st = ST_CHUNK_SIZE;
        if (n == 0)
            return;
        anomaly(p, cur_tx(p, d), MBX_HTTP_ANOM_CHUNK_FRAMING);
        chunk_size_line(p, d, s, n, raw);
        return;
    case ST_CHUNK_SIZE:
        chunk_size_line(p, d, s, n, raw);
        return;
    default:
        return;
    }
}

/* ------------------------------------------------------------ public */

struct http_parser *http_parser_new(const struct http_callbacks *cb, void *udata, bool bodies)
{
    struct http_parser *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->cap = HTTP_TX_INIT;
    p->ring = malloc(p->cap * sizeof *p->ring);
    if (!p->ring) {
        free(p);
        return NULL;
    }
    if (cb)
        p->cb = *cb;
    p->u = udata;
    p->bodies = bodies;
    return p;
}

void http_parser_feed(struct http_parser *p, enum http_dir d, const uint8_t *data, size_t n)
{
    struct http_half *h = &p->h[d];
    while (n > 0) {
        size_t take;
        switch (h->st) {
        case ST_BODY_LEN:
        case ST_CHUNK_DATA:
            take = n < h->remaining ? n : (size_t)h->remaining;
            body_data(p, d, data, take);
            h->remaining -= take;
            data += take;
            n -= take;
            if (h->remaining == 0) {
                if (h->st == ST_BODY_LEN)
                    msg_end(p, d, false);
                else
                    h->st = ST_CHUNK_CRLF;
            }
            continue;
        case ST_BODY_CLOSE:
            body_data(p, d, data, n);
            return;
        case ST_TUNNEL:
            return;
        case ST_TUNNEL_PROBE:
            /* TLS and other binary protocols start with a non-token byte */
            if (h->linelen == 0 && !is_tchar(data[0]) && data[0] != '\r' && data[0] != '\n') {
                h->st = ST_TUNNEL;
                return;
            }
            break;
        default:
            break;
        }
        /* line states */
        const uint8_t *lf = memchr(data, '\n', n);
        size_t len = lf ? (size_t)(lf - data) : n;
        size_t room = HTTP_LINE_MAX - h->linelen;
        size_t copy = len < room ? len : room;
        memcpy(h->line + h->linelen, data, copy);
        h->linelen += copy;
        if (copy < len && !h->line_over) {
            h->line_over = true;
            if (h->st != ST_RESYNC && h->st != ST_TUNNEL_PROBE)
                anomaly(p, cur_tx(p, d), MBX_HTTP_ANOM_LINE_TOO_LONG);
        }
        if (!lf) {
            return;
        }
        data += len + 1;
        n -= len + 1;
        size_t ll = h->linelen;
        h->linelen = 0;
        h->line_over = false;
        on_line(p, d, h->line, ll);
    }
}

void http_parser_gap(struct http_parser *p, enum http_dir d, uint64_t n)
{
    struct http_half *h = &p->h[d];
    if (n == 0 || h->st == ST_TUNNEL)
        return;
    struct mbx_http_tx *tx = cur_tx(p, d);
    anomaly(p, tx, MBX_HTTP_ANOM_GAP);
    switch (h->st) {
    case ST_BODY_LEN:
    case ST_CHUNK_DATA:
        if (n < h->remaining) {
            body_gap(p, d, n);
            h->remaining -= n;
            return;
        }
        body_gap(p, d, h->remaining);
        n -= h->remaining;
        h->remaining = 0;
        if (h->st == ST_BODY_LEN) {
            msg_end(p, d, true);
            if (n > 0)
                enter_resync(p, d);
        } else if (n > 0) {
            msg_end(p, d, true);
            enter_resync(p, d);
        } else {
            h->st = ST_CHUNK_CRLF;
        }
        return;
    case ST_BODY_CLOSE:
        body_gap(p, d, n);
        return;
    case ST_FINALIZE:
        msg_done(p, d, false);
        enter_resync(p, d);
        return;
    case ST_START:
    case ST_RESYNC:
    case ST_TUNNEL_PROBE:
        enter_resync(p, d);
        return;
    default:
        /* inside headers or chunk framing: the message ends here */
        if (tx)
            tx->gaps = true;
        msg_end(p, d, true);
        enter_resync(p, d);
        return;
    }
}

void http_parser_eof(struct http_parser *p, enum http_dir d)
{
    if (p->h[d].st == ST_BODY_CLOSE)
        msg_end(p, d, false);
}

void http_parser_close(struct http_parser *p, bool clean)
{
    for (int i = 0; i < 2; i++) {
        enum http_dir d = (enum http_dir)i;
        struct http_half *h = &p->h[d];
        if (h->st == ST_CHUNK_SIZE && h->first_chunk && h->linelen > 0) {
            /* "chunked" over a plain body that never ended its first line */
            anomaly(p, cur_tx(p, d), MBX_HTTP_ANOM_INVALID_CHUNK_LEN);
            body_data(p, d, h->line, h->linelen);
            msg_done(p, d, h->has_cl ? h->linelen < h->cl : !clean);
        } else if (h->st == ST_BODY_CLOSE)
            msg_done(p, d, !clean);
        else if (h->st == ST_FINALIZE || h->st == ST_TRAILERS) /* the last chunk was seen */
            msg_done(p, d, false);
        else if (h->has_cur)
            msg_done(p, d, true);
        h->st = ST_TUNNEL;
    }
    while (p->head < p->tail) {
        struct mbx_http_tx *tx = &p->ring[p->head % p->cap];
        if (p->cb.tx_done)
            p->cb.tx_done(p->u, tx);
        p->head++;
    }
}

bool http_parser_wants_data(const struct http_parser *p, enum http_dir d)
{
    return p->h[d].st != ST_TUNNEL && !(p->h[d].st == ST_BODY_CLOSE && !p->bodies);
}

void http_parser_skipped(struct http_parser *p, enum http_dir d, uint64_t n)
{
    if (p->h[d].st == ST_BODY_CLOSE && !p->bodies) /* counts only: nothing to decode */
        body_data_len(p, d, n);
}

void http_parser_free(struct http_parser *p)
{
    if (!p)
        return;
    body_free(&p->h[0].body);
    body_free(&p->h[1].body);
    free(p->ring);
    free(p);
}
