/*
 * mbx_http.c - std.http's module adapter: the HTTP parser core on the engine.
 *
 * The adapter subscribes tcp.data and tcp.gap (reading both streams),
 * tcp.close and tcp.timeout.  Per flow it keeps 16 bytes of ext storage:
 * a pointer to the flow's parser, made on the first bytes of either side that
 * look like HTTP (a request line's method and space, or "HTTP/"), and marks
 * of the sides that did not; when neither side does, the flow's
 * subscriptions are turned off.  The
 * parser's callbacks become raised events (http_request, http_response,
 * file_data, file_seen, payloads in mbx_http.h) and, if asked, EVE "http" and
 * "fileinfo" records.  Each side is read through its own tcp.data
 * subscription, so that a side whose bytes can no longer matter (an opaque
 * tunnel after CONNECT or 101, or a response body until close when nothing
 * reads bodies) stops being read on its own; the length of such a body is
 * then taken from the engine's byte counters at the end.
 *
 * A parser is allocated once per HTTP flow (not per packet) and freed at
 * tcp.close or tcp.timeout; mbx_engine_finish() fires tcp.timeout for every
 * live flow, so nothing is left at the end of a run.
 */
#include "mbx_http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_parser.h"

/* Per-flow ext storage. */
struct http_flow {
    struct http_parser *p; /* the parser, once a side looked like HTTP */
    uint8_t bad;           /* sides whose first bytes were not HTTP (bit per mbx_side) */
    uint8_t stopped;       /* sides no longer read (bit per mbx_side) */
    uint64_t stop_off[2];  /* stream offset where reading stopped, per side */
    bool off;              /* not HTTP, or over: ignore the flow */
};

struct mbx_http {
    mbx_engine *e;               /* the engine attached to */
    struct mbx_http_options opt; /* what to write */
    bool bodies;                 /* decode/hash bodies on new flows */
    int slot;                    /* per-flow ext slot: struct http_parser * */
    int ev_req, ev_resp;         /* raised events */
    int ev_fdata, ev_fseen;
    int sub_data[2], sub_gap; /* our subscriptions (turned off per flow), */
                              /* tcp.data per side: each side stops alone */
    int sub_close, sub_timeout;
    mbx_flow *flow;           /* the flow whose parser is running */
    struct mbx_http_stats st; /* counters */
};

static struct http_flow *flow_slot(mbx_http *h, mbx_flow *f)
{
    return (struct http_flow *)mbx_flow_ext(f, h->slot);
}

/* ------------------------------------------------------------ EVE records */

static void put_str(struct mbx_out *o, const char *key, const char *s)
{
    if (s[0])
        mbx_out_str(o, key, s);
}

/* The EVE http object's fields.  http_content_type is the media type only
 * ("text/html", no "; charset=..."), as Suricata logs it. */
static void put_http(struct mbx_out *o, const struct mbx_http_tx *tx)
{
    put_str(o, "hostname", tx->host);
    put_str(o, "url", tx->uri);
    put_str(o, "http_user_agent", tx->user_agent);
    size_t ct = strcspn(tx->content_type, ";");
    while (ct > 0 && (tx->content_type[ct - 1] == ' ' || tx->content_type[ct - 1] == '\t'))
        ct--;
    if (ct > 0)
        mbx_out_strn(o, "http_content_type", tx->content_type, ct);
    put_str(o, "http_refer", tx->referer);
    put_str(o, "http_method", tx->method);
    put_str(o, "protocol", tx->protocol);
    if (tx->status)
        mbx_out_int(o, "status", tx->status);
    put_str(o, "redirect", tx->redirect);
    mbx_out_uint(o, "length", tx->response_body_len);
}

static void write_http(mbx_http *h, struct mbx_out *o, const struct mbx_http_tx *tx)
{
    mbx_out_begin(o, mbx_engine_now(h->e), "http", h->flow);
    mbx_out_uint(o, "tx_id", tx->tx_id);
    mbx_out_object(o, "http");
    put_http(o, tx);
    /* not in Suricata's record: both body lengths after Content-Encoding is
     * undone, as Zeek's http.log has them */
    mbx_out_uint(o, "request_body_len", tx->request_body_decoded);
    mbx_out_uint(o, "response_body_len", tx->response_body_decoded);
    mbx_out_end_object(o);
    mbx_out_end(o);
}

static void write_fileinfo(mbx_http *h, struct mbx_out *o, const struct mbx_http_file_info *fi)
{
    mbx_out_begin(o, mbx_engine_now(h->e), "fileinfo", h->flow);
    mbx_out_str(o, "app_proto", "http");
    mbx_out_object(o, "fileinfo");
    mbx_out_str(o, "filename", fi->name);
    mbx_out_bool(o, "gaps", fi->gaps);
    mbx_out_str(o, "state", mbx_http_file_state_name(fi->state));
    if (fi->has_sha256)
        mbx_out_hex(o, "sha256", fi->sha256, sizeof fi->sha256);
    mbx_out_bool(o, "stored", false);
    mbx_out_uint(o, "size", fi->size);
    if (fi->tx)
        mbx_out_uint(o, "tx_id", fi->tx->tx_id);
    mbx_out_end_object(o);
    if (fi->tx) { /* as Suricata's fileinfo records: the transaction's http fields */
        mbx_out_object(o, "http");
        put_http(o, fi->tx);
        mbx_out_end_object(o);
    }
    mbx_out_end(o);
}

/* ------------------------------------------------------------ parser callbacks */

static void cb_request(void *u, const struct mbx_http_tx *tx)
{
    mbx_http *h = u;
    mbx_raise(h->e, h->ev_req, h->flow, MBX_CLIENT, tx);
}

static void cb_response(void *u, const struct mbx_http_tx *tx)
{
    mbx_http *h = u;
    mbx_raise(h->e, h->ev_resp, h->flow, MBX_SERVER, tx);
}

static void cb_file_data(void *u, const struct mbx_http_file_data *d)
{
    mbx_http *h = u;
    mbx_raise(h->e, h->ev_fdata, h->flow, d->file->side, d);
}

static void cb_file_end(void *u, const struct mbx_http_file_info *f)
{
    mbx_http *h = u;
    struct mbx_out *o = mbx_engine_output(h->e);
    h->st.files++;
    mbx_raise(h->e, h->ev_fseen, h->flow, f->side, f);
    if (h->opt.eve_fileinfo && o)
        write_fileinfo(h, o, f);
}

static void cb_tx_done(void *u, const struct mbx_http_tx *tx)
{
    mbx_http *h = u;
    struct mbx_out *o = mbx_engine_output(h->e);
    h->st.transactions++;
    if (h->opt.eve_http && o)
        write_http(h, o, tx);
}

/* Suricata's app-layer anomaly record: {"anomaly": {"app_proto": "http",
 * "type": "applayer", "event": NAME, "layer": "proto_parser"}}. */
static void cb_anomaly(void *u, const struct mbx_http_tx *tx, enum mbx_http_anomaly a)
{
    mbx_http *h = u;
    struct mbx_out *o = mbx_engine_output(h->e);
    h->st.anomalies[a]++;
    if (!h->opt.eve_anomaly || !o || a == MBX_HTTP_ANOM_GAP || a == MBX_HTTP_ANOM_RESYNC)
        return;
    mbx_out_begin(o, mbx_engine_now(h->e), "anomaly", h->flow);
    if (tx)
        mbx_out_uint(o, "tx_id", tx->tx_id);
    mbx_out_object(o, "anomaly");
    mbx_out_str(o, "app_proto", "http");
    mbx_out_str(o, "type", "applayer");
    mbx_out_str(o, "event", mbx_http_anomaly_name(a));
    mbx_out_str(o, "layer", "proto_parser");
    mbx_out_end_object(o);
    mbx_out_end(o);
}

static const struct http_callbacks callbacks = {
    cb_request, cb_response, cb_file_data, cb_file_end, cb_tx_done, cb_anomaly,
};

/* ------------------------------------------------------------ engine handlers */

/* Does a stream that starts with data[0..n) carry HTTP?  1 yes, 0 no, -1 too
 * few bytes to say. */
static int looks_http(const uint8_t *d, size_t n, enum mbx_side side)
{
    if (side == MBX_SERVER) {
        size_t m = n < 5 ? n : 5;
        if (strncasecmp((const char *)d, "HTTP/", m) != 0)
            return 0;
        return n >= 5 ? 1 : -1;
    }
    for (size_t i = 0; i < n && i < 24; i++) {
        uint8_t c = d[i];
        if (c == ' ')
            return i > 0 ? 1 : 0;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '_'))
            return 0;
    }
    return n >= 24 ? 0 : -1;
}

static void flow_off(mbx_http *h, mbx_flow *f)
{
    mbx_flow_unsubscribe(f, h->sub_data[MBX_CLIENT]);
    mbx_flow_unsubscribe(f, h->sub_data[MBX_SERVER]);
    mbx_flow_unsubscribe(f, h->sub_gap);
}

/* Stream bytes of side s so far: delivered plus never seen. */
static uint64_t side_end(mbx_flow *f, enum mbx_side s)
{
    struct mbx_half_info hi;
    mbx_flow_half(f, s, &hi);
    return hi.delivered + hi.gap_bytes;
}

/* The parser needs no more bytes of side s (an opaque tunnel, or a body
 * until close that nobody reads): stop reading it, so that its buffers go. */
static void side_off(mbx_http *h, mbx_flow *f, struct http_flow *x, enum mbx_side s)
{
    x->stopped |= (uint8_t)(1u << s);
    x->stop_off[s] = side_end(f, s);
    h->st.reads_stopped++;
    mbx_flow_unsubscribe(f, h->sub_data[s]);
}

static void on_data(const struct mbx_event *ev, mbx_http *h)
{
    mbx_flow *f = ev->flow;
    struct http_flow *x = flow_slot(h, f);
    if (!x || x->off || (x->stopped >> ev->side) & 1)
        return;
    mbx_stream *s = mbx_flow_stream(f, ev->side);
    if (!s)
        return;
    const uint8_t *data;
    size_t n = mbx_stream_peek(s, &data);
    if (n == 0)
        return;
    if (!x->p) {
        /* A side that starts with something else (garbage before a request,
         * a capture picked up mid-body) does not decide alone: the flow is
         * dropped when both sides fail, parsed when either looks like HTTP. */
        int r = (x->bad >> ev->side) & 1 ? 0 : looks_http(data, n, ev->side);
        if (r < 0)
            return; /* keep the bytes unread until we can tell */
        if (r == 0) {
            x->bad |= (uint8_t)(1u << ev->side);
            mbx_stream_consume(s, n);
            if (x->bad == 3) {
                x->off = true;
                flow_off(h, f);
                mbx_flow_unsubscribe(f, h->sub_close);
                mbx_flow_unsubscribe(f, h->sub_timeout);
            }
            return;
        }
        x->p = http_parser_new(&callbacks, h, h->bodies);
        if (!x->p) {
            h->st.alloc_failures++;
            x->off = true;
            flow_off(h, f);
            return;
        }
        h->st.flows++;
    }
    h->flow = f;
    http_parser_feed(x->p, (enum http_dir)ev->side, data, n);
    mbx_stream_consume(s, n);
    for (int side = 0; side < 2; side++)
        if (!((x->stopped >> side) & 1) && !http_parser_wants_data(x->p, (enum http_dir)side))
            side_off(h, f, x, (enum mbx_side)side);
}

static void on_data_client(const struct mbx_event *ev, void *u)
{
    if (ev->side == MBX_CLIENT)
        on_data(ev, u);
}

static void on_data_server(const struct mbx_event *ev, void *u)
{
    if (ev->side == MBX_SERVER)
        on_data(ev, u);
}

static void on_gap(const struct mbx_event *ev, void *u)
{
    mbx_http *h = u;
    struct http_flow *x = flow_slot(h, ev->flow);
    if (!x || x->off || !x->p || (x->stopped >> ev->side) & 1)
        return;
    h->flow = ev->flow;
    http_parser_gap(x->p, (enum http_dir)ev->side, ev->len);
}

static void on_close(const struct mbx_event *ev, void *u)
{
    mbx_http *h = u;
    struct http_flow *x = flow_slot(h, ev->flow);
    if (!x || x->off || !x->p)
        return;
    enum mbx_flow_end end = mbx_flow_end(ev->flow);
    h->flow = ev->flow;
    for (int s = 0; s < 2; s++) /* bytes that went by unread since reading stopped */
        if ((x->stopped >> s) & 1)
            http_parser_skipped(x->p, (enum http_dir)s,
                                side_end(ev->flow, (enum mbx_side)s) - x->stop_off[s]);
    http_parser_close(x->p, ev->id == MBX_EV_TCP_CLOSE || end == MBX_END_FIN || end == MBX_END_RST);
    http_parser_free(x->p);
    x->p = NULL;
    x->off = true; /* a late segment must not start a new parser */
}

/* ------------------------------------------------------------ public */

mbx_http *mbx_http_attach(mbx_engine *e, const struct mbx_http_options *opts)
{
    mbx_http *h = calloc(1, sizeof *h);
    if (!h) {
        errno = ENOMEM;
        return NULL;
    }
    h->e = e;
    if (opts)
        h->opt = *opts;
    h->bodies = h->opt.bodies || h->opt.eve_fileinfo;
    int r = h->slot = mbx_flow_ext_register(e, sizeof(struct http_flow));
    if (r >= 0)
        r = h->ev_req = mbx_event_register(e, "http_request");
    if (r >= 0)
        r = h->ev_resp = mbx_event_register(e, "http_response");
    if (r >= 0)
        r = h->ev_fdata = mbx_event_register(e, "file_data");
    if (r >= 0)
        r = h->ev_fseen = mbx_event_register(e, "file_seen");
    if (r >= 0)
        r = h->sub_data[MBX_CLIENT] =
            mbx_subscribe(e, MBX_EV_TCP_DATA, on_data_client, h, MBX_SUB_READ_CLIENT);
    if (r >= 0)
        r = h->sub_data[MBX_SERVER] =
            mbx_subscribe(e, MBX_EV_TCP_DATA, on_data_server, h, MBX_SUB_READ_SERVER);
    if (r >= 0)
        r = h->sub_gap = mbx_subscribe(e, MBX_EV_TCP_GAP, on_gap, h, 0);
    if (r >= 0)
        r = h->sub_close = mbx_subscribe(e, MBX_EV_TCP_CLOSE, on_close, h, 0);
    if (r >= 0)
        r = h->sub_timeout = mbx_subscribe(e, MBX_EV_TCP_TIMEOUT, on_close, h, 0);
    if (r < 0) {
        free(h);
        errno = -r;
        return NULL;
    }
    return h;
}

int mbx_http_ev_request(const mbx_http *h)
{
    return h->ev_req;
}
int mbx_http_ev_response(const mbx_http *h)
{
    return h->ev_resp;
}
int mbx_http_ev_file_data(const mbx_http *h)
{
    return h->ev_fdata;
}
int mbx_http_ev_file_seen(const mbx_http *h)
{
    return h->ev_fseen;
}

int mbx_http_subscribe_files(mbx_http *h, int ev, mbx_handler_fn fn, void *udata)
{
    if (ev != h->ev_fdata && ev != h->ev_fseen)
        return -EINVAL;
    h->bodies = true;
    return mbx_subscribe(h->e, ev, fn, udata, 0);
}

void mbx_http_get_stats(const mbx_http *h, struct mbx_http_stats *out)
{
    *out = h->st;
}

void mbx_http_stats_print(const struct mbx_http_stats *s, FILE *fp)
{
    fprintf(fp, "http: %llu flows, %llu transactions, %llu files\n", (unsigned long long)s->flows,
            (unsigned long long)s->transactions, (unsigned long long)s->files);
    for (int a = 0; a < MBX_HTTP_ANOM_N; a++)
        if (s->anomalies[a])
            fprintf(fp, "  http anomaly %-36s %llu\n",
                    mbx_http_anomaly_name((enum mbx_http_anomaly)a),
                    (unsigned long long)s->anomalies[a]);
    if (s->reads_stopped)
        fprintf(fp, "  http flow sides no longer read after headers %llu\n",
                (unsigned long long)s->reads_stopped);
    if (s->alloc_failures)
        fprintf(fp, "  http flows skipped (out of memory) %llu\n",
                (unsigned long long)s->alloc_failures);
}

void mbx_http_detach(mbx_http *h)
{
    free(h);
}
