/*
 * mbx_av_http.h - std.av's av_scanner (stdlib/av.mbx): the scanner of mbx_av.h
 * over the file bodies of std.http (mbx_http.h), as an extern module of a .mbx
 * program.  mbxc's C back end calls these from the attach/detach functions it
 * generates for av_scanner; C programs may call them too.
 *
 * Every file_data event of std.http feeds the Hyperscan stream of its file
 * (one per flow side, opened at the file's first bytes, closed at file_seen),
 * and each signature found raises the event virus_found once per file, with
 * the payload below (the layout mbxc gives a raised event's parameters).
 */
#ifndef MBX_AV_HTTP_H
#define MBX_AV_HTTP_H

#include <stdint.h>

#include "mbx.h"
#include "mbx_av.h"
#include "mbx_http.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Payload of virus_found(s: http_session, f: file_info, signature: str, id: uint,
 * offset: uint). */
struct mbx_av_found {
    const struct mbx_http_tx *tx;        /* s */
    const struct mbx_http_file_info *fi; /* f */
    struct mbx_str signature;            /* the signature's name */
    uint64_t id;                         /* the signature's id */
    uint64_t offset;                     /* decoded-body offset just past the match */
};

/* Attach to engine e, whose std.http module h is already attached, before the
 * first packet: compiles the n signatures (EICAR's alone when sigs is NULL),
 * registers virus_found (its id in *ev_id) and subscribes h's file events.
 * Returns 0, or -errno with the reason on stderr. */
int mbx_av_http_attach(mbx_engine *e, mbx_http *h, const struct mbx_av_sig *sigs, int n,
                       int *ev_id);
/* Frees the scanner (after mbx_engine_finish / mbx_engine_free). */
void mbx_av_http_detach(void);
/* Files scanned, signatures found, Hyperscan errors so far. */
/* The calling thread's scanner (one per worker thread). */
void mbx_av_http_counts(uint64_t *files, uint64_t *found, uint64_t *errors);

#ifdef __cplusplus
}
#endif
#endif /* MBX_AV_HTTP_H */
