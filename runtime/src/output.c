/*
 * output.c - events out as JSON lines in Suricata EVE's conventions (mbx.h section 10).
 *
 * A writer owns one file descriptor and one fixed buffer allocated when it is
 * opened; records are built straight into the buffer and the buffer is written
 * out when it fills and when the writer is closed, so emitting an event costs
 * no allocation and, most of the time, no system call.  A record is one line:
 * mbx_out_begin() writes the common fields (timestamp as Suricata prints it in
 * UTC, "2013-01-30T09:51:52.123456+0000", then flow_id, event_type, the
 * 5-tuple with the connection's client as source, proto "TCP"/"UDP" and
 * community_id), typed members follow, nested objects and arrays are tracked on
 * a small stack so that commas come out right, and mbx_out_end() closes every
 * open level and ends the line.
 *
 * Strings are escaped for JSON: '"' and '\\', the usual short escapes, other
 * control bytes and DEL as \u00XX.  Well-formed UTF-8 passes through; every
 * byte that is not part of a well-formed sequence (overlong forms, surrogates,
 * code points past U+10FFFF, stray continuation bytes) is written as \u00XX,
 * i.e. read as Latin-1, so any byte string gives valid JSON and the original
 * bytes of a non-UTF-8 string can be recovered.
 *
 * Workers: a worker writer (mbx_out_worker) has its own buffer and no file of
 * its own; it writes its whole lines into its parent's file under the parent's
 * lock, keeping a record's unfinished part back, so the lines of several
 * threads never tear.  Only a record longer than the buffer is written in
 * pieces, with the lock held from its first piece to its end.
 */
#define _GNU_SOURCE /* memrchr */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mbx.h"

#define OUT_BUF_SIZE  (256 * 1024) /* bytes buffered before a write(2) */
#define OUT_MAX_DEPTH 32           /* nesting levels of objects and arrays */

struct mbx_out {
    int fd;                       /* where lines go */
    struct mbx_out *parent;       /* a worker writer: whose file and lock it uses */
    pthread_mutex_t lock;         /* a parent: held while a worker writes to fd */
    bool held;                    /* a worker writing a long record holds parent's lock */
    bool own_fd;                  /* close fd at mbx_out_close (not stdout) */
    bool line;                    /* a terminal: write each record at once */
    bool failed;                  /* a write failed; later output is discarded */
    int depth;                    /* open levels: 0 outside a record, 1 its top object */
    int excess;                   /* levels opened past OUT_MAX_DEPTH (written as null) */
    bool first[OUT_MAX_DEPTH];    /* no member written yet at this level */
    char close_ch[OUT_MAX_DEPTH]; /* '}' or ']' closing each level */
    size_t len;                   /* bytes in buf */
    char buf[OUT_BUF_SIZE];       /* pending output */
};

/* ------------------------------------------------------------------ buffer */

static void out_write(struct mbx_out *o, size_t len)
{
    size_t done = 0;
    while (done < len && !o->failed) {
        ssize_t n = write(o->fd, o->buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            o->failed = true;
            fprintf(stderr, "mbx: output write failed: %s\n", strerror(errno));
            break;
        }
        done += (size_t)n;
    }
}

/* A worker writer: its whole lines go out under the parent's lock; inside a
 * record the unfinished line stays in the buffer, unless it fills the buffer
 * alone: then it goes out in pieces and the lock is kept until its end. */
static void out_flush_worker(struct mbx_out *o)
{
    size_t cut = o->len;
    if (o->depth > 0 && !o->held) {
        const char *nl = memrchr(o->buf, '\n', o->len);
        cut = nl ? (size_t)(nl - o->buf) + 1 : 0;
        if (cut == 0 && o->len < OUT_BUF_SIZE)
            return;
        if (cut == 0) {
            pthread_mutex_lock(&o->parent->lock);
            o->held = true;
            cut = o->len;
        }
    }
    if (!o->held)
        pthread_mutex_lock(&o->parent->lock);
    out_write(o, cut);
    if (!o->held || o->depth == 0) {
        o->held = false;
        pthread_mutex_unlock(&o->parent->lock);
    }
    memmove(o->buf, o->buf + cut, o->len - cut);
    o->len -= cut;
}

static void out_flush(struct mbx_out *o)
{
    if (o->parent) {
        out_flush_worker(o);
        return;
    }
    pthread_mutex_lock(&o->lock);
    out_write(o, o->len);
    pthread_mutex_unlock(&o->lock);
    o->len = 0;
}

static void out_put(struct mbx_out *o, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        if (o->len == OUT_BUF_SIZE)
            out_flush(o);
        size_t room = OUT_BUF_SIZE - o->len;
        size_t k = n < room ? n : room;
        memcpy(o->buf + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
    }
}

static void out_ch(struct mbx_out *o, char c)
{
    if (o->len == OUT_BUF_SIZE)
        out_flush(o);
    o->buf[o->len++] = c;
}

static void out_cstr(struct mbx_out *o, const char *s)
{
    out_put(o, s, strlen(s));
}

/* ------------------------------------------------------------------ escaping */

/* Length of the well-formed UTF-8 sequence starting at s (RFC 3629 table 3),
 * or 0 if the byte at s does not start one. */
static size_t utf8_seq_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* no overlong forms */
        else if (c == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f; /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* Writes the bytes as a quoted JSON string. */
static void out_quoted(struct mbx_out *o, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    out_ch(o, '"');
    size_t run = 0; /* start of bytes that need no escape */
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            i++;
            continue;
        }
        size_t ulen = c >= 0x80 ? utf8_seq_len(s + i, n - i) : 0;
        if (ulen > 0) {
            i += ulen;
            continue;
        }
        out_put(o, s + run, i - run);
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t elen = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        out_put(o, esc, elen);
        i++;
        run = i;
    }
    out_put(o, s + run, n - run);
    out_ch(o, '"');
}

/* Starts a member: the comma if needed, then "key": unless inside an array. */
static bool out_member(struct mbx_out *o, const char *key)
{
    if (o->depth == 0 || o->excess > 0)
        return false; /* outside a record, or inside a level too deep: ignored */
    int d = o->depth - 1;
    if (!o->first[d])
        out_ch(o, ',');
    o->first[d] = false;
    if (o->close_ch[d] == '}') {
        const char *k = key ? key : "";
        out_quoted(o, (const uint8_t *)k, strlen(k));
        out_ch(o, ':');
    }
    return true;
}

static void out_open(struct mbx_out *o, const char *key, char open, char close)
{
    if (o->excess > 0) {
        o->excess++;
        return;
    }
    if (!out_member(o, key))
        return;
    if (o->depth == OUT_MAX_DEPTH) {
        out_cstr(o, "null"); /* too deep: the member is written as null */
        o->excess++;
        return;
    }
    out_ch(o, open);
    o->first[o->depth] = true;
    o->close_ch[o->depth] = close;
    o->depth++;
}

static void out_close(struct mbx_out *o, char close)
{
    if (o->excess > 0) {
        o->excess--;
        return;
    }
    if (o->depth <= 1 || o->close_ch[o->depth - 1] != close)
        return; /* unbalanced: ignored rather than corrupting the line */
    o->depth--;
    out_ch(o, close);
}

/* ------------------------------------------------------------------ public API */

struct mbx_out *mbx_out_open(const char *path, char *err, size_t errlen)
{
    int fd;
    bool own = true;
    if (path == NULL || strcmp(path, "-") == 0) {
        fd = STDOUT_FILENO;
        own = false;
    } else {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            if (err && errlen)
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return NULL;
        }
    }
    struct mbx_out *o = calloc(1, sizeof(*o));
    if (o == NULL) {
        if (own)
            close(fd);
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    o->fd = fd;
    o->own_fd = own;
    o->line = isatty(fd) != 0;
    pthread_mutex_init(&o->lock, NULL);
    return o;
}

struct mbx_out *mbx_out_worker(struct mbx_out *parent)
{
    if (parent == NULL || parent->parent != NULL)
        return NULL;
    struct mbx_out *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return NULL;
    o->fd = parent->fd;
    o->parent = parent;
    o->line = parent->line;
    return o;
}

void mbx_out_flush(struct mbx_out *o)
{
    if (o != NULL && o->len > 0)
        out_flush(o);
}

void mbx_out_close(struct mbx_out *o)
{
    if (o == NULL)
        return;
    if (o->len > 0)
        out_flush(o);
    if (o->held) /* closed inside a record longer than the buffer */
        pthread_mutex_unlock(&o->parent->lock);
    if (o->own_fd)
        close(o->fd);
    if (o->parent == NULL)
        pthread_mutex_destroy(&o->lock);
    free(o);
}

/* Suricata's EVE timestamp, in UTC: 2013-01-30T09:51:52.123456+0000. */
static size_t out_timestamp(char *buf, size_t len, mbx_time ts)
{
    time_t sec = (time_t)(ts / 1000000000u);
    unsigned usec = (unsigned)(ts % 1000000000u / 1000u);
    struct tm tm;
    if (gmtime_r(&sec, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    int k = snprintf(buf + n, len - n, ".%06u+0000", usec);
    return k > 0 ? n + (size_t)k : n;
}

void mbx_out_begin(struct mbx_out *o, mbx_time ts, const char *event_type, const mbx_flow *f)
{
    if (o == NULL)
        return;
    if (o->depth > 0) /* an unfinished record: finish it first */
        mbx_out_end(o);
    out_ch(o, '{');
    o->depth = 1;
    o->excess = 0;
    o->first[0] = true;
    o->close_ch[0] = '}';
    char tbuf[48];
    size_t tn = out_timestamp(tbuf, sizeof(tbuf), ts);
    out_member(o, "timestamp");
    out_quoted(o, (const uint8_t *)tbuf, tn);
    if (f)
        mbx_out_uint(o, "flow_id", mbx_flow_id(f));
    mbx_out_str(o, "event_type", event_type);
    if (f == NULL)
        return;
    mbx_out_addr(o, "src_ip", mbx_flow_addr(f, MBX_CLIENT));
    mbx_out_uint(o, "src_port", mbx_flow_port(f, MBX_CLIENT));
    mbx_out_addr(o, "dest_ip", mbx_flow_addr(f, MBX_SERVER));
    mbx_out_uint(o, "dest_port", mbx_flow_port(f, MBX_SERVER));
    int proto = mbx_flow_proto(f);
    if (proto == IPPROTO_TCP)
        mbx_out_str(o, "proto", "TCP");
    else if (proto == IPPROTO_UDP)
        mbx_out_str(o, "proto", "UDP");
    else
        mbx_out_int(o, "proto", proto);
    char cid[64];
    mbx_out_str(o, "community_id", mbx_flow_community_id(f, cid, sizeof(cid)));
}

void mbx_out_object(struct mbx_out *o, const char *key)
{
    if (o)
        out_open(o, key, '{', '}');
}

void mbx_out_end_object(struct mbx_out *o)
{
    if (o)
        out_close(o, '}');
}

void mbx_out_array(struct mbx_out *o, const char *key)
{
    if (o)
        out_open(o, key, '[', ']');
}

void mbx_out_end_array(struct mbx_out *o)
{
    if (o)
        out_close(o, ']');
}

void mbx_out_str(struct mbx_out *o, const char *key, const char *s)
{
    if (o == NULL || !out_member(o, key))
        return;
    if (s == NULL)
        out_cstr(o, "null");
    else
        out_quoted(o, (const uint8_t *)s, strlen(s));
}

void mbx_out_strn(struct mbx_out *o, const char *key, const void *s, size_t n)
{
    if (o == NULL || !out_member(o, key))
        return;
    if (s == NULL)
        out_cstr(o, "null");
    else
        out_quoted(o, s, n);
}

void mbx_out_hex(struct mbx_out *o, const char *key, const void *b, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (o == NULL || !out_member(o, key))
        return;
    const uint8_t *p = b;
    out_ch(o, '"');
    for (size_t i = 0; p && i < n; i++) {
        out_ch(o, hex[p[i] >> 4]);
        out_ch(o, hex[p[i] & 15]);
    }
    out_ch(o, '"');
}

void mbx_out_int(struct mbx_out *o, const char *key, int64_t v)
{
    if (o == NULL || !out_member(o, key))
        return;
    char b[24];
    int n = snprintf(b, sizeof(b), "%" PRId64, v);
    out_put(o, b, (size_t)n);
}

void mbx_out_uint(struct mbx_out *o, const char *key, uint64_t v)
{
    if (o == NULL || !out_member(o, key))
        return;
    char b[24];
    int n = snprintf(b, sizeof(b), "%" PRIu64, v);
    out_put(o, b, (size_t)n);
}

/* JSON has no NaN or infinities: they are written as null. */
void mbx_out_double(struct mbx_out *o, const char *key, double v)
{
    if (o == NULL || !out_member(o, key))
        return;
    if (!isfinite(v)) {
        out_cstr(o, "null");
        return;
    }
    char b[40];
    int n = snprintf(b, sizeof(b), "%.17g", v);
    /* Shortest form that reads back to the same double. */
    for (int prec = 1; prec < 17; prec++) {
        char t[40];
        int k = snprintf(t, sizeof(t), "%.*g", prec, v);
        if (strtod(t, NULL) == v) {
            memcpy(b, t, (size_t)k + 1);
            n = k;
            break;
        }
    }
    out_put(o, b, (size_t)n);
}

void mbx_out_bool(struct mbx_out *o, const char *key, bool v)
{
    if (o == NULL || !out_member(o, key))
        return;
    out_cstr(o, v ? "true" : "false");
}

void mbx_out_addr(struct mbx_out *o, const char *key, const struct mbx_addr *a)
{
    if (o == NULL)
        return;
    if (a == NULL) {
        mbx_out_str(o, key, NULL);
        return;
    }
    char b[64];
    mbx_out_str(o, key, mbx_addr_str(a, b, sizeof(b)));
}

void mbx_out_end(struct mbx_out *o)
{
    if (o == NULL || o->depth == 0)
        return;
    o->excess = 0;
    while (o->depth > 0) {
        o->depth--;
        out_ch(o, o->close_ch[o->depth]);
    }
    out_ch(o, '\n');
    if (o->line || o->held || o->len > OUT_BUF_SIZE - 4096)
        out_flush(o);
}
