/*
 * dispatch_workers.h - the single-producer single-consumer byte ring under
 * the worker dispatcher (dispatch_workers.c; mbx.h section 4, "Dispatcher").
 * Internal to libmbx; the unit tests use it directly.
 *
 * A ring holds variable-size records (an 8-byte header, then the payload,
 * rounded up to 8 bytes).  Positions are byte counters that only grow; a
 * record never wraps: when it does not fit before the end of the buffer, a
 * pad record fills the rest and the record starts at offset 0.  The producer
 * writes records and makes them visible in batches (ring_publish); the
 * consumer reads them in place and hands their space back in batches
 * (ring_release), so each side touches the other's index once per batch.
 */
#ifndef MBX_DISPATCH_WORKERS_H
#define MBX_DISPATCH_WORKERS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define RING_LINE 64

struct ring {
    /* read-only after ring_new */
    uint8_t *buf;  /* size bytes */
    uint64_t size; /* a power of two */
    /* the producer's line */
    _Alignas(RING_LINE) _Atomic uint64_t head; /* published end of the records written */
    uint64_t p_head;                           /* end of the records written */
    uint64_t p_tail;                           /* the consumer's tail last read */
    /* the consumer's line */
    _Alignas(RING_LINE) _Atomic uint64_t tail; /* released: space the producer may reuse */
    uint64_t c_tail;                           /* start of the next record to read */
    uint64_t c_head;                           /* the producer's head last read */
    uint32_t c_len;                            /* the record peeked: its space in bytes */
    _Alignas(RING_LINE) char end_[1];          /* the consumer's line stays its own */
};

#define RING_PAD 0 /* record type of the filler before a wrap (never returned) */

/* A ring of size bytes (a power of two, at least 64), or NULL. */
struct ring *ring_new(uint64_t size);
void ring_free(struct ring *r);
/* The largest payload a record may have (size / 2 - 8). */
uint32_t ring_max_payload(const struct ring *r);

/* Producer: space for a record of len payload bytes and type (> 0), or NULL
 * when the ring is full (or len is over ring_max_payload).  The record is
 * written by the caller and visible to the consumer after ring_publish(). */
void *ring_reserve(struct ring *r, uint32_t type, uint32_t len);
void ring_publish(struct ring *r);

/* Consumer: the next record's payload (its type and length), or NULL when
 * none is published.  ring_consume() moves past it; its bytes stay valid
 * until ring_release() hands the space of every record consumed back. */
const void *ring_peek(struct ring *r, uint32_t *type, uint32_t *len);
void ring_consume(struct ring *r);
void ring_release(struct ring *r);

#endif
