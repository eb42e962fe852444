/*
 * mbx_av_http.c - std.av's av_scanner: Hyperscan streams over std.http's file
 * bodies, raising virus_found (mbx_av_http.h; the .mbx side is stdlib/av.mbx).
 *
 * One scanner per program and worker thread (the database and scratch of
 * mbx_av.c, in thread-local storage: each worker attaches its own); per flow,
 * in the flow's ext storage, the scan stream of the file open on each side.
 * A stream opens at a file's first file_data and closes at its file_seen,
 * where matches at the very end are reported.
 */
#include "mbx_av_http.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct avh_flow {
    struct mbx_av_stream *s[2]; /* the scan of the file open on each side */
};

static _Thread_local struct { /* one scanner per worker thread */
    struct mbx_av *av;        /* the compiled signatures */
    int slot;                 /* per-flow struct avh_flow */
    int ev;                   /* virus_found */
    uint64_t files, found, errors;
} avh = {NULL, -1, -1, 0, 0, 0};

struct avh_hit { /* the context a match is raised in */
    const struct mbx_event *ev;
    const struct mbx_http_file_info *fi;
};

static void avh_match(const struct mbx_av_sig *sig, uint64_t end, void *udata)
{
    const struct avh_hit *hit = udata;
    struct mbx_av_found p = {
        .tx = hit->fi->tx,
        .fi = hit->fi,
        .signature = {(const uint8_t *)sig->name, strlen(sig->name)},
        .id = sig->id,
        .offset = end,
    };
    avh.found++;
    mbx_raise(hit->ev->engine, avh.ev, hit->ev->flow, hit->fi->side, &p);
}

static void avh_on_data(const struct mbx_event *ev, void *udata)
{
    (void)udata;
    const struct mbx_http_file_data *d = ev->payload;
    struct avh_flow *x = ev->flow ? mbx_flow_ext(ev->flow, avh.slot) : NULL;
    int side = d->file->side == MBX_SERVER;
    if (x == NULL)
        return;
    if (x->s[side] == NULL) {
        x->s[side] = mbx_av_open(avh.av);
        if (x->s[side] == NULL) {
            avh.errors++;
            return;
        }
        avh.files++;
    }
    struct avh_hit hit = {ev, d->file};
    if (mbx_av_scan(avh.av, x->s[side], d->data, d->len, avh_match, &hit) < 0)
        avh.errors++;
}

static void avh_on_seen(const struct mbx_event *ev, void *udata)
{
    (void)udata;
    const struct mbx_http_file_info *fi = ev->payload;
    struct avh_flow *x = ev->flow ? mbx_flow_ext(ev->flow, avh.slot) : NULL;
    int side = fi->side == MBX_SERVER;
    if (x == NULL || x->s[side] == NULL)
        return;
    struct avh_hit hit = {ev, fi};
    if (mbx_av_close(avh.av, x->s[side], avh_match, &hit) < 0)
        avh.errors++;
    x->s[side] = NULL;
}

int mbx_av_http_attach(mbx_engine *e, mbx_http *h, const struct mbx_av_sig *sigs, int n, int *ev_id)
{
    char err[256] = "";
    if (e == NULL || h == NULL || avh.av != NULL) {
        fprintf(stderr, "av_scanner: %s\n",
                avh.av ? "already attached" : "std.http's http_parser is not attached");
        return -EINVAL;
    }
    if (sigs == NULL) {
        sigs = &mbx_av_eicar;
        n = 1;
    }
    avh.av = mbx_av_new(sigs, n, err, sizeof(err));
    if (avh.av == NULL) {
        fprintf(stderr, "av_scanner: %s\n", err);
        return -EINVAL;
    }
    int rc = avh.slot = mbx_flow_ext_register(e, sizeof(struct avh_flow));
    if (rc >= 0)
        rc = avh.ev = mbx_event_register(e, "virus_found");
    if (rc >= 0)
        rc = mbx_http_subscribe_files(h, mbx_http_ev_file_data(h), avh_on_data, NULL);
    if (rc >= 0)
        rc = mbx_http_subscribe_files(h, mbx_http_ev_file_seen(h), avh_on_seen, NULL);
    if (rc < 0) {
        fprintf(stderr, "av_scanner: cannot attach: %s\n", strerror(-rc));
        mbx_av_free(avh.av);
        avh.av = NULL;
        return rc;
    }
    *ev_id = avh.ev;
    return 0;
}

void mbx_av_http_detach(void)
{
    mbx_av_free(avh.av);
    avh.av = NULL;
    avh.slot = avh.ev = -1;
}

void mbx_av_http_counts(uint64_t *files, uint64_t *found, uint64_t *errors)
{
    *files = avh.files;
    *found = avh.found;
    *errors = avh.errors;
}
