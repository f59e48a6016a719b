/*
 * challenge.c - RFC 5961's checks and the throttling of their answers
 * (the contract, and the RFC behind each rule: challenge.h).
 */
#include "challenge.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "clock.h"

#define MS_IN_NS        1000000u
#define S_IN_NS         1000000000u

static struct {
    const struct shunt_clock *clock;
    uint64_t ratelimit_ns;              /* 0: no limit per connection */
    uint32_t ack_limit;
    uint8_t ext_id;                     /* the pcb slot of its last answer */
    /* The instance's allowance (RFC 5961 7): the second it is for, and
     * the challenge ACKs left in it. */
    uint64_t second;
    uint32_t left;
} ch = { .ext_id = 0xff };

void shunt_challenge_init(const struct shunt_clock *clock, uint32_t invalid_ratelimit_ms,
                          uint32_t challenge_ack_limit)
{
    ch.clock = clock;
    ch.ratelimit_ns = (uint64_t)invalid_ratelimit_ms * MS_IN_NS;
    ch.ack_limit = challenge_ack_limit;
    /* lwIP hands out ext-arg slots once per process, and never back. */
    if (ch.ext_id == 0xff)
        ch.ext_id = tcp_ext_arg_alloc_id();
    ch.second = UINT64_MAX;
    ch.left = 0;
}

/* ---- The limits (RFC 5961 7) ------------------------------------------- */

/*
 * The connection's limit: one answer per ratelimit_ns (Linux's
 * __tcp_oow_rate_limited).  The pcb's slot holds the time of its last
 * answer plus one, not a pointer: 0, lwIP's initial value, is "never".
 * An answer not held back is counted as given from now on.
 */
static bool connection_limited(struct tcp_pcb *pcb, uint64_t now)
{
    uint64_t last = (uintptr_t)tcp_ext_arg_get(pcb, ch.ext_id);

    if (ch.ratelimit_ns != 0 && last != 0 && now - (last - 1) < ch.ratelimit_ns)
        return true;
    tcp_ext_arg_set(pcb, ch.ext_id, (void *)(uintptr_t)(now + 1));
    return false;
}

/* The instance's limit: each second of the clock a fresh allowance drawn
 * from [half, limit + half), half = (limit + 1) / 2, as Linux's. */
static bool instance_limited(uint64_t now)
{
    if (ch.ack_limit == SHUNT_CHALLENGE_ACK_LIMIT)
        return false;
    if (now / S_IN_NS != ch.second) {
        uint32_t half = (ch.ack_limit + 1) / 2;

        ch.second = now / S_IN_NS;
        ch.left = half + LWIP_RAND() % ch.ack_limit;
    }
    if (ch.left == 0)
        return true;
    ch.left--;
    return false;
}

/* A challenge ACK (RFC 5961 3.2, 4.2, 5.2): SEQ = SND.NXT, ACK = RCV.NXT,
 * through both limits, the connection's first as Linux's. */
static enum shunt_challenge_verdict challenge(struct tcp_pcb *pcb)
{
    uint64_t now = shunt_clock_ns(ch.clock);

    if (connection_limited(pcb, now) || instance_limited(now))
        return SHUNT_CHALLENGE_THROTTLED;
    tcp_send_empty_ack(pcb);
    return SHUNT_CHALLENGE_ANSWERED;
}

/* ---- The rules ---------------------------------------------------------- */

/* The states RFC 5961 calls synchronized, TIME-WAIT aside (lwIP's). */
static bool synchronized(const struct tcp_pcb *pcb)
{
    return pcb->state >= ESTABLISHED && pcb->state != TIME_WAIT;
}

/* RCV.NXT =< SEG.SEQ < RCV.NXT + RCV.WND (RFC 793 3.9, RFC 5961 3.2). */
static bool in_window(const struct tcp_pcb *pcb, uint32_t seq)
{
    return pcb->rcv_wnd != 0 && TCP_SEQ_GEQ(seq, pcb->rcv_nxt) &&
           TCP_SEQ_LT(seq, pcb->rcv_nxt + pcb->rcv_wnd);
}

/* A segment without data (RFC 793 3.9): with no window, only at RCV.NXT. */
static bool empty_acceptable(const struct tcp_pcb *pcb, uint32_t seq)
{
    return pcb->rcv_wnd == 0 ? seq == pcb->rcv_nxt : in_window(pcb, seq);
}

/* (SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT (RFC 5961 5.2). */
static bool ack_acceptable(const struct tcp_pcb *pcb, uint32_t ack)
{
    return TCP_SEQ_GEQ(ack, pcb->lastack - pcb->snd_wnd_max) &&
           TCP_SEQ_LEQ(ack, pcb->snd_nxt);
}

enum shunt_challenge_verdict shunt_challenge_check(struct tcp_pcb *pcb,
                                                   const struct tcp_hdr *hdr,
                                                   uint16_t datalen)
{
    uint8_t flags = TCPH_FLAGS(hdr);

    if (!synchronized(pcb))
        return SHUNT_CHALLENGE_PASS;
    /* RFC 5961 3.2: only an RST exactly at RCV.NXT resets; one elsewhere in
     * the window may be a blind attacker's, so the peer is asked (the
     * challenge ACK) and a genuine peer resets again at the right place. */
    if (flags & TCP_RST) {
        if (hdr->seqno == pcb->rcv_nxt)
            return SHUNT_CHALLENGE_PASS;
        return in_window(pcb, hdr->seqno) ? challenge(pcb) : SHUNT_CHALLENGE_DROPPED;
    }
    /* RFC 5961 4.2: a SYN on a synchronized connection, in the window or
     * not, draws a challenge ACK; a peer that really restarted answers it
     * with an RST at exactly RCV.NXT. */
    if (flags & TCP_SYN)
        return challenge(pcb);
    /* RFC 793 3.9: "if the ACK bit is off drop the segment and return". */
    if (!(flags & TCP_ACK))
        return SHUNT_CHALLENGE_DROPPED;
    /* RFC 5961 5.2: data whose ACK is far behind SND.UNA (or ahead of what
     * was sent) is likely injected: refused, and the peer told where we are. */
    if (!ack_acceptable(pcb, hdr->ackno))
        return challenge(pcb);
    /* RFC 793 3.9 with RFC 5961 7: a segment without data outside the
     * window gets lwIP's ACK, at most one per limit's interval, so two
     * stacks that disagree on the window cannot ACK each other forever. */
    if (datalen == 0 && !(flags & TCP_FIN) && !empty_acceptable(pcb, hdr->seqno) &&
        connection_limited(pcb, shunt_clock_ns(ch.clock)))
        return SHUNT_CHALLENGE_THROTTLED;
    return SHUNT_CHALLENGE_PASS;
}
