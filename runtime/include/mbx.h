/*
 * mbx.h - the public API of libmbx, the mbx runtime.
 *
 * Everything a compiled .mbx pipeline calls, and everything a person writing a
 * module by hand in C may use, is declared here (like mOS's mos_api.h).  The
 * data path of one worker is
 *
 *   source (pcap file | pcapng | live | DPDK port) -> decode -> flow table
 *     -> passive TCP (two inferred halves) -> stream reassembly
 *     -> event dispatch (filters, handlers) -> verdict (forward | drop)
 *
 * Conventions (DPDK's): functions return 0 or a negative errno, or NULL;
 * burst functions return counts.  Times are nanoseconds since the Unix epoch
 * (packet time when reading captures).  Nothing here allocates per packet.
 *
 * Sections: 1 basics, 2 decode, 3 sources, 4 engine, 5 flows and TCP halves,
 * 6 streams, 7 events and subscriptions, 8 actions, 9 timers, 10 output,
 * 11 statistics, 12 tables, 13 programs (what generated code calls).
 */
#ifndef MBX_H
#define MBX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MBX_VERSION "0.1.0"

/* ---------------------------------------------------------------- 1 basics */

typedef uint64_t mbx_time; /* nanoseconds since the epoch */

/* An IPv4 or IPv6 address.  IPv4 is stored as ::ffff:a.b.c.d (RFC 4291 2.5.5.2)
 * so that one comparison works for both families. */
struct mbx_addr {
    uint8_t b[16];
};

bool mbx_addr_is_v4(const struct mbx_addr *a);
/* Text form ("10.0.0.1", "2001:db8::1"); returns buf.  buf needs 46 bytes. */
char *mbx_addr_str(const struct mbx_addr *a, char *buf, size_t len);
int mbx_addr_parse(const char *s, struct mbx_addr *out); /* 0 or -EINVAL */

enum mbx_side { MBX_CLIENT = 0, MBX_SERVER = 1 };

/* ---------------------------------------------------------------- 2 decode */

/* Link types, numbered as libpcap's DLT_/LINKTYPE_ values. */
enum mbx_linktype {
    MBX_LINK_ETHERNET = 1,
    MBX_LINK_RAW = 101,    /* raw IPv4 or IPv6 (also DLT_RAW 12 / 14 on input) */
    MBX_LINK_SLL = 113,    /* Linux cooked v1 */
    MBX_LINK_SLL2 = 276,   /* Linux cooked v2 */
    MBX_LINK_IPV4 = 228,
    MBX_LINK_IPV6 = 229,
    MBX_LINK_NULL = 0,     /* BSD loopback, family in the writer's byte order */
    MBX_LINK_LOOP = 108,   /* OpenBSD loopback, family in network byte order */
};

/* Why a packet was not decoded.  X-macro so that names and counters agree. */
#define MBX_DECODE_ERRORS(X)                                                   \
    X(TRUNC_L2, "truncated link-layer header")                                 \
    X(UNSUPPORTED_LINK, "unsupported link type")                               \
    X(NOT_IP, "not IP (ARP, LLDP, ...)")                                       \
    X(TRUNC_IP, "truncated IP header")                                         \
    X(BAD_IP_VERSION, "bad IP version")                                        \
    X(BAD_IP_HLEN, "bad IPv4 header length")                                   \
    X(BAD_IP_LEN, "IP total length smaller than its header")                   \
    X(TRUNC_IPV6_EXT, "truncated IPv6 extension header")                       \
    X(FRAGMENT, "IP fragment (not reassembled)")                               \
    X(TRUNC_TCP, "truncated TCP header")                                       \
    X(BAD_TCP_HLEN, "bad TCP data offset")                                     \
    X(BAD_TCP_OPT, "malformed TCP option")                                     \
    X(TRUNC_UDP, "truncated UDP header")                                       \
    X(BAD_UDP_LEN, "bad UDP length")                                           \
    X(OTHER_L4, "not TCP or UDP (ICMP, ...)")

enum mbx_decode_err {
    MBX_DECODE_OK = 0,
#define MBX_X_(id, text) MBX_DECODE_##id,
    MBX_DECODE_ERRORS(MBX_X_)
#undef MBX_X_
    MBX_DECODE_NREASONS
};
const char *mbx_decode_err_name(enum mbx_decode_err e); /* "TRUNC_TCP" */
const char *mbx_decode_err_text(enum mbx_decode_err e); /* "truncated TCP header" */

#define MBX_TCP_FIN 0x01
#define MBX_TCP_SYN 0x02
#define MBX_TCP_RST 0x04
#define MBX_TCP_PSH 0x08
#define MBX_TCP_ACK 0x10
#define MBX_TCP_URG 0x20
#define MBX_TCP_ECE 0x40
#define MBX_TCP_CWR 0x80

/* TCP options found in a segment (flags in mbx_pkt.opts).  A known option with
 * a wrong length, or a length running past the header, is MBX_DECODE_BAD_TCP_OPT;
 * unknown options are skipped.  TFO is kind 34 (RFC 7413) or the experimental
 * kind 254 with magic 0xf989. */
#define MBX_OPT_MSS 0x01
#define MBX_OPT_WSCALE 0x02
#define MBX_OPT_SACK_PERM 0x04
#define MBX_OPT_TS 0x08
#define MBX_OPT_SACK 0x10
#define MBX_OPT_TFO 0x20

/* Packet flags (mbx_pkt.pflags). */
#define MBX_PKT_TRUNCATED 0x01 /* the snap length cut payload bytes that the IP (or
                                * UDP) length says were sent: payload_len counts only
                                * the captured ones; the TCP layer treats the rest as a
                                * gap.  Such a packet still decodes (MBX_DECODE_OK). */

/* A decoded packet.  Points into the frame; valid during its processing.
 * Fields past the layer where decoding stopped are zero; on MBX_DECODE_FRAGMENT
 * and MBX_DECODE_OTHER_L4 the IP fields (addresses, proto, ip_len) are filled.
 * A packet rebuilt from IP fragments points into the engine's reassembly
 * buffer (its frame: the first fragment's link and IP headers, then the
 * payload), valid during its processing only. */
struct mbx_pkt {
    const uint8_t *frame;     /* first byte of the link-layer frame */
    uint32_t caplen;          /* bytes captured */
    uint32_t wirelen;         /* bytes on the wire */
    mbx_time ts;              /* capture time */
    uint16_t l3_off;          /* offset of the IP header in frame */
    uint16_t l4_off;          /* offset of the TCP/UDP header in frame */
    uint16_t vlan[2];         /* outer, inner 802.1Q/802.1ad VLAN id (0: none) */
    uint8_t nvlan;            /* VLAN tags seen (may exceed 2; at most 8 are skipped) */
    uint8_t ip_ver;           /* 4 or 6 */
    uint8_t proto;            /* IPPROTO_TCP or IPPROTO_UDP (or the L4 protocol found) */
    uint8_t ttl;              /* IPv4 TTL or IPv6 hop limit */
    uint8_t pflags;           /* MBX_PKT_* */
    uint8_t tcp_hlen;         /* TCP header length in bytes (options included) */
    uint32_t ip_len;          /* IP datagram length per the IP header (v6: 40 + payload
                               * length; a zero length field, as TSO captures have, is
                               * taken as the frame's length) */
    struct mbx_addr src, dst; /* addresses */
    uint16_t sport, dport;    /* ports, host order */
    const uint8_t *payload;   /* first byte of the L4 payload */
    uint32_t payload_len;     /* L4 payload bytes present: not past the IP (or UDP)
                               * length (Ethernet padding is not payload), not past
                               * caplen (then MBX_PKT_TRUNCATED) */
    /* TCP only */
    uint32_t seq, ack;        /* host order */
    uint16_t win;             /* raw window field */
    uint16_t urp;             /* urgent pointer */
    uint8_t tcp_flags;        /* MBX_TCP_* */
    uint8_t opts;             /* MBX_OPT_* present */
    uint8_t wscale;           /* window scale shift (if MBX_OPT_WSCALE; > 14 read as 14) */
    uint8_t nsack;            /* SACK blocks in the option (if MBX_OPT_SACK, 1..4) */
    uint16_t mss;             /* (if MBX_OPT_MSS) */
    uint32_t tsval, tsecr;    /* (if MBX_OPT_TS) */
};

/* Decode one frame.  Returns MBX_DECODE_OK (p filled for a TCP or UDP packet)
 * or the reason it was skipped.  Never reads outside [data, data + caplen), never
 * allocates, does not verify checksums.  Link types: Ethernet (802.1Q, 802.1ad and
 * 0x9100 tags; PPPoE session carrying IPv4 or IPv6, its PPP protocol field
 * compressed or not), SLL, SLL2, raw IP (12, 14, 101, 228, 229), NULL and LOOP.
 * IPv4 with options; IPv6 skipping hop-by-hop, routing, destination options, AH
 * and atomic fragment headers; any other fragment (IPv4 MF or offset, IPv6
 * fragment header) is MBX_DECODE_FRAGMENT: the engine then reassembles it
 * (config.defrag; mbx_decode itself never does). */
enum mbx_decode_err mbx_decode(struct mbx_pkt *p, int linktype, const uint8_t *data,
                               uint32_t caplen, uint32_t wirelen, mbx_time ts);

/* ---------------------------------------------------------------- 3 sources */

/* One frame handed over by a source.  The bytes stay valid until the frame is
 * handed back with mbx_source_done() or, if it never is, until the next call of
 * mbx_source_next() (libpcap, DPDK) or mbx_source_close() (mmapped pcap files). */
struct mbx_frame {
    const uint8_t *data;      /* first byte of the link-layer frame */
    uint32_t caplen, wirelen; /* captured and on-the-wire lengths (wirelen >= caplen) */
    mbx_time ts;              /* capture time in ns (DPDK, not net_pcap: wall clock) */
    int linktype;             /* enum mbx_linktype (LINKTYPE_ value) */
    void *priv;               /* the source's handle on the frame (a DPDK mbuf) */
};

struct mbx_source;

/* A capture file, its format found by its magic: classic pcap (either byte
 * order, us or ns) is read through mmap without copying; pcapng through libpcap.
 * "-" (standard input) and other non-seekable files go through libpcap.
 * On failure returns NULL and writes one line saying why into err, starting
 * with the path: "x.txt: not a pcap or pcapng capture", "x.pcap: empty file, not
 * a capture", "x.pcap: truncated pcap global header (10 of 24 bytes)", "d: is a
 * directory, not a capture", or the system's reason ("x.pcap: No such file or
 * directory").  A record whose caplen exceeds the file's snap length (or 256 KiB)
 * ends the input with -EINVAL after the records before it. */
struct mbx_source *mbx_source_open_file(const char *path, char *err, size_t errlen);
/* Live capture through libpcap (immediate mode, promiscuous, snap length
 * 262144).  mbx_source_next() returns -EAGAIN when nothing arrived in 100 ms. */
struct mbx_source *mbx_source_open_live(const char *iface, char *err, size_t errlen);
/* DPDK: argv are the EAL arguments (argv[0] is a program name); ports are
 * ethdev port ids (NULL, 0: every available port).  inline_pair: ports[0] <->
 * ports[1], each frame handed back with forward == true is sent out of the other
 * port.  rte_eal_init() can run only once per process (a DPDK limit): the first
 * call starts the EAL with argv, later calls reuse it and ignore argv (ports may
 * be opened again after mbx_source_close()).  Each port gets one RX and one TX
 * queue, over one pool of 8191 mbufs; bursts are at most 32 frames.
 * Timestamps: on net_pcap ports the capture's time (the mbuf dynamic field
 * "rte_dynfield_timestamp", which net_pcap fills in us), else the wall clock at
 * reception.  End of input: only a port of a net_pcap vdev reading a file
 * (--vdev=net_pcapN,rx_pcap=FILE among the EAL arguments) can end: it is done
 * after 64 empty bursts in a row (net_pcap's rx_burst returns 0 only at the end
 * of its file or when the pool is empty, and every frame of the previous burst
 * has been freed before each poll); when every port is done, mbx_source_next()
 * returns 0; when every port replays a file, mbx_source_next() never returns
 * -EAGAIN (it polls until frames or the end).  Otherwise an empty poll returns
 * -EAGAIN. */
struct mbx_source *mbx_source_open_dpdk(int argc, char **argv, const uint16_t *ports,
                                        int nports, bool inline_pair, char *err,
                                        size_t errlen);

/* Up to max frames.  Returns the count, 0 at the end of input, -EAGAIN when a
 * live source had nothing to give now (call again), or another negative errno
 * with the reason in mbx_source_error().  A truncated capture file ends with
 * -EIO after its last whole record ("trace.pcap: truncated record at offset
 * 1234 (packet 57)"); errors are sticky: later calls return the same value. */
int mbx_source_next(struct mbx_source *s, struct mbx_frame *f, int max);
/* Hand frames back with their verdicts (true: forward, false: drop).  Monitor
 * mode sources only release them. */
void mbx_source_done(struct mbx_source *s, struct mbx_frame *f, const bool *forward, int n);
const char *mbx_source_error(const struct mbx_source *s); /* "" if none */
void mbx_source_close(struct mbx_source *s);                /* NULL is fine */

/* ---------------------------------------------------------------- 4 engine */

/* Overlapping bytes with different contents.  FIRST: a byte once stored is
 * kept, in-order bytes are delivered at once.  LAST: a byte is replaced by any
 * later copy until delivered, and bytes are delivered when the peer ACKs them
 * (or at FIN, RST, the flow's end, when more than 2 MiB wait, or at once if
 * the peer was never seen: a one-sided capture).  Either way a copy that
 * differs raises tcp.rexmit with inconsistent = true. */
enum mbx_overlap_policy {
    MBX_POLICY_FIRST = 0, /* bytes seen first win (BSD, Suricata's default) */
    MBX_POLICY_LAST = 1,  /* bytes seen last win (old Linux, Windows) */
};

struct mbx_config {
    uint32_t max_flows;           /* flow table bound; 0: 1,000,000 */
    enum mbx_overlap_policy policy;
    uint64_t stream_depth;        /* bytes reassembled per direction; 0: unlimited */
    uint64_t stream_mem;          /* total reassembly memory; 0: 1 GiB */
    uint32_t ooo_max_segs;        /* out-of-order intervals (runs of queued bytes
                                   * between holes) per direction; 0: 1024 */
    mbx_time timeout_syn;         /* idle timeouts by state (a flow idle for longer
                                   * ends, on packet time); 0: 30 s */
    mbx_time timeout_est;         /* 0: 3600 s */
    mbx_time timeout_closing;     /* 0: 30 s */
    mbx_time timeout_udp;         /* 0: 120 s */
    mbx_time linger;              /* a TCP connection that ended (FIN exchange or
                                   * accepted RST) stays in the table this long
                                   * after its last packet: stragglers are counted
                                   * on it, with no event, unless a SYN with a new
                                   * ISN opens a new connection; 0: 5 s */
    bool live_clock;              /* timers on wall-clock time (live ports) */
    uint16_t nworkers;            /* engines sharing one input (0 or 1: this engine
                                   * processes every frame); see "Workers" below */
    uint16_t worker;              /* this engine's index, 0 .. nworkers-1 */
    bool defrag;                  /* reassemble IP fragments (mbx_config_default: true);
                                   * false: fragments are MBX_DECODE_FRAGMENT errors */
    uint32_t defrag_max_datagrams; /* datagrams reassembled at once; when full the
                                    * oldest is evicted; 0: 8192 */
    uint64_t defrag_mem;          /* bytes of fragment payload held (1 KiB blocks;
                                   * when out, the oldest datagrams are evicted);
                                   * 0: 32 MiB */
    uint32_t defrag_max_frags;    /* fragments per datagram (more are dropped); 0: 256 */
    mbx_time defrag_timeout;      /* a datagram not complete this long after its first
                                   * fragment is dropped (packet time); 0: 60 s */
};
void mbx_config_default(struct mbx_config *c);

/* Workers (shared-nothing, one engine per thread): config.nworkers engines
 * that are each given every frame of the same input (each reads the capture
 * itself; or, through the dispatcher below, only their own frames and the
 * times of the others) process only their share: a frame belongs to the worker picked by a
 * symmetric hash of its two IP addresses (mbx_worker_of()), so both directions
 * of every flow of an address pair, and every fragment of a datagram, land on
 * one worker; frames that are not IP, or fail to decode before their
 * addresses, belong to worker 0.  A frame of another worker only advances the
 * engine's packet clock (timers and idle timeouts fire at the same packet
 * times as with one engine) and is not counted in its statistics, so the
 * workers' statistics add up (mbx_stats_add()) to a single engine's.  Flow
 * ids stay unique across the workers: worker w of n numbers its flows
 * w + 1, w + 1 + n, w + 1 + 2n, ... (with one worker: 1, 2, 3, ...).
 * Everything else (tables, per-flow state, output buffers) is per worker;
 * mbx_out_worker() gives each one a writer of whole lines into a shared file. */
#define MBX_MAX_WORKERS 64
/* The worker (0 .. n-1) of a decoded frame: err and p as mbx_decode() left them. */
unsigned mbx_worker_of(enum mbx_decode_err err, const struct mbx_pkt *p, unsigned n);

typedef struct mbx_engine mbx_engine;

/* c NULL: defaults.  NULL on a bad configuration or no memory.  The flow table
 * (248 bytes a flow) is allocated here; only slots in use are touched. */
mbx_engine *mbx_engine_new(const struct mbx_config *c);
void mbx_engine_free(mbx_engine *e);

/* Process a burst of frames; writes each frame's verdict (true: forward).
 * Returns the number of frames processed.  IP fragments (config.defrag) go to
 * reassembly, keyed by (source, destination, id, protocol) for IPv4 and
 * (source, destination, id) for IPv6; when a datagram is complete it is
 * rebuilt as one frame - the link-layer and IP header of its first fragment
 * (IPv4 options and the IPv6 unfragmentable part kept, the fragment header
 * removed, lengths, flags and the IPv4 checksum fixed), then the payload - and
 * processed like any packet at the time of its last fragment, whose verdict it
 * gives (earlier fragments are forwarded).  Overlapping fragment bytes follow
 * config.policy (first-wins keeps the bytes seen first); overlaps and
 * overlaps whose bytes differ are counted (frag_overlaps, frag_inconsistent).
 * Dropped: empty fragments and non-last ones whose length is not a multiple
 * of 8, a first fragment whose link and IP headers (IPv6: up to the fragment
 * header) pass 256 bytes, ends past 65535, fragments cut by the snap length,
 * more than defrag_max_frags in a datagram, fragments wholly past the end the
 * last fragment gave (ones partly past it are cut there); each counted by
 * reason.
 * Timeouts are checked when a fragment arrives; what is left at the end of
 * input is counted in frag_unfinished. */
int mbx_engine_input(mbx_engine *e, const struct mbx_frame *f, bool *forward, int n);
/* End of input: every live flow ends in flow-id order: its streams are
 * flushed (held bytes delivered, holes reported as gaps), then TCP flows get
 * tcp.timeout with end MBX_END_EOF (tcp.close with MBX_END_FIN when both sides
 * had sent FIN); UDP flows end silently.  Timers due after the last packet
 * never fire. */
void mbx_engine_finish(mbx_engine *e);
/* Read src until its end, then finish.  Returns 0, or the source's negative
 * errno (after processing everything read before the error). */
int mbx_engine_run(mbx_engine *e, struct mbx_source *src);
mbx_time mbx_engine_now(const mbx_engine *e); /* packet time (or wall clock) */
/* Move the engine's clock to ts without a packet (the wall clock with
 * config.live_clock): what a frame of another worker does (timers due and idle
 * timeouts up to ts run); an earlier ts does nothing.  The dispatcher's time
 * marks (below) use it. */
void mbx_engine_advance(mbx_engine *e, mbx_time ts);

/* Dispatcher: for an input the workers cannot each read themselves (stdin or
 * a pipe, a live interface, a DPDK port), one thread reads it and hands each
 * frame to the worker mbx_worker_of() picks, copied into that worker's
 * single-producer single-consumer ring; each worker thread runs
 * mbx_dispatch_work() with its engine (config.worker/nworkers set as above).
 * The timestamp of every frame that goes to another worker follows to each
 * worker as a time mark, in order, so every engine's clock moves through the
 * same times as when each reads the whole capture: the same events as one
 * worker.  A full ring makes the dispatcher wait when lossless (captures,
 * DPDK replaying a file) or drop the frame and count it (live ports; its
 * time still passes).  On a live source that is idle every worker gets an
 * idle mark every 10 ms: its wall clock runs and its output is flushed.
 * Frames are only read (monitor mode): verdicts do not come back. */
struct mbx_dispatch;
/* nworkers rings of ring_bytes (a power of two; 0: 4 MiB) each; NULL with
 * errno on a bad count or no memory. */
struct mbx_dispatch *mbx_dispatch_new(unsigned nworkers, uint64_t ring_bytes, bool lossless);
void mbx_dispatch_free(struct mbx_dispatch *d); /* after every worker returned */
/* The dispatcher thread: read src until its end (or *stop, checked between
 * bursts; a flag a signal handler sets: on Linux a sig_atomic_t is an int),
 * handing out every frame; frames are handed back to src at once.
 * Returns 0 or the source's negative errno.  May be called for several
 * sources in a row, then mbx_dispatch_end(). */
int mbx_dispatch_run(struct mbx_dispatch *d, struct mbx_source *src,
                     const volatile int *stop);
/* End of input: every worker's mbx_dispatch_work() returns after its last
 * frame (the caller then runs mbx_engine_finish()). */
void mbx_dispatch_end(struct mbx_dispatch *d);
/* A worker thread: feed e the frames and time marks of ring worker until the
 * end; returns the frames it was given. */
uint64_t mbx_dispatch_work(struct mbx_dispatch *d, unsigned worker, mbx_engine *e);
/* A worker that will not call (or has stopped calling) mbx_dispatch_work():
 * its frames are discarded from now on, so the dispatcher never waits on it. */
void mbx_dispatch_leave(struct mbx_dispatch *d, unsigned worker);
/* Frames dropped: a live source's ring full, or a frame over half a ring
 * (statistics: dispatch_dropped). */
uint64_t mbx_dispatch_dropped(const struct mbx_dispatch *d);

/* ---------------------------------------------------------------- 5 flows */

/* A flow: a TCP connection or UDP flow, found from both directions.  The
 * client is the sender of a SYN without ACK, or the receiver of a SYN/ACK
 * whose SYN was missed; a flow picked up mid-stream (flagged) takes the lower
 * port as the server (equal ports: the first sender is the client).  For UDP
 * the first sender is the client.  A SYN with a new ISN after both sides
 * closed (TIME_WAIT, FIN, RST) starts a new connection; the old one ends
 * first.  tcp.open fires when both halves are ESTABLISHED after a handshake;
 * tcp.close when both FINs are ACKed and all bytes before them are here, or
 * on an in-window RST; tcp.timeout on idle timeout, eviction or the end of
 * input (see mbx_flow_end()).  After tcp.close a flow stays in the table to
 * absorb late packets (counted, no events) until its closing timeout. */
typedef struct mbx_flow mbx_flow;

/* RFC 9293 states, as inferred for one side of a connection. */
#define MBX_TCP_STATES(X)                                                      \
    X(CLOSED, "closed")                                                        \
    X(LISTEN, "listen")                                                        \
    X(SYN_SENT, "syn_sent")                                                    \
    X(SYN_RECEIVED, "syn_received")                                            \
    X(ESTABLISHED, "established")                                              \
    X(FIN_WAIT_1, "fin_wait_1")                                                \
    X(FIN_WAIT_2, "fin_wait_2")                                                \
    X(CLOSE_WAIT, "close_wait")                                                \
    X(CLOSING, "closing")                                                      \
    X(LAST_ACK, "last_ack")                                                    \
    X(TIME_WAIT, "time_wait")

enum mbx_tcp_state {
#define MBX_X_(id, text) MBX_TCPS_##id,
    MBX_TCP_STATES(MBX_X_)
#undef MBX_X_
};
const char *mbx_tcp_state_name(enum mbx_tcp_state s); /* "established" */

/* How a flow ended (in flows.jsonl and the flow record). */
enum mbx_flow_end {
    MBX_END_NONE = 0, /* still live */
    MBX_END_FIN,      /* both sides closed with FIN */
    MBX_END_RST,      /* a reset accepted */
    MBX_END_TIMEOUT,  /* idle timeout */
    MBX_END_EVICTED,  /* evicted because the table was full */
    MBX_END_EOF,      /* end of the capture */
    MBX_END_REUSED,   /* a new connection on the same 4-tuple while this one was not
                       * closed (its end was not captured); subscribers see tcp.timeout */
};
const char *mbx_flow_end_name(enum mbx_flow_end e); /* "fin", "rst", ... */

/* What one side (one inferred TCP stack) of a connection has done. */
struct mbx_half_info {
    enum mbx_tcp_state state;
    uint32_t isn;          /* initial sequence number (first seq seen if midstream) */
    uint32_t next_seq;     /* next sequence number expected from this side */
    uint32_t last_ack;     /* last in-window acknowledgment this side sent */
    uint32_t window;       /* last advertised window, scaled */
    uint8_t wscale;        /* window scale this side announced (0: none) */
    uint16_t mss;          /* MSS this side announced (0: none) */
    uint64_t pkts;         /* packets sent by this side */
    uint64_t bytes;        /* IP bytes sent by this side */
    uint64_t payload;      /* payload bytes sent, retransmissions included */
    uint64_t delivered;    /* stream bytes delivered in order (the three stream
                            * counters move only while the side has a stream) */
    uint64_t gap_bytes;    /* stream bytes never seen: LOSS, OOO_FULL, EVICTED, SNAPLEN */
    uint64_t depth_bytes;  /* stream bytes not delivered: depth or memory limit */
    uint64_t rexmits;      /* retransmitted segments (overlapping bytes seen before;
                            * without a stream: starting before the highest seq) */
    uint64_t inconsistent; /* retransmissions whose bytes differed */
    uint8_t tcp_flags;     /* OR of all flags this side sent */
};

uint64_t mbx_flow_id(const mbx_flow *f);      /* unique in a run, increasing (per
                                                * worker: see "Workers", section 4) */
int mbx_flow_proto(const mbx_flow *f);         /* IPPROTO_TCP or IPPROTO_UDP */
const struct mbx_addr *mbx_flow_addr(const mbx_flow *f, enum mbx_side s);
uint16_t mbx_flow_port(const mbx_flow *f, enum mbx_side s);
mbx_time mbx_flow_start(const mbx_flow *f);
mbx_time mbx_flow_last(const mbx_flow *f);
bool mbx_flow_midstream(const mbx_flow *f);    /* picked up without a handshake */
enum mbx_flow_end mbx_flow_end(const mbx_flow *f);
void mbx_flow_half(const mbx_flow *f, enum mbx_side s, struct mbx_half_info *out);
/* Community ID v1 (seed 0), "1:base64"; buf needs 64 bytes. */
char *mbx_flow_community_id(const mbx_flow *f, char *buf, size_t len);
/* Per-flow storage reserved with mbx_flow_ext_register(), zeroed at flow start. */
void *mbx_flow_ext(mbx_flow *f, int slot);
/* Reserve size bytes of per-flow storage before the first packet; returns a slot. */
int mbx_flow_ext_register(mbx_engine *e, size_t size);

/* ---------------------------------------------------------------- 6 streams */

/* A byte stream: the bytes one side sent, in order.  Exists with buffers only
 * on flows where a subscription reads that side (MBX_SUB_READ_*); it starts
 * at the side's first byte (after its SYN, or the first byte seen mid-stream),
 * or, when reading starts later, at the next byte that side sends.  Offsets
 * are absolute (64-bit, across sequence wrap).  The buffer holds the unread
 * bytes and the last 4 KiB read (for peek_at and retransmission checks); on a
 * mapped pcap file, in-order bytes are delivered in place from the frame (no
 * copy), only what a tcp.data handler leaves unread is copied, and the last 4
 * segments delivered that way are what peek_at and the checks see.  A
 * gap ends the unread window: bytes unread before it are dropped, reading
 * resumes after it.  A reader that never consumes gets its oldest delivered
 * bytes consumed for it once 8 MiB are held (each was announced by tcp.data). */
typedef struct mbx_stream mbx_stream;

mbx_stream *mbx_flow_stream(mbx_flow *f, enum mbx_side s);
/* Stream offset of the first unread byte, and of the end of delivered bytes. */
uint64_t mbx_stream_read_off(const mbx_stream *s);
uint64_t mbx_stream_end_off(const mbx_stream *s);
/* The unread bytes (contiguous); returns their count. */
size_t mbx_stream_peek(mbx_stream *s, const uint8_t **data);
/* Copies up to n bytes starting at absolute stream offset off into buf;
 * returns the count copied (0 if those bytes are no longer or not yet held). */
size_t mbx_stream_peek_at(const mbx_stream *s, uint64_t off, void *buf, size_t n);
/* Marks n unread bytes read; they may then be freed. */
void mbx_stream_consume(mbx_stream *s, size_t n);
/* The bytes delivered by the tcp.data event being dispatched now (0 outside
 * a tcp.data handler).  On UDP, during udp.data, mbx_flow_stream() of the
 * sending side is the current datagram (new bytes = unread bytes = payload). */
size_t mbx_stream_new_bytes(mbx_stream *s, const uint8_t **data);

/* ---------------------------------------------------------------- 7 events */

enum mbx_event_id {
#define MBX_EVENT(id, name, owner, pkt) MBX_EV_##id,
#include "mbx_events.def"
#undef MBX_EVENT
    MBX_EV_NBUILTIN /* user-defined and raised events are numbered from here */
};
const char *mbx_event_name(const mbx_engine *e, int ev); /* "tcp.data" */

/* Why stream bytes were not delivered (tcp.gap's reason).  Every byte a side
 * sent that is never delivered to readers is reported by exactly one tcp.gap
 * event and counted: LOSS, OOO_FULL, EVICTED and SNAPLEN in the half's
 * gap_bytes and the run's gap_bytes; DEPTH and MEMORY in depth_bytes. */
enum mbx_gap_reason {
    MBX_GAP_LOSS = 0, /* never seen (capture loss); the peer ACKed past it, or the flow ended */
    MBX_GAP_DEPTH,    /* past config.stream_depth */
    MBX_GAP_MEMORY,   /* config.stream_mem exhausted */
    MBX_GAP_OOO_FULL, /* out-of-order queue full (ooo_max_segs) or too far ahead */
    MBX_GAP_EVICTED,  /* holes left when the flow was evicted */
    MBX_GAP_SNAPLEN,  /* cut by the capture's snap length (MBX_PKT_TRUNCATED) */
};
const char *mbx_gap_reason_name(enum mbx_gap_reason r); /* "loss", "depth", ... */

/* What a handler receives. */
struct mbx_event {
    int id;                   /* enum mbx_event_id or a registered event */
    mbx_engine *engine;
    mbx_flow *flow;           /* NULL for pkt_in on a non-TCP/UDP packet */
    const struct mbx_pkt *pkt; /* the packet being processed, or NULL */
    enum mbx_side side;       /* tcp.data, rexmit, gap, state_change, udp.data */
    bool inconsistent;        /* tcp.rexmit: overlapping bytes differed */
    uint64_t offset;          /* tcp.gap: stream offset of the hole */
    uint64_t len;             /* tcp.gap: bytes missing; tcp.data: new bytes */
    const void *payload;      /* raised events: the raiser's payload */
    enum mbx_gap_reason gap_reason; /* tcp.gap: why the bytes are missing */
};

typedef void (*mbx_handler_fn)(const struct mbx_event *ev, void *udata);
typedef bool (*mbx_filter_fn)(const struct mbx_event *ev, void *udata);

/* A user-defined event: fires when base fires and filter returns true.
 * Filters sharing a base are evaluated once per firing, as a tree.
 * Returns the new event's id or a negative errno. */
int mbx_event_define(mbx_engine *e, const char *name, int base, mbx_filter_fn filter,
                     void *udata);
/* An event raised by modules with mbx_raise(); returns its id. */
int mbx_event_register(mbx_engine *e, const char *name);

/* Subscription flags. */
#define MBX_SUB_READ_CLIENT 0x1 /* the handler reads the client's stream */
#define MBX_SUB_READ_SERVER 0x2 /* the handler reads the server's stream */
#define MBX_SUB_PER_FLOW 0x4    /* off on every flow until mbx_flow_subscribe() */

/* Returns a subscription id (>= 0) or a negative errno.  Handlers of one
 * event run in subscription order, then the derived events whose filter
 * matched.  A subscription to tcp.data, tcp.rexmit or tcp.gap (or an event
 * derived from them) without READ flags reads both sides.  Subscriptions
 * 0..63 can be turned off per flow; MBX_SUB_PER_FLOW past 63 is -ENOSPC.
 * A flow dropped with mbx_drop_flow() gets no event but tcp.close/timeout. */
int mbx_subscribe(mbx_engine *e, int ev, mbx_handler_fn fn, void *udata, unsigned flags);
/* Turn a subscription off or on for one flow (takes effect after the handler
 * running now returns).  When no subscription reads a side of a flow any
 * more, that side's buffers are released. */
int mbx_flow_unsubscribe(mbx_flow *f, int sub);
int mbx_flow_subscribe(mbx_flow *f, int sub);
/* Call the subscribers of ev at once (depth first). */
void mbx_raise(mbx_engine *e, int ev, mbx_flow *f, enum mbx_side s, const void *payload);

/* ---------------------------------------------------------------- 8 actions */

void mbx_drop_packet(mbx_engine *e); /* the packet being processed */
void mbx_drop_flow(mbx_flow *f);     /* this root flow, both directions, from now on */

/* ---------------------------------------------------------------- 9 timers */

typedef void (*mbx_timer_fn)(mbx_engine *e, void *udata);
/* Fires at first-packet time + k*period for k = 1, 2, ..., before the first
 * packet whose time reaches it (ts >= t0 + k*period; idle timeouts due earlier
 * run first), never after the last packet.  When packet time jumps past
 * several ticks, it fires once for all of them, at the last tick due before
 * the packet, and stays on the grid t0 + k*period; the ticks skipped are
 * counted in stats.timer_ticks_skipped (a jump of 11 years under a 10 s
 * period is one firing).  mbx_engine_now() in the timer is its firing time.
 * Returns an id or -EINVAL. */
int mbx_every(mbx_engine *e, mbx_time period, mbx_timer_fn fn, void *udata);

/* ---------------------------------------------------------------- 10 output */

/* Events out as JSON lines in Suricata EVE's field conventions.  A record is
 * opened with the common fields (timestamp, event_type, flow 5-tuple with the
 * client as source, flow_id, community_id), filled with typed fields, closed. */
struct mbx_out;
struct mbx_out *mbx_out_open(const char *path, char *err, size_t errlen); /* "-": stdout */
void mbx_out_close(struct mbx_out *o);
/* Write what is buffered now.  Records are buffered (256 KiB) unless the output
 * is a terminal; live readers flush when the input is idle. */
void mbx_out_flush(struct mbx_out *o);
/* A writer for one worker thread that writes into o's file: records are built
 * in its own buffer and written as whole lines under o's lock, so the lines of
 * several workers never tear or interleave (a record larger than the buffer
 * holds the lock until it ends).  Close every worker writer before o; o
 * itself must not be written while its workers write.  NULL: no memory. */
struct mbx_out *mbx_out_worker(struct mbx_out *o);
void mbx_engine_set_output(mbx_engine *e, struct mbx_out *o);
struct mbx_out *mbx_engine_output(mbx_engine *e);

void mbx_out_begin(struct mbx_out *o, mbx_time ts, const char *event_type, const mbx_flow *f);
void mbx_out_object(struct mbx_out *o, const char *key);   /* opens "key": { */
void mbx_out_end_object(struct mbx_out *o);
void mbx_out_array(struct mbx_out *o, const char *key);    /* opens "key": [ */
void mbx_out_end_array(struct mbx_out *o);
/* Members (key NULL inside an array). */
void mbx_out_str(struct mbx_out *o, const char *key, const char *s);
void mbx_out_strn(struct mbx_out *o, const char *key, const void *s, size_t n);
void mbx_out_hex(struct mbx_out *o, const char *key, const void *b, size_t n);
void mbx_out_int(struct mbx_out *o, const char *key, int64_t v);
void mbx_out_uint(struct mbx_out *o, const char *key, uint64_t v);
void mbx_out_double(struct mbx_out *o, const char *key, double v);
void mbx_out_bool(struct mbx_out *o, const char *key, bool v);
void mbx_out_addr(struct mbx_out *o, const char *key, const struct mbx_addr *a);
void mbx_out_end(struct mbx_out *o); /* closes the record, writes the line */

/* ---------------------------------------------------------------- 11 statistics */

/* Every frame read is counted once: decoded, a decode error (by reason), or
 * an IP fragment (frags); each datagram rebuilt from fragments is decoded
 * once more, so packets + frag_reassembled = decoded + decode_errors + frags.
 * The frag_* counters say what became of fragments (see mbx_engine_input). */

#define MBX_STATS(X)                                                           \
    X(packets, "packets read")                                                 \
    X(bytes, "bytes read (wire length)")                                       \
    X(decoded, "packets decoded (TCP or UDP)")                                 \
    X(decode_errors, "packets not decoded (by reason below)")                  \
    X(flows, "flows created")                                                  \
    X(tcp_flows, "TCP connections created")                                    \
    X(udp_flows, "UDP flows created")                                          \
    X(flows_evicted, "flows evicted: table full")                              \
    X(flows_timed_out, "flows ended by idle timeout")                          \
    X(rexmits, "retransmitted segments")                                       \
    X(inconsistent_rexmits, "retransmissions with different bytes")            \
    X(gaps, "stream gaps (bytes never seen)")                                  \
    X(gap_bytes, "bytes in stream gaps")                                       \
    X(depth_bytes, "bytes not delivered: depth or memory limit")               \
    X(depth_limits, "stream cut-offs: depth or memory limit (not gaps)")       \
    X(ooo_dropped, "out-of-order segments dropped: queue full")                \
    X(rst_out_of_window, "resets ignored: out of window")                      \
    X(ack_out_of_window, "ACKs ignored: past the window (no gap counted)")     \
    X(seq_out_of_window, "segments past the receiver's window")                \
    X(dropped_packets, "packets dropped by actions")                           \
    X(div_by_zero, "divisions by zero in .mbx code")                           \
    X(timer_ticks_skipped, "timer ticks merged into one firing (time jumped)") \
    X(frags, "IP fragments (into reassembly)")                                 \
    X(frag_reassembled, "IP datagrams reassembled (then decoded)")             \
    X(frag_overlaps, "fragments overlapping bytes seen before")                \
    X(frag_inconsistent, "fragment overlaps with different bytes")             \
    X(frag_size_mismatch, "fragments past the end the last fragment gave")     \
    X(frag_tiny, "first fragments cut inside the TCP/UDP header")              \
    X(frag_timeouts, "incomplete datagrams timed out")                         \
    X(frag_evicted, "incomplete datagrams evicted: table or memory full")      \
    X(frag_unfinished, "incomplete datagrams at the end of input")             \
    X(frag_drop_bad, "fragments dropped: bad length or header too long")      \
    X(frag_drop_too_big, "fragments dropped: datagram past 65535 bytes")       \
    X(frag_drop_trunc, "fragments dropped: cut by the snap length")            \
    X(frag_drop_too_many, "fragments dropped: too many in one datagram")       \
    X(frag_drop_past_end, "fragments dropped: past the datagram's end")        \
    X(frag_drop_mem, "fragments dropped: no memory left for them")           \
    X(dispatch_dropped, "frames dropped by the dispatcher: worker ring full")

struct mbx_stats {
#define MBX_X_(name, text) uint64_t name;
    MBX_STATS(MBX_X_)
#undef MBX_X_
    uint64_t decode_err[MBX_DECODE_NREASONS]; /* by enum mbx_decode_err */
};
void mbx_engine_stats(const mbx_engine *e, struct mbx_stats *out);
/* Human-readable statistics (stderr at the end of a run). */
void mbx_stats_print(const struct mbx_stats *s, FILE *fp);
/* The same as one EVE "stats" record. */
void mbx_stats_write(const struct mbx_stats *s, struct mbx_out *o, mbx_time ts);
/* Adds s to sum (the workers of one run): every counter is summed but
 * timer_ticks_skipped, which is the largest (each worker runs the same timers
 * on the same clock). */
void mbx_stats_add(struct mbx_stats *sum, const struct mbx_stats *s);
/* Count a division by zero in generated code. */
void mbx_count_div0(mbx_engine *e);

/* ---------------------------------------------------------------- 12 tables */

#include <string.h> /* memcmp, for the inline helpers of section 13 */

/* Tables of .mbx programs (LANGUAGE.md §8 "Tables"): maps and sets with
 * fixed-size keys, expiry on packet time, a bound with oldest-first eviction,
 * and iteration in insertion order.  A set is a table without values; a
 * map<K, set<T>> holds one nested set per key.  Entries live in arrays that
 * grow by doubling (no allocation per packet once a table has grown to its
 * working size; nested sets of expired entries are recycled).  Times passed
 * as `now` must not go backwards. */

/* A str or bytes value: a view, valid as long as what it points into. */
struct mbx_str {
    const uint8_t *p; /* first byte (may be NULL when n == 0) */
    size_t n;         /* length */
};

enum mbx_tkind {
    MBX_TK_NONE = 0, /* values only: none (the table is a set) */
    MBX_TK_INT,      /* int64_t */
    MBX_TK_UINT,     /* uint64_t: uint, port, time, duration, tcp_state */
    MBX_TK_BOOL,     /* stored as uint64_t 0 / 1 */
    MBX_TK_ADDR,     /* struct mbx_addr */
    MBX_TK_STR,      /* struct mbx_str (str); keys longer than MBX_TABLE_KEY_MAX are
                      * kept as their first 40 bytes plus a 64-bit hash of the rest */
    MBX_TK_BYTES,    /* as MBX_TK_STR, written as hex in JSON */
    MBX_TK_SET,      /* values only: a nested set of def.elem keys */
};

#define MBX_TABLE_KEY_MAX 48       /* str key bytes kept whole */
#define MBX_TABLE_STR_MAX 256      /* str value bytes kept (longer: truncated, counted) */
#define MBX_TABLE_DEFAULT_MAX 1000000

struct mbx_table_def {
    const char *name; /* "portscan.probes" (statistics) */
    uint8_t key;      /* enum mbx_tkind of keys */
    uint8_t val;      /* of values; MBX_TK_NONE: a set */
    uint8_t elem;     /* MBX_TK_SET values: the kind of their elements */
    mbx_time expire;  /* an entry (a set element) expires this long after its last
                       * write; 0: never */
    uint64_t max;     /* bound on entries (and on each nested set); 0: default */
};

typedef struct mbx_table mbx_table;

/* A key as passed in: integers in u (int64 cast), addresses and strings by p/n. */
struct mbx_tkey {
    uint64_t u;      /* INT, UINT, BOOL */
    const void *p;   /* ADDR (a struct mbx_addr), STR/BYTES bytes */
    size_t n;        /* STR/BYTES length */
};

static inline struct mbx_tkey mbx_tkey_u(uint64_t u)
{
    struct mbx_tkey k = {u, NULL, 0};
    return k;
}
static inline struct mbx_tkey mbx_tkey_addr(const struct mbx_addr *a)
{
    struct mbx_tkey k = {0, a, sizeof(*a)};
    return k;
}
static inline struct mbx_tkey mbx_tkey_str(struct mbx_str s)
{
    struct mbx_tkey k = {0, s.p, s.n};
    return k;
}

mbx_table *mbx_table_new(const struct mbx_table_def *d); /* NULL: -ENOMEM / -EINVAL */
void mbx_table_free(mbx_table *t);                       /* NULL is fine */

/* The value of key k, or NULL when missing or expired (nothing is inserted).
 * The value is a uint64_t (INT as int64_t, BOOL as 0/1), a struct mbx_addr, a
 * struct mbx_str or, for MBX_TK_SET values, a mbx_table * (nested set). */
const void *mbx_table_get(mbx_table *t, struct mbx_tkey k, mbx_time now);
/* The value slot of k for writing: inserted with the default value (0, "", an
 * empty set) when missing, and marked written at now (expiry restarts).  When
 * the table is full the oldest entry (first inserted) goes first.  For sets, adds k and
 * returns a non-NULL pointer that must not be used.  NULL only when memory ran
 * out (counted in mbx_table_failed()). */
void *mbx_table_put(mbx_table *t, struct mbx_tkey k, mbx_time now);
/* Store a str value (copied, up to MBX_TABLE_STR_MAX bytes). */
int mbx_table_put_str(mbx_table *t, struct mbx_tkey k, struct mbx_str v, mbx_time now);
/* The nested set of k, created when missing (MBX_TK_SET values). */
mbx_table *mbx_table_put_set(mbx_table *t, struct mbx_tkey k, mbx_time now);
bool mbx_table_contains(mbx_table *t, struct mbx_tkey k, mbx_time now);
bool mbx_table_remove(mbx_table *t, struct mbx_tkey k); /* true if it was there */
uint64_t mbx_table_len(mbx_table *t, mbx_time now);      /* live entries */

/* Insertion-order iteration over live entries: start with it = 0.  The key is
 * given back as a mbx_tkey (u for integers, p/n for addresses and strings). */
bool mbx_table_next(mbx_table *t, uint32_t *it, mbx_time now, struct mbx_tkey *key,
                    const void **val);
/* Writes the live keys as a sorted JSON array (sets in alert/log records). */
void mbx_table_out_keys(mbx_table *t, struct mbx_out *o, const char *key, mbx_time now);
uint64_t mbx_table_evicted(const mbx_table *t); /* entries evicted: table full */
uint64_t mbx_table_failed(const mbx_table *t);  /* writes lost: out of memory */
const char *mbx_table_name(const mbx_table *t);

/* ---------------------------------------------------------------- 13 programs */

/* What mbxc's generated C fills in: a static registration table of the
 * pipeline's modules, configs, tables, externs, user-defined events,
 * subscriptions and timers, handed to mbx_main(), which is the compiled
 * binary's command line (mbxc build).  Events are named by slots of
 * prog.ev_ids: slots 0 .. MBX_EV_NBUILTIN-1 hold the built-in events, externs
 * fill the slots of the events they export, and prog.events fill theirs, in
 * table order (a derived event's base comes before it).
 *
 * An extern module NAME written in C provides
 *   int mbx_ext_NAME_attach(mbx_engine *e, int *ids);  register the events it
 *       exports (mbx_event_register) and write their ids in export-list order
 *   void mbx_ext_NAME_detach(void);
 *   T mbx_ext_TYPE_FIELD(const void *x);  each field of a flow or record it exports
 * and raises its events with a payload that is a struct of the event's
 * parameters in order: tcp/udp flows as mbx_flow *, user-defined flows and
 * records as const void *, int as int64_t, uint port time duration as
 * uint64_t, bool, str/bytes as struct mbx_str, ip as struct mbx_addr (the
 * same struct generated code raises its own events with).  std.http's
 * http_parser is bound by mbxc directly to mbx_http.h.  examples/ext/bulk.c
 * is a complete one. */

enum mbx_cfg_type {
    MBX_CFG_INT,      /* int64_t */
    MBX_CFG_UINT,     /* uint64_t */
    MBX_CFG_BOOL,     /* bool: true/false/1/0 */
    MBX_CFG_STR,      /* struct mbx_str */
    MBX_CFG_BYTES,    /* struct mbx_str */
    MBX_CFG_IP,       /* struct mbx_addr */
    MBX_CFG_PORT,     /* uint64_t, 0..65535 */
    MBX_CFG_DURATION, /* uint64_t ns: 500ms 10s 5m 1h (or a number of seconds) */
    MBX_CFG_TIME,     /* uint64_t ns since the epoch (a number of seconds) */
};

struct mbx_prog_config {
    const char *module;     /* "portscan" */
    const char *key;        /* "threshold" */
    uint8_t type;           /* enum mbx_cfg_type */
    void *var;              /* the variable --set writes */
};

struct mbx_prog_module {
    const char *name;       /* module name */
    bool is_extern;         /* written in C */
    unsigned reads;         /* MBX_SUB_READ_* of its subscriptions */
};

/* An extern module (written in C): attach registers its events and fills
 * ids[i] with the id of the i-th event it exports (export-list order). */
struct mbx_prog_extern {
    const char *name;                        /* module name */
    int (*attach)(mbx_engine *e, int *ids);  /* 0 or a negative errno */
    void (*detach)(void);                    /* after mbx_engine_finish; may be NULL */
    const int *slots;                        /* ev_ids slot of each exported event */
    int nslots;
};

struct mbx_prog_event {
    const char *name;      /* "http_get" */
    int slot;              /* its slot */
    int base_slot;         /* derived: the base event's slot; -1: raised by a module */
    mbx_filter_fn filter;  /* derived: the where-clause (NULL: always) */
};

struct mbx_prog_sub {
    int module;            /* index in modules */
    int slot;              /* event slot */
    mbx_handler_fn fn;     /* the handler */
    unsigned flags;        /* MBX_SUB_* */
    int *id;               /* receives the subscription id (unsubscribe, steer);
                            * NULL: worker_vars gives it */
};

struct mbx_prog_timer {
    int module;               /* index in modules */
    const mbx_time *period;   /* read after --set */
    mbx_timer_fn fn;
};

struct mbx_prog_table {
    mbx_table **table;        /* the variable the generated code uses (NULL:
                               * worker_vars gives it) */
    struct mbx_table_def def; /* kinds and name (expire, max: below) */
    const mbx_time *expire;   /* read after --set; NULL: never */
    const uint64_t *max;      /* NULL: MBX_TABLE_DEFAULT_MAX */
};

struct mbx_program {
    const char *name;                     /* the pipeline */
    const struct mbx_prog_module *modules;
    int nmodules;
    const struct mbx_prog_config *configs;
    int nconfigs;
    const struct mbx_prog_table *tables;
    int ntables;
    const struct mbx_prog_extern *externs;
    int nexterns;
    const struct mbx_prog_event *events;
    int nevents;
    const struct mbx_prog_sub *subs;
    int nsubs;
    const struct mbx_prog_timer *timers;
    int ntimers;
    int *ev_ids;                          /* event slots (>= MBX_EV_NBUILTIN entries;
                                           * NULL: worker_vars gives them) */
    int nslots;
    size_t flow_state;                    /* bytes of per-flow module state */
    int *flow_slot;                       /* receives its mbx_flow_ext slot (or NULL) */
    /* Generated code keeps its mutable variables per worker thread
     * (_Thread_local): the ev_ids array, the flow slot, the table variables,
     * the subscription ids (and its own handles, such as std.http's).  Their
     * addresses differ by thread, so no static table can hold them: each
     * worker thread calls worker_vars before registering, and it writes that
     * thread's addresses into v: v[0] the ev_ids array, v[1] the flow slot
     * (NULL: none), v[2 + i] the variable of tables[i], v[2 + ntables + i]
     * the int receiving subs[i]'s id.  NULL: the pointers above are used as
     * they are (a program written by hand; one worker). */
    void (*worker_vars)(void **v);
};

/* The compiled binary's main: parses the command line (-r FILE..., -i IFACE,
 * --dpdk EAL... -- [--port N] [--inline A:B], -o FILE, --set module.key=value,
 * --max-flows N, --workers N, --stats, --help), builds the engine, registers p,
 * runs every source, and returns the exit status (0; 1 on a runtime error; 2
 * on bad arguments or an unreadable capture).  --workers N (1..64, capture
 * files only) runs N threads, each with its own engine, its share of every
 * file (section 4, "Workers"), its own copy of p's variables (worker_vars) and
 * its own output buffer into the one output; --stats then prints the sums. */
int mbx_main(int argc, char **argv, const struct mbx_program *p);

/* Helpers of generated code (app.c). */
struct mbx_str mbx_str_lower(struct mbx_str s); /* into a scratch ring; valid briefly */
struct mbx_str mbx_str_dup(struct mbx_str s);   /* scratch ring copy */
int64_t mbx_str_find(struct mbx_str s, struct mbx_str needle); /* -1: absent */
bool mbx_addr_in_prefix(const struct mbx_addr *a, const struct mbx_addr *net, int plen);
/* Stream views of the event being handled: on TCP the side's stream, on UDP
 * the current datagram if it was sent by that side. */
struct mbx_str mbx_gen_peek(const struct mbx_event *ev, mbx_flow *f, int side, int64_t n);
struct mbx_str mbx_gen_peek_at(const struct mbx_event *ev, mbx_flow *f, int side, int64_t off,
                               int64_t n);
struct mbx_str mbx_gen_new_bytes(const struct mbx_event *ev, mbx_flow *f, int side);
int64_t mbx_gen_stream_len(const struct mbx_event *ev, mbx_flow *f, int side);
bool mbx_gen_stream_starts_with(const struct mbx_event *ev, mbx_flow *f, int side,
                                struct mbx_str lit);
/* Offset of needle in the stream (from offset 0 while its start is held, else
 * in the unread bytes); -1: absent. */
int64_t mbx_gen_stream_find(const struct mbx_event *ev, mbx_flow *f, int side,
                            struct mbx_str needle);
/* Output of a side value ("client" / "server") and of a duration (seconds). */
void mbx_gen_out_side(struct mbx_out *o, const char *key, int side);
void mbx_gen_out_duration(struct mbx_out *o, const char *key, uint64_t ns);
void mbx_gen_out_time(struct mbx_out *o, const char *key, mbx_time t);
/* extern fn sha256_hex(b: bytes) -> str (the stdlib's C function). */
struct mbx_str mbx_fn_sha256_hex(struct mbx_str b);

static inline bool mbx_str_eq(struct mbx_str a, struct mbx_str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}
static inline bool mbx_str_starts_with(struct mbx_str s, struct mbx_str x)
{
    return s.n >= x.n && (x.n == 0 || memcmp(s.p, x.p, x.n) == 0);
}
static inline bool mbx_str_ends_with(struct mbx_str s, struct mbx_str x)
{
    return s.n >= x.n && (x.n == 0 || memcmp(s.p + s.n - x.n, x.p, x.n) == 0);
}
static inline bool mbx_str_contains(struct mbx_str s, struct mbx_str x)
{
    return mbx_str_find(s, x) >= 0;
}
/* s[lo:hi] clamped to the string (negative or reversed bounds give ""). */
static inline struct mbx_str mbx_str_slice(struct mbx_str s, int64_t lo, int64_t hi)
{
    struct mbx_str r = {s.p, 0};
    if (lo < 0)
        lo = 0;
    if (hi > (int64_t)s.n)
        hi = (int64_t)s.n;
    if (hi > lo) {
        r.p = s.p + lo;
        r.n = (size_t)(hi - lo);
    }
    return r;
}
static inline uint64_t mbx_str_at(struct mbx_str s, int64_t i)
{
    return (i >= 0 && (uint64_t)i < s.n) ? s.p[i] : 0;
}
static inline int64_t mbx_div_i64(mbx_engine *e, int64_t a, int64_t b)
{
    if (b == 0) {
        mbx_count_div0(e);
        return 0;
    }
    if (b == -1)
        return (int64_t)(0 - (uint64_t)a); /* wraps, as int arithmetic does */
    return a / b;
}
static inline int64_t mbx_mod_i64(mbx_engine *e, int64_t a, int64_t b)
{
    if (b == 0) {
        mbx_count_div0(e);
        return 0;
    }
    if (b == -1)
        return 0;
    return a % b;
}
static inline uint64_t mbx_div_u64(mbx_engine *e, uint64_t a, uint64_t b)
{
    if (b == 0) {
        mbx_count_div0(e);
        return 0;
    }
    return a / b;
}
static inline uint64_t mbx_mod_u64(mbx_engine *e, uint64_t a, uint64_t b)
{
    if (b == 0) {
        mbx_count_div0(e);
        return 0;
    }
    return a % b;
}

#ifdef __cplusplus
}
#endif
#endif /* MBX_H */
