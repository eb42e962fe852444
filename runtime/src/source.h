/*
 * source.h - what every packet source of libmbx implements (internal).
 *
 * A source (an mmapped pcap file, libpcap, a DPDK port set) embeds struct
 * mbx_source as its first member and points it at its operations; source.c
 * dispatches the public mbx_source_* calls through them, keeps errors sticky
 * and picks the reader for a capture file by its magic.
 */
#ifndef MBX_SOURCE_H
#define MBX_SOURCE_H

#include <stdio.h>

#include "mbx.h"

#define SRC_MAX_CAPLEN (256u * 1024u) /* largest record accepted from a file */
#define SRC_ERRLEN     512

struct mbx_source_ops {
    const char *kind; /* "pcap", "libpcap", "dpdk": for messages and tests */
    int (*next)(struct mbx_source *s, struct mbx_frame *f, int max);
    void (*done)(struct mbx_source *s, struct mbx_frame *f, const bool *forward, int n);
    void (*close)(struct mbx_source *s); /* frees s */
};

struct mbx_source {
    const struct mbx_source_ops *ops;
    int status;           /* 0, or the sticky negative errno of a failure */
    char err[SRC_ERRLEN]; /* the failure's one-line reason */
};

/* Records a failure: sets s->status to rc (negative errno) and the message.
 * Returns rc. */
int src_fail(struct mbx_source *s, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes one formatted line into err (if errlen > 0). */
void src_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The classic pcap reader over a mapping of the file (io_pcapfile.c).  Takes fd
 * (a regular file of size bytes whose magic is a classic pcap one). */
struct mbx_source *pcapf_open(const char *path, int fd, uint64_t size, char *err, size_t errlen);
/* The libpcap reader of a pcap or pcapng file (io_libpcap.c).  fp: an open
 * stream (taken over), or NULL to let libpcap open path ("-": stdin). */
struct mbx_source *lpcap_open_offline(const char *path, FILE *fp, char *err, size_t errlen);

#endif /* MBX_SOURCE_H */
