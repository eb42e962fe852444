/*
 * mbx_av.c - std.av: literal signatures over file streams with Hyperscan (mbx_av.h).
 *
 * One database (HS_MODE_STREAM, HS_FLAG_SINGLEMATCH per literal) and one
 * scratch per scanner; scanning is single-threaded per scanner (one per
 * worker).  A stream is a Hyperscan stream plus the callback context of the
 * call in progress.
 */
#include "mbx_av.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <hs.h>

static const char eicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
const struct mbx_av_sig mbx_av_eicar = {"EICAR-Test-File", 1, eicar, sizeof eicar - 1};

struct mbx_av {
    hs_database_t *db;             /* the compiled signatures */
    hs_scratch_t *scratch;         /* Hyperscan's working memory */
    const struct mbx_av_sig *sigs; /* by index = Hyperscan id */
    int nsigs;
};

struct mbx_av_stream {
    hs_stream_t *hs; /* Hyperscan's stream state */
};

struct av_ctx {
    const struct mbx_av *av;
    mbx_av_match_fn fn;
    void *udata;
};

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                    void *ctx)
{
    struct av_ctx *c = ctx;
    if (c->fn && id < (unsigned)c->av->nsigs)
        c->fn(&c->av->sigs[id], to, c->udata);
    return 0; /* keep scanning: other signatures may follow */
}

struct mbx_av *mbx_av_new(const struct mbx_av_sig *sigs, int n, char *err, size_t errlen)
{
    if (n <= 0) {
        snprintf(err, errlen, "no signatures");
        return NULL;
    }
    struct mbx_av *av = calloc(1, sizeof *av);
    const char **exprs = calloc((size_t)n, sizeof *exprs);
    unsigned *flags = calloc((size_t)n, sizeof *flags), *ids = calloc((size_t)n, sizeof *ids);
    size_t *lens = calloc((size_t)n, sizeof *lens);
    if (!av || !exprs || !flags || !ids || !lens) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        if (sigs[i].len == 0) {
            snprintf(err, errlen, "signature %s: empty content", sigs[i].name);
            goto fail;
        }
        exprs[i] = sigs[i].content;
        lens[i] = sigs[i].len;
        flags[i] = HS_FLAG_SINGLEMATCH;
        ids[i] = (unsigned)i;
    }
    hs_compile_error_t *ce = NULL;
    if (hs_compile_lit_multi(exprs, flags, ids, lens, (unsigned)n, HS_MODE_STREAM, NULL, &av->db,
                             &ce) != HS_SUCCESS) {
        snprintf(err, errlen, "hyperscan: %s", ce ? ce->message : "compile failed");
        hs_free_compile_error(ce);
        goto fail;
    }
    if (hs_alloc_scratch(av->db, &av->scratch) != HS_SUCCESS) {
        snprintf(err, errlen, "hyperscan: cannot allocate scratch");
        goto fail;
    }
    av->sigs = sigs;
    av->nsigs = n;
    free(exprs);
    free(flags);
    free(ids);
    free(lens);
    return av;
fail:
    free(exprs);
    free(flags);
    free(ids);
    free(lens);
    mbx_av_free(av);
    return NULL;
}

void mbx_av_free(struct mbx_av *av)
{
    if (!av)
        return;
    hs_free_scratch(av->scratch);
    hs_free_database(av->db);
    free(av);
}

struct mbx_av_stream *mbx_av_open(struct mbx_av *av)
{
    struct mbx_av_stream *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    if (hs_open_stream(av->db, 0, &s->hs) != HS_SUCCESS) {
        free(s);
        return NULL;
    }
    return s;
}

int mbx_av_scan(struct mbx_av *av, struct mbx_av_stream *s, const void *data, size_t n,
                mbx_av_match_fn fn, void *udata)
{
    struct av_ctx c = {av, fn, udata};
    while (n > 0) { /* Hyperscan takes unsigned int lengths */
        unsigned piece = n > 0x40000000u ? 0x40000000u : (unsigned)n;
        if (hs_scan_stream(s->hs, data, piece, 0, av->scratch, on_match, &c) != HS_SUCCESS)
            return -EIO;
        data = (const char *)data + piece;
        n -= piece;
    }
    return 0;
}

int mbx_av_close(struct mbx_av *av, struct mbx_av_stream *s, mbx_av_match_fn fn, void *udata)
{
    struct av_ctx c = {av, fn, udata};
    hs_error_t r = hs_close_stream(s->hs, av->scratch, on_match, &c);
    free(s);
    return r == HS_SUCCESS ? 0 : -EIO;
}
