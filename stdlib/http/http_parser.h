/*
 * http_parser.h - the HTTP/1.x push parser core of std.http.
 *
 * A parser holds the state of one TCP connection: the request direction
 * (client to server) and the response direction are fed separately, each in
 * chunks of any size (one byte at a time gives the same results as the whole
 * stream at once).  Requests are queued as transactions; responses are
 * matched to them in order (pipelining); a response seen before its request
 * starts the transaction itself and records an anomaly.  Bodies are framed by
 * Content-Length, chunked encoding (with trailers) or the end of the
 * connection, decoded as Content-Encoding says (up to 3 stacked gzip/deflate
 * layers, zlib) and hashed (SHA-256, libcrypto).  A gap (bytes never
 * captured) inside a body of known length is skipped; elsewhere the parser
 * resynchronises on the next request or status line.  Memory per parser is
 * bounded: fixed line buffers and a transaction ring of at most HTTP_TX_MAX;
 * zlib and the digest contexts are allocated once per body.
 *
 * The parser reports through callbacks; it never calls the engine, which the
 * adapter (mbx_http.c) does.
 */
#ifndef HTTP_PARSER_H
#define HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbx_http.h"

#define HTTP_LINE_MAX    4096        /* bytes of one start/header line kept */
#define HTTP_HEADERS_MAX (64 * 1024) /* header section size limit (anomaly) */
#define HTTP_TX_INIT     4           /* transaction ring slots at first */
#define HTTP_TX_MAX      256         /* transactions queued per connection, at most */
#define HTTP_MAX_LAYERS  3           /* stacked Content-Encodings decoded */

enum http_dir { HTTP_DIR_REQ = 0, HTTP_DIR_RESP = 1 }; /* = enum mbx_side */

/* What the parser reports.  Any callback may be NULL.  Pointers are valid
 * during the call only. */
struct http_callbacks {
    void (*request)(void *u, const struct mbx_http_tx *tx);  /* request headers done */
    void (*response)(void *u, const struct mbx_http_tx *tx); /* final response headers */
    void (*file_data)(void *u, const struct mbx_http_file_data *d);
    void (*file_end)(void *u, const struct mbx_http_file_info *f);
    void (*tx_done)(void *u, const struct mbx_http_tx *tx); /* both messages over */
    void (*anomaly)(void *u, const struct mbx_http_tx *tx, enum mbx_http_anomaly a);
};

struct http_parser;

/* A parser for one connection; NULL if out of memory.  bodies: decode and
 * hash bodies and report file_data / file_end (otherwise bodies are only
 * framed and counted). */
struct http_parser *http_parser_new(const struct http_callbacks *cb, void *udata, bool bodies);
/* Feed the next n bytes one direction sent. */
void http_parser_feed(struct http_parser *p, enum http_dir d, const uint8_t *data, size_t n);
/* n bytes of that direction were never seen (capture loss). */
void http_parser_gap(struct http_parser *p, enum http_dir d, uint64_t n);
/* One direction ended (FIN or RST): a body read until close ends there. */
void http_parser_eof(struct http_parser *p, enum http_dir d);
/* The connection is over: open bodies end (TRUNCATED unless complete), every
 * queued transaction is reported done, in order.  clean: the connection
 * ended with FIN/RST (a body read until close is then complete). */
void http_parser_close(struct http_parser *p, bool clean);
/* False when the direction's bytes can no longer matter (opaque tunnel, or
 * a body read until close while bodies are not wanted). */
bool http_parser_wants_data(const struct http_parser *p, enum http_dir d);
/* After wants_data turned false, n more bytes of d went by unread: a body
 * read until close counts them. */
void http_parser_skipped(struct http_parser *p, enum http_dir d, uint64_t n);
void http_parser_free(struct http_parser *p);

#endif /* HTTP_PARSER_H */
