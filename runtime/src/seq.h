/*
 * seq.h - TCP sequence-number (serial number) arithmetic, RFC 1982 / RFC 9293 3.4.
 *
 * Sequence numbers are 32-bit and wrap; a is "before" b when the signed 32-bit
 * distance b - a is positive.  The stream layer keeps 64-bit stream offsets and
 * converts with seq_to_off(), which extends a 32-bit sequence number to the
 * 64-bit offset nearest to a reference offset, so streams longer than 4 GiB and
 * wrapped sequence spaces are handled the same way.
 */
#ifndef MBX_SEQ_H
#define MBX_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline int32_t seq_diff(uint32_t a, uint32_t b) /* a - b as a signed distance */
{
    return (int32_t)(a - b);
}
static inline bool seq_lt(uint32_t a, uint32_t b)
{
    return seq_diff(a, b) < 0;
}
static inline bool seq_leq(uint32_t a, uint32_t b)
{
    return seq_diff(a, b) <= 0;
}
static inline bool seq_gt(uint32_t a, uint32_t b)
{
    return seq_diff(a, b) > 0;
}
static inline bool seq_geq(uint32_t a, uint32_t b)
{
    return seq_diff(a, b) >= 0;
}
static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
    return seq_gt(a, b) ? a : b;
}
/* a <= x < b in sequence space (b - a < 2^31). */
static inline bool seq_in(uint32_t x, uint32_t a, uint32_t b)
{
    return seq_geq(x, a) && seq_lt(x, b);
}

/* The 64-bit stream offset of sequence number seq in a stream whose offset 0 is
 * sequence number base, choosing the offset nearest to ref.  May be negative
 * (bytes before the stream's start, e.g. a retransmitted SYN). */
static inline int64_t seq_to_off(uint32_t seq, uint32_t base, uint64_t ref)
{
    uint32_t ref_seq = base + (uint32_t)ref;
    return (int64_t)ref + (int64_t)seq_diff(seq, ref_seq);
}

#endif /* MBX_SEQ_H */
