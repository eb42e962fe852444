/*
 * mbx-http-av - an anti-virus on HTTP file transfers: signatures over every
 * decoded body, with Hyperscan in streaming mode.
 *
 * std.http (mbx_http.h) parses both directions of every TCP connection and
 * raises file_data with each piece of a decoded body (chunked and
 * Content-Encoding undone, multipart parts apart); std.av (mbx_av.h) follows
 * each file with a Hyperscan stream, so a signature split across packets,
 * chunks or gzip blocks is still found.  The EICAR test signature is built
 * in.  Output: one EVE "alert" record per signature found in a file
 * (alert.signature names it, e.g. "EICAR-Test-File"; fileinfo.filename and
 * the transaction's http fields say where), and one "fileinfo" record per file.
 *
 *   mbx-http-av -r CAPTURE [-o FILE] [-s]
 *
 * Exit status: 0; 2 for bad arguments or a capture that cannot be read; 1
 * when the output cannot be written or the scanner cannot start.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbx.h>
#include <mbx_av.h>
#include <mbx_http.h>

static const char av_usage[] =
    "usage: mbx-http-av -r CAPTURE [-o FILE] [-s]\n"
    "Scans every HTTP file body (decoded) for the EICAR test signature with Hyperscan;\n"
    "writes EVE \"alert\" and \"fileinfo\" records as JSON lines.\n"
    "  -r CAPTURE  pcap or pcapng file (\"-\": standard input)\n"
    "  -o FILE     output file (default: standard output)\n"
    "  -s          statistics to stderr at the end\n";

struct av_flow {
    struct mbx_av_stream *s[2]; /* the scan of the file open on each side */
};

static struct {
    mbx_engine *e;
    struct mbx_av *av;
    int slot; /* per-flow struct av_flow */
    uint64_t files, alerts, errors;
} g;

struct av_hit { /* what a match is reported with */
    mbx_flow *flow;
    const struct mbx_http_file_info *file;
};

static void av_alert(const struct mbx_av_sig *sig, uint64_t end, void *udata)
{
    struct av_hit *hit = udata;
    struct mbx_out *o = mbx_engine_output(g.e);
    g.alerts++;
    if (!o)
        return;
    const struct mbx_http_tx *tx = hit->file->tx;
    mbx_out_begin(o, mbx_engine_now(g.e), "alert", hit->flow);
    if (tx)
        mbx_out_uint(o, "tx_id", tx->tx_id);
    mbx_out_str(o, "app_proto", "http");
    mbx_out_object(o, "alert");
    mbx_out_str(o, "action", "allowed");
    mbx_out_uint(o, "signature_id", sig->id);
    mbx_out_str(o, "signature", sig->name);
    mbx_out_end_object(o);
    mbx_out_object(o, "fileinfo");
    mbx_out_str(o, "filename", hit->file->name);
    mbx_out_uint(o, "match_end", end);
    mbx_out_end_object(o);
    if (tx) {
        mbx_out_object(o, "http");
        if (tx->host[0])
            mbx_out_str(o, "hostname", tx->host);
        if (tx->uri[0])
            mbx_out_str(o, "url", tx->uri);
        if (tx->method[0])
            mbx_out_str(o, "http_method", tx->method);
        mbx_out_end_object(o);
    }
    mbx_out_end(o);
}

static void on_file_data(const struct mbx_event *ev, void *udata)
{
    const struct mbx_http_file_data *d = ev->payload;
    struct av_flow *x = mbx_flow_ext(ev->flow, g.slot);
    int side = d->file->side;
    if (!x->s[side]) {
        x->s[side] = mbx_av_open(g.av);
        if (!x->s[side]) {
            g.errors++;
            return;
        }
        g.files++;
    }
    struct av_hit hit = {ev->flow, d->file};
    if (mbx_av_scan(g.av, x->s[side], d->data, d->len, av_alert, &hit) < 0)
        g.errors++;
}

static void on_file_seen(const struct mbx_event *ev, void *udata)
{
    const struct mbx_http_file_info *f = ev->payload;
    struct av_flow *x = mbx_flow_ext(ev->flow, g.slot);
    if (!x->s[f->side])
        return;
    struct av_hit hit = {ev->flow, f};
    if (mbx_av_close(g.av, x->s[f->side], av_alert, &hit) < 0)
        g.errors++;
    x->s[f->side] = NULL;
}

int main(int argc, char **argv)
{
    const char *capture = NULL, *outpath = "-";
    bool stats = false;
    int c;
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    while ((c = getopt_long(argc, argv, "r:o:sh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            capture = optarg;
            break;
        case 'o':
            outpath = optarg;
            break;
        case 's':
            stats = true;
            break;
        case 'h':
            fputs(av_usage, stdout);
            return 0;
        default:
            fputs(av_usage, stderr);
            return 2;
        }
    }
    if (!capture || optind != argc) {
        fprintf(stderr, "mbx-http-av: %s\n%s",
                capture ? "unexpected argument" : "-r CAPTURE is required", av_usage);
        return 2;
    }
    char err[512] = "";
    g.av = mbx_av_new(&mbx_av_eicar, 1, err, sizeof err);
    if (!g.av) {
        fprintf(stderr, "mbx-http-av: %s\n", err);
        return 1;
    }
    struct mbx_source *src = mbx_source_open_file(capture, err, sizeof err);
    if (!src) {
        fprintf(stderr, "mbx-http-av: %s\n", err);
        mbx_av_free(g.av);
        return 2;
    }
    struct mbx_out *out = mbx_out_open(outpath, err, sizeof err);
    if (!out) {
        fprintf(stderr, "mbx-http-av: %s\n", err);
        mbx_source_close(src);
        mbx_av_free(g.av);
        return 1;
    }
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    g.e = mbx_engine_new(&cfg);
    if (!g.e) {
        fprintf(stderr, "mbx-http-av: cannot create the engine (out of memory?)\n");
        mbx_out_close(out);
        mbx_source_close(src);
        mbx_av_free(g.av);
        return 1;
    }
    mbx_engine_set_output(g.e, out);
    const struct mbx_http_options opts = {.eve_fileinfo = true, .bodies = true};
    mbx_http *http = mbx_http_attach(g.e, &opts);
    g.slot = mbx_flow_ext_register(g.e, sizeof(struct av_flow));
    if (!http || g.slot < 0 ||
        mbx_http_subscribe_files(http, mbx_http_ev_file_data(http), on_file_data, NULL) < 0 ||
        mbx_http_subscribe_files(http, mbx_http_ev_file_seen(http), on_file_seen, NULL) < 0) {
        fprintf(stderr, "mbx-http-av: cannot set up the HTTP module: %s\n", strerror(errno));
        mbx_engine_free(g.e);
        mbx_http_detach(http);
        mbx_out_close(out);
        mbx_source_close(src);
        mbx_av_free(g.av);
        return 1;
    }
    int rc = mbx_engine_run(g.e, src);
    char srcerr[512] = "";
    if (rc < 0)
        snprintf(srcerr, sizeof srcerr, "%s", mbx_source_error(src));
    if (stats) {
        struct mbx_http_stats hs;
        mbx_http_get_stats(http, &hs);
        mbx_http_stats_print(&hs, stderr);
        fprintf(stderr, "av: %llu files scanned, %llu alerts, %llu scan errors\n",
                (unsigned long long)g.files, (unsigned long long)g.alerts,
                (unsigned long long)g.errors);
    }
    mbx_engine_free(g.e);
    mbx_http_detach(http);
    mbx_out_close(out);
    mbx_source_close(src);
    mbx_av_free(g.av);
    if (rc < 0) {
        if (srcerr[0])
            fprintf(stderr, "mbx-http-av: %s\n", srcerr);
        else
            fprintf(stderr, "mbx-http-av: %s: %s\n", capture, strerror(-rc));
        return 2;
    }
    return 0;
}
