/*
 * engine.h - internal structures of the libmbx engine core, shared by engine.c
 * (input loop, time), flow.c (flow table), tcp.c (two inferred TCP halves),
 * stream.c (reassembly), dispatch.c (events and subscriptions) and timer.c.
 *
 * Memory model: every per-flow structure lives in an array sized at engine start
 * (calloc'd, so untouched slots cost no resident memory) and is addressed by
 * index.  A flow is 248 bytes (4 more of hash bucket: 252 per tracked
 * connection); its two streams live in a parallel array (streams[2*i + side])
 * whose entry is touched only when a side a subscription reads sends its first
 * payload byte (or a handler asks for the stream).
 * Stream buffers come from size-class free lists bounded by config.stream_mem;
 * out-of-order intervals from a node pool.  Nothing is malloc'd per packet
 * (a buffer class is malloc'd once, the first time it is needed, then recycled).
 */
#ifndef MBX_ENGINE_H
#define MBX_ENGINE_H

#include "mbx.h"

/* ------------------------------------------------------------ flows */

/* Half flags (mbx_half.hflags). */
#define H_SEEN   0x01 /* this side sent at least one packet */
#define H_SYN    0x02 /* this side sent a SYN (isn is its SYN's) */
#define H_FIN    0x04 /* this side sent a FIN (fin_seq valid) */
#define H_ISN    0x08 /* isn / next_seq known (from a SYN, a segment or the peer's ACK) */
#define H_WS     0x10 /* this side announced window scaling */
#define H_SYNOPT 0x20 /* this side's SYN was seen: its window scale (or none) is known */
#define H_ACKED  0x40 /* last_ack valid: this side sent an ACK accepted as in window */
#define H_OOW    0x80 /* flow.oow_next: end of its last segment dropped past the window */

/* One inferred TCP endpoint (the mOS model: updated as sender and as receiver). */
struct mbx_half {
    uint8_t state;         /* enum mbx_tcp_state */
    uint8_t wscale;        /* window scale announced */
    uint8_t hflags;        /* H_* */
    uint8_t tcp_flags;     /* OR of the flags sent */
    uint16_t mss;          /* MSS announced (0: none) */
    uint16_t win_max;      /* largest window field sent after the SYN (unscaled) */
    uint32_t isn;          /* initial sequence number (first seq seen if midstream) */
    uint32_t next_seq;     /* highest sequence number sent + 1 (SYN and FIN count) */
    uint32_t last_ack;     /* last in-window ACK this side sent (if H_ACKED) */
    uint32_t window;       /* last window advertised, scaled */
    uint32_t fin_seq;      /* sequence number of this side's FIN */
    uint32_t pkts;         /* packets sent */
    uint32_t rexmits;      /* retransmitted segments */
    uint32_t inconsistent; /* retransmissions whose bytes differed */
    uint64_t bytes;        /* IP bytes sent */
    uint64_t payload;      /* payload bytes sent, retransmissions included */
    uint64_t delivered;    /* stream bytes delivered in order (sides with a stream) */
    uint64_t gap_bytes;    /* bytes reported missing: LOSS, OOO_FULL, EVICTED, SNAPLEN */
    uint64_t depth_bytes;  /* bytes not delivered: DEPTH, MEMORY */
};

/* Flow flags (mbx_flow.fflags). */
#define F_MIDSTREAM 0x01 /* picked up without a handshake */
#define F_STREAM0   0x02 /* streams[2i + 0] (client's bytes) is open */
#define F_STREAM1   0x04 /* streams[2i + 1] (server's bytes) is open */
#define F_DROPPED   0x08 /* mbx_drop_flow(): drop every packet, no events but the end */
#define F_RECHECK   0x10 /* subscriptions changed: recheck stream need after the packet */
#define F_OPEN      0x20 /* tcp.open fired */
#define F_LIVE      0x40 /* slot in use */
#define F_SYNEV     0x80 /* tcp.syn fired */

/* Idle-timeout classes: one LRU list each, so expiry is O(1) per packet. */
enum lru_class { LRU_SYN, LRU_EST, LRU_CLOSING, LRU_UDP, LRU_ENDED, LRU_N };
/* LRU_ENDED: TCP connections that ended (tcp.close fired), kept config.linger. */

struct mbx_flow {
    struct mbx_half half[2]; /* by enum mbx_side */
    struct mbx_addr addr[2]; /* client, server */
    uint16_t port[2];        /* client, server */
    uint8_t proto;           /* IPPROTO_TCP / IPPROTO_UDP */
    uint8_t lru;             /* enum lru_class */
    uint8_t end;             /* enum mbx_flow_end */
    uint8_t fflags;          /* F_* */
    uint32_t hnext;          /* hash chain: next flow index + 1 (0: end) */
    uint32_t lru_prev;       /* LRU list neighbours: index + 1 (0: none) */
    uint32_t lru_next;
    uint32_t oow_next;    /* end of the last segment dropped past the window (its side: H_OOW) */
    uint64_t id;          /* increasing, from 1 */
    mbx_time start, last; /* first and last packet times */
    uint64_t sub_off;     /* bit i: subscription i is off on this flow */
};

/* ------------------------------------------------------------ streams */

#define S_OPEN   0x01 /* in use */
#define S_ACKED  0x02 /* ack_off valid */
#define S_INDATA 0x04 /* a tcp.data for this stream is being dispatched */
#define S_ZCPEND 0x08 /* zc holds an in-order segment to deliver in place */
#define S_ZC     0x10 /* the tcp.data being dispatched reads zc, in the packet */

#define STREAM_NREF 4 /* segments delivered in place kept referenced */

/* Bytes delivered in place: a stretch of a frame that stays valid until the
 * source closes (mapped capture files). */
struct stream_ref {
    const uint8_t *p; /* first byte */
    uint64_t off;     /* its stream offset */
    uint32_t len;     /* 0: unused */
    uint32_t gen;     /* pcapf_generation() when taken: valid while it is current */
};

/* One direction's reassembly state.  buf holds stream offsets
 * [base_off, base_off + cap): bytes kept for retransmission comparison, the
 * unread bytes [read_off, end_off) and queued (not yet delivered) intervals. */
struct mbx_stream {
    uint8_t *buf;       /* buffer (NULL until the first byte) */
    uint32_t cap;       /* its size (a power of two) */
    uint32_t base_seq;  /* sequence number of stream offset 0 */
    uint64_t base_off;  /* stream offset of buf[0] */
    uint64_t read_off;  /* first unread byte */
    uint64_t end_off;   /* end of delivered bytes */
    uint64_t ack_off;   /* the peer's ACK as a stream offset (if S_ACKED) */
    uint64_t fin_off;   /* offset of the FIN (UINT64_MAX: none) */
    uint64_t depth_end; /* highest offset seen past stream_depth */
    uint64_t drop_lo;   /* last range of bytes dropped on purpose (reason below) */
    uint64_t drop_hi;
    uint64_t hi_off;   /* end of the highest bytes stored */
    uint64_t valid_lo; /* bytes below this offset are not held (a gap was skipped) */
    uint64_t new_off;  /* the tcp.data being dispatched: offset and length */
    uint64_t new_len;
    const uint8_t *zc;                  /* S_ZCPEND / S_ZC: bytes at end_off / new_off */
    uint32_t zc_len;                    /* S_ZCPEND: their length */
    uint32_t nref;                      /* next ref slot (a ring) */
    struct stream_ref ref[STREAM_NREF]; /* last segments delivered in place */
    uint32_t ooo;                       /* queued intervals, sorted: seg pool index + 1 (0: none) */
    uint32_t nooo;                      /* their count */
    uint8_t drop_reason;                /* enum mbx_gap_reason of [drop_lo, drop_hi) */
    uint8_t sflags;                     /* S_* */
    uint8_t side;                       /* enum mbx_side */
    uint32_t flow;                      /* flow index */
    const struct mbx_engine *eng;       /* owning engine */
};

/* A queued interval [start, end) of stream offsets (bytes are in the buffer). */
struct stream_seg {
    uint64_t start, end;
    uint32_t next; /* index + 1 */
};

#define STREAM_NCLASS   12 /* buffer classes 4 KiB << k */
#define STREAM_MIN_BUF  4096u
#define STREAM_MAX_BUF  (8u << 20)  /* one stream's window: unread + queued + kept */
#define STREAM_KEEP     4096u       /* delivered bytes kept for rexmit comparison */
#define STREAM_GROW_BUF (32u << 10) /* a buffer that must be compacted grows to this first */

/* ------------------------------------------------------------ events */

struct ev_def {
    char name[48];        /* "tcp.data", "http_request", ... */
    int base;             /* base event (-1: built-in or raised) */
    mbx_filter_fn filter; /* derived events: filter on the base */
    void *fudata;
    int *subs; /* subscription ids in call order */
    int nsubs, capsubs;
    int *kids; /* derived events, in definition order */
    int nkids, capkids;
    bool want; /* a subscription exists in this event's subtree */
};

struct sub {
    int ev; /* event id */
    mbx_handler_fn fn;
    void *udata;
    unsigned flags; /* MBX_SUB_* */
};

#define SUB_MASKED 64 /* subscriptions with id < 64 can be turned off per flow */

/* ------------------------------------------------------------ timers */

struct timer {
    mbx_time next; /* next firing time */
    mbx_time period;
    mbx_timer_fn fn;
    void *udata;
    int id;
};

/* ------------------------------------------------------------ engine */

struct mbx_engine {
    struct mbx_config cfg;
    struct mbx_stats stats;

    /* flows (flow.c) */
    struct mbx_flow *flows; /* max_flows slots */
    uint32_t *bucket;       /* hash buckets: flow index + 1 */
    uint32_t nbucket_mask;
    uint32_t nflows;          /* live slots */
    uint32_t free_head;       /* free slots list through hnext (index + 1) */
    uint32_t bump;            /* slots never used start here */
    uint32_t lru_head[LRU_N]; /* oldest first: index + 1 */
    uint32_t lru_tail[LRU_N];
    mbx_time timeout[LRU_N];
    uint64_t next_id;
    size_t ext_size; /* per-flow extension bytes (mbx_flow_ext_register) */
    uint8_t *ext;    /* max_flows * ext_size */
    bool started;    /* first packet seen: no more ext registration */

    /* streams (stream.c) */
    struct mbx_stream *streams; /* 2 * max_flows */
    struct stream_seg *segs;    /* interval pool */
    uint32_t nsegs, seg_bump, seg_free;
    void *buf_free[STREAM_NCLASS]; /* free buffers per class (linked through 1st word) */
    uint64_t mem_used;             /* bytes of buffers held by streams */
    struct mbx_stream udp_stream;  /* udp.data: the current datagram as a stream */
    struct mbx_flow *udp_cur;      /* the UDP flow being dispatched */
    bool frames_persist;           /* this burst's frames stay valid until their source closes */

    /* events (dispatch.c) */
    struct ev_def *ev;
    int nev, capev;
    struct sub *subs;
    int nsubs, capsubs;
    uint64_t read_mask[2];    /* masked subscriptions that read side s */
    uint64_t perflow_default; /* MBX_SUB_PER_FLOW subscriptions: off at flow start */
    bool read_always[2];      /* an unmasked global subscription reads side s */

    /* timers (timer.c): a binary min-heap on next */
    struct timer *timers;
    int ntimers, captimers;
    bool clock_started;
    mbx_time t0;   /* first packet time */
    bool finished; /* mbx_engine_finish() ran */

    /* IP fragment reassembly (defrag.c); NULL when config.defrag is off */
    struct defrag *defrag;

    /* the packet being processed */
    const struct mbx_pkt *pkt;
    bool verdict;
    mbx_time now; /* packet time (or wall clock) */
    struct mbx_out *out;
};

/* flow.c */
int flow_init(mbx_engine *e);
void flow_fini(mbx_engine *e);
uint64_t flow_pkt_hash(const struct mbx_pkt *p);           /* symmetric: same for both directions */
void flow_prefetch(const mbx_engine *e, uint64_t h);       /* its bucket */
void flow_prefetch_entry(const mbx_engine *e, uint64_t h); /* the first flow in it */
struct mbx_flow *flow_get(mbx_engine *e, const struct mbx_pkt *p, uint64_t h, enum mbx_side *side);
void flow_touch(mbx_engine *e, struct mbx_flow *f, mbx_time ts);
void flow_set_class(mbx_engine *e, struct mbx_flow *f, enum lru_class c);
mbx_time flow_next_expiry(const mbx_engine *e);
void flow_expire(mbx_engine *e, mbx_time now);
void flow_end(mbx_engine *e, struct mbx_flow *f, enum mbx_flow_end why);
void flow_release(mbx_engine *e, struct mbx_flow *f);
void flow_finish_all(mbx_engine *e);
/* The engine owning f (a flow holds no pointer to it: found by address among
 * the live engines' flow arrays); NULL if f belongs to none. */
mbx_engine *flow_engine(const struct mbx_flow *f);
/* Sequence number of stream offset 0 of a half: after its SYN, or the first seen. */
static inline uint32_t half_base_seq(const struct mbx_half *h)
{
    return (h->hflags & H_SYN) ? h->isn + 1 : h->isn;
}
static inline uint32_t flow_index(const mbx_engine *e, const struct mbx_flow *f)
{
    return (uint32_t)(f - e->flows);
}

/* tcp.c */
void tcp_packet(mbx_engine *e, struct mbx_flow *f, const struct mbx_pkt *p, enum mbx_side s);
void tcp_flow_init(mbx_engine *e, struct mbx_flow *f, const struct mbx_pkt *p,
                   enum mbx_side sender);
bool tcp_sender_is_client(const struct mbx_pkt *p);
bool tcp_is_new_connection(const struct mbx_flow *f, const struct mbx_pkt *p, enum mbx_side sender);
void udp_packet(mbx_engine *e, struct mbx_flow *f, const struct mbx_pkt *p, enum mbx_side s);

/* stream.c */
int stream_init(mbx_engine *e);
void stream_fini(mbx_engine *e);
bool stream_wanted(const mbx_engine *e, const struct mbx_flow *f, enum mbx_side s);
struct mbx_stream *stream_get(mbx_engine *e, struct mbx_flow *f, enum mbx_side s);
struct mbx_stream *stream_open(mbx_engine *e, struct mbx_flow *f, enum mbx_side s);
void stream_close(mbx_engine *e, struct mbx_flow *f, enum mbx_side s);
void stream_recheck(mbx_engine *e, struct mbx_flow *f);
/* Store a segment at offset off (len captured bytes of wire_len sent); returns
 * STREAM_OVERLAP if it overlapped bytes seen before, plus STREAM_INCONSISTENT
 * if overlapping bytes differed. */
#define STREAM_OVERLAP      1
#define STREAM_INCONSISTENT 2
int stream_insert(mbx_engine *e, struct mbx_stream *st, int64_t off, const uint8_t *data,
                  uint32_t len, uint32_t wire_len);
/* Deliver what can be delivered (tcp.data, tcp.gap events); flush: everything. */
void stream_deliver(mbx_engine *e, struct mbx_stream *st, bool flush,
                    enum mbx_gap_reason hole_reason);
void stream_set_ack(struct mbx_stream *st, int64_t ack_off);
void stream_set_fin(struct mbx_stream *st, int64_t fin_off);
bool stream_complete(const mbx_engine *e, const struct mbx_stream *st);

/* dispatch.c */
int disp_init(mbx_engine *e);
void disp_fini(mbx_engine *e);
void disp_fire(mbx_engine *e, struct mbx_event *ev);
static inline bool disp_want(const mbx_engine *e, int ev)
{
    return e->ev[ev].want;
}
/* Fire a built-in event on a flow with the current packet. */
void disp_flow_event(mbx_engine *e, int ev, struct mbx_flow *f, enum mbx_side s);
void disp_flow_start(mbx_engine *e, struct mbx_flow *f);

/* timer.c */
int timer_init(mbx_engine *e);
void timer_fini(mbx_engine *e);
mbx_time timer_next(const mbx_engine *e); /* UINT64_MAX: none */
void timer_start_clock(mbx_engine *e, mbx_time t0);
void timer_run_one(mbx_engine *e); /* fire the earliest timer and reschedule it */
/* Move every timer with several ticks due by now to its last due tick
 * (counting the others in stats.timer_ticks_skipped), so it fires once. */
void timer_catch_up(mbx_engine *e, mbx_time now);

/* defrag.c */
int defrag_init(mbx_engine *e);
void defrag_fini(mbx_engine *e);
/* Take a fragment p (decoded to MBX_DECODE_FRAGMENT from a frame of linktype);
 * true when it completed its datagram: *out is then the rebuilt frame (valid
 * until the next call; it does not persist like a mapped frame). */
bool defrag_input(mbx_engine *e, const struct mbx_pkt *p, int linktype, struct mbx_frame *out);
void defrag_expire(mbx_engine *e, mbx_time now); /* drop datagrams older than the timeout */
void defrag_finish(mbx_engine *e);               /* end of input: count what is left */
uint32_t defrag_pending(const mbx_engine *e);    /* datagrams being reassembled */
uint64_t defrag_mem_used(const mbx_engine *e);   /* bytes of blocks held */

/* io_pcapfile.c: frames inside a mapped capture stay valid until it closes;
 * the generation changes whenever one closes (references taken before expire). */
bool pcapf_persists(const uint8_t *p);
uint32_t pcapf_generation(void);

/* engine.c */
void engine_advance(mbx_engine *e, mbx_time now); /* run timeouts and timers due <= now */
bool mbx__engine_packet(mbx_engine *e, const struct mbx_pkt *p);

#endif /* MBX_ENGINE_H */
