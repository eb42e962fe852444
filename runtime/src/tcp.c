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
 *
 * Window bounds.  A gap can never be larger than what the sender could have
 * sent: a side may send at most its peer's advertised window (scaled; by 14
 * when the handshake was not seen) beyond what it is known to have reached.
 * An ACK past that (stats ack_out_of_window) or a segment past it
 * (seq_out_of_window) is a later connection on a reused 4-tuple, a flipped or
 * an injected packet, not loss: the ACK moves nothing, the segment is
 * dropped.  Only when both ends agree on a jump, on a connection whose
 * handshake was seen, is it taken as loss of more than a window in both
 * directions.  A sequence number that jumped by what the ISN clock advanced
 * since the side's SYN starts a new connection (tcp_is_new_connection).
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

/* How far past the point side rcv acknowledged its peer may send: the largest
 * window rcv advertised, scaled.  The scale is known when both SYNs were seen;
 * otherwise it is taken as 14, the largest RFC 7323 allows, so that no real
 * gap is refused.  At least 64 KiB. */
static uint64_t tcp_win_bound(const struct mbx_flow *f, enum mbx_side rcv)
{
    const struct mbx_half *h = &f->half[rcv], *o = &f->half[!rcv];
    unsigned shift = 14;
    if ((h->hflags & H_SYNOPT) && (o->hflags & H_SYNOPT))
        shift = (h->hflags & H_WS) && (o->hflags & H_WS) ? h->wscale : 0;
    if (shift > 14)
        shift = 14;
    uint64_t w = (uint64_t)h->win_max << shift;
    return w < 65535 ? 65535 : w;
}

/* Both SYNs were seen: the window bounds are exact, the connection's identity
 * is known from its handshake. */
static bool tcp_handshake_seen(const struct mbx_flow *f)
{
    return (f->half[0].hflags & H_SYNOPT) && (f->half[1].hflags & H_SYNOPT);
}

/* The highest sequence number side s is known to have reached: the end of
 * what it sent, or what its peer acknowledged (in-window ACKs only). */
static uint32_t tcp_reach(const struct mbx_flow *f, enum mbx_side s)
{
    const struct mbx_half *h = &f->half[s], *o = &f->half[!s];
    if ((o->hflags & H_ACKED) && seq_gt(o->last_ack, h->next_seq))
        return o->last_ack;
    return h->next_seq;
}

/* seq lies far from where side s is known to be: more than two of its
 * peer's windows (and 1 MiB) away.  No receiver would accept it. */
static bool tcp_far(const struct mbx_flow *f, enum mbx_side s, uint32_t seq)
{
    if (!(f->half[s].hflags & H_ISN))
        return false;
    uint64_t lim = 2 * tcp_win_bound(f, (enum mbx_side) !s);
    if (lim < (1u << 20))
        lim = 1u << 20;
    int32_t d = seq_diff(seq, tcp_reach(f, s));
    uint64_t ad = d < 0 ? (uint64_t)(-(int64_t)d) : (uint64_t)d;
    return ad > lim;
}

static struct mbx_stream *side_stream(mbx_engine *e, struct mbx_flow *f, enum mbx_side s,
                                      uint32_t upto);

/* Side s sent its FIN at sequence number fin_seq. */
static void tcp_fin(mbx_engine *e, struct mbx_flow *f, enum mbx_side s, uint32_t fin_seq)
{
    struct mbx_half *S = &f->half[s], *R = &f->half[!s];
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
    struct mbx_stream *st = side_stream(e, f, s, S->fin_seq);
    if (st) {
        stream_set_fin(st, seq_to_off(S->fin_seq, st->base_seq, st->end_off));
        stream_deliver(e, st, false, MBX_GAP_LOSS);
    }
}

/* Side s re-synchronizes on the segment it sent past the window (dropped):
 * it reached the segment's end, and its FIN if the segment carried one
 * (recorded then as fin_seq == oow_next, see tcp_segment_in_window). */
static void tcp_resync(mbx_engine *e, struct mbx_flow *f, enum mbx_side s)
{
    struct mbx_half *S = &f->half[s];
    S->hflags &= (uint8_t)~H_OOW;
    S->next_seq = seq_max(S->next_seq, f->oow_next);
    if (!(S->hflags & H_FIN) && S->fin_seq == f->oow_next) {
        S->next_seq = seq_max(S->next_seq, f->oow_next + 1);
        tcp_fin(e, f, s, f->oow_next);
    }
}

/* An ACK from side s acknowledges bytes its peer cannot have sent: past what
 * the peer is known to have reached by more than s's window.  Such an ACK
 * (from a later connection on the 4-tuple, a flipped or an injected packet)
 * is not loss; it is counted and ignored. */
static bool tcp_ack_past_window(mbx_engine *e, struct mbx_flow *f, enum mbx_side s, uint32_t ack)
{
    struct mbx_half *R = &f->half[!s];
    if (!(R->hflags & H_ISN))
        return false;
    uint64_t bound = tcp_win_bound(f, s);
    int32_t d = seq_diff(ack, tcp_reach(f, (enum mbx_side) !s));
    if (d <= 0 || (uint64_t)d <= bound)
        return false;
    /* It acknowledges up to the bytes of the peer's segment dropped past the
     * window: both ends agree, re-synchronize (tcp_segment_in_window). */
    int32_t r = seq_diff(ack, f->oow_next);
    if ((R->hflags & H_OOW) && r <= 0 && (uint64_t)(-(int64_t)r) <= bound &&
        tcp_handshake_seen(f)) {
        tcp_resync(e, f, (enum mbx_side) !s);
        return false;
    }
    return true;
}

/* seq, sent by side h at time ts, is where a new connection on this 4-tuple
 * would start: RFC 6528 ISNs are a keyed hash of the 4-tuple (the same for a
 * reused 4-tuple) plus a clock, which Linux ticks every 64 ns
 * (net/core/secure_seq.c), so a later connection's ISN lies the clock's
 * advance since this one's SYN past this one's ISN.  h's SYN was seen at
 * the flow's start; the new SYN may have been sent up to ~256 ms before
 * ts, and the new connection may have sent up to 1 MiB since. */
static bool tcp_isn_clock_match(const struct mbx_flow *f, const struct mbx_half *h, uint32_t seq,
                                mbx_time ts)
{
    if (!(h->hflags & H_SYNOPT) || ts <= f->start)
        return false;
    uint64_t ticks = (ts - f->start) / 64; /* nanoseconds -> 64 ns ticks */
    if (ticks > (1ull << 31))
        return false; /* past half the sequence space (~137 s): ambiguous */
    int64_t jump = (int64_t)(uint32_t)(seq - h->isn);
    int64_t lo = (int64_t)ticks - (4 << 20), hi = (int64_t)ticks + (1 << 20);
    return jump >= lo && jump <= hi;
}

bool tcp_is_new_connection(const struct mbx_flow *f, const struct mbx_pkt *p, enum mbx_side sender)
{
    /* Data after an accepted reset (the peer's segments in flight, an endpoint
     * that ignored an injected RST) is no new connection (RFC 9293 3.10.7.4:
     * the connection is CLOSED); it is counted on the lingering flow. */
    uint8_t sar = p->tcp_flags & (MBX_TCP_SYN | MBX_TCP_ACK | MBX_TCP_RST);
    const struct mbx_half *S = &f->half[sender], *R = &f->half[!sender];
    if (!(sar & (MBX_TCP_SYN | MBX_TCP_RST))) {
        /* Sequence and ACK far outside, or one of them after a FIN: a reuse of
         * the 4-tuple whose handshake the capture lost (Linux reuses a
         * TIME_WAIT tuple with the server's ISN 65538 past the old one). */
        bool far_seq = tcp_far(f, sender, p->seq);
        bool far_ack = (sar & MBX_TCP_ACK) && tcp_far(f, (enum mbx_side) !sender, p->ack);
        bool closing = f->end != MBX_END_NONE || ((S->hflags | R->hflags) & H_FIN);
        if ((far_seq && far_ack) || ((far_seq || far_ack) && closing))
            return true;
        /* Only the sender's side jumped, but by what the ISN clock advanced
         * since its SYN: a new connection whose handshake was lost, answered
         * by a peer whose sequence number happens to lie near the old one
         * (seen on a lossy capture of wrk with tcp_tw_reuse). */
        if (far_seq && tcp_isn_clock_match(f, S, p->seq, p->ts))
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
    /* After the end (a reset accepted in the handshake, then ignored by the
     * client: suricata-verify bug-3286-02/03), a SYN or SYN/ACK with a new ISN
     * opens a new connection. */
    if (f->end != MBX_END_NONE)
        return true;
    if (sar != MBX_TCP_SYN)
        return false;
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
    uint32_t rcv_nxt = (R->hflags & H_ACKED) ? R->last_ack : S->next_seq;
    uint32_t wnd = R->window ? R->window : 1;
    if (wnd > (1u << 30))
        wnd = 1u << 30;
    return seq_in(p->seq, rcv_nxt, rcv_nxt + wnd);
}

/* Side s's stream, opened if a subscription reads it and the side has sent
 * stream bytes before sequence number upto (seen or not: a FIN or an ACK past
 * its first byte means bytes were sent).  A side that sent no byte has no
 * stream state: a SYN-only flow costs the same whether streams are read or not. */
static struct mbx_stream *side_stream(mbx_engine *e, struct mbx_flow *f, enum mbx_side s,
                                      uint32_t upto)
{
    struct mbx_stream *st = stream_get(e, f, s);
    const struct mbx_half *h = &f->half[s];
    if (!st && (h->hflags & H_ISN) && seq_gt(upto, half_base_seq(h)) && stream_wanted(e, f, s))
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
        if (!(f->half[!s].hflags & H_ACKED) || seq_lt(f->half[!s].last_ack, f->half[s].fin_seq + 1))
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

/* A segment (bytes or FIN, not a SYN) from side s that ends past what s is
 * known to have reached by more than its peer's window is dropped, as the
 * receiver would drop it (RFC 9293 3.10.7.4): its bytes cannot belong to
 * this connection's stream (a later connection on the 4-tuple, a flipped or
 * an injected packet).  It is counted; no gap is made of it.  A second such
 * segment that starts within a window of the first one's end re-synchronizes
 * the side, and so does an ACK from the peer that acknowledges up to the
 * dropped bytes: the sender really went on from there (loss of more than a
 * window of both directions, as in Zeek's cut ftp/bigtransfer.pcap), and the
 * hole before it, the dropped bytes included, is a gap once acknowledged.
 * Only on a connection whose handshake was seen: picked up mid-stream, the
 * window scale is a guess and a later connection on the 4-tuple whose SYNs
 * were lost looks the same (on a lossy capture of 2000 keep-alive clients with
 * port reuse, both ends "agreed" on a client jump of 138 MB). */
static bool tcp_segment_in_window(mbx_engine *e, struct mbx_flow *f, const struct mbx_pkt *p,
                                  enum mbx_side s, uint32_t wire_len)
{
    struct mbx_half *S = &f->half[s];
    if ((!wire_len && !(p->tcp_flags & MBX_TCP_FIN)) || (p->tcp_flags & MBX_TCP_SYN) ||
        !(S->hflags & H_ISN))
        return true;
    uint32_t end = p->seq + wire_len;
    uint64_t bound = tcp_win_bound(f, (enum mbx_side) !s);
    int32_t d = seq_diff(end, tcp_reach(f, s));
    if (d <= 0 || (uint64_t)d <= bound)
        return true;
    e->stats.seq_out_of_window++;
    if ((S->hflags & H_OOW) && tcp_handshake_seen(f)) {
        int32_t r = seq_diff(p->seq, f->oow_next);
        if ((uint64_t)(r < 0 ? -(int64_t)r : r) <= bound) {
            tcp_resync(e, f, s);
            return true;
        }
    }
    if (wire_len) { /* a bare FIN carries no bytes: no evidence to re-synchronize on */
        f->oow_next = end;
        S->hflags |= H_OOW;
        f->half[!s].hflags &= (uint8_t)~H_OOW;
        if (!(S->hflags & H_FIN)) /* fin_seq is free: it says whether a FIN came with it */
            S->fin_seq = (p->tcp_flags & MBX_TCP_FIN) ? end : end + 1;
    }
    return false;
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
        S->hflags |= H_SYNOPT;
        S->window = p->win;
    } else {
        bool ws = (S->hflags & H_WS) && (R->hflags & H_WS);
        S->window = (uint32_t)p->win << (ws ? S->wscale : 0);
        if (p->win > S->win_max)
            S->win_max = p->win;
    }
    /* Window bounds (RFC 9293 3.10.7.4, RFC 5961 5.2): an ACK of bytes the peer
     * cannot have sent yet is ignored, so no gap is made of it; a segment past
     * the peer's window is counted (its bytes exist and are kept). */
    bool ack_ok = fl & MBX_TCP_ACK;
    if (ack_ok && !(fl & MBX_TCP_SYN) && tcp_ack_past_window(e, f, s, p->ack)) {
        ack_ok = false;
        e->stats.ack_out_of_window++;
    }
    bool seg_ok = tcp_segment_in_window(e, f, p, s, wire_len);

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
        flow_end(e, f, MBX_END_RST); /* it lingers (LRU_ENDED) */
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

    if (ack_ok) {
        S->last_ack = p->ack;
        S->hflags |= H_ACKED;
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
    if (ack_ok) {
        uint32_t upto = (R->hflags & H_FIN) && seq_geq(p->ack, R->fin_seq) ? R->fin_seq : p->ack;
        struct mbx_stream *rs = side_stream(e, f, (enum mbx_side) !s, upto);
        if (rs) {
            stream_set_ack(rs, seq_to_off(p->ack, rs->base_seq, rs->end_off));
            stream_deliver(e, rs, false, MBX_GAP_LOSS);
        }
    }

    if (!seg_ok) {
        tcp_check_close(e, f);
        return;
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
        struct mbx_stream *st = side_stream(e, f, s, data_seq + wire_len);
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

    if (fl & MBX_TCP_FIN)
        tcp_fin(e, f, s, data_seq + wire_len);
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
        st->eng = e;
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
