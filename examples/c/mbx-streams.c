/*
 * mbx-streams - write the reassembled bytes of every TCP connection in a capture.
 *
 * A C program that uses only <mbx.h>: it subscribes to tcp.data and tcp.gap
 * reading both sides of every connection, and to tcp.close and tcp.timeout to
 * write one record per connection.  For each connection it writes
 *
 *   DIR/<client_ip>.<client_port>-<server_ip>.<server_port>-<N>.c2s  (client to server)
 *   DIR/<client_ip>.<client_port>-<server_ip>.<server_port>-<N>.s2c  (server to client)
 *
 * where N counts earlier connections on the same 4-tuple (from 0) and IPv6
 * addresses are written as `ip -6` prints them (with ':').  A file exists when
 * its direction carried stream bytes or a gap.  Byte k of a file is byte k of
 * that direction's stream: bytes never seen in the capture (a gap: the peer
 * acknowledged past a hole) are written as zero bytes, so offsets stay true
 * (tcpflow does the same); so are bytes lost to the out-of-order queue limit,
 * the memory limit, eviction or the snap length (each tcp.gap reason but
 * "depth").  Bytes past --depth are not written.
 *
 * DIR/flows.jsonl has one JSON line per connection (EVE conventions, event_type
 * "tcp_conn"), written once the connection has ended and left the engine's
 * table (packets after the end, such as a last ACK, are still counted), in
 * flow-id order within each batch written: the 5-tuple with the client as
 * source, flow_id, community_id, and under "tcp_conn": n, start and end times,
 * whether it was picked up mid-stream, how it ended (fin, rst, timeout,
 * evicted, eof, reused) and per direction ("c2s", "s2c": what that side sent): state
 * (its inferred RFC 9293 state at the end), pkts, bytes (IP bytes), payload
 * (payload bytes, retransmissions included), delivered (stream bytes delivered
 * in order, zero fill excluded), gap_bytes, depth_bytes (not delivered: depth
 * or memory limit), rexmits, inconsistent (retransmissions with different
 * bytes) and tcp_flags (hex OR of the flags sent).
 *
 * --workers N runs N threads, one engine each, that all read the capture and
 * keep the connections a symmetric hash of their two addresses picks (mbx.h
 * section 4, "Workers"): a 4-tuple always lands on one worker, so the file
 * names (and N) are the same as with one worker.  Each worker writes its
 * records to DIR/flows.jsonl.worker-K; at the end they are concatenated into
 * DIR/flows.jsonl in worker order (worker 0's records first, each worker's in
 * the order above) and removed.  Flow ids differ from a single worker's (ids
 * of worker k of N are k + 1 + jN); statistics and --count totals are sums.
 * Standard input, a pipe or a DPDK port cannot be read by every worker: then
 * the main thread reads it and hands each worker its frames (libmbx's
 * dispatcher, mbx.h section 4), with the same results.
 *
 * Exit status: 0; 2 for bad arguments or a capture that cannot be read (a
 * truncated capture: everything before the cut is written first); 1 when the
 * output cannot be written.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbx.h>

#define MS_MAX_OPEN 256 /* stream files kept open at once */

static const char ms_usage[] =
    "usage: mbx-streams -r CAPTURE -d DIR [options]\n"
    "       mbx-streams -r CAPTURE --count [options]\n"
    "       mbx-streams --dpdk EAL-ARGS... -- (-d DIR | --count) [options]   (reads port 0)\n"
    "Writes the reassembled bytes of every TCP connection, one file per direction:\n"
    "  DIR/<client_ip>.<client_port>-<server_ip>.<server_port>-<N>.c2s and .s2c\n"
    "(N counts earlier connections on the same 4-tuple, from 0), and DIR/flows.jsonl,\n"
    "one JSON record per connection (5-tuple, community_id, times, per-direction\n"
    "packets, bytes delivered, gap bytes, retransmissions, final states, end reason).\n"
    "Gaps (bytes never seen in the capture) are written as zero bytes, so that file\n"
    "offsets equal stream offsets; \"delivered\" counts only the bytes seen.  Bytes\n"
    "past --depth are not written.  Details: examples/c/README.md.\n"
    "Options:\n"
    "  -r, --read CAPTURE     pcap or pcapng file (\"-\": standard input)\n"
    "  -d, --dir DIR          output folder (created if missing)\n"
    "  -c, --count            reassemble and count, write nothing, print totals\n"
    "  -p, --policy first|last  overlapping bytes: first seen wins (default) or last\n"
    "  -m, --max-flows N      flow table size (default 1000000)\n"
    "  -D, --depth BYTES      reassemble at most BYTES per direction (default: all)\n"
    "  -s, --stats            print run statistics on stderr at the end (and, with -d,\n"
    "                         as an EVE stats record in DIR/stats.json)\n"
    "  -w, --workers N        N threads (1..64), each with the connections its address\n"
    "                         hash picks (default 1; stdin, pipes and --dpdk through\n"
    "                         a dispatcher thread)\n"
    "      --no-defrag        do not reassemble IP fragments (they are counted as\n"
    "                         decode errors, reason FRAGMENT)\n"
    "  -h, --help             this text\n"
    "Exit status: 0 ok, 2 bad arguments or unreadable capture, 1 output error.\n";

/* Per-connection state, kept in the flow's extension slot. */
struct ms_flow {
    int fd[2];          /* open stream file per side, -1 if not open */
    int slot[2];        /* index in ms_open[], -1 if not open */
    uint64_t pos[2];    /* file offset of the next byte per side */
    uint32_t n;         /* connections seen before on this 4-tuple */
    bool named;         /* n assigned */
    bool created[2];    /* file created (later opens append) */
    bool done;          /* ended: record taken, files closed */
    struct ms_rec *rec; /* the record, once ended */
};

/* A connection's record, taken when it ends and written out once no packet can
 * change it any more (its flow has left the engine's table); packets that still
 * come after the end (late ACKs, retransmissions) are added to it. */
struct ms_rec {
    uint64_t id;               /* flow id */
    struct mbx_addr addr[2];   /* client, server */
    uint16_t port[2];          /* client, server */
    uint32_t n;                /* reuse number of the 4-tuple */
    bool midstream;            /* picked up without a handshake */
    bool written;              /* already in flows.jsonl */
    enum mbx_flow_end end;     /* how it ended */
    mbx_time start, last;      /* first and last packet */
    char cid[64];              /* community_id */
    struct mbx_half_info h[2]; /* per side, as at the end plus later packets */
};

/* One key of the 4-tuple reuse table. */
struct ms_tuple {
    struct mbx_addr a, b; /* client, server */
    uint16_t pa, pb;      /* client port, server port */
    uint32_t count;       /* connections seen on it; 0: empty entry */
};

struct ms_open_slot {
    struct ms_flow *fl; /* owner, NULL if free */
    int side;           /* which of its files */
};

struct ms {
    const char *dir;                       /* output folder, NULL with --count */
    bool count_only;                       /* --count */
    int ext;                               /* extension slot of struct ms_flow */
    struct mbx_out *out;                   /* flows.jsonl */
    struct ms_tuple *tuples;               /* reuse table (open addressing) */
    size_t ntuples, tuple_cap;             /* entries used, capacity (power of 2) */
    struct ms_open_slot open[MS_MAX_OPEN]; /* open stream files */
    int clock;                             /* next slot to reuse */
    bool write_failed;                     /* an output write failed */
    uint64_t conns;                        /* connections ended */
    uint64_t delivered[2], gap_bytes[2];   /* totals per side */
    uint64_t depth_bytes[2];               /* totals per side */
    struct ms_rec **recs;                  /* records taken, in end order */
    size_t nrecs, rec_cap, nwritten;       /* taken, capacity, written (a prefix) */
    int late_sub;                          /* per-flow pkt_in: packets after the end */
    mbx_time linger;                       /* after this idle time an ended flow is gone */
};

/* One per worker thread (--workers): every handler reads its own. */
static _Thread_local struct ms ms;

/* ---------------------------------------------------------------- names */

static uint64_t ms_tuple_hash(const struct ms_tuple *t)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    const uint8_t *p[2] = {t->a.b, t->b.b};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 16; i++)
            h = (h ^ p[k][i]) * 1099511628211ull;
    h = (h ^ t->pa) * 1099511628211ull;
    h = (h ^ t->pb) * 1099511628211ull;
    return h;
}

static bool ms_tuple_eq(const struct ms_tuple *x, const struct ms_tuple *y)
{
    return x->pa == y->pa && x->pb == y->pb && memcmp(x->a.b, y->a.b, 16) == 0 &&
           memcmp(x->b.b, y->b.b, 16) == 0;
}

static struct ms_tuple *ms_tuple_slot(struct ms_tuple *tab, size_t cap, const struct ms_tuple *k)
{
    size_t i = (size_t)ms_tuple_hash(k) & (cap - 1);
    while (tab[i].count != 0 && !ms_tuple_eq(&tab[i], k))
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

/* Returns how many connections used this 4-tuple before, and counts this one. */
static uint32_t ms_tuple_next(const mbx_flow *f)
{
    if (ms.ntuples * 2 >= ms.tuple_cap) {
        size_t cap = ms.tuple_cap ? ms.tuple_cap * 2 : 1024;
        struct ms_tuple *tab = calloc(cap, sizeof(*tab));
        if (tab == NULL) {
            fprintf(stderr, "mbx-streams: out of memory\n");
            exit(1);
        }
        for (size_t i = 0; i < ms.tuple_cap; i++)
            if (ms.tuples[i].count)
                *ms_tuple_slot(tab, cap, &ms.tuples[i]) = ms.tuples[i];
        free(ms.tuples);
        ms.tuples = tab;
        ms.tuple_cap = cap;
    }
    struct ms_tuple k;
    memset(&k, 0, sizeof(k));
    k.a = *mbx_flow_addr(f, MBX_CLIENT);
    k.b = *mbx_flow_addr(f, MBX_SERVER);
    k.pa = mbx_flow_port(f, MBX_CLIENT);
    k.pb = mbx_flow_port(f, MBX_SERVER);
    struct ms_tuple *t = ms_tuple_slot(ms.tuples, ms.tuple_cap, &k);
    if (t->count == 0) {
        *t = k;
        ms.ntuples++;
    }
    return t->count++;
}

static struct ms_flow *ms_flow_of(mbx_flow *f)
{
    struct ms_flow *fl = mbx_flow_ext(f, ms.ext);
    if (!fl->named) { /* the extension starts zeroed */
        fl->named = true;
        fl->n = ms_tuple_next(f);
        fl->fd[0] = fl->fd[1] = -1;
        fl->slot[0] = fl->slot[1] = -1;
    }
    return fl;
}

static void ms_path(const mbx_flow *f, const struct ms_flow *fl, int side, char *buf, size_t len)
{
    char ca[64], sa[64];
    mbx_addr_str(mbx_flow_addr(f, MBX_CLIENT), ca, sizeof(ca));
    mbx_addr_str(mbx_flow_addr(f, MBX_SERVER), sa, sizeof(sa));
    snprintf(buf, len, "%s/%s.%u-%s.%u-%" PRIu32 ".%s", ms.dir, ca, mbx_flow_port(f, MBX_CLIENT),
             sa, mbx_flow_port(f, MBX_SERVER), fl->n, side == MBX_CLIENT ? "c2s" : "s2c");
}

/* ---------------------------------------------------------------- files */

static void ms_close_file(struct ms_flow *fl, int side)
{
    if (fl->fd[side] < 0)
        return;
    /* A gap at the end of the stream: extend the file with zeros to its offset. */
    struct stat st;
    if (fstat(fl->fd[side], &st) == 0 && (uint64_t)st.st_size < fl->pos[side] &&
        ftruncate(fl->fd[side], (off_t)fl->pos[side]) != 0)
        ms.write_failed = true;
    close(fl->fd[side]);
    fl->fd[side] = -1;
    ms.open[fl->slot[side]].fl = NULL;
    fl->slot[side] = -1;
}

/* The file of one side, opened (or created) on demand; at most MS_MAX_OPEN at once. */
static int ms_file(mbx_flow *f, struct ms_flow *fl, int side)
{
    if (fl->fd[side] >= 0)
        return fl->fd[side];
    int s = ms.clock;
    for (int i = 0; i < MS_MAX_OPEN && ms.open[s].fl != NULL; i++)
        s = (s + 1) % MS_MAX_OPEN;
    if (ms.open[s].fl != NULL) /* all busy: close the next one round */
        ms_close_file(ms.open[s].fl, ms.open[s].side);
    ms.clock = (s + 1) % MS_MAX_OPEN;
    char path[4096];
    ms_path(f, fl, side, path, sizeof(path));
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (fl->created[side] ? 0 : O_TRUNC);
    int fd = open(path, flags, 0644);
    if (fd < 0) {
        if (!ms.write_failed)
            fprintf(stderr, "mbx-streams: %s: %s\n", path, strerror(errno));
        ms.write_failed = true;
        return -1;
    }
    fl->created[side] = true;
    fl->fd[side] = fd;
    fl->slot[side] = s;
    ms.open[s].fl = fl;
    ms.open[s].side = side;
    return fd;
}

/* ---------------------------------------------------------------- handlers */

static void ms_on_data(const struct mbx_event *ev, void *udata)
{
    mbx_stream *s = mbx_flow_stream(ev->flow, ev->side);
    if (s == NULL)
        return;
    const uint8_t *d;
    size_t n = mbx_stream_new_bytes(s, &d);
    if (!ms.count_only && n > 0) {
        struct ms_flow *fl = ms_flow_of(ev->flow);
        int fd = ms_file(ev->flow, fl, ev->side);
        size_t done = 0;
        while (fd >= 0 && done < n) {
            ssize_t k = pwrite(fd, d + done, n - done, (off_t)(fl->pos[ev->side] + done));
            if (k <= 0) {
                if (k < 0 && errno == EINTR)
                    continue;
                if (!ms.write_failed)
                    fprintf(stderr, "mbx-streams: write: %s\n", strerror(errno));
                ms.write_failed = true;
                break;
            }
            done += (size_t)k;
        }
        fl->pos[ev->side] += n;
    }
    const uint8_t *u;
    size_t unread = mbx_stream_peek(s, &u);
    mbx_stream_consume(s, unread);
}

/* A hole in the stream: its bytes become zeros in the file (the next data is
 * written at its true offset; a hole at the end is filled when the file closes).
 * Bytes past the depth limit are not written at all. */
static void ms_on_gap(const struct mbx_event *ev, void *udata)
{
    if (ms.count_only || ev->flow == NULL || ev->gap_reason == MBX_GAP_DEPTH)
        return;
    struct ms_flow *fl = ms_flow_of(ev->flow);
    if (ev->offset + ev->len > fl->pos[ev->side]) {
        fl->pos[ev->side] = ev->offset + ev->len;
        ms_file(ev->flow, fl, ev->side); /* the file exists even if only a gap came */
    }
}

static void ms_ts(char *buf, size_t len, mbx_time t)
{
    time_t sec = (time_t)(t / 1000000000u);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%06u+0000", (unsigned)(t % 1000000000u / 1000u));
}

static void ms_write_half(const struct mbx_half_info *h, const char *key)
{
    char flags[8];
    snprintf(flags, sizeof(flags), "%02x", h->tcp_flags);
    mbx_out_object(ms.out, key);
    mbx_out_str(ms.out, "state", mbx_tcp_state_name(h->state));
    mbx_out_uint(ms.out, "pkts", h->pkts);
    mbx_out_uint(ms.out, "bytes", h->bytes);
    mbx_out_uint(ms.out, "payload", h->payload);
    mbx_out_uint(ms.out, "delivered", h->delivered);
    mbx_out_uint(ms.out, "gap_bytes", h->gap_bytes);
    mbx_out_uint(ms.out, "depth_bytes", h->depth_bytes);
    mbx_out_uint(ms.out, "rexmits", h->rexmits);
    mbx_out_uint(ms.out, "inconsistent", h->inconsistent);
    mbx_out_str(ms.out, "tcp_flags", flags);
    mbx_out_end_object(ms.out);
}

static bool ms_grow_recs(void)
{
    size_t cap = ms.rec_cap ? ms.rec_cap * 2 : 1024;
    struct ms_rec **v = realloc(ms.recs, cap * sizeof(*v));
    if (v == NULL)
        return false;
    ms.recs = v;
    ms.rec_cap = cap;
    return true;
}

static int ms_rec_cmp(const void *a, const void *b)
{
    const struct ms_rec *x = *(struct ms_rec *const *)a, *y = *(struct ms_rec *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void ms_write_rec(struct ms_rec *r)
{
    char t0[48], t1[48], a[48];
    ms_ts(t0, sizeof(t0), r->start);
    ms_ts(t1, sizeof(t1), r->last);
    mbx_out_begin(ms.out, r->start, "tcp_conn", NULL);
    mbx_out_uint(ms.out, "flow_id", r->id);
    mbx_out_str(ms.out, "src_ip", mbx_addr_str(&r->addr[0], a, sizeof(a)));
    mbx_out_uint(ms.out, "src_port", r->port[0]);
    mbx_out_str(ms.out, "dest_ip", mbx_addr_str(&r->addr[1], a, sizeof(a)));
    mbx_out_uint(ms.out, "dest_port", r->port[1]);
    mbx_out_str(ms.out, "proto", "TCP");
    mbx_out_str(ms.out, "community_id", r->cid);
    mbx_out_object(ms.out, "tcp_conn");
    mbx_out_uint(ms.out, "n", r->n);
    mbx_out_str(ms.out, "start", t0);
    mbx_out_str(ms.out, "end", t1);
    mbx_out_bool(ms.out, "midstream", r->midstream);
    mbx_out_str(ms.out, "reason", mbx_flow_end_name(r->end));
    ms_write_half(&r->h[0], "c2s");
    ms_write_half(&r->h[1], "s2c");
    mbx_out_end_object(ms.out);
    mbx_out_end(ms.out);
    r->written = true;
}

/* Writes, in flow-id order, the records that can no longer change: all of them
 * at the end of the run, else those whose flow has been idle longer than any
 * idle timeout of an ended flow (the engine has dropped it).  Written records
 * stay allocated (a late packet on a flow still in the table finds its record
 * marked written and is ignored) and are freed at exit. */
static void ms_flush(bool all, mbx_time now)
{
    size_t k = ms.nwritten;
    for (size_t i = ms.nwritten; i < ms.nrecs; i++) { /* move the ready ones up front */
        struct ms_rec *r = ms.recs[i];
        if (all || r->last + ms.linger < now) {
            ms.recs[i] = ms.recs[k];
            ms.recs[k++] = r;
        }
    }
    if (k == ms.nwritten)
        return;
    qsort(ms.recs + ms.nwritten, k - ms.nwritten, sizeof(*ms.recs), ms_rec_cmp);
    for (size_t i = ms.nwritten; i < k; i++)
        ms_write_rec(ms.recs[i]);
    ms.nwritten = k;
}

static void ms_on_tick(mbx_engine *e, void *udata)
{
    ms_flush(false, mbx_engine_now(e));
}

/* A packet on a connection that has ended: the engine only counts it (tcp.c), so
 * the record gets the same counts. */
static void ms_on_late(const struct mbx_event *ev, void *udata)
{
    const struct mbx_pkt *p = ev->pkt;
    struct ms_flow *fl = mbx_flow_ext(ev->flow, ms.ext);
    if (p == NULL || fl->rec == NULL || fl->rec->written)
        return;
    struct mbx_half_info *h = &fl->rec->h[ev->side];
    uint32_t payload = p->payload_len;
    if (p->pflags & MBX_PKT_TRUNCATED) { /* bytes sent, as the IP length says */
        uint32_t hdr = (uint32_t)(p->l4_off - p->l3_off) + p->tcp_hlen;
        if (p->ip_len > hdr && p->ip_len - hdr > payload)
            payload = p->ip_len - hdr;
    }
    h->pkts++;
    h->bytes += p->ip_len;
    h->payload += payload;
    h->tcp_flags |= p->tcp_flags;
    if (p->ts > fl->rec->last)
        fl->rec->last = p->ts;
}

/* The connection ended: its files closed, its record taken. */
static void ms_on_end(const struct mbx_event *ev, void *udata)
{
    mbx_flow *f = ev->flow;
    if (f == NULL || mbx_flow_proto(f) != IPPROTO_TCP)
        return;
    struct ms_flow *fl = ms_flow_of(f);
    if (fl->done)
        return;
    fl->done = true;
    ms.conns++;
    struct mbx_half_info h[2];
    mbx_flow_half(f, MBX_CLIENT, &h[0]);
    mbx_flow_half(f, MBX_SERVER, &h[1]);
    for (int side = 0; side < 2; side++) {
        ms.delivered[side] += h[side].delivered;
        ms.gap_bytes[side] += h[side].gap_bytes;
        ms.depth_bytes[side] += h[side].depth_bytes;
        if (!ms.count_only)
            ms_close_file(fl, side);
    }
    if (ms.out == NULL)
        return;
    struct ms_rec *r = calloc(1, sizeof(*r));
    if (r == NULL || (ms.nrecs == ms.rec_cap && !ms_grow_recs())) {
        fprintf(stderr, "mbx-streams: out of memory\n");
        exit(1);
    }
    r->id = mbx_flow_id(f);
    for (int side = 0; side < 2; side++) {
        r->addr[side] = *mbx_flow_addr(f, (enum mbx_side)side);
        r->port[side] = mbx_flow_port(f, (enum mbx_side)side);
        r->h[side] = h[side];
    }
    r->n = fl->n;
    r->midstream = mbx_flow_midstream(f);
    r->end = mbx_flow_end(f) == MBX_END_NONE ? MBX_END_EOF : mbx_flow_end(f);
    r->start = mbx_flow_start(f);
    r->last = mbx_flow_last(f);
    mbx_flow_community_id(f, r->cid, sizeof(r->cid));
    ms.recs[ms.nrecs++] = r;
    fl->rec = r;
    mbx_flow_subscribe(f, ms.late_sub);
}

/* ---------------------------------------------------------------- main */

static volatile sig_atomic_t ms_stop; /* SIGINT/SIGTERM: finish and write what we have */

static void ms_on_signal(int sig)
{
    ms_stop = 1;
}

/* Reads the source to its end (a live port: until SIGINT or SIGTERM), then ends
 * every flow.  Returns 0 or the source's negative errno. */
static int ms_run(mbx_engine *e, struct mbx_source *src)
{
    struct mbx_frame fr[32];
    bool fwd[32];
    int rc = 0;
    while (!ms_stop) {
        int n = mbx_source_next(src, fr, 32);
        if (n == -EAGAIN) /* a live source with nothing right now */
            continue;
        if (n < 0)
            rc = n;
        if (n <= 0)
            break;
        mbx_engine_input(e, fr, fwd, n);
        mbx_source_done(src, fr, fwd, n);
    }
    mbx_engine_finish(e);
    return rc;
}

__attribute__((format(printf, 1, 2))) static int ms_bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mbx-streams: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'mbx-streams --help' for more information.\n");
    va_end(ap);
    return 2;
}

static bool ms_parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

/* One worker: its engine, subscriptions, run and totals (in its thread's ms). */
struct ms_job {
    int index, nworkers;
    struct mbx_config cfg;
    const char *dir; /* -d, NULL with --count */
    bool count_only;
    const char *capture;       /* workers > 0 open it themselves */
    struct mbx_source *src;    /* worker 0's: opened by main; closed by main at the end */
    struct mbx_dispatch *disp; /* frames from the dispatcher instead (src, capture unused) */
    int status;                /* 0, or 1 (engine, output) */
    int rc;                    /* the source's result */
    bool write_failed;
    struct mbx_stats st;
    mbx_time now; /* the engine's clock at the end */
    uint64_t conns, delivered[2], gap_bytes[2], depth_bytes[2];
};

static void ms_part_path(char *buf, size_t len, const char *dir, int index, int nworkers)
{
    if (nworkers > 1)
        snprintf(buf, len, "%s/flows.jsonl.worker-%d", dir, index);
    else
        snprintf(buf, len, "%s/flows.jsonl", dir);
}

static void ms_work(struct ms_job *j);

/* A worker thread; one that fails before reading leaves the dispatcher. */
static void *ms_worker(void *arg)
{
    struct ms_job *j = arg;
    ms_work(j);
    if (j->disp != NULL && j->status != 0)
        mbx_dispatch_leave(j->disp, (unsigned)j->index);
    return NULL;
}

static void ms_work(struct ms_job *j)
{
    memset(&ms, 0, sizeof(ms));
    ms.dir = j->dir;
    ms.count_only = j->count_only;
    char err[512] = "";
    if (ms.dir != NULL) {
        char path[4096];
        ms_part_path(path, sizeof(path), ms.dir, j->index, j->nworkers);
        ms.out = mbx_out_open(path, err, sizeof(err));
        if (ms.out == NULL) {
            fprintf(stderr, "mbx-streams: %s\n", err);
            j->status = 1;
            return;
        }
    }
    if (j->src == NULL && j->disp == NULL)
        j->src = mbx_source_open_file(j->capture, err, sizeof(err));
    if (j->src == NULL && j->disp == NULL) {
        fprintf(stderr, "mbx-streams: worker %d: %s\n", j->index, err);
        mbx_out_close(ms.out);
        j->status = 2;
        return;
    }
    /* Ended flows wait in the engine's closing class: past its timeout they are gone. */
    ms.linger = (j->cfg.timeout_closing ? j->cfg.timeout_closing : 30000000000ull) + 1000000000ull;
    mbx_engine *e = mbx_engine_new(&j->cfg);
    if (e == NULL) {
        fprintf(stderr, "mbx-streams: cannot create the engine (out of memory?)\n");
        mbx_out_close(ms.out);
        j->status = 1;
        return;
    }
    ms.ext = mbx_flow_ext_register(e, sizeof(struct ms_flow));
    const unsigned rd = MBX_SUB_READ_CLIENT | MBX_SUB_READ_SERVER;
    if (ms.ext < 0 || mbx_subscribe(e, MBX_EV_TCP_DATA, ms_on_data, NULL, rd) < 0 ||
        mbx_subscribe(e, MBX_EV_TCP_GAP, ms_on_gap, NULL, 0) < 0 ||
        mbx_subscribe(e, MBX_EV_TCP_CLOSE, ms_on_end, NULL, 0) < 0 ||
        mbx_subscribe(e, MBX_EV_TCP_TIMEOUT, ms_on_end, NULL, 0) < 0 ||
        (ms.out != NULL &&
         ((ms.late_sub = mbx_subscribe(e, MBX_EV_PKT_IN, ms_on_late, NULL, MBX_SUB_PER_FLOW)) < 0 ||
          mbx_every(e, 1000000000ull, ms_on_tick, NULL) < 0))) {
        fprintf(stderr, "mbx-streams: cannot subscribe to the engine's events\n");
        mbx_engine_free(e);
        mbx_out_close(ms.out);
        j->status = 1;
        return;
    }

    if (j->disp != NULL) { /* until the dispatcher's end; it reads (and stops) the source */
        mbx_dispatch_work(j->disp, (unsigned)j->index, e);
        mbx_engine_finish(e);
    } else {
        j->rc = ms_run(e, j->src);
    }
    ms_flush(true, 0);
    mbx_engine_stats(e, &j->st);
    j->now = mbx_engine_now(e);
    j->conns = ms.conns;
    for (int side = 0; side < 2; side++) {
        j->delivered[side] = ms.delivered[side];
        j->gap_bytes[side] = ms.gap_bytes[side];
        j->depth_bytes[side] = ms.depth_bytes[side];
    }
    for (int i = 0; i < MS_MAX_OPEN; i++) /* flows the engine kept (none, normally) */
        if (ms.open[i].fl != NULL)
            ms_close_file(ms.open[i].fl, ms.open[i].side);
    mbx_engine_free(e);
    mbx_out_close(ms.out);
    free(ms.tuples);
    for (size_t i = 0; i < ms.nrecs; i++)
        free(ms.recs[i]);
    free(ms.recs);
    j->write_failed = ms.write_failed;
}

/* The workers' record files into DIR/flows.jsonl, in worker order; false: an error. */
static bool ms_merge(const char *dir, int n)
{
    char path[4096], part[4096];
    snprintf(path, sizeof(path), "%s/flows.jsonl", dir);
    FILE *out = fopen(path, "w");
    bool ok = out != NULL;
    if (!ok)
        fprintf(stderr, "mbx-streams: %s: %s\n", path, strerror(errno));
    for (int k = 0; k < n; k++) {
        ms_part_path(part, sizeof(part), dir, k, n);
        FILE *in = fopen(part, "r");
        if (in == NULL)
            continue; /* that worker did not start */
        char buf[65536];
        size_t got;
        while (ok && (got = fread(buf, 1, sizeof(buf), in)) > 0)
            ok = fwrite(buf, 1, got, out) == got;
        fclose(in);
        unlink(part);
    }
    if (out != NULL && fclose(out) != 0)
        ok = false;
    return ok;
}

int main(int argc, char **argv)
{
    const char *capture = NULL, *dir = NULL;
    bool stats = false, count_only = false;
    uint64_t workers = 1;
    struct mbx_config cfg;
    mbx_config_default(&cfg);

    /* --dpdk EAL-ARGS... -- OPTIONS */
    int eal_argc = 0;
    char **eal_argv = NULL;
    if (argc > 1 && strcmp(argv[1], "--dpdk") == 0) {
        int k = 2;
        while (k < argc && strcmp(argv[k], "--") != 0)
            k++;
        if (k == argc)
            return ms_bad_usage("%s needs '--' after the EAL arguments", "--dpdk");
        eal_argc = k - 1;    /* a program name and the EAL arguments */
        argv[1] = argv[0];   /* in place of "--dpdk" */
        eal_argv = argv + 1; /* no copy: nothing to free on any exit path */
        argv[k] = argv[0];   /* getopt continues from here */
        argc -= k;
        argv += k;
    }

    static const struct option opts[] = {
        {"read", required_argument, NULL, 'r'},
        {"dir", required_argument, NULL, 'd'},
        {"count", no_argument, NULL, 'c'},
        {"policy", required_argument, NULL, 'p'},
        {"max-flows", required_argument, NULL, 'm'},
        {"depth", required_argument, NULL, 'D'},
        {"stats", no_argument, NULL, 's'},
        {"workers", required_argument, NULL, 'w'},
        {"no-defrag", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, ":r:d:cp:m:D:sw:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            capture = optarg;
            break;
        case 'd':
            dir = optarg;
            break;
        case 'c':
            count_only = true;
            break;
        case 's':
            stats = true;
            break;
        case 'F':
            cfg.defrag = false;
            break;
        case 'h':
            fputs(ms_usage, stdout);
            return 0;
        case 'p':
            if (strcmp(optarg, "first") == 0)
                cfg.policy = MBX_POLICY_FIRST;
            else if (strcmp(optarg, "last") == 0)
                cfg.policy = MBX_POLICY_LAST;
            else
                return ms_bad_usage("--policy must be 'first' or 'last', not '%s'", optarg);
            break;
        case 'm':
            if (!ms_parse_u64(optarg, &v) || v == 0 || v > UINT32_MAX)
                return ms_bad_usage("--max-flows needs a number from 1 to 4294967295, not '%s'",
                                    optarg);
            cfg.max_flows = (uint32_t)v;
            break;
        case 'D':
            if (!ms_parse_u64(optarg, &v) || v == 0)
                return ms_bad_usage("--depth needs a positive number of bytes, not '%s'", optarg);
            cfg.stream_depth = v;
            break;
        case 'w':
            if (!ms_parse_u64(optarg, &workers) || workers == 0 || workers > MBX_MAX_WORKERS)
                return ms_bad_usage("--workers needs a number from 1 to %d, not '%s'",
                                    MBX_MAX_WORKERS, optarg);
            break;
        case ':':
            return ms_bad_usage("option '%s' needs an argument", argv[optind - 1]);
        default:
            if (optopt != 0 && optopt != '?')
                return ms_bad_usage("unknown option '-%c'", optopt);
            return ms_bad_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return ms_bad_usage("unexpected argument '%s'", argv[optind]);
    if (eal_argv == NULL && capture == NULL)
        return ms_bad_usage("no capture: give -r CAPTURE (or --dpdk EAL-ARGS -- ...)");
    if (eal_argv != NULL && capture != NULL)
        return ms_bad_usage("-r and --dpdk exclude each other");
    if (dir == NULL && !count_only)
        return ms_bad_usage("no output: give -d DIR or --count");
    if (count_only)
        dir = NULL;
    /* every worker reads a capture file itself; a port, pipe or stdin goes through
     * the dispatcher */
    struct stat sb;
    bool dispatch = workers > 1 && (eal_argv != NULL || strcmp(capture, "-") == 0 ||
                                    (stat(capture, &sb) == 0 && !S_ISREG(sb.st_mode)));

    if (dir != NULL && mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "mbx-streams: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    if (dir != NULL) { /* created (or emptied) before the capture is read, as always */
        char path[4096], err[256];
        snprintf(path, sizeof(path), "%s/flows.jsonl", dir);
        struct mbx_out *o = mbx_out_open(path, err, sizeof(err));
        if (o == NULL) {
            fprintf(stderr, "mbx-streams: %s\n", err);
            return 1;
        }
        mbx_out_close(o);
    }

    char err[512] = "";
    struct mbx_source *src;
    if (eal_argv != NULL) {
        const uint16_t port0 = 0;
        src = mbx_source_open_dpdk(eal_argc, eal_argv, &port0, 1, false, err, sizeof(err));
    } else {
        src = mbx_source_open_file(capture, err, sizeof(err));
    }
    if (src == NULL) {
        fprintf(stderr, "mbx-streams: %s\n", err);
        return 2;
    }

    int n = (int)workers;
    struct ms_job *jobs = calloc((size_t)n, sizeof(*jobs));
    pthread_t *tid = calloc((size_t)n, sizeof(*tid));
    /* lossless: a DPDK port that is not replaying a capture may drop (counted) */
    bool live = eal_argv != NULL;
    for (int i = 0; eal_argv != NULL && i < eal_argc; i++)
        live &= strstr(eal_argv[i], "rx_pcap=") == NULL;
    struct mbx_dispatch *disp = dispatch ? mbx_dispatch_new((unsigned)n, 0, !live) : NULL;
    if (jobs == NULL || tid == NULL || (dispatch && disp == NULL)) {
        fprintf(stderr, "mbx-streams: out of memory\n");
        return 1;
    }
    for (int k = 0; k < n; k++) {
        jobs[k].index = k;
        jobs[k].nworkers = n;
        jobs[k].cfg = cfg;
        jobs[k].cfg.worker = (uint16_t)k;
        jobs[k].cfg.nworkers = (uint16_t)n;
        jobs[k].dir = dir;
        jobs[k].count_only = count_only;
        jobs[k].capture = capture;
        jobs[k].disp = disp;
    }
    if (disp == NULL)
        jobs[0].src = src;
    signal(SIGINT, ms_on_signal);
    signal(SIGTERM, ms_on_signal);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int k = disp ? 0 : 1; k < n; k++) {
        int rc = pthread_create(&tid[k], NULL, ms_worker, &jobs[k]);
        if (rc != 0) {
            fprintf(stderr, "mbx-streams: cannot start worker %d: %s\n", k, strerror(rc));
            jobs[k].status = -1; /* not started */
            if (disp)
                mbx_dispatch_leave(disp, (unsigned)k);
        }
    }
    if (disp) { /* this thread reads the source */
        jobs[0].rc = mbx_dispatch_run(disp, src, &ms_stop);
        mbx_dispatch_end(disp);
    } else {
        ms_worker(&jobs[0]);
    }
    for (int k = disp ? 0 : 1; k < n; k++)
        if (jobs[k].status != -1)
            pthread_join(tid[k], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    struct mbx_stats st;
    memset(&st, 0, sizeof(st));
    uint64_t conns = 0, delivered[2] = {0, 0}, gap_bytes[2] = {0, 0}, depth_bytes[2] = {0, 0};
    int status = 0, rc = 0;
    bool write_failed = false;
    mbx_time now = 0;
    for (int k = 0; k < n; k++) {
        struct ms_job *j = &jobs[k];
        if (j->status == -1 || j->status == 1)
            status = 1;
        else if (j->status == 2 && status == 0)
            status = 2;
        if (j->rc < 0 && rc == 0)
            rc = j->rc;
        write_failed |= j->write_failed;
        mbx_stats_add(&st, &j->st);
        conns += j->conns;
        for (int side = 0; side < 2; side++) {
            delivered[side] += j->delivered[side];
            gap_bytes[side] += j->gap_bytes[side];
            depth_bytes[side] += j->depth_bytes[side];
        }
        if (j->now > now)
            now = j->now;
    }
    if (n > 1 && dir != NULL && !ms_merge(dir, n))
        write_failed = true;
    if (rc < 0) { /* the error first; what was read before it is still written */
        const char *why = mbx_source_error(src);
        fprintf(stderr, "mbx-streams: %s\n", why && why[0] ? why : strerror(-rc));
    }

    if (count_only) {
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("packets %" PRIu64 " bytes %" PRIu64 " connections %" PRIu64 "\n", st.packets,
               st.bytes, conns);
        printf("delivered c2s %" PRIu64 " s2c %" PRIu64 " gap c2s %" PRIu64 " s2c %" PRIu64
               " depth c2s %" PRIu64 " s2c %" PRIu64 "\n",
               delivered[0], delivered[1], gap_bytes[0], gap_bytes[1], depth_bytes[0],
               depth_bytes[1]);
        printf("seconds %.3f pps %.0f Gbit/s %.3f\n", secs,
               secs > 0 ? (double)st.packets / secs : 0,
               secs > 0 ? (double)st.bytes * 8 / secs / 1e9 : 0);
    }
    if (disp)
        st.dispatch_dropped += mbx_dispatch_dropped(disp);
    if (stats)
        mbx_stats_print(&st, stderr);
    if (stats && dir != NULL) { /* the same as an EVE stats record */
        char path[4096], serr[256];
        snprintf(path, sizeof(path), "%s/stats.json", dir);
        struct mbx_out *so = mbx_out_open(path, serr, sizeof(serr));
        if (so == NULL) {
            fprintf(stderr, "mbx-streams: %s\n", serr);
            write_failed = true;
        }
        mbx_stats_write(&st, so, now);
        mbx_out_close(so);
    }

    /* Sources close last: a mapped capture's frames stay referenced until then. */
    for (int k = 0; k < n; k++)
        mbx_source_close(jobs[k].src);
    if (disp) {
        mbx_source_close(src);
        mbx_dispatch_free(disp);
    }
    free(jobs);
    free(tid);
    if (status)
        return status;
    if (rc < 0)
        return 2;
    return write_failed ? 1 : 0;
}
