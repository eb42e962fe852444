/*
 * tcp.c - passive TCP: two inferred endpoints per connection (the mOS model).
 *
 * Each packet updates the sender's half as a sender (ISN, next sequence number,
 * ACK, window, options, FIN) and the receiver's half as a receiver (its SYN or
 * FIN acknowledged, the peer's FIN received), following the RFC 9293 state
 * diagram for each side.  The bytes each side sends go to its stream
 * (stream.c) when some subscription reads that side; the peer's ACKs drive
 * that stream's gap detection and, under the last-wins policy, its delivery.
 *
 * Who is the client: the sender of a SYN without ACK; the receiver of a
 * SYN/ACK when the SYN was missed; otherwise (picked up mid-stream) the
 * endpoint with the higher port, i.e. the lower port is taken to be the
 * server, and with equal ports the first sender is the client.  Mid-stream
 * flows are flagged; their streams start at the first byte seen (and, for the
 * side not yet seen, at the sequence number the other side acknowledges).
 *
 * Event order per packet: tcp.syn, state changes of the handshake, tcp.open,
 * data the ACK releases on the peer's stream, then the sender's rexmit and data
 * events, then the FIN state changes and, when both sides have closed and all
 * bytes up to both FINs are delivered, tcp.close.  An RST in window delivers
 * every byte still held (no gap for data the peer had not ACKed), then closes.
 */
#include <string.h>

#include "engine.h"
#include "seq.h"

bool tcp_sender_is_client(const struct mbx_pkt *p)
{
    uint8_t sa = p->tcp_flags & (MBX_TCP_SYN | MBX_TCP_ACK);
    if (sa == MBX_TCP_SYN)
        return true;
    if (sa == (MBX_TCP_SYN | MBX_TCP_ACK))
        return false;
    return p->sport >= p->dport; /* mid-stream: the lower port is the server */
}

static void set_state(mbx_engine *e, struct mbx_flow *f, enum mbx_side s, enum mbx_tcp_state st)
{
    if (f->half[s].state == st)
        return;
    f->half[s].state = (uint8_t)st;
    if (disp_want(e, MBX_EV_TCP_STATE_CHANGE))
        disp_flow_event(e, MBX_EV_TCP_STATE_CHANGE, f, s);
}

void tcp_flow_init(mbx_engine *e, struct mbx_flow *f, const struct mbx_pkt *p, enum mbx_side sender)
{
    struct mbx_half *S = &f->half[sender], *R = &f->half[!sender];
    uint8_t sa = p->tcp_flags & (MBX_TCP_SYN | MBX_TCP_ACK);
    if (sa == MBX_TCP_SYN) {
        S->state = MBX_TCPS_CLOSED;
        R->state = MBX_TCPS_LISTEN;
    } else if (sa == (MBX_TCP_SYN | MBX_TCP_ACK)) {
        /* The SYN was missed: the client's ISN is what the SYN/ACK acknowledges. */
        S->state = MBX_TCPS_LISTEN;
        R->state = MBX_TCPS_SYN_SENT;
        R->isn = p->ack - 1;
        R->next_seq = p->ack;
        R->hflags |= H_SYN | H_ISN;
    } else {
        f->fflags |= F_MIDSTREAM;
        S->state = R->state = MBX_TCPS_ESTABLISHED;
        S->isn = S->next_seq = p->seq;
        S->hflags |= H_ISN;
        if (p->tcp_flags & MBX_TCP_ACK) {
            R->isn = R->next_seq = p->ack;
            R->hflags |= H_ISN;
        }
        flow_set_class(e, f, LRU_EST);
    }
}

/* seq lies far outside what half h has sent (more than 4 windows of the
 * peer and 32 MiB away): no receiver would accept it. */
static bool tcp_far(const struct mbx_half *h, uint32_t seq, uint32_t peer_window)
{
    if (!(h->hflags & H_SEEN) || !(h->hflags & H_ISN))
        return false;
    uint64_t lim = (uint64_t)peer_window * 4;
    if (lim < (32u << 20))
        lim = 32u << 20;
    int32_t d = seq_diff(seq, h->next_seq);
    uint64_t ad = d < 0 ? (uint64_t)(-(int64_t)d) : (uint64_t)d;
    return ad > lim;
}

bool tcp_is_new_connection(const struct mbx_flow *f, const struct mbx_pkt *p, enum mbx_side sender)
{
    /* New data after an accepted reset (the endpoints ignored it, e.g. an
     * injected RST): a new flow, picked up mid-stream, so that no byte is
     * dropped silently. */
    if (f->end == MBX_END_RST && p->payload_len > 0 && !(p->tcp_flags & MBX_TCP_RST) &&
        (f->half[sender].hflags & H_ISN) && seq_geq(p->seq, f->half[sender].next_seq))
        return true;
    uint8_t sar = p->tcp_flags & (MBX_TCP_SYN | MBX_TCP_ACK | MBX_TCP_RST);
    const struct mbx_half *S = &f->half[sender], *R = &f->half[!sender];
    if (!(sar & (MBX_TCP_SYN | MBX_TCP_RST))) {
        /* Sequence and ACK far outside, or one of them after a FIN: a reuse of
         * the 4-tuple whose handshake the capture lost (Linux reuses a
         * TIME_WAIT tuple with the server's ISN 65538 past the old one). */
        bool far_seq = tcp_far(S, p->seq, R->window);
        bool far_ack = (sar & MBX_TCP_ACK) && tcp_far(R, p->ack, S->window);
        bool closing = f->end != MBX_END_NONE || ((S->hflags | R->hflags) & H_FIN);
        if ((far_seq && far_ack) || ((far_seq || far_ack) && closing))
            return true;
    }
    if (sar != MBX_TCP_SYN && sar != (MBX_TCP_SYN | MBX_TCP_ACK))
        return false;
    if ((S->hflags & H_SYN) && S->isn == p->seq)
        return false; /* a retransmitted SYN or SYN/ACK */
    /* A SYN or SYN/ACK with a new ISN from a side whose connection is
     * synchronized (or was picked up mid-stream): the 4-tuple was reused and
     * the capture missed the old connection's end (e.g. tcp_tw_reuse, loss). */
    if (S->state >= MBX_TCPS_ESTABLISHED && (S->hflags & H_SEEN))
        return true;
    if (sar != MBX_TCP_SYN)
        return false;
    if (f->end != MBX_END_NONE)
        return true;
    /* A SYN with a new ISN after this side closed (TIME_WAIT, CLOSED after a
     * FIN exchange) starts a new connection. */
    bool s_closed =
        S->state == MBX_TCPS_TIME_WAIT || S->state == MBX_TCPS_CLOSED || (S->hflags & H_FIN);
    bool r_closed =
        R->state == MBX_TCPS_TIME_WAIT || R->state == MBX_TCPS_CLOSED || (R->hflags & H_FIN);
    return (S->hflags & H_SEEN) && s_closed && r_closed;
}

/* RFC 9293 3.10.7: a reset is valid if its sequence number is in the
 * receiver's window (RCV.NXT <= seq < RCV.NXT + RCV.WND); in SYN_SENT if it
 * acknowledges the SYN.  The receiver's RCV.NXT is its last ACK, or what the
 * sender has sent when the receiver never acknowledged anything. */
static bool tcp_rst_ok(const struct mbx_half *S, const struct mbx_half *R, const struct mbx_pkt *p)
{
    if (R->state == MBX_TCPS_SYN_SENT && (R->hflags & H_SYN))
        return (p->tcp_flags & MBX_TCP_ACK) ? p->ack == R->isn + 1 : false;
    if (!(S->hflags & H_ISN))
        return true; /* nothing known about this side's sequence space */
    if (p->seq == S->next_seq)
        return true;
    uint32_t rcv_nxt = (R->tcp_flags & MBX_TCP_ACK) ? R->last_ack : S->next_seq;
    uint32_t wnd = R->window ? R->window : 1;
    if (wnd > (1u << 30))
        wnd = 1u << 30;
    return seq_in(p->seq, rcv_nxt, rcv_nxt + wnd);
}

static struct mbx_stream *side_stream(mbx_engine *e, struct mbx_flow *f, enum mbx_side s)
{
    struct mbx_stream *st = stream_get(e, f, s);
    if (!st && stream_wanted(e, f, s))
        st = stream_open(e, f, s);
    return st;
}

/* Close when both sides sent FIN, each FIN is acknowledged (so the last ACK
 * belongs to the connection) and every byte up to both FINs is here.  A
 * connection whose last ACK is never seen still ends as "fin" (flow_end). */
static void tcp_check_close(mbx_engine *e, struct mbx_flow *f)
{
    if (f->end != MBX_END_NONE || !(f->half[0].hflags & H_FIN) || !(f->half[1].hflags & H_FIN))
        return;
    for (int s = 0; s < 2; s++)
        if (!(f->half[!s].tcp_flags & MBX_TCP_ACK) ||
            seq_lt(f->half[!s].last_ack, f->half[s].fin_seq + 1))
            return;
    for (int s = 0; s < 2; s++) {
        struct mbx_stream *st = stream_get(e, f, (enum mbx_side)s);
        if (st && !stream_complete(e, st))
            return;
    }
    flow_end(e, f, MBX_END_FIN);
}

static void tcp_syn(mbx_engine *e, struct mbx_flow *f, enum mbx_side s, const struct mbx_pkt *p)
{
    struct mbx_half *S = &f->half[s], *R = &f->half[!s];
    bool ack = p->tcp_flags & MBX_TCP_ACK;
    uint8_t before = S->state;
    if (!ack && !(f->fflags & F_SYNEV)) {
        f->fflags |= F_SYNEV;
        if (disp_want(e, MBX_EV_TCP_SYN))
            disp_flow_event(e, MBX_EV_TCP_SYN, f, s);
    }
    bool same = (S->hflags & H_SYN) && S->isn == p->seq;
    if (S->state > MBX_TCPS_SYN_RECEIVED) {
        /* A synchronized side: only a retransmission of its own SYN gets here
         * (a new ISN made a new connection in flow_get()).  A SYN/ACK still
         * acknowledges the peer's SYN (simultaneous open). */
        if (same) {
            S->rexmits++;
            e->stats.rexmits++;
        }
        if (ack && (R->state == MBX_TCPS_SYN_SENT || R->state == MBX_TCPS_SYN_RECEIVED) &&
            (R->hflags & H_ISN) && p->ack == R->isn + 1)
            set_state(e, f, (enum mbx_side) !s, MBX_TCPS_ESTABLISHED);
        return;
    }
    if (!same) {
        S->isn = p->seq;
        S->next_seq = p->seq + 1;
        S->hflags |= H_SYN | H_ISN;
    }
    if (!ack) {
        if (S->state == MBX_TCPS_CLOSED || S->state == MBX_TCPS_LISTEN)
            set_state(e, f, s, MBX_TCPS_SYN_SENT);
        if (R->hflags & H_SYN) { /* simultaneous open or split handshake */
            set_state(e, f, s, MBX_TCPS_SYN_RECEIVED);
            if (R->state == MBX_TCPS_SYN_SENT)
                set_state(e, f, (enum mbx_side) !s, MBX_TCPS_SYN_RECEIVED);
        }
    } else {
        if (S->state == MBX_TCPS_CLOSED || S->state == MBX_TCPS_LISTEN ||
            S->state == MBX_TCPS_SYN_SENT)
            set_state(e, f, s, MBX_TCPS_SYN_RECEIVED);
        /* The receiver's SYN is acknowledged: it is established (RFC 9293:
         * SYN_SENT or SYN_RECEIVED receiving an acceptable SYN/ACK). */
        if (!(R->hflags & H_ISN)) {
            R->isn = p->ack - 1;
            R->next_seq = p->ack;
            R->hflags |= H_SYN | H_ISN;
        }
        if ((R->state == MBX_TCPS_SYN_SENT || R->state == MBX_TCPS_SYN_RECEIVED) &&
            p->ack == R->isn + 1)
            set_state(e, f, (enum mbx_side) !s, MBX_TCPS_ESTABLISHED);
    }
    if (same && before == S->state) {
        S->rexmits++;
        e->stats.rexmits++;
    }
}

void tcp_packet(mbx_engine *e, struct mbx_flow *f, const struct mbx_pkt *p, enum mbx_side s)
{
    struct mbx_half *S = &f->half[s], *R = &f->half[!s];
    uint8_t fl = p->tcp_flags;
    uint32_t wire_len = p->payload_len;
    if (p->pflags & MBX_PKT_TRUNCATED) {
        uint32_t hdr = (uint32_t)(p->l4_off - p->l3_off) + p->tcp_hlen;
        if (p->ip_len > hdr && p->ip_len - hdr > wire_len)
            wire_len = p->ip_len - hdr;
    }
    S->pkts++;
    S->bytes += p->ip_len;
    S->payload += wire_len;
    S->tcp_flags |= fl;
    S->hflags |= H_SEEN;
    if (f->end != MBX_END_NONE)
        return; /* closed: late ACKs and retransmissions are only counted */

    if (fl & MBX_TCP_SYN) {
        if (p->opts & MBX_OPT_MSS)
            S->mss = p->mss;
        if (p->opts & MBX_OPT_WSCALE) {
            S->wscale = p->wscale;
            S->hflags |= H_WS;
        }
        S->window = p->win;
    } else {
        bool ws = (S->hflags & H_WS) && (R->hflags & H_WS);
        S->window = (uint32_t)p->win << (ws ? S->wscale : 0);
    }

    if (fl & MBX_TCP_RST) {
        if (!tcp_rst_ok(S, R, p)) {
            e->stats.rst_out_of_window++;
            return;
        }
        for (int i = 0; i < 2; i++) {
            struct mbx_stream *st = stream_get(e, f, (enum mbx_side)i);
            if (st)
                stream_deliver(e, st, true, MBX_GAP_LOSS);
        }
        set_state(e, f, s, MBX_TCPS_CLOSED);
        set_state(e, f, (enum mbx_side) !s, MBX_TCPS_CLOSED);
        flow_end(e, f, MBX_END_RST);
        flow_set_class(e, f, LRU_CLOSING);
        return;
    }

    if (fl & MBX_TCP_SYN) {
        tcp_syn(e, f, s, p);
    } else if ((fl & MBX_TCP_ACK) &&
               (S->state == MBX_TCPS_SYN_SENT || S->state == MBX_TCPS_SYN_RECEIVED)) {
        /* The third packet of the handshake (or, one-sided, the only sign of it). */
        if (!(R->hflags & H_ISN)) {
            R->isn = p->ack - 1;
            R->next_seq = p->ack;
            R->hflags |= H_SYN | H_ISN;
        }
        set_state(e, f, s, MBX_TCPS_ESTABLISHED);
        if (R->state == MBX_TCPS_LISTEN || R->state == MBX_TCPS_CLOSED)
            set_state(e, f, (enum mbx_side) !s, MBX_TCPS_ESTABLISHED);
    }

    if (fl & MBX_TCP_ACK) {
        S->last_ack = p->ack;
        if (!(R->hflags & H_ISN)) { /* one-sided so far: the peer's stream starts here */
            R->isn = R->next_seq = p->ack;
            R->hflags |= H_ISN;
        }
        if (R->state == MBX_TCPS_SYN_RECEIVED && (R->hflags & H_SYN) &&
            seq_geq(p->ack, R->isn + 1) && !(fl & MBX_TCP_SYN))
            set_state(e, f, (enum mbx_side) !s, MBX_TCPS_ESTABLISHED);
        if ((R->hflags & H_FIN) && seq_geq(p->ack, R->fin_seq + 1)) {
            if (R->state == MBX_TCPS_FIN_WAIT_1)
                set_state(e, f, (enum mbx_side) !s, MBX_TCPS_FIN_WAIT_2);
            else if (R->state == MBX_TCPS_CLOSING)
                set_state(e, f, (enum mbx_side) !s, MBX_TCPS_TIME_WAIT);
            else if (R->state == MBX_TCPS_LAST_ACK)
                set_state(e, f, (enum mbx_side) !s, MBX_TCPS_CLOSED);
        }
    }
    if (!(f->fflags & (F_OPEN | F_MIDSTREAM)) && f->half[0].state == MBX_TCPS_ESTABLISHED &&
        f->half[1].state == MBX_TCPS_ESTABLISHED) {
        f->fflags |= F_OPEN;
        flow_set_class(e, f, LRU_EST);
        if (disp_want(e, MBX_EV_TCP_OPEN))
            disp_flow_event(e, MBX_EV_TCP_OPEN, f, s);
    }
    if (fl & MBX_TCP_ACK) {
        struct mbx_stream *rs = side_stream(e, f, (enum mbx_side) !s);
        if (rs) {
            stream_set_ack(rs, seq_to_off(p->ack, rs->base_seq, rs->end_off));
            stream_deliver(e, rs, false, MBX_GAP_LOSS);
        }
    }

    uint32_t data_seq = p->seq + ((fl & MBX_TCP_SYN) ? 1 : 0);
    if (!(S->hflags & H_ISN)) {
        S->isn = S->next_seq = data_seq;
        S->hflags |= H_ISN;
    }
    if (wire_len > 0) {
        /* A retransmission overlaps bytes seen before: the stream knows exactly
         * (a segment filling a hole is not one); without a stream, or past the
         * depth, a segment that starts before the highest sequence sent. */
        bool rexmit = seq_lt(data_seq, S->next_seq);
        struct mbx_stream *st = side_stream(e, f, s);
        bool incons = false;
        if (st) {
            bool past_depth = e->cfg.stream_depth && st->end_off >= e->cfg.stream_depth;
            int r = stream_insert(e, st, seq_to_off(data_seq, st->base_seq, st->end_off),
                                  p->payload, p->payload_len, wire_len);
            incons = r & STREAM_INCONSISTENT;
            if (!past_depth)
                rexmit = r & STREAM_OVERLAP;
        }
        if (rexmit) {
            S->rexmits++;
            e->stats.rexmits++;
        }
        if (incons) {
            S->inconsistent++;
            e->stats.inconsistent_rexmits++;
        }
        if ((rexmit || incons) && disp_want(e, MBX_EV_TCP_REXMIT)) {
            struct mbx_event ev;
            memset(&ev, 0, sizeof(ev));
            ev.id = MBX_EV_TCP_REXMIT;
            ev.engine = e;
            ev.flow = f;
            ev.pkt = p;
            ev.side = s;
            ev.inconsistent = incons;
            disp_fire(e, &ev);
        }
        if (st)
            stream_deliver(e, st, false, MBX_GAP_LOSS);
    }
    uint32_t end = data_seq + wire_len + ((fl & MBX_TCP_FIN) ? 1 : 0);
    if (seq_gt(end, S->next_seq))
        S->next_seq = end;

    if (fl & MBX_TCP_FIN) {
        uint32_t fin_seq = data_seq + wire_len;
        if (!(S->hflags & H_FIN)) {
            S->hflags |= H_FIN;
            S->fin_seq = fin_seq;
            if (S->state == MBX_TCPS_CLOSE_WAIT)
                set_state(e, f, s, MBX_TCPS_LAST_ACK);
            else if (S->state != MBX_TCPS_LAST_ACK && S->state != MBX_TCPS_CLOSING &&
                     S->state != MBX_TCPS_TIME_WAIT && S->state != MBX_TCPS_CLOSED)
                set_state(e, f, s, MBX_TCPS_FIN_WAIT_1);
            if (R->state == MBX_TCPS_FIN_WAIT_1)
                set_state(e, f, (enum mbx_side) !s, MBX_TCPS_CLOSING);
            else if (R->state == MBX_TCPS_FIN_WAIT_2)
                set_state(e, f, (enum mbx_side) !s, MBX_TCPS_TIME_WAIT);
            else if (R->state != MBX_TCPS_CLOSING && R->state != MBX_TCPS_TIME_WAIT &&
                     R->state != MBX_TCPS_LAST_ACK && R->state != MBX_TCPS_CLOSED)
                set_state(e, f, (enum mbx_side) !s, MBX_TCPS_CLOSE_WAIT);
        }
        struct mbx_stream *st = side_stream(e, f, s);
        if (st) {
            stream_set_fin(st, seq_to_off(S->fin_seq, st->base_seq, st->end_off));
            stream_deliver(e, st, false, MBX_GAP_LOSS);
        }
    }
    if ((f->half[0].hflags | f->half[1].hflags) & H_FIN)
        flow_set_class(e, f, LRU_CLOSING);
    else if (f->lru == LRU_SYN && (S->state == MBX_TCPS_ESTABLISHED || wire_len))
        flow_set_class(e, f, LRU_EST); /* one-sided handshakes, data before the open */
    tcp_check_close(e, f);
}

void udp_packet(mbx_engine *e, struct mbx_flow *f, const struct mbx_pkt *p, enum mbx_side s)
{
    struct mbx_half *S = &f->half[s];
    S->pkts++;
    S->bytes += p->ip_len;
    S->payload += p->payload_len;
    S->hflags |= H_SEEN;
    S->delivered += p->payload_len;
    if (disp_want(e, MBX_EV_UDP_DATA)) {
        /* On UDP a side's stream is the current datagram (LANGUAGE.md 8). */
        struct mbx_stream *st = &e->udp_stream;
        memset(st, 0, sizeof(*st));
        st->buf = (uint8_t *)(uintptr_t)p->payload; /* read-only through the API */
        st->cap = p->payload_len;
        st->end_off = st->new_len = st->hi_off = p->payload_len;
        st->sflags = S_OPEN | S_INDATA;
        st->side = (uint8_t)s;
        st->flow = flow_index(e, f);
        e->udp_cur = f;
        disp_flow_event(e, MBX_EV_UDP_DATA, f, s);
        e->udp_cur = NULL;
        st->sflags = 0;
    }
}

const char *mbx_tcp_state_name(enum mbx_tcp_state s)
{
    static const char *const names[] = {
#define MBX_X_(id, text) text,
        MBX_TCP_STATES(MBX_X_)
#undef MBX_X_
    };
    if ((unsigned)s >= sizeof(names) / sizeof(names[0]))
        return "?";
    return names[s];
}

const char *mbx_flow_end_name(enum mbx_flow_end e)
{
    static const char *const names[] = {"none",    "fin", "rst",   "timeout",
                                        "evicted", "eof", "reused"};
    if ((unsigned)e >= sizeof(names) / sizeof(names[0]))
        return "?";
    return names[e];
}
