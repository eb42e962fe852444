/*
 * stats.c - end-of-run statistics as text and as an EVE "stats" record (mbx.h section 11).
 *
 * The engine fills struct mbx_stats (its counters are listed once, in the
 * MBX_STATS X-macro of mbx.h, with the text printed beside each); this file
 * only presents them.  mbx_stats_print() writes one aligned line per counter,
 * then one indented line per decode-error reason that occurred, so a reader
 * can see where every packet that was not decoded went.  mbx_stats_write()
 * writes the same numbers as one JSON line,
 *   {"timestamp": ..., "event_type": "stats", "stats": {"packets": N, ...,
 *    "decode_error_reasons": {"TRUNC_TCP": N, ...}}}
 * with every counter present (zeros included) and reasons keyed by their
 * mbx_decode_err_name().  mbx_stats_add() sums the statistics of workers.
 */
#include <inttypes.h>
#include <string.h>

#include "mbx.h"

void mbx_stats_print(const struct mbx_stats *s, FILE *fp)
{
    if (s == NULL || fp == NULL)
        return;
    int w = 0; /* the longest text, so that the numbers line up */
#define MBX_X_(name, text)                                                                         \
    if ((int)strlen(text) > w)                                                                     \
        w = (int)strlen(text);
    MBX_STATS(MBX_X_)
#undef MBX_X_
    for (int r = 1; r < MBX_DECODE_NREASONS; r++)
        if (s->decode_err[r] && (int)strlen(mbx_decode_err_text((enum mbx_decode_err)r)) > w - 2)
            w = (int)strlen(mbx_decode_err_text((enum mbx_decode_err)r)) + 2;
    fprintf(fp, "mbx statistics:\n");
#define MBX_X_(name, text) fprintf(fp, "  %-*s %16" PRIu64 "\n", w, text, s->name);
    MBX_STATS(MBX_X_)
#undef MBX_X_
    for (int r = 1; r < MBX_DECODE_NREASONS; r++) {
        if (s->decode_err[r] == 0)
            continue;
        fprintf(fp, "    %-*s %16" PRIu64 "  (%s)\n", w - 2,
                mbx_decode_err_text((enum mbx_decode_err)r), s->decode_err[r],
                mbx_decode_err_name((enum mbx_decode_err)r));
    }
}

void mbx_stats_write(const struct mbx_stats *s, struct mbx_out *o, mbx_time ts)
{
    if (s == NULL || o == NULL)
        return;
    mbx_out_begin(o, ts, "stats", NULL);
    mbx_out_object(o, "stats");
#define MBX_X_(name, text) mbx_out_uint(o, #name, s->name);
    MBX_STATS(MBX_X_)
#undef MBX_X_
    mbx_out_object(o, "decode_error_reasons");
    for (int r = 1; r < MBX_DECODE_NREASONS; r++)
        mbx_out_uint(o, mbx_decode_err_name((enum mbx_decode_err)r), s->decode_err[r]);
    mbx_out_end_object(o);
    mbx_out_end_object(o);
    mbx_out_end(o);
}

void mbx_stats_add(struct mbx_stats *sum, const struct mbx_stats *s)
{
    if (sum == NULL || s == NULL)
        return;
    uint64_t skipped = sum->timer_ticks_skipped;
#define MBX_X_(name, text) sum->name += s->name;
    MBX_STATS(MBX_X_)
#undef MBX_X_
    /* every worker runs the same timers on the same packet clock */
    sum->timer_ticks_skipped = skipped > s->timer_ticks_skipped ? skipped : s->timer_ticks_skipped;
    for (int r = 0; r < MBX_DECODE_NREASONS; r++)
        sum->decode_err[r] += s->decode_err[r];
}
