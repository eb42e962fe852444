/*
 * mbx-httplog - log every HTTP transaction and file in a capture as EVE JSON lines.
 *
 * The smallest C pipeline over std.http (stdlib/include/mbx_http.h): the
 * engine reads a capture, the HTTP module parses both directions of every TCP
 * connection, and writes one EVE "http" record per transaction and one
 * "fileinfo" record per message body (name, size, sha256 of the decoded
 * body, gaps, state CLOSED or TRUNCATED), Suricata's field names.
 *
 *   mbx-httplog -r CAPTURE [-o FILE] [-a] [-n] [-s]
 *
 * -o FILE  write the records there (default: standard output)
 * -a       also write EVE "anomaly" records for the parser's events
 * -n       no bodies: http records only (bodies are framed and counted, not
 *          decoded or hashed; a body until close is not even read)
 * -s       print the engine's and the HTTP module's statistics to stderr
 *
 * Exit status: 0; 2 for bad arguments or a capture that cannot be read (a
 * truncated capture: everything before the cut is logged first); 1 when the
 * output cannot be written or the engine cannot start.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbx.h>
#include <mbx_http.h>

static const char hl_usage[] =
    "usage: mbx-httplog -r CAPTURE [-o FILE] [-a] [-n] [-s]\n"
    "Writes one EVE \"http\" record per HTTP transaction and one \"fileinfo\" record\n"
    "per message body (sha256 of the decoded body) as JSON lines.\n"
    "  -r CAPTURE  pcap or pcapng file (\"-\": standard input)\n"
    "  -o FILE     output file (default: standard output)\n"
    "  -a          also EVE \"anomaly\" records (HTTP parser events)\n"
    "  -n          no bodies: no fileinfo records, bodies neither decoded nor hashed\n"
    "  -s          statistics to stderr at the end\n";

int main(int argc, char **argv)
{
    const char *capture = NULL, *outpath = "-";
    bool stats = false, anomalies = false, nobodies = false;
    int c;
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    while ((c = getopt_long(argc, argv, "r:o:ansh", longopts, NULL)) != -1) {
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
        case 'a':
            anomalies = true;
            break;
        case 'n':
            nobodies = true;
            break;
        case 'h':
            fputs(hl_usage, stdout);
            return 0;
        default:
            fputs(hl_usage, stderr);
            return 2;
        }
    }
    if (!capture || optind != argc) {
        fprintf(stderr, "mbx-httplog: %s\n%s",
                capture ? "unexpected argument" : "-r CAPTURE is required", hl_usage);
        return 2;
    }

    char err[512] = "";
    struct mbx_source *src = mbx_source_open_file(capture, err, sizeof err);
    if (!src) {
        fprintf(stderr, "mbx-httplog: %s\n", err);
        return 2;
    }
    struct mbx_out *out = mbx_out_open(outpath, err, sizeof err);
    if (!out) {
        fprintf(stderr, "mbx-httplog: %s\n", err);
        mbx_source_close(src);
        return 1;
    }
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    mbx_engine *e = mbx_engine_new(&cfg);
    if (!e) {
        fprintf(stderr, "mbx-httplog: cannot create the engine (out of memory?)\n");
        mbx_out_close(out);
        mbx_source_close(src);
        return 1;
    }
    mbx_engine_set_output(e, out);
    const struct mbx_http_options opts = {
        .eve_http = true, .eve_fileinfo = !nobodies, .bodies = !nobodies, .eve_anomaly = anomalies};
    mbx_http *http = mbx_http_attach(e, &opts);
    if (!http) {
        fprintf(stderr, "mbx-httplog: cannot attach the HTTP module: %s\n", strerror(errno));
        mbx_engine_free(e);
        mbx_out_close(out);
        mbx_source_close(src);
        return 1;
    }

    int rc = mbx_engine_run(e, src);
    char srcerr[512] = "";
    if (rc < 0)
        snprintf(srcerr, sizeof srcerr, "%s", mbx_source_error(src));
    if (stats) {
        struct mbx_stats st;
        struct mbx_http_stats hs;
        mbx_engine_stats(e, &st);
        mbx_stats_print(&st, stderr);
        mbx_http_get_stats(http, &hs);
        mbx_http_stats_print(&hs, stderr);
    }
    mbx_engine_free(e);
    mbx_http_detach(http);
    mbx_out_close(out);
    mbx_source_close(src);
    if (rc < 0) {
        if (srcerr[0]) /* the source's message names the file */
            fprintf(stderr, "mbx-httplog: %s\n", srcerr);
        else
            fprintf(stderr, "mbx-httplog: %s: %s\n", capture, strerror(-rc));
        return 2;
    }
    return 0;
}
