/*
 * app.c - the main of every compiled .mbx program (mbx.h section 13).
 *
 * mbxc's generated C fills a static struct mbx_program (modules, configs,
 * tables, extern modules, user-defined events, subscriptions, timers) and
 * calls mbx_main(), which is the binary's command line: it parses the flags
 * (issue 4 item 4), applies --set to the configs with a typed parse, builds
 * the engine, registers the program in a fixed order (per-flow state slot,
 * tables, externs, events with bases before the events derived from them,
 * subscriptions in dispatch order, timers), reads every source through one
 * loop (a progress line on stderr when it is a terminal), finishes, and
 * prints statistics on --stats.  With --workers N it does all of that in N
 * threads, one engine each (mbx.h section 4, "Workers"): every worker opens
 * the capture files itself and processes its share of them, with its own copy
 * of the program's variables (mbx_program.worker_vars) and its own output
 * buffer into the one output; the statistics printed are the sums.  Inputs
 * workers cannot each read (stdin, pipes, -i, --dpdk) are read by this thread,
 * the dispatcher (dispatch_workers.c), which hands each worker its frames
 * while every worker runs in a thread of its own.  It also
 * holds the few helpers generated code
 * calls that are too big to be inline in mbx.h (string scratch space, stream
 * views, JSON output of durations and sides, sha256_hex).
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mbx.h"

#define APP_MAX_SOURCES 64
#define APP_MAX_PORTS   32

static const char app_usage[] =
    "usage: %s [OPTIONS] (-r FILE... | -i IFACE | --dpdk EAL-ARGS... -- [DPDK-OPTIONS])\n"
    "\n"
    "Runs the mbx pipeline '%s' on packets and writes its events as JSON lines.\n"
    "\n"
    "input (one kind):\n"
    "  -r FILE            read a pcap or pcapng capture (repeatable; '-' is stdin)\n"
    "  -i IFACE           capture live on IFACE through libpcap\n"
    "  --dpdk EAL... --   DPDK ports; EAL arguments up to '--', then:\n"
    "      --port N       a port to receive on (repeatable; default: every port)\n"
    "      --inline A:B   bump in the wire: forward between ports A and B, apply drops\n"
    "                     (one worker)\n"
    "      (also -o, --stats, --set and --workers)\n"
    "output and settings:\n"
    "  -o FILE            events to FILE (default: standard output)\n"
    "  --set M.K=VALUE    set config K of module M (typed, e.g. portscan.window=30s)\n"
    "  --max-flows N      flow table bound (default 1000000)\n"
    "  --policy first|last  overlapping TCP or IP fragment bytes: the first copy wins\n"
    "                     (default: BSD, Suricata's default) or the last (Linux, Windows)\n"
    "  --depth BYTES      reassemble at most BYTES per direction (default: all; the\n"
    "                     rest is counted as depth bytes)\n"
    "  --stream-memory BYTES  bound on all stream buffers (default 1g)\n"
    "  --timeout KIND=DURATION  idle timeout of syn (30s), est (1h), closing (30s),\n"
    "                     udp (2m) flows, linger after a TCP close (5s), frag (60s:\n"
    "                     an incomplete IP datagram); repeatable\n"
    "  --no-defrag        do not reassemble IP fragments (counted as decode errors)\n"
    "  --defrag-memory BYTES  bound on fragments held for reassembly (default 32m)\n"
    "  --workers N        N threads, each an engine with its share of the flows\n"
    "                     (1..64, default 1): on capture files each worker reads\n"
    "                     every file and keeps the flows its address hash picks;\n"
    "                     stdin, pipes, -i and --dpdk (not --inline) go through a\n"
    "                     dispatcher thread that hands each worker its frames\n"
    "  --stats            print run statistics on stderr at the end\n"
    "  --help             this text, and the configs this program has\n"
    "exit status: 0 done, 1 runtime error, 2 bad arguments or unreadable input\n";

static const char *app_prog = "mbx";

static int app_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int app_bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", app_prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try '%s --help')\n", app_prog);
    return 2;
}

static const char *cfg_type_name(uint8_t t)
{
    switch (t) {
    case MBX_CFG_INT:
        return "int";
    case MBX_CFG_UINT:
        return "uint";
    case MBX_CFG_BOOL:
        return "bool (true or false)";
    case MBX_CFG_STR:
        return "str";
    case MBX_CFG_BYTES:
        return "bytes";
    case MBX_CFG_IP:
        return "ip (an IPv4 or IPv6 address)";
    case MBX_CFG_PORT:
        return "port (0..65535)";
    case MBX_CFG_DURATION:
        return "duration (500ms, 10s, 5m, 1h, or seconds)";
    case MBX_CFG_TIME:
        return "time (seconds since the epoch)";
    default:
        return "?";
    }
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (*s == 0 || *s == '-' || *s == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* A decimal number and one of the suffixes of units (its multiplier). */
struct app_unit {
    const char *suf;
    uint64_t mul;
};

static bool parse_scaled(const char *s, const struct app_unit *units, size_t n, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(end, units[i].suf) == 0) {
            if (v > UINT64_MAX / units[i].mul)
                return false;
            *out = v * units[i].mul;
            return true;
        }
    return false;
}

/* 4096, 64k, 16m, 1g (binary multiples). */
static bool parse_size(const char *s, uint64_t *out)
{
    static const struct app_unit units[] = {
        {"", 1},           {"k", 1ULL << 10}, {"K", 1ULL << 10}, {"m", 1ULL << 20},
        {"M", 1ULL << 20}, {"g", 1ULL << 30}, {"G", 1ULL << 30},
    };
    return parse_scaled(s, units, sizeof(units) / sizeof(units[0]), out);
}

/* 500ms 10s 5m 1h 2us 7ns, or a plain number of seconds. */
static bool parse_duration(const char *s, uint64_t *out)
{
    static const struct app_unit units[] = {
        {"", 1000000000ULL}, {"s", 1000000000ULL},  {"ms", 1000000ULL},      {"us", 1000ULL},
        {"ns", 1ULL},        {"m", 60000000000ULL}, {"h", 3600000000000ULL},
    };
    return parse_scaled(s, units, sizeof(units) / sizeof(units[0]), out);
}

static int apply_set(const struct mbx_program *p, const char *arg)
{
    const char *eq = strchr(arg, '=');
    const char *dot = strchr(arg, '.');
    if (eq == NULL || dot == NULL || dot > eq)
        return app_bad("--set wants MODULE.KEY=VALUE, got '%s'", arg);
    size_t mlen = (size_t)(dot - arg), klen = (size_t)(eq - dot - 1);
    const char *val = eq + 1;
    bool module_known = false;
    for (int i = 0; i < p->nmodules; i++)
        if (strlen(p->modules[i].name) == mlen && strncmp(p->modules[i].name, arg, mlen) == 0)
            module_known = true;
    for (int i = 0; i < p->nconfigs; i++) {
        const struct mbx_prog_config *c = &p->configs[i];
        if (strlen(c->module) != mlen || strncmp(c->module, arg, mlen) != 0 ||
            strlen(c->key) != klen || strncmp(c->key, dot + 1, klen) != 0)
            continue;
        bool ok = true;
        uint64_t u = 0;
        switch (c->type) {
        case MBX_CFG_INT: {
            char *end;
            errno = 0;
            long long v = strtoll(val, &end, 0);
            ok = *val && !errno && !*end;
            if (ok)
                *(int64_t *)c->var = v;
            break;
        }
        case MBX_CFG_UINT:
        case MBX_CFG_TIME:
            ok = parse_u64(val, &u);
            if (ok)
                *(uint64_t *)c->var = c->type == MBX_CFG_TIME ? u * 1000000000ULL : u;
            break;
        case MBX_CFG_PORT:
            ok = parse_u64(val, &u) && u <= 65535;
            if (ok)
                *(uint64_t *)c->var = u;
            break;
        case MBX_CFG_BOOL:
            if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
                *(bool *)c->var = true;
            else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0)
                *(bool *)c->var = false;
            else
                ok = false;
            break;
        case MBX_CFG_STR:
        case MBX_CFG_BYTES: {
            struct mbx_str *s = c->var;
            s->p = (const uint8_t *)val; /* argv lives as long as the run */
            s->n = strlen(val);
            break;
        }
        case MBX_CFG_IP:
            ok = mbx_addr_parse(val, (struct mbx_addr *)c->var) == 0;
            break;
        case MBX_CFG_DURATION:
            ok = parse_duration(val, &u);
            if (ok)
                *(uint64_t *)c->var = u;
            break;
        default:
            ok = false;
        }
        if (!ok)
            return app_bad("--set %s.%s: '%s' is not a valid %s", c->module, c->key, val,
                           cfg_type_name(c->type));
        return 0;
    }
    if (!module_known)
        return app_bad("--set: no module '%.*s' in pipeline %s", (int)mlen, arg, p->name);
    fprintf(stderr, "%s: --set: module %.*s has no config '%.*s'", app_prog, (int)mlen, arg,
            (int)klen, dot + 1);
    const char *sep = "; it has: ";
    for (int i = 0; i < p->nconfigs; i++)
        if (strlen(p->configs[i].module) == mlen && strncmp(p->configs[i].module, arg, mlen) == 0) {
            fprintf(stderr, "%s%s", sep, p->configs[i].key);
            sep = ", ";
        }
    if (strcmp(sep, ", ") != 0)
        fprintf(stderr, "; it has no configs");
    fprintf(stderr, " (try '%s --help')\n", app_prog);
    return 2;
}

static void print_help(const struct mbx_program *p)
{
    printf(app_usage, app_prog, p->name);
    if (p->nconfigs == 0)
        return;
    printf("\nconfigs of this program (--set):\n");
    for (int i = 0; i < p->nconfigs; i++)
        printf("  %s.%s: %s\n", p->configs[i].module, p->configs[i].key,
               cfg_type_name(p->configs[i].type));
}

/* ---------------------------------------------------------------- registration */

/* One engine with the program registered: the only one, or one worker's. */
struct app {
    const struct mbx_program *p;
    mbx_engine *e;
    int *ev_ids;         /* this thread's copies of the program's variables */
    int *flow_slot;      /* (mbx_program.worker_vars) */
    mbx_table ***tables; /* ntables */
    int **sub_ids;       /* nsubs */
    bool *attached;      /* externs attached (to detach) */
    void **vars;         /* the array the four above point into (app_vars) */
};

/* The addresses of this thread's copies of p's variables. */
static int app_vars(struct app *a)
{
    const struct mbx_program *p = a->p;
    size_t n = 2 + (size_t)p->ntables + (size_t)p->nsubs;
    void **v = calloc(n, sizeof(*v));
    if (v == NULL)
        return -1;
    if (p->worker_vars) {
        p->worker_vars(v);
    } else {
        v[0] = p->ev_ids;
        v[1] = p->flow_slot;
        for (int i = 0; i < p->ntables; i++)
            v[2 + i] = p->tables[i].table;
        for (int i = 0; i < p->nsubs; i++)
            v[2 + p->ntables + i] = p->subs[i].id;
    }
    a->vars = v;
    a->ev_ids = v[0];
    a->flow_slot = v[1];
    a->tables = (mbx_table ***)(v + 2);
    a->sub_ids = (int **)(v + 2 + p->ntables);
    return 0;
}

static int app_register(struct app *a)
{
    const struct mbx_program *p = a->p;
    mbx_engine *e = a->e;
    for (int i = 0; i < p->nslots; i++)
        a->ev_ids[i] = i < MBX_EV_NBUILTIN ? i : -1;
    if (p->flow_state) {
        int slot = mbx_flow_ext_register(e, p->flow_state);
        if (slot < 0) {
            fprintf(stderr, "%s: cannot reserve %zu bytes of per-flow state: %s\n", app_prog,
                    p->flow_state, strerror(-slot));
            return -1;
        }
        if (a->flow_slot)
            *a->flow_slot = slot;
    }
    for (int i = 0; i < p->ntables; i++) {
        struct mbx_table_def d = p->tables[i].def;
        d.expire = p->tables[i].expire ? *p->tables[i].expire : 0;
        d.max = p->tables[i].max ? *p->tables[i].max : 0;
        *a->tables[i] = mbx_table_new(&d);
        if (*a->tables[i] == NULL) {
            fprintf(stderr, "%s: cannot make table %s\n", app_prog, d.name);
            return -1;
        }
    }
    for (int i = 0; i < p->nexterns; i++) {
        const struct mbx_prog_extern *x = &p->externs[i];
        int ids[64];
        for (int k = 0; k < 64; k++)
            ids[k] = -1;
        if (x->nslots > 64) {
            fprintf(stderr, "%s: extern module %s exports too many events\n", app_prog, x->name);
            return -1;
        }
        int rc = x->attach(e, ids);
        if (rc < 0) {
            fprintf(stderr, "%s: extern module %s failed to attach: %s\n", app_prog, x->name,
                    strerror(-rc));
            return -1;
        }
        a->attached[i] = true;
        for (int k = 0; k < x->nslots; k++) {
            if (ids[k] < 0) {
                fprintf(stderr, "%s: extern module %s gave no id for its event #%d\n", app_prog,
                        x->name, k);
                return -1;
            }
            a->ev_ids[x->slots[k]] = ids[k];
        }
    }
    for (int i = 0; i < p->nevents; i++) {
        const struct mbx_prog_event *ev = &p->events[i];
        int id;
        if (ev->base_slot < 0)
            id = mbx_event_register(e, ev->name);
        else
            id = mbx_event_define(e, ev->name, a->ev_ids[ev->base_slot], ev->filter, NULL);
        if (id < 0) {
            fprintf(stderr, "%s: cannot register event %s: %s\n", app_prog, ev->name,
                    strerror(-id));
            return -1;
        }
        a->ev_ids[ev->slot] = id;
    }
    for (int i = 0; i < p->nsubs; i++) {
        const struct mbx_prog_sub *s = &p->subs[i];
        int id = mbx_subscribe(e, a->ev_ids[s->slot], s->fn, NULL, s->flags);
        if (id < 0) {
            fprintf(stderr, "%s: module %s cannot subscribe to %s: %s\n", app_prog,
                    p->modules[s->module].name, mbx_event_name(e, a->ev_ids[s->slot]),
                    strerror(-id));
            return -1;
        }
        *a->sub_ids[i] = id;
    }
    for (int i = 0; i < p->ntimers; i++) {
        const struct mbx_prog_timer *t = &p->timers[i];
        if (*t->period == 0) {
            fprintf(stderr, "%s: module %s: a timer period of 0\n", app_prog,
                    p->modules[t->module].name);
            return -1;
        }
        int rc = mbx_every(e, *t->period, t->fn, NULL);
        if (rc < 0) {
            fprintf(stderr, "%s: module %s: cannot start a timer: %s\n", app_prog,
                    p->modules[t->module].name, strerror(-rc));
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- the run */

static volatile sig_atomic_t app_stop;
static int app_progress_len; /* the longest progress line written */

static void on_signal(int sig)
{
    (void)sig;
    app_stop = 1;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Feed one source to the engine; 0, or the source's negative errno. */
static int app_feed(mbx_engine *e, struct mbx_source *src, const char *what, bool live,
                    bool progress)
{
    struct mbx_frame fr[32];
    bool fwd[32];
    double next = wall_s() + 1.0;
    for (;;) {
        if (app_stop)
            return 0;
        int n = mbx_source_next(src, fr, 32);
        if (n == -EAGAIN && live) { /* idle: let the events out now */
            mbx_out_flush(mbx_engine_output(e));
            continue;
        }
        if (n <= 0)
            return n;
        mbx_engine_input(e, fr, fwd, n);
        mbx_source_done(src, fr, fwd, n);
        if (progress && wall_s() >= next) {
            struct mbx_stats st;
            mbx_engine_stats(e, &st);
            int len = fprintf(stderr, "\r%s: %" PRIu64 " packets, %" PRIu64 " flows   ", what,
                              st.packets, st.flows);
            if (len > app_progress_len)
                app_progress_len = len;
            next = wall_s() + 1.0;
        }
    }
}

/* One worker: an engine on its share of the sources, with the program
 * registered in this thread's copies of its variables; its statistics are
 * kept for the sums.  With one worker it runs in the main thread. */
struct app_worker {
    const struct mbx_program *p;
    struct mbx_config cfg;    /* worker, nworkers set */
    struct mbx_source **srcs; /* nsrcs: opened by main (worker 0) or the worker */
    const char *const *files; /* the capture files (workers > 0 open them) */
    int nsrcs;
    const char *what;          /* the live source's name (no files) */
    struct mbx_dispatch *disp; /* frames come from the dispatcher (then nsrcs is 0) */
    struct mbx_out *out;       /* the output, or this worker's writer into it */
    bool progress;             /* a progress line on stderr */
    int status;                /* 0, 1 runtime error, 2 unreadable input */
    bool ran;                  /* registered and run: stats below are valid */
    struct mbx_stats st;       /* at the end */
    uint64_t (*tstat)[3];      /* per table: entries, evicted, writes lost */
};

static void *app_worker_run(void *arg)
{
    struct app_worker *w = arg;
    const struct mbx_program *p = w->p;
    bool first = w->cfg.worker == 0;
    char err[512];
    for (int i = 0; i < w->nsrcs && w->status == 0; i++) {
        if (w->srcs[i] != NULL)
            continue;
        w->srcs[i] = mbx_source_open_file(w->files[i], err, sizeof(err));
        if (w->srcs[i] == NULL) {
            fprintf(stderr, "%s: worker %u: %s\n", app_prog, w->cfg.worker, err);
            w->status = 2;
        }
    }
    if (w->status) {
        if (w->disp)
            mbx_dispatch_leave(w->disp, w->cfg.worker);
        return NULL;
    }
    mbx_engine *e = mbx_engine_new(&w->cfg);
    bool attached[64] = {false};
    struct app a = {.p = p, .e = e, .attached = attached};
    if (e == NULL) {
        fprintf(stderr, "%s: cannot start the engine: %s\n", app_prog, strerror(errno));
        w->status = 1;
    } else if (app_vars(&a) != 0) {
        fprintf(stderr, "%s: out of memory\n", app_prog);
        w->status = 1;
    } else {
        mbx_engine_set_output(e, w->out);
        if (p->nexterns > 64 || app_register(&a) != 0)
            w->status = 1;
    }
    if (w->status != 0 && w->disp)
        mbx_dispatch_leave(w->disp, w->cfg.worker); /* the dispatcher must not wait on us */
    if (w->status == 0) {
        if (w->disp) /* until the dispatcher's end: its source, errors and stop are its own */
            mbx_dispatch_work(w->disp, w->cfg.worker, e);
        for (int i = 0; i < w->nsrcs && w->status == 0 && !app_stop; i++) {
            const char *what = w->files ? w->files[i] : w->what;
            int rc = app_feed(e, w->srcs[i], what, w->files == NULL, w->progress);
            if (rc < 0) {
                const char *why = mbx_source_error(w->srcs[i]);
                if (first) /* every worker reads the same files: one message */
                    fprintf(stderr, "%s%s: %s\n", w->progress ? "\n" : "", app_prog,
                            why && *why ? why : strerror(-rc));
                w->status = 2;
            }
        }
        if (w->progress && app_progress_len > 0) /* wipe the progress line */
            fprintf(stderr, "\r%*s\r", app_progress_len, "");
        mbx_engine_finish(e); /* events of everything read, even after an error */
        mbx_out_flush(w->out);
        mbx_engine_stats(e, &w->st);
        for (int i = 0; i < p->ntables; i++) {
            mbx_table *t = *a.tables[i];
            w->tstat[i][0] = mbx_table_len(t, mbx_engine_now(e));
            w->tstat[i][1] = mbx_table_evicted(t);
            w->tstat[i][2] = mbx_table_failed(t);
        }
        w->ran = true;
    }
    for (int i = p->nexterns - 1; i >= 0 && i < 64; i--)
        if (attached[i] && p->externs[i].detach)
            p->externs[i].detach();
    for (int i = 0; a.tables && i < p->ntables; i++) {
        mbx_table_free(*a.tables[i]);
        *a.tables[i] = NULL;
    }
    mbx_out_flush(w->out);
    mbx_engine_free(e);
    free(a.vars);
    return NULL;
}

/* Runs n workers (n - 1 threads and this one) and prints the statistics summed. */
static int app_run(const struct mbx_program *p, int n, const struct mbx_config *cfg,
                   struct mbx_source **srcs, int nsrcs, const char *const *files, const char *what,
                   struct mbx_out *out, bool stats, struct mbx_dispatch *disp)
{
    struct app_worker *w = calloc((size_t)n, sizeof(*w));
    pthread_t *tid = calloc((size_t)n, sizeof(*tid));
    bool *started = calloc((size_t)n, sizeof(*started));
    int status = 0;
    if (w == NULL || tid == NULL || started == NULL) {
        fprintf(stderr, "%s: out of memory\n", app_prog);
        status = 1;
    }
    for (int k = 0; k < n && status == 0; k++) {
        w[k].p = p;
        w[k].cfg = *cfg;
        w[k].cfg.worker = (uint16_t)k;
        w[k].cfg.nworkers = (uint16_t)n;
        w[k].files = disp ? NULL : files;
        w[k].nsrcs = disp ? 0 : nsrcs;
        w[k].disp = disp;
        w[k].what = what;
        w[k].progress = n == 1 && isatty(2) != 0;
        w[k].srcs = k == 0 ? srcs : calloc((size_t)nsrcs + 1, sizeof(*w[k].srcs));
        w[k].out = n == 1 ? out : mbx_out_worker(out);
        w[k].tstat = calloc((size_t)p->ntables + 1, sizeof(*w[k].tstat));
        if (w[k].srcs == NULL || w[k].out == NULL || w[k].tstat == NULL) {
            fprintf(stderr, "%s: out of memory\n", app_prog);
            status = 1;
        }
    }
    if (status == 0) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        /* with a dispatcher every worker is a thread: this one reads the input */
        for (int k = disp ? 0 : 1; k < n; k++) {
            int rc = pthread_create(&tid[k], NULL, app_worker_run, &w[k]);
            if (rc != 0) {
                fprintf(stderr, "%s: cannot start worker %d: %s\n", app_prog, k, strerror(rc));
                w[k].status = 1;
                if (disp)
                    mbx_dispatch_leave(disp, (unsigned)k);
                continue;
            }
            started[k] = true;
        }
        if (disp) {
            for (int i = 0; i < nsrcs && !app_stop; i++) {
                int rc = mbx_dispatch_run(disp, srcs[i], &app_stop);
                if (rc < 0) {
                    const char *why = mbx_source_error(srcs[i]);
                    fprintf(stderr, "%s: %s\n", app_prog, why && *why ? why : strerror(-rc));
                    status = 2;
                    break;
                }
            }
            mbx_dispatch_end(disp);
        } else {
            app_worker_run(&w[0]);
        }
        for (int k = disp ? 0 : 1; k < n; k++)
            if (started[k])
                pthread_join(tid[k], NULL);
        /* the worst status: a runtime error (1) before unreadable input (2) */
        for (int k = 0; k < n; k++)
            if (w[k].status == 1 || (w[k].status == 2 && status != 1))
                status = w[k].status;
        for (int k = 0; k < n; k++)
            if (w[k].out != out)
                mbx_out_close(w[k].out);
        mbx_out_flush(out); /* the events before the statistics on a terminal */
        bool all = true;
        for (int k = 0; k < n; k++)
            all &= w[k].ran;
        if (stats && all) {
            struct mbx_stats st;
            memset(&st, 0, sizeof(st));
            for (int k = 0; k < n; k++)
                mbx_stats_add(&st, &w[k].st);
            if (disp)
                st.dispatch_dropped += mbx_dispatch_dropped(disp);
            mbx_stats_print(&st, stderr);
            for (int i = 0; i < p->ntables; i++) {
                uint64_t t[3] = {0, 0, 0};
                for (int k = 0; k < n; k++)
                    for (int j = 0; j < 3; j++)
                        t[j] += w[k].tstat[i][j];
                fprintf(stderr,
                        "table %s: %" PRIu64 " entries, %" PRIu64 " evicted (full), %" PRIu64
                        " writes lost (memory)\n",
                        p->tables[i].def.name, t[0], t[1], t[2]);
            }
        }
    } else {
        for (int k = 1; w && k < n; k++)
            if (w[k].out != out)
                mbx_out_close(w[k].out);
    }
    /* Sources close last: a mapped file's frames stay referenced until then. */
    for (int k = 1; w && k < n; k++) {
        for (int i = 0; w[k].srcs && i < nsrcs; i++)
            mbx_source_close(w[k].srcs[i]);
        free(w[k].srcs);
    }
    for (int k = 0; w && k < n; k++)
        free(w[k].tstat);
    free(w);
    free(tid);
    free(started);
    return status;
}

/* Whether a is the option name, as "NAME VALUE" or "NAME=VALUE"; *v is then the
 * value (NULL when missing). */
static bool app_opt(const char *a, const char *name, int argc, char **argv, int *i, const char **v)
{
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0 || (a[n] != 0 && a[n] != '='))
        return false;
    *v = a[n] == '=' ? a + n + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
    return true;
}

/* --timeout KIND=DURATION into cfg; 0 or an error status. */
static int app_timeout(struct mbx_config *cfg, const char *v)
{
    static const struct {
        const char *kind;
        size_t off;
    } kinds[] = {
        {"syn", offsetof(struct mbx_config, timeout_syn)},
        {"est", offsetof(struct mbx_config, timeout_est)},
        {"closing", offsetof(struct mbx_config, timeout_closing)},
        {"udp", offsetof(struct mbx_config, timeout_udp)},
        {"linger", offsetof(struct mbx_config, linger)},
        {"frag", offsetof(struct mbx_config, defrag_timeout)},
    };
    const char *eq = v ? strchr(v, '=') : NULL;
    uint64_t d;
    if (eq == NULL || !parse_duration(eq + 1, &d) || d == 0)
        return app_bad("--timeout needs KIND=DURATION (KIND: syn, est, closing, udp, linger, "
                       "frag; DURATION above 0, e.g. 30s), got '%s'",
                       v ? v : "");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        if (strlen(kinds[k].kind) == (size_t)(eq - v) && strncmp(v, kinds[k].kind, eq - v) == 0) {
            memcpy((char *)cfg + kinds[k].off, &d, sizeof(mbx_time));
            return 0;
        }
    return app_bad("--timeout: no kind '%.*s' (syn, est, closing, udp, linger, frag)",
                   (int)(eq - v), v);
}

int mbx_main(int argc, char **argv, const struct mbx_program *p)
{
    if (argc > 0 && argv[0]) {
        const char *s = strrchr(argv[0], '/');
        app_prog = s ? s + 1 : argv[0];
    }
    const char *files[APP_MAX_SOURCES];
    int nfiles = 0;
    const char *iface = NULL, *outpath = "-";
    bool dpdk = false, stats = false, inline_mode = false;
    int eal_argc = 0;
    char *eal_argv[256];
    uint16_t ports[APP_MAX_PORTS];
    int nports = 0;
    uint64_t max_flows = 0, workers = 1;
    struct mbx_config cfg; /* the engine options below, then the input's clock */
    mbx_config_default(&cfg);
    const char *v;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_help(p);
            return 0;
        } else if (strcmp(a, "-r") == 0) {
            if (!more)
                return app_bad("-r needs a capture file");
            if (nfiles == APP_MAX_SOURCES)
                return app_bad("too many -r files (at most %d)", APP_MAX_SOURCES);
            files[nfiles++] = argv[++i];
        } else if (strcmp(a, "-i") == 0) {
            if (!more)
                return app_bad("-i needs an interface name");
            iface = argv[++i];
        } else if (strcmp(a, "-o") == 0) {
            if (!more)
                return app_bad("-o needs a file name");
            outpath = argv[++i];
        } else if (app_opt(a, "--set", argc, argv, &i, &v)) {
            if (v == NULL)
                return app_bad("--set needs MODULE.KEY=VALUE");
            int rc = apply_set(p, v);
            if (rc)
                return rc;
        } else if (app_opt(a, "--max-flows", argc, argv, &i, &v)) {
            if (v == NULL || !parse_u64(v, &max_flows) || max_flows == 0 || max_flows > UINT32_MAX)
                return app_bad("--max-flows needs a number from 1 to %" PRIu32 ", got '%s'",
                               UINT32_MAX, v ? v : "");
        } else if (app_opt(a, "--workers", argc, argv, &i, &v)) {
            if (v == NULL || !parse_u64(v, &workers) || workers == 0 || workers > MBX_MAX_WORKERS)
                return app_bad("--workers needs a number from 1 to %d, got '%s'", MBX_MAX_WORKERS,
                               v ? v : "");
        } else if (app_opt(a, "--policy", argc, argv, &i, &v)) {
            if (v != NULL && strcmp(v, "first") == 0)
                cfg.policy = MBX_POLICY_FIRST;
            else if (v != NULL && strcmp(v, "last") == 0)
                cfg.policy = MBX_POLICY_LAST;
            else
                return app_bad("--policy needs first or last, got '%s'", v ? v : "");
        } else if (app_opt(a, "--depth", argc, argv, &i, &v)) {
            if (v == NULL || !parse_size(v, &cfg.stream_depth) || cfg.stream_depth == 0)
                return app_bad("--depth needs a size above 0 (e.g. 4096, 1m), got '%s'",
                               v ? v : "");
        } else if (app_opt(a, "--stream-memory", argc, argv, &i, &v)) {
            if (v == NULL || !parse_size(v, &cfg.stream_mem) || cfg.stream_mem == 0)
                return app_bad("--stream-memory needs a size above 0 (e.g. 256m, 2g), got '%s'",
                               v ? v : "");
        } else if (app_opt(a, "--timeout", argc, argv, &i, &v)) {
            int rc = app_timeout(&cfg, v);
            if (rc)
                return rc;
        } else if (strcmp(a, "--no-defrag") == 0) {
            cfg.defrag = false;
        } else if (app_opt(a, "--defrag-memory", argc, argv, &i, &v)) {
            if (v == NULL || !parse_size(v, &cfg.defrag_mem) || cfg.defrag_mem == 0)
                return app_bad("--defrag-memory needs a size above 0 (e.g. 64m), got '%s'",
                               v ? v : "");
        } else if (strcmp(a, "--stats") == 0) {
            stats = true;
        } else if (strcmp(a, "--dpdk") == 0) {
            dpdk = true;
            eal_argv[eal_argc++] = argv[0];
            for (i++; i < argc && strcmp(argv[i], "--") != 0; i++) {
                if (eal_argc == 255)
                    return app_bad("too many EAL arguments");
                eal_argv[eal_argc++] = argv[i];
            }
            eal_argv[eal_argc] = NULL;
            /* after "--": DPDK options (and the others, still accepted) */
            for (i++; i < argc; i++) {
                const char *b = argv[i];
                if (strcmp(b, "--port") == 0 && i + 1 < argc) {
                    uint64_t id;
                    if (!parse_u64(argv[i + 1], &id) || id > 65535)
                        return app_bad("--port needs a port id, got '%s'", argv[i + 1]);
                    if (nports == APP_MAX_PORTS)
                        return app_bad("too many --port options");
                    ports[nports++] = (uint16_t)id;
                    i++;
                } else if (strcmp(b, "--inline") == 0 && i + 1 < argc) {
                    uint64_t x, y;
                    char buf[64];
                    snprintf(buf, sizeof(buf), "%s", argv[i + 1]);
                    char *colon = strchr(buf, ':');
                    if (!colon)
                        return app_bad("--inline needs A:B (two port ids), got '%s'", buf);
                    *colon = 0;
                    if (!parse_u64(buf, &x) || !parse_u64(colon + 1, &y) || x > 65535 ||
                        y > 65535 || x == y)
                        return app_bad("--inline needs A:B (two different port ids), got '%s'",
                                       argv[i + 1]);
                    ports[0] = (uint16_t)x;
                    ports[1] = (uint16_t)y;
                    nports = 2;
                    inline_mode = true;
                    i++;
                } else if (strcmp(b, "-o") == 0 && i + 1 < argc) {
                    outpath = argv[++i];
                } else if (strcmp(b, "--stats") == 0) {
                    stats = true;
                } else if (strcmp(b, "--workers") == 0 && i + 1 < argc) {
                    if (!parse_u64(argv[i + 1], &workers) || workers == 0 ||
                        workers > MBX_MAX_WORKERS)
                        return app_bad("--workers needs a number from 1 to %d, got '%s'",
                                       MBX_MAX_WORKERS, argv[i + 1]);
                    i++;
                } else if (strcmp(b, "--set") == 0 && i + 1 < argc) {
                    int rc = apply_set(p, argv[++i]);
                    if (rc)
                        return rc;
                } else {
                    return app_bad("unknown option after --dpdk ... --: '%s'", b);
                }
            }
        } else {
            return app_bad("unknown option '%s'", a);
        }
    }
    int kinds = (nfiles > 0) + (iface != NULL) + dpdk;
    if (kinds == 0)
        return app_bad("no input: give -r FILE, -i IFACE or --dpdk ...");
    if (kinds > 1)
        return app_bad("give one kind of input: -r files, -i or --dpdk");
    /* Workers each read capture files themselves (no copies); stdin, pipes, live
     * interfaces and DPDK ports go through a dispatcher thread (mbx.h section 4). */
    bool dispatch = workers > 1 && nfiles == 0;
    for (int i = 0; workers > 1 && i < nfiles; i++) {
        struct stat sb;
        if (strcmp(files[i], "-") == 0 || (stat(files[i], &sb) == 0 && !S_ISREG(sb.st_mode)))
            dispatch = true;
    }
    if (workers > 1 && inline_mode)
        return app_bad("--inline runs one worker (verdicts would have to come back from the "
                       "workers): drop --workers");

    /* open every input first: a bad capture is an error before any event */
    struct mbx_source *srcs[APP_MAX_SOURCES];
    int nsrcs = 0;
    char err[512];
    if (nfiles) {
        for (int i = 0; i < nfiles; i++) {
            srcs[nsrcs] = mbx_source_open_file(files[i], err, sizeof(err));
            if (srcs[nsrcs] == NULL) {
                fprintf(stderr, "%s: %s\n", app_prog, err);
                for (int k = 0; k < nsrcs; k++)
                    mbx_source_close(srcs[k]);
                return 2;
            }
            nsrcs++;
        }
    } else if (iface) {
        srcs[nsrcs] = mbx_source_open_live(iface, err, sizeof(err));
        if (srcs[nsrcs] == NULL) {
            fprintf(stderr, "%s: %s\n", app_prog, err);
            return 2;
        }
        nsrcs++;
    } else {
        srcs[nsrcs] = mbx_source_open_dpdk(eal_argc, eal_argv, nports ? ports : NULL, nports,
                                           inline_mode, err, sizeof(err));
        if (srcs[nsrcs] == NULL) {
            fprintf(stderr, "%s: %s\n", app_prog, err);
            return 2;
        }
        nsrcs++;
    }
    struct mbx_out *out = mbx_out_open(outpath, err, sizeof(err));
    if (out == NULL) {
        fprintf(stderr, "%s: %s\n", app_prog, err);
        for (int k = 0; k < nsrcs; k++)
            mbx_source_close(srcs[k]);
        return 2;
    }
    cfg.max_flows = (uint32_t)max_flows;
    /* packet time when reading captures: files, or a DPDK net_pcap port reading one
     * (its mbufs carry the capture's timestamps); the wall clock on live ports */
    bool offline_dpdk = false;
    for (int i = 0; i < eal_argc; i++)
        offline_dpdk |= strstr(eal_argv[i], "rx_pcap=") != NULL;
    cfg.live_clock = nfiles == 0 && !offline_dpdk;
    const char *what = iface ? iface : "dpdk";
    /* captures (stdin, pipes, a DPDK port replaying a file) lose nothing: the
     * dispatcher waits for a full ring; a live one drops and counts */
    struct mbx_dispatch *disp = NULL;
    if (dispatch) {
        disp = mbx_dispatch_new((unsigned)workers, 0, !cfg.live_clock);
        if (disp == NULL) {
            fprintf(stderr, "%s: out of memory\n", app_prog);
            for (int k = 0; k < nsrcs; k++)
                mbx_source_close(srcs[k]);
            mbx_out_close(out);
            return 1;
        }
    }
    int status =
        app_run(p, (int)workers, &cfg, srcs, nsrcs, nfiles ? files : NULL, what, out, stats, disp);
    mbx_dispatch_free(disp);
    for (int k = 0; k < nsrcs; k++)
        mbx_source_close(srcs[k]);
    mbx_out_close(out);
    return status;
}

/* ---------------------------------------------------------------- helpers */

/* Scratch space for strings made by generated code (lower(), copies): a ring,
 * so a value stays valid while the next 64 KiB of scratch are made; one per
 * worker thread. */
static _Thread_local uint8_t scratch[65536];
static _Thread_local size_t scratch_off;

static uint8_t *scratch_get(size_t n)
{
    if (n > sizeof(scratch) / 4)
        return NULL;
    if (scratch_off + n > sizeof(scratch))
        scratch_off = 0;
    uint8_t *p = scratch + scratch_off;
    scratch_off += n;
    return p;
}

struct mbx_str mbx_str_dup(struct mbx_str s)
{
    struct mbx_str r = {NULL, 0};
    uint8_t *p = s.n ? scratch_get(s.n) : NULL;
    if (p == NULL)
        return s.n ? s : r;
    memcpy(p, s.p, s.n);
    r.p = p;
    r.n = s.n;
    return r;
}

struct mbx_str mbx_str_lower(struct mbx_str s)
{
    size_t n = s.n > sizeof(scratch) / 4 ? sizeof(scratch) / 4 : s.n;
    struct mbx_str r = {NULL, 0};
    uint8_t *p = n ? scratch_get(n) : NULL;
    if (p == NULL)
        return r;
    for (size_t i = 0; i < n; i++)
        p[i] = (s.p[i] >= 'A' && s.p[i] <= 'Z') ? (uint8_t)(s.p[i] + 32) : s.p[i];
    r.p = p;
    r.n = n;
    return r;
}

int64_t mbx_str_find(struct mbx_str s, struct mbx_str needle)
{
    if (needle.n == 0)
        return 0;
    if (needle.n > s.n)
        return -1;
    const uint8_t *h = memmem(s.p, s.n, needle.p, needle.n);
    return h ? (int64_t)(h - s.p) : -1;
}

bool mbx_addr_in_prefix(const struct mbx_addr *a, const struct mbx_addr *net, int plen)
{
    if (plen < 0 || plen > 128)
        return false;
    int full = plen / 8, rest = plen % 8;
    if (memcmp(a->b, net->b, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t m = (uint8_t)(0xff << (8 - rest));
    return (a->b[full] & m) == (net->b[full] & m);
}

/* The current UDP datagram if side sent it, else an empty view. */
static struct mbx_str udp_dgram(const struct mbx_event *ev, mbx_flow *f, int side)
{
    struct mbx_str r = {NULL, 0};
    if (ev == NULL || ev->pkt == NULL)
        return r;
    const struct mbx_pkt *p = ev->pkt;
    if (memcmp(&p->src, mbx_flow_addr(f, (enum mbx_side)side), sizeof(p->src)) != 0 ||
        p->sport != mbx_flow_port(f, (enum mbx_side)side))
        return r;
    r.p = p->payload;
    r.n = p->payload_len;
    return r;
}

static bool is_udp(mbx_flow *f)
{
    return mbx_flow_proto(f) == 17;
}

struct mbx_str mbx_gen_peek(const struct mbx_event *ev, mbx_flow *f, int side, int64_t n)
{
    struct mbx_str r = {NULL, 0};
    if (f == NULL || n <= 0)
        return r;
    if (is_udp(f)) {
        r = udp_dgram(ev, f, side);
    } else {
        mbx_stream *s = mbx_flow_stream(f, (enum mbx_side)side);
        if (s == NULL)
            return r;
        const uint8_t *d = NULL;
        r.n = mbx_stream_peek(s, &d);
        r.p = d;
    }
    if ((uint64_t)n < r.n)
        r.n = (size_t)n;
    return r;
}

struct mbx_str mbx_gen_peek_at(const struct mbx_event *ev, mbx_flow *f, int side, int64_t off,
                               int64_t n)
{
    struct mbx_str r = {NULL, 0};
    if (f == NULL || n <= 0 || off < 0)
        return r;
    if (is_udp(f))
        return mbx_str_slice(udp_dgram(ev, f, side), off, off + n);
    mbx_stream *s = mbx_flow_stream(f, (enum mbx_side)side);
    if (s == NULL)
        return r;
    if ((uint64_t)n > sizeof(scratch) / 4)
        n = (int64_t)(sizeof(scratch) / 4);
    uint8_t *buf = scratch_get((size_t)n);
    if (buf == NULL)
        return r;
    r.n = mbx_stream_peek_at(s, (uint64_t)off, buf, (size_t)n);
    r.p = buf;
    return r;
}

struct mbx_str mbx_gen_new_bytes(const struct mbx_event *ev, mbx_flow *f, int side)
{
    struct mbx_str r = {NULL, 0};
    if (f == NULL)
        return r;
    if (is_udp(f))
        return udp_dgram(ev, f, side);
    mbx_stream *s = mbx_flow_stream(f, (enum mbx_side)side);
    if (s == NULL || ev == NULL || ev->id != MBX_EV_TCP_DATA || (int)ev->side != side)
        return r;
    const uint8_t *d = NULL;
    r.n = mbx_stream_new_bytes(s, &d);
    r.p = d;
    return r;
}

int64_t mbx_gen_stream_len(const struct mbx_event *ev, mbx_flow *f, int side)
{
    if (f == NULL)
        return 0;
    if (is_udp(f))
        return (int64_t)udp_dgram(ev, f, side).n;
    mbx_stream *s = mbx_flow_stream(f, (enum mbx_side)side);
    return s ? (int64_t)mbx_stream_end_off(s) : 0;
}

bool mbx_gen_stream_starts_with(const struct mbx_event *ev, mbx_flow *f, int side,
                                struct mbx_str lit)
{
    if (f == NULL)
        return false;
    if (is_udp(f))
        return mbx_str_starts_with(udp_dgram(ev, f, side), lit);
    mbx_stream *s = mbx_flow_stream(f, (enum mbx_side)side);
    if (s == NULL || mbx_stream_end_off(s) < lit.n)
        return false;
    uint8_t buf[256];
    if (lit.n > sizeof(buf))
        return false;
    if (lit.n == 0)
        return true;
    return mbx_stream_peek_at(s, 0, buf, lit.n) == lit.n && memcmp(buf, lit.p, lit.n) == 0;
}

/* The offset of needle in the stream so far: searched from offset 0 while the
 * runtime still holds the start (the first 16 KiB), else in the unread bytes;
 * -1 when absent. */
int64_t mbx_gen_stream_find(const struct mbx_event *ev, mbx_flow *f, int side,
                            struct mbx_str needle)
{
    if (f == NULL)
        return -1;
    if (is_udp(f))
        return mbx_str_find(udp_dgram(ev, f, side), needle);
    mbx_stream *s = mbx_flow_stream(f, (enum mbx_side)side);
    if (s == NULL)
        return -1;
    uint64_t end = mbx_stream_end_off(s);
    size_t want = end < 16384 ? (size_t)end : 16384;
    uint8_t *buf = want ? scratch_get(want) : NULL;
    if (buf && mbx_stream_peek_at(s, 0, buf, want) == want) {
        struct mbx_str h = {buf, want};
        int64_t i = mbx_str_find(h, needle);
        if (i >= 0 || end <= 16384)
            return i;
    }
    const uint8_t *d = NULL;
    struct mbx_str u = {NULL, 0};
    u.n = mbx_stream_peek(s, &d);
    u.p = d;
    int64_t i = mbx_str_find(u, needle);
    return i < 0 ? -1 : (int64_t)mbx_stream_read_off(s) + i;
}

void mbx_gen_out_side(struct mbx_out *o, const char *key, int side)
{
    mbx_out_str(o, key, side == MBX_SERVER ? "server" : "client");
}

void mbx_gen_out_duration(struct mbx_out *o, const char *key, uint64_t ns)
{
    if (ns % 1000000000ULL == 0)
        mbx_out_uint(o, key, ns / 1000000000ULL);
    else
        mbx_out_double(o, key, (double)ns / 1e9);
}

void mbx_gen_out_time(struct mbx_out *o, const char *key, mbx_time t)
{
    mbx_gen_out_duration(o, key, t);
}

struct mbx_str mbx_fn_sha256_hex(struct mbx_str b)
{
    static const char hx[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    struct mbx_str r = {NULL, 0};
    if (EVP_Digest(b.p ? (const void *)b.p : (const void *)"", b.n, md, &len, EVP_sha256(), NULL) !=
        1)
        return r;
    uint8_t *p = scratch_get(2 * (size_t)len);
    if (p == NULL)
        return r;
    for (unsigned i = 0; i < len; i++) {
        p[2 * i] = (uint8_t)hx[md[i] >> 4];
        p[2 * i + 1] = (uint8_t)hx[md[i] & 15];
    }
    r.p = p;
    r.n = 2 * (size_t)len;
    return r;
}
