/*
 * source.c - the public face of packet sources (mbx.h section 3).
 *
 * mbx_source_open_file looks at a capture's first bytes to choose its reader:
 * classic pcap goes to the zero-copy mmap reader (io_pcapfile.c), pcapng and
 * anything that cannot be mapped (standard input, pipes) to libpcap
 * (io_libpcap.c); a file that is neither is refused with one line saying so.
 * The other calls dispatch through the source's operations (source.h), and a
 * failure, once recorded, is returned by every later mbx_source_next.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"

void src_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    /* one line: a library message may end with a newline */
    for (char *c = err; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    size_t n = strlen(err);
    while (n > 0 && err[n - 1] == ' ')
        err[--n] = '\0';
}

int src_fail(struct mbx_source *s, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    for (char *c = s->err; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    s->status = rc;
    return rc;
}

/* Magic numbers as read big-endian from the first 4 bytes. */
#define SRC_MAGIC_US             0xa1b2c3d4u
#define SRC_MAGIC_US_SWAP        0xd4c3b2a1u
#define SRC_MAGIC_NS             0xa1b23c4du
#define SRC_MAGIC_NS_SWAP        0x4d3cb2a1u
#define SRC_MAGIC_KUZNETZOV      0xa1b2cd34u /* "modified" pcap: libpcap reads it */
#define SRC_MAGIC_KUZNETZOV_SWAP 0x34cdb2a1u
#define SRC_MAGIC_PCAPNG         0x0a0d0d0au /* section header block, same both ways */

struct mbx_source *mbx_source_open_file(const char *path, char *err, size_t errlen)
{
    if (!path || !*path) {
        src_errf(err, errlen, "no capture file named");
        return NULL;
    }
    if (strcmp(path, "-") == 0)
        return lpcap_open_offline(path, NULL, err, errlen);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        src_errf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        src_errf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        src_errf(err, errlen, "%s: is a directory, not a capture", path);
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) { /* a pipe or a device: libpcap reads it as a stream */
        FILE *fp = fdopen(fd, "rb");
        if (!fp) {
            src_errf(err, errlen, "%s: %s", path, strerror(errno));
            close(fd);
            return NULL;
        }
        return lpcap_open_offline(path, fp, err, errlen);
    }
    if (st.st_size == 0) {
        src_errf(err, errlen, "%s: empty file, not a capture", path);
        close(fd);
        return NULL;
    }
    uint8_t m[4];
    ssize_t got = pread(fd, m, sizeof m, 0);
    if (got < 0) {
        src_errf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (got < 4) {
        src_errf(err, errlen, "%s: not a pcap or pcapng capture (only %zd bytes)", path, got);
        close(fd);
        return NULL;
    }
    uint32_t magic = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
    switch (magic) {
    case SRC_MAGIC_US:
    case SRC_MAGIC_US_SWAP:
    case SRC_MAGIC_NS:
    case SRC_MAGIC_NS_SWAP:
        return pcapf_open(path, fd, (uint64_t)st.st_size, err, errlen);
    case SRC_MAGIC_KUZNETZOV:
    case SRC_MAGIC_KUZNETZOV_SWAP:
    case SRC_MAGIC_PCAPNG: {
        FILE *fp = fdopen(fd, "rb");
        if (!fp) {
            src_errf(err, errlen, "%s: %s", path, strerror(errno));
            close(fd);
            return NULL;
        }
        return lpcap_open_offline(path, fp, err, errlen);
    }
    default:
        src_errf(err, errlen, "%s: not a pcap or pcapng capture", path);
        close(fd);
        return NULL;
    }
}

int mbx_source_next(struct mbx_source *s, struct mbx_frame *f, int max)
{
    if (s->status)
        return s->status;
    if (max <= 0)
        return -EINVAL;
    return s->ops->next(s, f, max);
}

void mbx_source_done(struct mbx_source *s, struct mbx_frame *f, const bool *forward, int n)
{
    if (s->ops->done && n > 0)
        s->ops->done(s, f, forward, n);
}

const char *mbx_source_error(const struct mbx_source *s)
{
    return s->err;
}

void mbx_source_close(struct mbx_source *s)
{
    if (s)
        s->ops->close(s);
}

#ifndef MBX_HAVE_DPDK
struct mbx_source *mbx_source_open_dpdk(int argc, char **argv, const uint16_t *ports, int nports,
                                        bool inline_pair, char *err, size_t errlen)
{
    src_errf(err, errlen, "dpdk: libmbx was built without DPDK (MBX_WITH_DPDK=OFF)");
    return NULL;
}
#endif
