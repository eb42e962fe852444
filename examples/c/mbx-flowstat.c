/*
 * mbx-flowstat - a per-connection TCP state table for a capture, like mOS's midstat.
 *
 * A C program that uses only <mbx.h>.  It tracks every TCP connection of the
 * capture with both inferred halves (no stream buffers: nobody reads bytes) and,
 * when a connection ends (FIN, RST, idle timeout, eviction, end of capture),
 * keeps a row (packets that still come after the end, such as a last ACK, are
 * added to it, as the engine counts them): flow id, client and server endpoints, each side's final
 * RFC 9293 state, the packets and IP bytes each side sent, and how it ended.  At the end the rows
 * are printed in flow-id order, then a totals line.  Packets and bytes are per sending side ("cli"
 * = what the client sent).
 *
 *   mbx-flowstat -r CAPTURE [--max-flows N]
 *
 * Exit status: 0; 2 for bad arguments or a capture that cannot be read (after
 * printing what was read before the error).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbx.h>

struct fs_row {
    uint64_t id;                /* flow id */
    char cli[64], srv[64];      /* "addr:port" ("[v6]:port") */
    enum mbx_tcp_state st[2];   /* final state per side */
    uint64_t pkts[2], bytes[2]; /* sent per side */
    enum mbx_flow_end end;      /* how it ended */
};

/* Per-flow extension: the row taken when the connection ended (index + 1). */
struct fs_ext {
    size_t row; /* 0: not ended yet */
};

static struct fs_row *rows;
static size_t nrows, cap;
static int fs_slot, fs_late_sub;

static void fs_endpoint(const mbx_flow *f, enum mbx_side s, char *buf, size_t len)
{
    char a[48]; /* mbx_addr_str needs 46 */
    const struct mbx_addr *ad = mbx_flow_addr(f, s);
    mbx_addr_str(ad, a, sizeof(a));
    if (mbx_addr_is_v4(ad))
        snprintf(buf, len, "%s:%u", a, mbx_flow_port(f, s));
    else
        snprintf(buf, len, "[%s]:%u", a, mbx_flow_port(f, s));
}

static void fs_on_end(const struct mbx_event *ev, void *udata)
{
    mbx_flow *f = ev->flow;
    if (f == NULL || mbx_flow_proto(f) != IPPROTO_TCP)
        return;
    struct fs_ext *x = mbx_flow_ext(f, fs_slot);
    if (x->row)
        return; /* one row per connection */
    if (nrows == cap) {
        size_t ncap = cap ? cap * 2 : 256;
        struct fs_row *r = realloc(rows, ncap * sizeof(*r));
        if (r == NULL) {
            fprintf(stderr, "mbx-flowstat: out of memory\n");
            exit(1);
        }
        rows = r;
        cap = ncap;
    }
    struct fs_row *r = &rows[nrows++];
    r->id = mbx_flow_id(f);
    fs_endpoint(f, MBX_CLIENT, r->cli, sizeof(r->cli));
    fs_endpoint(f, MBX_SERVER, r->srv, sizeof(r->srv));
    for (int s = 0; s < 2; s++) {
        struct mbx_half_info h;
        mbx_flow_half(f, (enum mbx_side)s, &h);
        r->st[s] = h.state;
        r->pkts[s] = h.pkts;
        r->bytes[s] = h.bytes;
    }
    r->end = mbx_flow_end(f);
    if (r->end == MBX_END_NONE)
        r->end = MBX_END_EOF;
    x->row = nrows;
    mbx_flow_subscribe(f, fs_late_sub);
}

/* A packet after the end (a last ACK): the engine counts it, so does the row. */
static void fs_on_late(const struct mbx_event *ev, void *udata)
{
    struct fs_ext *x = mbx_flow_ext(ev->flow, fs_slot);
    if (ev->pkt == NULL || x->row == 0)
        return;
    rows[x->row - 1].pkts[ev->side]++;
    rows[x->row - 1].bytes[ev->side] += ev->pkt->ip_len;
}

static int fs_cmp(const void *a, const void *b)
{
    const struct fs_row *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

__attribute__((format(printf, 1, 2))) static int fs_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mbx-flowstat: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'mbx-flowstat --help' for more information.\n");
    va_end(ap);
    return 2;
}

static const char fs_help[] =
    "usage: mbx-flowstat -r CAPTURE [--max-flows N]\n"
    "Prints one line per TCP connection (flow id, client, server, each side's final\n"
    "state, packets and IP bytes sent by each side, how it ended), then totals.\n"
    "Exit status: 0 ok, 2 bad arguments or unreadable capture.\n";

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"read", required_argument, NULL, 'r'},
        {"max-flows", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *capture = NULL;
    struct mbx_config cfg;
    mbx_config_default(&cfg);
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":r:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            capture = optarg;
            break;
        case 'h':
            fputs(fs_help, stdout);
            return 0;
        case 'm': {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno || *end || *optarg < '1' || *optarg > '9' || v > UINT32_MAX)
                return fs_usage("--max-flows needs a number from 1 to 4294967295, not '%s'",
                                optarg);
            cfg.max_flows = (uint32_t)v;
            break;
        }
        case ':':
            return fs_usage("option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt != 0 && optopt != '?')
                return fs_usage("unknown option '-%c'", optopt);
            return fs_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fs_usage("unexpected argument '%s'", argv[optind]);
    if (capture == NULL)
        return fs_usage("no capture: give -r CAPTURE");

    char err[512] = "";
    struct mbx_source *src = mbx_source_open_file(capture, err, sizeof(err));
    if (src == NULL) {
        fprintf(stderr, "mbx-flowstat: %s\n", err);
        return 2;
    }
    mbx_engine *e = mbx_engine_new(&cfg);
    if (e == NULL) {
        fprintf(stderr, "mbx-flowstat: cannot create the engine\n");
        return 1;
    }
    fs_slot = mbx_flow_ext_register(e, sizeof(struct fs_ext));
    fs_late_sub = mbx_subscribe(e, MBX_EV_PKT_IN, fs_on_late, NULL, MBX_SUB_PER_FLOW);
    if (fs_slot < 0 || fs_late_sub < 0 ||
        mbx_subscribe(e, MBX_EV_TCP_CLOSE, fs_on_end, NULL, 0) < 0 ||
        mbx_subscribe(e, MBX_EV_TCP_TIMEOUT, fs_on_end, NULL, 0) < 0) {
        fprintf(stderr, "mbx-flowstat: cannot subscribe to the engine's events\n");
        return 1;
    }
    int rc = mbx_engine_run(e, src);

    if (nrows > 0)
        qsort(rows, nrows, sizeof(*rows), fs_cmp);
    printf("%6s %-45s %-45s %-12s %-12s %8s %12s %8s %12s %s\n", "id", "client", "server",
           "cli_state", "srv_state", "cli_pkts", "cli_bytes", "srv_pkts", "srv_bytes", "end");
    uint64_t tp[2] = {0, 0}, tb[2] = {0, 0}, ends[MBX_END_REUSED + 1] = {0};
    for (size_t i = 0; i < nrows; i++) {
        const struct fs_row *r = &rows[i];
        printf("%6" PRIu64 " %-45s %-45s %-12s %-12s %8" PRIu64 " %12" PRIu64 " %8" PRIu64
               " %12" PRIu64 " %s\n",
               r->id, r->cli, r->srv, mbx_tcp_state_name(r->st[0]), mbx_tcp_state_name(r->st[1]),
               r->pkts[0], r->bytes[0], r->pkts[1], r->bytes[1], mbx_flow_end_name(r->end));
        for (int s = 0; s < 2; s++) {
            tp[s] += r->pkts[s];
            tb[s] += r->bytes[s];
        }
        if (r->end <= MBX_END_REUSED)
            ends[r->end]++;
    }
    printf("total: %zu connections, client %" PRIu64 " pkts %" PRIu64 " bytes, server %" PRIu64
           " pkts %" PRIu64 " bytes; ended by",
           nrows, tp[0], tb[0], tp[1], tb[1]);
    for (int k = MBX_END_FIN; k <= MBX_END_REUSED; k++)
        printf(" %s %" PRIu64, mbx_flow_end_name((enum mbx_flow_end)k), ends[k]);
    printf("\n");

    const char *srcerr = rc < 0 ? mbx_source_error(src) : "";
    if (rc < 0)
        fprintf(stderr, "mbx-flowstat: %s\n", srcerr[0] ? srcerr : strerror(-rc));
    mbx_engine_free(e);
    mbx_source_close(src);
    free(rows);
    return rc < 0 ? 2 : 0;
}
