/*
 * mbx_http.h - std.http: the HTTP/1.x module of the mbx standard library.
 *
 * Two layers.  The parser core (http_parser.h, prefix http_) is a push parser
 * fed byte chunks per direction; it knows nothing of the engine, so tests and
 * fuzzers drive it directly.  The module adapter (prefix mbx_http_) sits on
 * the public runtime API (mbx.h): it subscribes tcp.data, tcp.gap, tcp.close
 * and tcp.timeout, keeps one parser per flow in per-flow ext storage, raises
 * the events http_request, http_response, file_data and file_seen with the
 * payloads declared here, and optionally writes EVE "http" and "fileinfo"
 * records (Suricata's field names) to the engine's output.
 *
 * Event payloads (ev->payload of a raised event):
 *   http_request   const struct mbx_http_tx *        request headers complete
 *   http_response  const struct mbx_http_tx *        final response headers complete
 *   file_data      const struct mbx_http_file_data * decoded body bytes
 *   file_seen      const struct mbx_http_file_info * a body ended (file closed)
 * The side of a raised event is the side that sent the message.
 */
#ifndef MBX_HTTP_H
#define MBX_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbx.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MBX_HTTP_METHOD_MAX 24   /* method bytes kept (longer: truncated, anomaly) */
#define MBX_HTTP_URI_MAX    1024 /* URI bytes kept */
#define MBX_HTTP_FIELD_MAX  256  /* host, user agent, content type bytes kept */
#define MBX_HTTP_PROTO_MAX  16   /* "HTTP/1.1" */

/* Anomalies the parser counts and records per transaction (bit i of
 * mbx_http_tx.anomalies is anomaly i).  Names are Suricata's where it has one. */
#define MBX_HTTP_ANOMALIES(X)                                                                      \
    X(REQUEST_LINE_MISSING_PROTOCOL, "request line without HTTP version")                          \
    X(REQUEST_LINE_INVALID, "request line unparsable")                                             \
    X(STATUS_LINE_INVALID, "response line unparsable")                                             \
    X(UNABLE_TO_MATCH_RESPONSE_TO_REQUEST, "response before its request")                          \
    X(LINE_TOO_LONG, "line longer than the line buffer (truncated)")                               \
    X(HEADERS_TOO_LONG, "header section over the size limit")                                      \
    X(HEADER_INVALID, "header line without a colon")                                               \
    X(FIELD_TRUNCATED, "a kept field was longer than its buffer")                                  \
    X(INVALID_CONTENT_LENGTH, "Content-Length not a number or too large")                          \
    X(DUPLICATE_CONTENT_LENGTH, "several different Content-Length values")                         \
    X(CHUNKED_AND_CONTENT_LENGTH, "both Transfer-Encoding and Content-Length")                     \
    X(INVALID_CHUNK_LEN, "chunk size not hex or absurdly large")                                   \
    X(CHUNK_FRAMING, "junk after a chunk size or no CRLF after chunk data")                        \
    X(OBS_FOLD, "obsolete header line folding")                                                    \
    X(UNKNOWN_ENCODING, "Content-Encoding not gzip/deflate/identity")                              \
    X(TOO_MANY_ENCODINGS, "more than 3 stacked Content-Encodings")                                 \
    X(DECOMPRESSION_FAILED, "gzip/deflate data corrupt")                                           \
    X(TOO_MANY_PIPELINED, "more requests queued than the parser keeps")                            \
    X(GAP, "bytes missing from the stream")                                                        \
    X(RESYNC, "parser lost framing and skipped to a start line")

enum mbx_http_anomaly {
#define MBX_X_(id, text) MBX_HTTP_ANOM_##id,
    MBX_HTTP_ANOMALIES(MBX_X_)
#undef MBX_X_
        MBX_HTTP_ANOM_N
};
const char *mbx_http_anomaly_name(enum mbx_http_anomaly a); /* "INVALID_CHUNK_LEN" */

/* One transaction: a request and its final response, matched in order. */
struct mbx_http_tx {
    uint64_t tx_id;                            /* 0, 1, ... per flow */
    char method[MBX_HTTP_METHOD_MAX];          /* "GET" ("" if no request seen) */
    char uri[MBX_HTTP_URI_MAX];                /* request target as sent */
    char protocol[MBX_HTTP_PROTO_MAX];         /* request's version, "HTTP/1.1" */
    char host[MBX_HTTP_FIELD_MAX];             /* Host header */
    char user_agent[MBX_HTTP_FIELD_MAX];       /* User-Agent header */
    char req_content_type[MBX_HTTP_FIELD_MAX]; /* request Content-Type */
    char content_type[MBX_HTTP_FIELD_MAX];     /* response Content-Type */
    char referer[MBX_HTTP_URI_MAX];            /* Referer header */
    char redirect[MBX_HTTP_URI_MAX];           /* response Location */
    char resp_protocol[MBX_HTTP_PROTO_MAX];    /* response's version */
    int status;                                /* final status; 0: none seen */
    uint64_t request_body_len;                 /* body bytes after chunked decoding, gaps counted */
    uint64_t response_body_len;                /* the same for the response (EVE "length") */
    uint64_t request_body_decoded;             /* after Content-Encoding, gaps counted (Zeek's
                                                  request_body_len); = wire if not decoded */
    uint64_t response_body_decoded;            /* the same for the response */
    bool req_seen;                             /* a request line was parsed */
    bool resp_seen;                            /* a final status line was parsed */
    bool req_done;                             /* the request message is over */
    bool resp_done;                            /* the final response message is over */
    bool gaps;                                 /* some of its bytes were never seen */
    uint32_t anomalies;                        /* bit per enum mbx_http_anomaly */
};

enum mbx_http_file_state { MBX_HTTP_FILE_OPEN = 0, MBX_HTTP_FILE_CLOSED, MBX_HTTP_FILE_TRUNCATED };
const char *mbx_http_file_state_name(enum mbx_http_file_state s); /* "CLOSED" */

/* One message body, decoded as its Content-Encoding says. */
struct mbx_http_file_info {
    const struct mbx_http_tx *tx;   /* the transaction it belongs to */
    enum mbx_side side;             /* MBX_CLIENT: request body; MBX_SERVER: response */
    const char *name;               /* the URI's path ("/a/b.bin") */
    uint64_t size;                  /* decoded bytes, plus gap bytes */
    bool gaps;                      /* some bytes never seen */
    enum mbx_http_file_state state; /* OPEN while data flows; then CLOSED or TRUNCATED */
    bool has_sha256;                /* sha256 valid: every byte seen and decoded */
    uint8_t sha256[32];             /* SHA-256 of the decoded body (libcrypto) */
};

/* A piece of a decoded body. */
struct mbx_http_file_data {
    const struct mbx_http_file_info *file; /* size so far, state OPEN */
    uint64_t offset;                       /* offset of data in the decoded body */
    const uint8_t *data;                   /* the bytes (valid during the event) */
    size_t len;                            /* their count */
};

/* ------------------------------------------------------------ the module */

struct mbx_http_options {
    bool eve_http;     /* write one EVE "http" record per transaction */
    bool eve_fileinfo; /* write one EVE "fileinfo" record per file */
    bool bodies;       /* decode and hash bodies even if nothing subscribes file_* */
    bool eve_anomaly;  /* write EVE "anomaly" records (app-layer events, not gaps) */
};

struct mbx_http_stats {
    uint64_t flows;                      /* flows the parser ran on */
    uint64_t transactions;               /* transactions completed */
    uint64_t files;                      /* files closed */
    uint64_t anomalies[MBX_HTTP_ANOM_N]; /* by enum mbx_http_anomaly */
    uint64_t alloc_failures;             /* flows skipped: out of memory */
    uint64_t reads_stopped;              /* flow sides no longer read after headers */
};

typedef struct mbx_http mbx_http;

/* Attach std.http to an engine, before its first packet: registers the four
 * events and subscribes the TCP events.  opts may be NULL (no EVE output).
 * Returns NULL with errno set on failure. */
mbx_http *mbx_http_attach(mbx_engine *e, const struct mbx_http_options *opts);
/* Ids of the raised events, for mbx_subscribe(). */
int mbx_http_ev_request(const mbx_http *h);
int mbx_http_ev_response(const mbx_http *h);
int mbx_http_ev_file_data(const mbx_http *h);
int mbx_http_ev_file_seen(const mbx_http *h);
/* Whether the module must decode bodies: set automatically when file_data or
 * file_seen gets a subscriber through this call (use it instead of
 * mbx_subscribe for those two events). */
int mbx_http_subscribe_files(mbx_http *h, int ev, mbx_handler_fn fn, void *udata);
void mbx_http_get_stats(const mbx_http *h, struct mbx_http_stats *out);
void mbx_http_stats_print(const struct mbx_http_stats *s, FILE *fp);
/* Frees the module (after mbx_engine_finish; flows still live are flushed
 * by the engine's tcp.timeout at finish). */
void mbx_http_detach(mbx_http *h);

#ifdef __cplusplus
}
#endif
#endif /* MBX_HTTP_H */
