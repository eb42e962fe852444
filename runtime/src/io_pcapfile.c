/*
 * io_pcapfile.c - the classic pcap reader: the file is mapped, and frames are
 * pointers into the mapping (no copy, no system call per packet).
 *
 * This is the fast path for captures (the engine's budget is half of a plain
 * memcpy of every byte, see bench/): a burst is a walk over record headers.  It
 * reads both byte orders and both timestamp resolutions (magic a1b2c3d4: us,
 * a1b23c4d: ns).  Frames stay valid until the source is closed.  A record header
 * or body cut by the end of the file ends the input with -EIO after the last
 * whole record; a record longer than the snap length (or 256 KiB) with -EINVAL.
 * Format: pcap-savefile(5) and draft-ietf-opsawg-pcap.
 *
 * Resident size.  The reader drops the pages behind itself (MADV_DONTNEED:
 * the mapping is private and never written, so a frame handed out earlier
 * still reads the file's bytes, faulted in again if touched), which keeps the
 * mapping's share of the resident size to a few chunks instead of the whole
 * capture.  (Populating the page tables ahead with MADV_POPULATE_READ was
 * measured slower than the kernel's fault-around: 0.78 s vs 0.74 s of CPU for
 * mbx-streams --count on a 2 GB capture.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine.h"
#include "source.h"

#define PCAPF_GHDR 24 /* global header */
#define PCAPF_RHDR 16 /* record header */

struct pcapf {
    struct mbx_source base; /* first: the public handle */
    const uint8_t *map;     /* the whole file */
    size_t size;            /* its length */
    size_t off;             /* offset of the next record header */
    uint64_t npkts;         /* records handed out */
    uint32_t maxcap;        /* largest caplen accepted */
    uint32_t tsmul;         /* 1000 (us) or 1 (ns) */
    size_t drop_end;        /* pages dropped below here */
    size_t pf;              /* prefetched up to here */
    bool swap;              /* written in the other byte order */
    int linktype;           /* LINKTYPE_ of every record */
    char path[256];         /* for messages */
};

/* The mappings open now, for pcapf_persists(): a few slots, claimed and
 * released atomically (sources may be opened by several threads). */
#define PCAPF_NMAPS 16
static struct {
    const uint8_t *lo, *hi; /* [lo, hi): the mapping (lo NULL: free slot) */
} pcapf_maps[PCAPF_NMAPS];
static uint32_t pcapf_gen; /* bumped at every close */

bool pcapf_persists(const uint8_t *p)
{
    for (int i = 0; i < PCAPF_NMAPS; i++) {
        const uint8_t *lo = __atomic_load_n(&pcapf_maps[i].lo, __ATOMIC_ACQUIRE);
        const uint8_t *hi = __atomic_load_n(&pcapf_maps[i].hi, __ATOMIC_ACQUIRE);
        if (lo && hi && p >= lo && p < hi)
            return true;
    }
    return false;
}

uint32_t pcapf_generation(void)
{
    return __atomic_load_n(&pcapf_gen, __ATOMIC_ACQUIRE);
}

static void pcapf_register(const uint8_t *lo, size_t size)
{
    for (int i = 0; i < PCAPF_NMAPS; i++) {
        const uint8_t *none = NULL;
        if (__atomic_compare_exchange_n(&pcapf_maps[i].lo, &none, lo, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            __atomic_store_n(&pcapf_maps[i].hi, lo + size, __ATOMIC_RELEASE); /* NULL until */
            return;
        }
    }
    /* All slots taken: its frames are treated as transient (copied). */
}

static void pcapf_unregister(const uint8_t *lo)
{
    __atomic_add_fetch(&pcapf_gen, 1, __ATOMIC_ACQ_REL);
    for (int i = 0; i < PCAPF_NMAPS; i++) {
        if (__atomic_load_n(&pcapf_maps[i].lo, __ATOMIC_ACQUIRE) != lo)
            continue;
        __atomic_store_n(&pcapf_maps[i].hi, NULL, __ATOMIC_RELEASE);
        __atomic_store_n(&pcapf_maps[i].lo, NULL, __ATOMIC_RELEASE);
        return;
    }
}

static inline uint32_t pcapf_u32(const uint8_t *p, bool swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

/* The walk over record headers is a chain of dependent loads (each header
 * gives the next one's offset), so a burst is kept short and the lines ahead of
 * the reader are prefetched: the loads of the next records then overlap the
 * engine's work on this one instead of stalling it.  Measured on a 1.3 M-packet
 * capture (bench/run.sh): 0.269 s -> 0.163 s for mbx-streams --count.  The
 * distance stays within the kernel's fault-around window: a prefetch of a line
 * whose page is not mapped yet is dropped by the CPU (and populating the page
 * tables ahead is slower, see the top of this file). */
#define PCAPF_BURST   4     /* records per call */
#define PCAPF_PF_DIST 6144u /* bytes prefetched ahead of the reader */

#define PCAPF_CHUNK (4u << 20) /* pages are dropped behind the reader in these steps */

/* Drop the pages more than three chunks behind the reader. */
static void pcapf_window(struct pcapf *r, size_t off)
{
    if (off > r->drop_end + 3 * (size_t)PCAPF_CHUNK) {
        madvise((void *)(uintptr_t)(r->map + r->drop_end), PCAPF_CHUNK, MADV_DONTNEED);
        r->drop_end += PCAPF_CHUNK;
    }
}

static int pcapf_next(struct mbx_source *s, struct mbx_frame *f, int max)
{
    struct pcapf *r = (struct pcapf *)s;
    pcapf_window(r, r->off);
    const uint8_t *map = r->map;
    size_t off = r->off, size = r->size;
    const bool swap = r->swap;
    int n = 0;
    int rc = 0;
    if (max > PCAPF_BURST)
        max = PCAPF_BURST;
    while (n < max && off < size) {
        if (size - off < PCAPF_RHDR) {
            rc = src_fail(s, -EIO, "%s: truncated record at offset %zu (packet %llu)", r->path, off,
                          (unsigned long long)(r->npkts + (uint64_t)n + 1));
            break;
        }
        const uint8_t *h = map + off;
        uint32_t sec = pcapf_u32(h, swap);
        uint32_t frac = pcapf_u32(h + 4, swap);
        uint32_t caplen = pcapf_u32(h + 8, swap);
        uint32_t len = pcapf_u32(h + 12, swap);
        if (caplen > r->maxcap) {
            rc = src_fail(s, -EINVAL,
                          "%s: record at offset %zu (packet %llu) has %u captured bytes, more "
                          "than the snap length %u",
                          r->path, off, (unsigned long long)(r->npkts + (uint64_t)n + 1), caplen,
                          r->maxcap);
            break;
        }
        if (size - off - PCAPF_RHDR < caplen) {
            rc = src_fail(s, -EIO, "%s: truncated record at offset %zu (packet %llu)", r->path, off,
                          (unsigned long long)(r->npkts + (uint64_t)n + 1));
            break;
        }
        f[n].data = h + PCAPF_RHDR;
        f[n].caplen = caplen;
        f[n].wirelen = len > caplen ? len : caplen;
        f[n].ts = (mbx_time)sec * 1000000000u + (mbx_time)frac * r->tsmul;
        f[n].linktype = r->linktype;
        f[n].priv = NULL;
        n++;
        off += PCAPF_RHDR + caplen;
        size_t pfend = off + PCAPF_PF_DIST < size ? off + PCAPF_PF_DIST : size;
        for (size_t q = r->pf > off ? r->pf : off; q < pfend; q += 64) /* a cache line */
            __builtin_prefetch(map + q);
        if (pfend > r->pf)
            r->pf = pfend;
    }
    r->off = off;
    r->npkts += (uint64_t)n;
    return n > 0 ? n : rc;
}

static void pcapf_close(struct mbx_source *s)
{
    struct pcapf *r = (struct pcapf *)s;
    if (r->map) {
        pcapf_unregister(r->map);
        munmap((void *)r->map, r->size);
    }
    free(r);
}

static const struct mbx_source_ops pcapf_ops = {
    .kind = "pcap",
    .next = pcapf_next,
    .done = NULL,
    .close = pcapf_close,
};

struct mbx_source *pcapf_open(const char *path, int fd, uint64_t size, char *err, size_t errlen)
{
    if (size < PCAPF_GHDR) {
        src_errf(err, errlen, "%s: truncated pcap global header (%llu of %d bytes)", path,
                 (unsigned long long)size, PCAPF_GHDR);
        close(fd);
        return NULL;
    }
    if (size > SIZE_MAX) {
        src_errf(err, errlen, "%s: too large to map", path);
        close(fd);
        return NULL;
    }
    void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    int merr = errno;
    close(fd);
    if (map == MAP_FAILED) {
        src_errf(err, errlen, "%s: cannot map: %s", path, strerror(merr));
        return NULL;
    }
    /* read ahead aggressively, and drop pages behind us first under pressure (no
     * MADV_WILLNEED: on a capture larger than memory it would read it all ahead) */
    madvise(map, (size_t)size, MADV_SEQUENTIAL);
    struct pcapf *r = calloc(1, sizeof *r);
    if (!r) {
        src_errf(err, errlen, "%s: out of memory", path);
        munmap(map, (size_t)size);
        return NULL;
    }
    r->base.ops = &pcapf_ops;
    r->map = map;
    r->size = (size_t)size;
    r->off = PCAPF_GHDR;
    pcapf_register(r->map, r->size);
    const uint8_t *g = map;
    uint32_t magic;
    memcpy(&magic, g, 4);
    r->swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
    if (r->swap)
        magic = __builtin_bswap32(magic);
    r->tsmul = magic == 0xa1b23c4du ? 1 : 1000;
    uint32_t snaplen = pcapf_u32(g + 16, r->swap);
    /* LinkType: low 16 bits; the upper bits may carry FCS information */
    r->linktype = (int)(pcapf_u32(g + 20, r->swap) & 0xffffu);
    r->maxcap = snaplen == 0 || snaplen > SRC_MAX_CAPLEN ? SRC_MAX_CAPLEN : snaplen;
    snprintf(r->path, sizeof r->path, "%s", path);
    return &r->base;
}
