/*
 * mbx_av.h - std.av: signatures over file bodies with Hyperscan in streaming mode.
 *
 * A scanner holds a compiled set of literal signatures (Hyperscan's literal
 * compiler, HS_MODE_STREAM); a scan stream follows one file: its bytes are
 * fed in any number of pieces (file_data events of std.http, with offsets),
 * and a signature split across pieces, packets or chunks is still found,
 * because Hyperscan keeps the stream's state between calls.  Each signature
 * is reported at most once per stream (HS_FLAG_SINGLEMATCH).  The EICAR test
 * file's signature ships built in (mbx_av_eicar).
 */
#ifndef MBX_AV_H
#define MBX_AV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mbx_av_sig {
    const char *name;    /* reported as alert.signature, "EICAR-Test-File" */
    unsigned id;         /* reported as alert.signature_id */
    const void *content; /* the bytes to find */
    size_t len;          /* their count */
};

/* EICAR's anti-virus test file (eicar.org): "X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-
 * STANDARD-ANTIVIRUS-TEST-FILE!$H+H*", id 1. */
extern const struct mbx_av_sig mbx_av_eicar;

struct mbx_av;
struct mbx_av_stream;

/* Called for each signature found: end is the stream offset just past it. */
typedef void (*mbx_av_match_fn)(const struct mbx_av_sig *sig, uint64_t end, void *udata);

/* Compiles n signatures (kept by pointer: they must outlive the scanner).
 * NULL with the reason in err on failure. */
struct mbx_av *mbx_av_new(const struct mbx_av_sig *sigs, int n, char *err, size_t errlen);
void mbx_av_free(struct mbx_av *av);
/* A stream for one file; NULL if out of memory. */
struct mbx_av_stream *mbx_av_open(struct mbx_av *av);
/* Feeds the next bytes of the stream.  Returns 0 or -EIO (Hyperscan error). */
int mbx_av_scan(struct mbx_av *av, struct mbx_av_stream *s, const void *data, size_t n,
                mbx_av_match_fn fn, void *udata);
/* Ends the stream (matches at its end are reported) and frees it. */
int mbx_av_close(struct mbx_av *av, struct mbx_av_stream *s, mbx_av_match_fn fn, void *udata);

#ifdef __cplusplus
}
#endif
#endif /* MBX_AV_H */
