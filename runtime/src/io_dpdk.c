/*
 * io_dpdk.c - DPDK ethdev ports as a packet source (and, inline, a sink).
 *
 * The EAL is started with the caller's arguments (once per process: DPDK cannot
 * start it twice, so a later open reuses it and ignores its EAL arguments), each
 * port gets one RX and one TX queue over a shared mbuf pool, and a burst is
 * rte_eth_rx_burst() over the ports in turn.  A frame's priv is its mbuf.  Frames
 * are handed back with mbx_source_done(): forwarded out of the paired port in
 * inline mode, freed otherwise; frames never handed back are freed at the next
 * mbx_source_next().  A chained (multi-segment) mbuf is copied into a flat
 * per-source buffer so that decode always sees contiguous bytes.
 *
 * Timestamps: on net_pcap ports, the mbuf dynamic field "rte_dynfield_timestamp"
 * when the mbuf carries the RX timestamp flag: net_pcap fills it with the
 * capture's time without advertising the RX timestamp offload, in microseconds
 * in DPDK 22.11; a value above 1e17 is taken as nanoseconds already (a
 * microsecond count reaches 1e17 only in the year 5138), so a PMD that moves to
 * nanoseconds keeps working.  Other PMDs' timestamps count NIC clock ticks, not
 * time since the epoch, so those ports (and mbufs without the flag) get the wall
 * clock at reception.
 *
 * End of input: a real port never ends (an empty poll returns -EAGAIN).  A port
 * of a net_pcap vdev that reads a file (rx_pcap=, found in the EAL arguments)
 * ends: its rx_burst returns 0 only at the end of the file or when the pool is
 * empty, and the pool cannot be empty here because every mbuf handed out was
 * freed before the poll; so DPDK_END_POLLS empty bursts in a row mark the port
 * done, and when every port is done mbx_source_next() returns 0.  When every
 * port replays a file, mbx_source_next() polls until it has frames or the end,
 * as a file source does: it never returns -EAGAIN.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>

#include "source.h"

#define DPDK_MAX_PORTS   8
#define DPDK_BURST       32   /* frames per call at most */
#define DPDK_POOL_MBUFS  8191 /* per process (2^n - 1 suits the ring) */
#define DPDK_POOL_CACHE  256
#define DPDK_RING        1024 /* RX and TX descriptors per queue */
#define DPDK_END_POLLS   64   /* empty bursts in a row that end a file-backed port */
#define DPDK_TX_TRIES    8    /* tx_burst calls for one burst before dropping the rest */
#define DPDK_FLAT        (DPDK_BURST * SRC_MAX_CAPLEN) /* room to flatten chained mbufs */
#define DPDK_TS_NS_ABOVE 100000000000000000ull         /* 1e17: a larger timestamp is in ns */

struct dpdk_port {
    uint16_t id;    /* ethdev port id */
    bool file;      /* a net_pcap vdev reading a file: can end */
    bool done;      /* that file has been delivered */
    bool pcap_ts;   /* net_pcap: the timestamp dynfield holds the capture time */
    uint32_t empty; /* empty bursts in a row */
};

struct dpdk_src {
    struct mbx_source base; /* first: the public handle */
    struct dpdk_port port[DPDK_MAX_PORTS];
    int nports;
    int cur;                           /* port polled first next time (round robin) */
    bool inline_pair;                  /* port[0] <-> port[1] */
    int ts_off;                        /* timestamp dynfield offset, or -1 */
    uint64_t ts_flag;                  /* the RX timestamp ol_flag, or 0 */
    struct rte_mbuf *held[DPDK_BURST]; /* mbufs of the last burst not handed back */
    int nheld;
    uint8_t *flat; /* flattened chained mbufs of the last burst */
};

/* The EAL and the pool live for the whole process. */
static bool dpdk_eal_up;
static struct rte_mempool *dpdk_pool;
static char dpdk_file_vdevs[DPDK_MAX_PORTS][64]; /* names of net_pcap vdevs with rx_pcap= */
static int dpdk_nfile_vdevs;

/* Notes the names of net_pcap vdevs that read a file, from "--vdev=NAME,args"
 * or "--vdev NAME,args" (also -a/--allow are not vdevs and are skipped). */
static void dpdk_scan_vdevs(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *spec = NULL;
        if (strncmp(argv[i], "--vdev=", 7) == 0)
            spec = argv[i] + 7;
        else if (strcmp(argv[i], "--vdev") == 0 && i + 1 < argc)
            spec = argv[++i];
        if (!spec || strncmp(spec, "net_pcap", 8) != 0 || !strstr(spec, "rx_pcap="))
            continue;
        if (dpdk_nfile_vdevs == DPDK_MAX_PORTS)
            break;
        size_t n = strcspn(spec, ",");
        if (n >= sizeof dpdk_file_vdevs[0])
            n = sizeof dpdk_file_vdevs[0] - 1;
        memcpy(dpdk_file_vdevs[dpdk_nfile_vdevs], spec, n);
        dpdk_file_vdevs[dpdk_nfile_vdevs][n] = '\0';
        dpdk_nfile_vdevs++;
    }
}

static bool dpdk_port_is_file(uint16_t id)
{
    char name[RTE_ETH_NAME_MAX_LEN];
    if (rte_eth_dev_get_name_by_port(id, name) != 0)
        return false;
    for (int i = 0; i < dpdk_nfile_vdevs; i++)
        if (strcmp(name, dpdk_file_vdevs[i]) == 0)
            return true;
    return false;
}

static mbx_time dpdk_wallclock(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (mbx_time)t.tv_sec * 1000000000u + (mbx_time)t.tv_nsec;
}

/* Frees the mbufs of the last burst that were not handed back. */
static void dpdk_release_held(struct dpdk_src *d)
{
    for (int i = 0; i < d->nheld; i++)
        if (d->held[i])
            rte_pktmbuf_free(d->held[i]);
    d->nheld = 0;
}

/* One poll of every port not done: frames, 0 when all are done, or -EAGAIN. */
static int dpdk_poll(struct dpdk_src *d, struct mbx_frame *f, int max)
{
    struct rte_mbuf *m[DPDK_BURST];
    if (max > DPDK_BURST)
        max = DPDK_BURST;
    dpdk_release_held(d);
    int n = 0, live = 0;
    size_t flat_used = 0;
    mbx_time now = 0;
    for (int k = 0; k < d->nports && n < max; k++) {
        struct dpdk_port *p = &d->port[(d->cur + k) % d->nports];
        if (p->done)
            continue;
        live++;
        uint16_t got = rte_eth_rx_burst(p->id, 0, m, (uint16_t)(max - n));
        if (got == 0) {
            if (p->file && ++p->empty >= DPDK_END_POLLS)
                p->done = true;
            continue;
        }
        p->empty = 0;
        for (uint16_t i = 0; i < got; i++, n++) {
            struct rte_mbuf *mb = m[i];
            struct mbx_frame *fr = &f[n];
            uint32_t len = rte_pktmbuf_pkt_len(mb);
            if (mb->nb_segs > 1) {
                if (len > SRC_MAX_CAPLEN)
                    len = SRC_MAX_CAPLEN;
                const void *flat = rte_pktmbuf_read(mb, 0, len, d->flat + flat_used);
                fr->data = flat;
                flat_used += len;
            } else {
                fr->data = rte_pktmbuf_mtod(mb, const uint8_t *);
            }
            fr->caplen = len;
            fr->wirelen = len;
            if (p->pcap_ts && (mb->ol_flags & d->ts_flag)) {
                uint64_t v = *RTE_MBUF_DYNFIELD(mb, d->ts_off, rte_mbuf_timestamp_t *);
                fr->ts = v < DPDK_TS_NS_ABOVE ? v * 1000u : v;
            } else {
                if (now == 0)
                    now = dpdk_wallclock();
                fr->ts = now;
            }
            fr->linktype = MBX_LINK_ETHERNET;
            fr->priv = mb;
            d->held[d->nheld++] = mb;
        }
    }
    d->cur = d->nports ? (d->cur + 1) % d->nports : 0;
    if (n > 0)
        return n;
    return live == 0 ? 0 : -EAGAIN;
}

static int dpdk_next(struct mbx_source *s, struct mbx_frame *f, int max)
{
    struct dpdk_src *d = (struct dpdk_src *)s;
    bool all_files = true;
    for (int i = 0; i < d->nports; i++)
        all_files = all_files && d->port[i].file;
    /* ports that replay files behave like a file: no -EAGAIN, only frames or the
     * end (at most DPDK_END_POLLS polls of the remaining ports) */
    for (;;) {
        int rc = dpdk_poll(d, f, max);
        if (rc != -EAGAIN || !all_files)
            return rc;
    }
}

static void dpdk_done(struct mbx_source *s, struct mbx_frame *f, const bool *forward, int n)
{
    struct dpdk_src *d = (struct dpdk_src *)s;
    struct rte_mbuf *tx[2][DPDK_BURST];
    int ntx[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        struct rte_mbuf *mb = f[i].priv;
        if (!mb)
            continue;
        /* forget it in held[] so that it is not freed twice */
        for (int j = 0; j < d->nheld; j++)
            if (d->held[j] == mb) {
                d->held[j] = NULL;
                break;
            }
        f[i].priv = NULL;
        if (d->inline_pair && forward && forward[i] && ntx[0] + ntx[1] < DPDK_BURST) {
            int out = mb->port == d->port[0].id ? 1 : 0; /* to the other port */
            tx[out][ntx[out]++] = mb;
        } else {
            rte_pktmbuf_free(mb);
        }
    }
    for (int o = 0; o < 2; o++) {
        if (ntx[o] == 0)
            continue;
        /* a full TX ring gets a few more tries, then the rest is dropped */
        int sent = 0;
        for (int tries = 0; tries < DPDK_TX_TRIES && sent < ntx[o]; tries++)
            sent += rte_eth_tx_burst(d->port[o].id, 0, tx[o] + sent, (uint16_t)(ntx[o] - sent));
        for (int i = sent; i < ntx[o]; i++)
            rte_pktmbuf_free(tx[o][i]);
    }
}

static void dpdk_close(struct mbx_source *s)
{
    struct dpdk_src *d = (struct dpdk_src *)s;
    dpdk_release_held(d);
    for (int i = 0; i < d->nports; i++)
        rte_eth_dev_stop(d->port[i].id);
    free(d->flat);
    free(d);
}

static const struct mbx_source_ops dpdk_ops = {
    .kind = "dpdk",
    .next = dpdk_next,
    .done = dpdk_done,
    .close = dpdk_close,
};

/* Configures and starts one port with one RX and one TX queue. */
static int dpdk_port_setup(uint16_t id, char *err, size_t errlen)
{
    struct rte_eth_conf conf;
    memset(&conf, 0, sizeof conf);
    int rc = rte_eth_dev_configure(id, 1, 1, &conf);
    if (rc < 0) {
        src_errf(err, errlen, "dpdk: port %u: cannot configure: %s", id, rte_strerror(-rc));
        return rc;
    }
    uint16_t nrx = DPDK_RING, ntx = DPDK_RING;
    rte_eth_dev_adjust_nb_rx_tx_desc(id, &nrx, &ntx);
    int socket = rte_eth_dev_socket_id(id);
    if (socket < 0)
        socket = (int)rte_socket_id();
    rc = rte_eth_rx_queue_setup(id, 0, nrx, (unsigned)socket, NULL, dpdk_pool);
    if (rc < 0) {
        src_errf(err, errlen, "dpdk: port %u: RX queue: %s", id, rte_strerror(-rc));
        return rc;
    }
    rc = rte_eth_tx_queue_setup(id, 0, ntx, (unsigned)socket, NULL);
    if (rc < 0) {
        src_errf(err, errlen, "dpdk: port %u: TX queue: %s", id, rte_strerror(-rc));
        return rc;
    }
    rc = rte_eth_dev_start(id);
    if (rc < 0) {
        src_errf(err, errlen, "dpdk: port %u: cannot start: %s", id, rte_strerror(-rc));
        return rc;
    }
    rte_eth_promiscuous_enable(id); /* not every PMD can; monitoring works without */
    return 0;
}

struct mbx_source *mbx_source_open_dpdk(int argc, char **argv, const uint16_t *ports, int nports,
                                        bool inline_pair, char *err, size_t errlen)
{
    if (!dpdk_eal_up) {
        if (argc < 1 || !argv) {
            src_errf(err, errlen, "dpdk: no EAL arguments (argv[0] must be a program name)");
            return NULL;
        }
        /* the EAL reorders its argv: give it a copy of the array */
        char **args = calloc((size_t)argc + 1, sizeof *args);
        if (!args) {
            src_errf(err, errlen, "dpdk: out of memory");
            return NULL;
        }
        memcpy(args, argv, (size_t)argc * sizeof *args);
        int rc = rte_eal_init(argc, args);
        free(args);
        if (rc < 0) {
            src_errf(err, errlen, "dpdk: EAL initialisation failed: %s", rte_strerror(rte_errno));
            return NULL;
        }
        dpdk_eal_up = true;
        dpdk_scan_vdevs(argc, argv);
    }
    if (!dpdk_pool) {
        dpdk_pool = rte_pktmbuf_pool_create("mbx_rx", DPDK_POOL_MBUFS, DPDK_POOL_CACHE, 0,
                                            RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
        if (!dpdk_pool) {
            src_errf(err, errlen, "dpdk: cannot create the mbuf pool: %s", rte_strerror(rte_errno));
            return NULL;
        }
    }
    uint16_t avail = rte_eth_dev_count_avail();
    uint16_t all[DPDK_MAX_PORTS];
    if (!ports || nports == 0) {
        nports = 0;
        uint16_t id;
        RTE_ETH_FOREACH_DEV(id)
        {
            if (nports < DPDK_MAX_PORTS)
                all[nports++] = id;
        }
        ports = all;
        if (nports == 0) {
            src_errf(err, errlen, "dpdk: no ports (%u available): give a --vdev or a device",
                     avail);
            return NULL;
        }
    }
    if (nports > DPDK_MAX_PORTS) {
        src_errf(err, errlen, "dpdk: %d ports given, at most %d", nports, DPDK_MAX_PORTS);
        return NULL;
    }
    if (inline_pair && nports != 2) {
        src_errf(err, errlen, "dpdk: inline mode needs exactly 2 ports, %d given", nports);
        return NULL;
    }
    for (int i = 0; i < nports; i++) {
        if (!rte_eth_dev_is_valid_port(ports[i])) {
            src_errf(err, errlen, "dpdk: no port %u (%u available)", ports[i], avail);
            return NULL;
        }
        for (int j = 0; j < i; j++)
            if (ports[j] == ports[i]) {
                src_errf(err, errlen, "dpdk: port %u given twice", ports[i]);
                return NULL;
            }
    }
    struct dpdk_src *d = calloc(1, sizeof *d);
    uint8_t *flat = malloc(DPDK_FLAT);
    if (!d || !flat) {
        free(d);
        free(flat);
        src_errf(err, errlen, "dpdk: out of memory");
        return NULL;
    }
    d->base.ops = &dpdk_ops;
    d->flat = flat;
    d->inline_pair = inline_pair;
    for (int i = 0; i < nports; i++) {
        if (dpdk_port_setup(ports[i], err, errlen) < 0) {
            d->nports = i; /* stop those started */
            dpdk_close(&d->base);
            return NULL;
        }
        d->port[i].id = ports[i];
        d->port[i].file = dpdk_port_is_file(ports[i]);
        struct rte_eth_dev_info info;
        d->port[i].pcap_ts = rte_eth_dev_info_get(ports[i], &info) == 0 && info.driver_name &&
                             strcmp(info.driver_name, "net_pcap") == 0;
        d->nports = i + 1;
    }
    /* registered by the PMD at probe time (net_pcap) or by nobody */
    d->ts_off = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
    int bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
    d->ts_flag = bit >= 0 ? (uint64_t)1 << bit : 0;
    if (d->ts_flag == 0 || d->ts_off < 0)
        for (int i = 0; i < d->nports; i++)
            d->port[i].pcap_ts = false;
    return &d->base;
}
