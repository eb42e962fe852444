/*
 * io_libpcap.c - sources read through libpcap: pcapng files, pcap streams that
 * cannot be mapped (standard input, pipes), and live capture.
 *
 * libpcap hands out one packet at a time in a buffer it reuses, so a burst is
 * copied into an arena owned by the source (4 MiB, allocated at open, enough for
 * 15 records of the largest size libpcap accepts and hundreds of usual ones);
 * the frames stay valid until the next mbx_source_next.  Timestamps are asked
 * for in nanoseconds.  Live capture runs in immediate mode with a 100 ms poll so
 * that an idle link returns -EAGAIN and the engine keeps its wall-clock timers
 * (the handle is non-blocking and the wait is our poll(): libpcap's read timeout
 * does not return on Linux when nothing arrives).
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

#define LPCAP_ARENA      (4u * 1024u * 1024u)
#define LPCAP_MAXREC     (262144u) /* libpcap's own bound on a record */
#define LPCAP_SNAPLEN    262144
#define LPCAP_TIMEOUT_MS 100

struct lpcap {
    struct mbx_source base; /* first: the public handle */
    pcap_t *pc;
    bool live;      /* a capture device: a timeout is not the end */
    uint32_t tsmul; /* 1 (ns precision) or 1000 (us) */
    int linktype;   /* pcap_datalink() */
    uint64_t npkts; /* records handed out */
    uint8_t *arena; /* the current burst's bytes */
    char name[256]; /* path or interface, for messages */
};

static int lpcap_next(struct mbx_source *s, struct mbx_frame *f, int max)
{
    struct lpcap *l = (struct lpcap *)s;
    size_t used = 0;
    int n = 0;
    bool polled = false;
    while (n < max && LPCAP_ARENA - used >= LPCAP_MAXREC) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(l->pc, &h, &data);
        if (rc == 1) {
            uint32_t caplen = h->caplen < LPCAP_MAXREC ? h->caplen : LPCAP_MAXREC;
            memcpy(l->arena + used, data, caplen);
            f[n].data = l->arena + used;
            f[n].caplen = caplen;
            f[n].wirelen = h->len > caplen ? h->len : caplen;
            f[n].ts = (mbx_time)h->ts.tv_sec * 1000000000u + (mbx_time)h->ts.tv_usec * l->tsmul;
            f[n].linktype = l->linktype;
            f[n].priv = NULL;
            used += (caplen + 63u) & ~(size_t)63u;
            n++;
            continue;
        }
        if (rc == 0) { /* live, non-blocking: nothing queued */
            if (n > 0 || polled)
                return n > 0 ? n : -EAGAIN;
            struct pollfd pfd = {.fd = pcap_get_selectable_fd(l->pc), .events = POLLIN};
            poll(&pfd, 1, LPCAP_TIMEOUT_MS);
            polled = true;
            continue;
        }
        if (rc == PCAP_ERROR_BREAK) /* end of the file */
            break;
        /* the file is cut or unreadable */
        int err = src_fail(s, -EIO, "%s: %s (packet %llu)", l->name, pcap_geterr(l->pc),
                           (unsigned long long)(l->npkts + (uint64_t)n + 1));
        l->npkts += (uint64_t)n;
        return n > 0 ? n : err;
    }
    l->npkts += (uint64_t)n;
    return n;
}

static void lpcap_close(struct mbx_source *s)
{
    struct lpcap *l = (struct lpcap *)s;
    if (l->pc)
        pcap_close(l->pc);
    free(l->arena);
    free(l);
}

static const struct mbx_source_ops lpcap_ops = {
    .kind = "libpcap",
    .next = lpcap_next,
    .done = NULL,
    .close = lpcap_close,
};

static struct lpcap *lpcap_alloc(const char *name, char *err, size_t errlen)
{
    struct lpcap *l = calloc(1, sizeof *l);
    uint8_t *arena = malloc(LPCAP_ARENA);
    if (!l || !arena) {
        free(l);
        free(arena);
        src_errf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    l->base.ops = &lpcap_ops;
    l->arena = arena;
    snprintf(l->name, sizeof l->name, "%s", name);
    return l;
}

struct mbx_source *lpcap_open_offline(const char *path, FILE *fp, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    struct lpcap *l = lpcap_alloc(path, err, errlen);
    if (!l) {
        if (fp)
            fclose(fp);
        return NULL;
    }
    if (fp)
        l->pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
    else
        l->pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
    if (!l->pc) {
        /* libpcap closes nothing on failure: the stream is still ours */
        if (fp)
            fclose(fp);
        if (strstr(perr, "truncated") || strstr(perr, "unknown file format"))
            src_errf(err, errlen, "%s: not a pcap or pcapng capture, or cut short (%s)", path,
                     perr);
        else
            src_errf(err, errlen, "%s: %s", path, perr);
        lpcap_close(&l->base);
        return NULL;
    }
    l->tsmul = pcap_get_tstamp_precision(l->pc) == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
    l->linktype = pcap_datalink(l->pc);
    return &l->base;
}

struct mbx_source *mbx_source_open_live(const char *iface, char *err, size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    struct lpcap *l = lpcap_alloc(iface ? iface : "(null)", err, errlen);
    if (!l)
        return NULL;
    l->live = true;
    l->pc = iface ? pcap_create(iface, perr) : NULL;
    if (!l->pc) {
        src_errf(err, errlen, "%s: %s", l->name, iface ? perr : "no interface named");
        lpcap_close(&l->base);
        return NULL;
    }
    pcap_set_snaplen(l->pc, LPCAP_SNAPLEN);
    pcap_set_promisc(l->pc, 1);
    pcap_set_immediate_mode(l->pc, 1);
    pcap_set_timeout(l->pc, LPCAP_TIMEOUT_MS);
    pcap_set_tstamp_precision(l->pc, PCAP_TSTAMP_PRECISION_NANO); /* best effort */
    int rc = pcap_activate(l->pc);
    if (rc < 0) {
        const char *why = rc == PCAP_ERROR ? pcap_geterr(l->pc) : pcap_statustostr(rc);
        if (rc == PCAP_ERROR_NO_SUCH_DEVICE || rc == PCAP_ERROR_PERM_DENIED) {
            const char *g = pcap_geterr(l->pc);
            why = g && *g ? g : pcap_statustostr(rc);
        }
        src_errf(err, errlen, "%s: cannot capture: %s", l->name, why);
        lpcap_close(&l->base);
        return NULL;
    }
    /* libpcap's own timeout keeps polling inside pcap_next_ex on Linux: wait
     * ourselves instead, on a non-blocking handle */
    if (pcap_setnonblock(l->pc, 1, perr) != 0 || pcap_get_selectable_fd(l->pc) < 0) {
        src_errf(err, errlen, "%s: cannot poll the capture: %s", l->name, perr);
        lpcap_close(&l->base);
        return NULL;
    }
    l->tsmul = pcap_get_tstamp_precision(l->pc) == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
    l->linktype = pcap_datalink(l->pc);
    return &l->base;
}
