/*
 * recovery.c - loss detection, the retransmission timer and the response
 * to loss (the contract, and the RFC behind each rule: recovery.h).
 */
#include "recovery.h"

#include <string.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "cc.h"
#include "clock.h"
#include "pcbstate.h"

/* A segment's marks (struct tcp_seg's shunt_marks, port/lwipopts.h). */
#define SEG_SACKED      0x01    /* the peer holds it (SACK) */
#define SEG_LOST        0x02    /* judged lost, back on the unsent queue */
#define SEG_RETRANS     0x04    /* sent more than once */

#define RTO_INITIAL_US  1000000u        /* RFC 6298 2.1 */
#define DELACK_MAX_US   200000u         /* RFC 8985 7.2: WCDelAckT */
#define DUPTHRESH       3               /* RFC 8985 6.2 step 4 (and RFC 5681) */
#define TCP_OPT_SACK    5
#define SACK_BLOCKS_MAX 4
#define REO_MULT_MAX    16              /* RFC 8985 6.2 step 4: reo_wnd_mult's bound */

enum early { EARLY_NONE, EARLY_TLP, EARLY_REORDER };

/* A connection's state, from its first segment sent to lwIP's free. */
struct conn {
    uint32_t srtt_us, rttvar_us, min_rtt_us;    /* 0: no sample yet */
    uint8_t backoff;                            /* RTO expiries in a row */
    uint64_t rto_at;                            /* 0: the RTO timer is off */
    uint64_t early_at;                          /* TLP or RACK's timer; 0: off */
    enum early early;
    /* RACK (RFC 8985 6.1): the most recently sent segment delivered. */
    uint64_t rack_sent_ns;
    uint32_t rack_end, rack_rtt_us;
    uint32_t fack;                              /* highest end SACKed */
    bool reordering_seen;
    uint8_t reo_mult;                           /* reo_wnd in min_rtt / 4 (DSACKs) */
    /* Recovery (RFC 6675 / RFC 6582) and the probe (RFC 8985 7). */
    bool in_recovery;
    bool in_loss;                               /* after an RTO, until recover */
    uint32_t recover;                           /* snd_nxt when either began */
    tcpwnd_size_t ssthresh;                     /* the real one, in recovery */
    /* PRR (RFC 6937 3): bytes delivered to the peer and sent by us since
     * recovery began, and the flight then. */
    uint32_t prr_delivered, prr_out, recover_fs;
    /* Undo (RFC 2883 and Linux's undo; RFC 5682): the window before the
     * episode's cut, where the episode began, and the bytes it sent again
     * that the peer has not reported as duplicates (DSACK). */
    bool undo_armed, retransmitted;
    uint32_t undo_marker, undo_retrans;
    tcpwnd_size_t prior_ssthresh;
    /* F-RTO (RFC 5682 3.1): 1 after the timeout sent the first segment
     * again, 2 after new data went (step 2b); when the timeout fired. */
    uint8_t frto;
    uint64_t rto_ns;
    bool probe_out;
    uint32_t probe_end;
    bool lost_marked;                           /* SEG_LOST segments may be on unacked */
};

static struct {
    const struct shunt_clock *clock;
    uint32_t rto_min_us, rto_max_us;
    uint64_t next_due;                          /* earliest timer; 0: none */
    struct shunt_recovery_stats stats;
    struct shunt_pcb_pool pool;
    struct conn conns[MEMP_NUM_TCP_PCB];        /* lwIP has no more pcbs */
} rec = { .pool = SHUNT_PCB_POOL_NEW };

static uint64_t now_ns(void)
{
    return shunt_clock_ns(rec.clock);
}

void shunt_recovery_init(const struct shunt_clock *clock, uint32_t rto_min_us,
                         uint32_t rto_max_us)
{
    rec.clock = clock;
    rec.rto_min_us = rto_min_us;
    rec.rto_max_us = rto_max_us;
    rec.next_due = 0;
    memset(&rec.stats, 0, sizeof(rec.stats));
    shunt_pcb_pool_init(&rec.pool, rec.conns, sizeof(rec.conns[0]), MEMP_NUM_TCP_PCB);
}

static struct conn *conn_find(const struct tcp_pcb *pcb)
{
    return shunt_pcb_pool_find(&rec.pool, pcb);
}

/* pcb's state, a fresh one on its first segment sent. */
static struct conn *conn_get(struct tcp_pcb *pcb)
{
    bool fresh;

    return shunt_pcb_pool_get(&rec.pool, pcb, &fresh);
}

static uint32_t seg_seq(const struct tcp_seg *seg)
{
    return lwip_ntohl(seg->tcphdr->seqno);
}

static uint32_t seg_end(const struct tcp_seg *seg)
{
    return seg_seq(seg) + TCP_TCPLEN(seg);
}

static void due_at(uint64_t t)
{
    if (t != 0 && (rec.next_due == 0 || t < rec.next_due))
        rec.next_due = t;
}

/* ---- RTT and RTO (RFC 6298) ---------------------------------------------- */

static void rtt_sample(struct conn *c, uint32_t r)
{
    r = LWIP_MAX(r, 1);
    if (c->srtt_us == 0) {                      /* 2.2 */
        c->srtt_us = r;
        c->rttvar_us = r / 2;
    } else {                                    /* 2.3 */
        uint32_t diff = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;
        c->rttvar_us = c->rttvar_us - c->rttvar_us / 4 + diff / 4;
        c->srtt_us = LWIP_MAX(c->srtt_us - c->srtt_us / 8 + r / 8, 1);
    }
    if (c->min_rtt_us == 0 || r < c->min_rtt_us)
        c->min_rtt_us = r;
}

static uint32_t rto_of(const struct conn *c)
{
    uint64_t rto = c->srtt_us != 0 ? (uint64_t)c->srtt_us + 4ull * LWIP_MAX(c->rttvar_us, 1)
                                   : RTO_INITIAL_US;    /* 2.1 */
    rto = LWIP_MAX(rto, rec.rto_min_us);                /* 2.4 */
    rto <<= LWIP_MIN(c->backoff, 30);                   /* 5.5 */
    return (uint32_t)LWIP_MIN(rto, (uint64_t)rec.rto_max_us);
}

static void rto_start(struct conn *c, uint64_t now)
{
    c->rto_at = now + (uint64_t)rto_of(c) * 1000;
    due_at(c->rto_at);
}

/* ---- the TLP (RFC 8985 7.2) ---------------------------------------------- */

/* Whether one segment is in flight past una.  On an ACK, lwIP has not yet
 * freed the segments it covers: those ending at or below una do not count. */
static bool flight_is_one(const struct tcp_pcb *pcb, uint32_t una)
{
    const struct tcp_seg *seg = pcb->unacked;

    while (seg != NULL && TCP_SEQ_LEQ(seg_end(seg), una))
        seg = seg->next;
    return seg != NULL && seg->next == NULL;
}

/* una: what the peer has acknowledged, this ACK's included. */
static void probe_arm(struct tcp_pcb *pcb, struct conn *c, uint32_t una, uint64_t now)
{
    /* RFC 8985 7.2: SACK, an RTT, data in flight, no recovery under way. */
    if (!(pcb->flags & TF_SACK) || c->in_recovery || c->in_loss || c->probe_out ||
        c->srtt_us == 0 || pcb->unacked == NULL || c->rto_at == 0 ||
        (pcb->state != ESTABLISHED && pcb->state != CLOSE_WAIT)) {
        if (c->early == EARLY_TLP)
            c->early = EARLY_NONE;
        return;
    }
    uint64_t pto = 2ull * c->srtt_us + (flight_is_one(pcb, una) ? DELACK_MAX_US : 0);
    uint64_t at = now + pto * 1000;
    if (at >= c->rto_at)
        return;                                 /* the RTO comes first anyway */
    c->early = EARLY_TLP;
    c->early_at = at;
    due_at(at);
}

/* ---- moving segments back to the unsent queue ---------------------------- */

/* *link (in pcb->unacked) goes to its place in pcb->unsent (lwIP's
 * tcp_rexmit does this for the first unacked segment only). */
static void requeue(struct tcp_pcb *pcb, struct tcp_seg **link)
{
    struct tcp_seg *seg = *link, **at = &pcb->unsent;

    *link = seg->next;
    while (*at != NULL && TCP_SEQ_LT(seg_seq(*at), seg_seq(seg)))
        at = &(*at)->next;
    seg->next = *at;
    *at = seg;
#if TCP_OVERSIZE
    if (seg->next == NULL)
        pcb->unsent_oversize = 0;
#endif
    pcb->rttest = 0;                            /* lwIP's Karn, as tcp_rexmit does */
}

/* seg, on unacked, is judged lost: requeue_lost() moves it to unsent.
 * The connection remembers that one is marked, so an ACK without loss
 * costs requeue_lost() no walk of the flight. */
static void mark_lost(struct conn *c, struct tcp_seg *seg)
{
    seg->shunt_marks |= SEG_LOST;
    c->lost_marked = true;
}

/* Segments SEG_LOST in unacked go to unsent. */
static void requeue_lost(struct tcp_pcb *pcb, struct conn *c)
{
    bool held = false;

    if (!c->lost_marked)
        return;
    for (struct tcp_seg **link = &pcb->unacked; *link != NULL;) {
        if (!((*link)->shunt_marks & SEG_LOST)) {
            link = &(*link)->next;
        } else if ((*link)->p->ref != 1) {
            /* A frame the driver still holds cannot be rewritten (lwIP's
             * own rule): it goes on a later ACK or timer. */
            held = true;
            link = &(*link)->next;
        } else {
            requeue(pcb, link);
        }
    }
    c->lost_marked = held;
}

/* After a timeout every segment not SACKed is lost (RFC 6675 5.1), and goes
 * again in order; SACKed ones stay where they are, unless the oldest is
 * SACKed, which says the peer reneged (RFC 2018 8): then the marks go
 * (as Linux's tcp_timeout_mark_lost). */
static void timeout_mark_lost(struct tcp_pcb *pcb, struct conn *c)
{
    bool reneged = pcb->unacked != NULL && (pcb->unacked->shunt_marks & SEG_SACKED);

    for (struct tcp_seg *s = pcb->unacked; s != NULL; s = s->next) {
        if (reneged)
            s->shunt_marks &= (u8_t)~SEG_SACKED;
        if (!(s->shunt_marks & SEG_SACKED))
            mark_lost(c, s);
    }
    requeue_lost(pcb, c);
}

/* ---- SACK blocks (RFC 2018) ---------------------------------------------- */

struct sack {
    unsigned n;
    uint32_t left[SACK_BLOCKS_MAX], right[SACK_BLOCKS_MAX];
    bool dsack;                         /* the first block reports a duplicate */
    uint32_t dsack_left, dsack_right;
};

static u8_t opt_byte(const struct tcp_hdr *hdr, u16_t opt1len, const u8_t *opt2, u16_t i)
{
    return i < opt1len ? ((const u8_t *)(hdr + 1))[i] : opt2[i - opt1len];
}

static uint32_t opt_u32(const struct tcp_hdr *hdr, u16_t opt1len, const u8_t *opt2, u16_t i)
{
    return (uint32_t)opt_byte(hdr, opt1len, opt2, i) << 24 |
           (uint32_t)opt_byte(hdr, opt1len, opt2, (u16_t)(i + 1)) << 16 |
           (uint32_t)opt_byte(hdr, opt1len, opt2, (u16_t)(i + 2)) << 8 |
           opt_byte(hdr, opt1len, opt2, (u16_t)(i + 3));
}

/* The blocks of the SACK option that make sense: above ack, at most snd_nxt
 * (a DSACK block below ack is not a scoreboard's business).  Malformed
 * options and blocks are counted and ignored, as lwIP ignores what it
 * cannot parse. */
static void sack_parse(const struct tcp_pcb *pcb, const struct tcp_hdr *hdr, u16_t optlen,
                       u16_t opt1len, const u8_t *opt2, struct sack *s)
{
    s->n = 0;
    if (opt2 == NULL)
        opt1len = optlen;
    for (u16_t i = 0; i < optlen;) {
        u8_t kind = opt_byte(hdr, opt1len, opt2, i);
        if (kind == 0)
            return;
        if (kind == 1) {
            i++;
            continue;
        }
        u8_t len = i + 1 < optlen ? opt_byte(hdr, opt1len, opt2, (u16_t)(i + 1)) : 0;
        if (len < 2 || i + len > optlen) {
            rec.stats.sack_bad++;               /* a truncated or bad option */
            return;
        }
        if (kind == TCP_OPT_SACK) {
            if (len < 10 || (len - 2) % 8 != 0) {
                rec.stats.sack_bad++;
                return;
            }
            for (u16_t b = (u16_t)(i + 2); b < i + len && s->n < SACK_BLOCKS_MAX; b += 8) {
                uint32_t l = opt_u32(hdr, opt1len, opt2, b);
                uint32_t r = opt_u32(hdr, opt1len, opt2, (u16_t)(b + 4));
                if (!TCP_SEQ_LT(l, r) || TCP_SEQ_GT(r, pcb->snd_nxt)) {
                    rec.stats.sack_bad++;
                    continue;
                }
                /* RFC 2883 4: a first block below the ACK, or inside the
                 * second, reports data that arrived twice. */
                if (b == i + 2 && TCP_SEQ_LEQ(r, hdr->ackno)) {
                    s->dsack = true;
                    s->dsack_left = l;
                    s->dsack_right = r;
                } else if (b == i + 10 && s->n == 1 && TCP_SEQ_LEQ(l, s->left[0]) &&
                           TCP_SEQ_LEQ(s->right[0], r)) {
                    s->dsack = true;
                    s->dsack_left = s->left[0];
                    s->dsack_right = s->right[0];
                }
                if (TCP_SEQ_LEQ(r, hdr->ackno))
                    continue;                   /* old news for the scoreboard */
                s->left[s->n] = l;
                s->right[s->n] = r;
                s->n++;
            }
            return;
        }
        i = (u16_t)(i + len);
    }
}

static bool sacked_by(const struct sack *s, uint32_t seq, uint32_t end)
{
    for (unsigned i = 0; i < s->n; i++)
        if (TCP_SEQ_LEQ(s->left[i], seq) && TCP_SEQ_LEQ(end, s->right[i]))
            return true;
    return false;
}

/* ---- RACK (RFC 8985 6.2) ------------------------------------------------- */

/* Step 2: a segment newly delivered; its RTT if it is unambiguous. */
static void rack_delivered(struct conn *c, const struct tcp_seg *seg, uint64_t now,
                           uint32_t *rtt_us)
{
    uint32_t rtt = (uint32_t)LWIP_MIN((now - seg->shunt_sent_ns) / 1000, UINT32_MAX);

    /* A retransmission acknowledged sooner than any RTT: the original's ACK. */
    if ((seg->shunt_marks & SEG_RETRANS) && rtt < c->min_rtt_us)
        return;
    /* Step 3: delivered below what was SACKed already, never sent again. */
    if (!(seg->shunt_marks & SEG_RETRANS) && c->fack != 0 && TCP_SEQ_LT(seg_end(seg), c->fack))
        c->reordering_seen = true;
    if (seg->shunt_sent_ns > c->rack_sent_ns ||
        (seg->shunt_sent_ns == c->rack_sent_ns && TCP_SEQ_GT(seg_end(seg), c->rack_end))) {
        c->rack_sent_ns = seg->shunt_sent_ns;
        c->rack_end = seg_end(seg);
        c->rack_rtt_us = rtt;
    }
    /* Karn (RFC 6298 3): never a retransmission's; nor the SYN's, which
     * times the peer's accept as much as the path. */
    if (!(seg->shunt_marks & SEG_RETRANS) && !(TCPH_FLAGS(seg->tcphdr) & TCP_SYN) &&
        rtt < *rtt_us)
        *rtt_us = rtt;
}

/* Step 4. */
static uint32_t reo_wnd_us(const struct conn *c, unsigned sacked)
{
    if (!c->reordering_seen && (c->in_recovery || sacked >= DUPTHRESH))
        return 0;
    return LWIP_MIN((uint32_t)LWIP_MAX(c->reo_mult, 1) * (c->min_rtt_us / 4), c->srtt_us);
}

/* SACKed segments above ack, counted as far as reo_wnd_us asks (DUPTHRESH).
 * fack, the highest end SACKed, says when there are none without a walk:
 * an ACK in a stream without loss. */
static unsigned sacked_above(const struct tcp_pcb *pcb, const struct conn *c, uint32_t ack)
{
    unsigned n = 0;

    if (c->fack == 0 || TCP_SEQ_LEQ(c->fack, ack))
        return 0;
    for (const struct tcp_seg *s = pcb->unacked; s != NULL && n < DUPTHRESH; s = s->next)
        n += (s->shunt_marks & SEG_SACKED) && TCP_SEQ_GT(seg_end(s), ack);
    return n;
}

/* Whether s left before RACK's segment, the newest delivered (step 5's test). */
static bool sent_before_rack(const struct conn *c, const struct tcp_seg *s)
{
    return c->rack_sent_ns > s->shunt_sent_ns ||
           (c->rack_sent_ns == s->shunt_sent_ns && TCP_SEQ_GT(c->rack_end, seg_end(s)));
}

/* Step 5: mark what is lost; arm the reordering timer for what may be.
 * The walk ends at the first segment sent once and after RACK's: new data
 * leaves in sequence order and a segment sent again leaves after its first
 * time, so every segment beyond it left later still.  On an ACK without
 * loss that is the first segment past the ACK, and the cost per ACK stays
 * flat however many segments are in flight (a 256 KiB window holds 180). */
static unsigned rack_detect(struct tcp_pcb *pcb, struct conn *c, uint32_t ack, uint64_t now)
{
    unsigned lost = 0;
    uint64_t wait = 0;

    if (c->rack_sent_ns == 0)
        return 0;
    uint64_t reo = (uint64_t)reo_wnd_us(c, sacked_above(pcb, c, ack)) * 1000;
    for (struct tcp_seg *s = pcb->unacked; s != NULL; s = s->next) {
        if (TCP_SEQ_LEQ(seg_end(s), ack))
            continue;
        if (!sent_before_rack(c, s)) {
            if (!(s->shunt_marks & SEG_RETRANS))
                break;
            continue;
        }
        if (s->shunt_marks & (SEG_SACKED | SEG_LOST))
            continue;
        uint64_t due = s->shunt_sent_ns + (uint64_t)c->rack_rtt_us * 1000 + reo;
        if (due <= now) {
            mark_lost(c, s);
            lost++;
        } else {
            wait = LWIP_MAX(wait, due - now);
        }
    }
    if (wait != 0) {
        c->early = EARLY_REORDER;
        c->early_at = now + wait;
        due_at(c->early_at);
    } else if (c->early == EARLY_REORDER) {
        c->early = EARLY_NONE;
    }
    rec.stats.lost += lost;
    return lost;
}

/* ---- the response (RFC 6675 5) ------------------------------------------- */

/* Bytes in the network after ack: sent, not SACKed, not lost. */
static uint32_t pipe_after(const struct tcp_pcb *pcb, uint32_t ack)
{
    uint32_t pipe = 0;

    for (const struct tcp_seg *s = pcb->unacked; s != NULL; s = s->next)
        if (!(s->shunt_marks & (SEG_SACKED | SEG_LOST)) && TCP_SEQ_GT(seg_end(s), ack))
            pipe += seg_end(s) - (TCP_SEQ_LT(seg_seq(s), ack) ? ack : seg_seq(s));
    return pipe;
}

/* PRR (RFC 6937 3.1): how many bytes this ACK lets go, retransmissions
 * and new data alike.  Above ssthresh the sending rate is the delivery
 * rate scaled by ssthresh / RecoverFS, so the flight comes down to
 * ssthresh smoothly; below it, slow start's bound (PRR-SSRB) grows it
 * back, by at most one MSS more than was delivered. */
static uint32_t prr_sndcnt(const struct tcp_pcb *pcb, const struct conn *c, uint32_t pipe,
                           uint32_t delivered)
{
    int64_t sndcnt;

    if (pipe > c->ssthresh) {
        uint64_t fs = LWIP_MAX(c->recover_fs, 1);
        sndcnt = (int64_t)(((uint64_t)c->prr_delivered * c->ssthresh + fs - 1) / fs) -
                 c->prr_out;
    } else {
        int64_t limit = LWIP_MAX((int64_t)c->prr_delivered - c->prr_out, (int64_t)delivered) +
                        pcb->mss;
        sndcnt = LWIP_MIN((int64_t)c->ssthresh - pipe, limit);
    }
    /* The first retransmission goes whatever the arithmetic says (as Linux). */
    if (sndcnt <= 0 && c->prr_out == 0)
        sndcnt = 1;
    return sndcnt > 0 ? (uint32_t)sndcnt : 0;
}

/* lwIP sends a segment of the unsent queue while its end, counted from
 * snd_una, fits min(cwnd, snd_wnd), and stops at the first that does not.
 * The queue holds the segments judged lost (below snd_nxt) ahead of new
 * data, so a budget of bytes becomes a cwnd: the end of the last segment
 * the budget reaches (a segment begun is a segment sent), and what is left
 * of it beyond the queue, for data the application writes before the next
 * ACK. */
static tcpwnd_size_t cwnd_for_budget(const struct tcp_pcb *pcb, uint32_t ack, uint32_t budget)
{
    uint32_t w = 0, used = 0;
    const struct tcp_seg *s = pcb->unsent;

    for (; s != NULL && used < budget; s = s->next) {
        if (TCP_SEQ_LEQ(seg_end(s), ack))
            continue;                           /* acknowledged: lwIP frees it next */
        used += TCP_TCPLEN(s);
        w = seg_end(s) - ack;
    }
    if (s == NULL && used < budget)
        w = LWIP_MAX(w, pcb->snd_nxt - ack) + (budget - used);
    else if (w == 0 && s != NULL && TCP_SEQ_GT(seg_end(s), ack))
        w = seg_end(s) - ack - 1;               /* nothing may go: below the first */
    return (tcpwnd_size_t)LWIP_MAX(w, 1u);
}

/* In recovery, every ACK sets the window PRR allows.  lwIP sets cwnd to
 * ssthresh when it leaves its own fast recovery (TF_INFR), which it thinks
 * this is, hence pcb->ssthresh carries the same value while ours is kept
 * aside; TF_INFR also keeps lwIP's own fast retransmit out and lets a short
 * lost segment past Nagle. */
static void recovery_window(struct tcp_pcb *pcb, struct conn *c, uint32_t ack, uint32_t delivered)
{
    c->prr_delivered += delivered;
    uint32_t budget = prr_sndcnt(pcb, c, pipe_after(pcb, ack), delivered);
    pcb->cwnd = cwnd_for_budget(pcb, ack, budget);
    pcb->ssthresh = pcb->cwnd;
    tcp_set_flags(pcb, TF_INFR);
}

/* ---- undoing a needless cut (RFC 2883 and RFC 5682) --------------------- */

/* A recovery or a timeout begins: what to go back to if it was needless. */
static void undo_arm(struct tcp_pcb *pcb, struct conn *c)
{
    c->undo_armed = true;
    c->retransmitted = false;
    c->undo_marker = pcb->lastack;
    c->undo_retrans = 0;
    c->prior_ssthresh = pcb->ssthresh;
}

/* The losses were not: the window as it was before, the episode over. */
static void undo(struct tcp_pcb *pcb, struct conn *c)
{
    pcb->cwnd = LWIP_MAX((tcpwnd_size_t)shunt_cc_undo(pcb), (tcpwnd_size_t)pcb->mss);
    pcb->ssthresh = LWIP_MAX(c->prior_ssthresh, pcb->ssthresh);
    c->ssthresh = pcb->ssthresh;
    c->in_recovery = false;
    c->in_loss = false;
    c->frto = 0;
    c->backoff = 0;
    c->undo_armed = false;
    tcp_clear_flags(pcb, TF_INFR | TF_RTO);
    rec.stats.undos++;
}

/* RFC 2883 (and RFC 8985 6.2 step 4): a duplicate says reordering, or a
 * needless retransmission; once every byte the episode sent again came
 * back as a duplicate, none was needed (Linux's tcp_try_undo_dsack). */
static void dsack_seen(struct tcp_pcb *pcb, struct conn *c, const struct sack *sk)
{
    rec.stats.dsacks++;
    c->reordering_seen = true;
    if (c->reo_mult < REO_MULT_MAX)
        c->reo_mult++;
    if (!c->undo_armed || !c->retransmitted || TCP_SEQ_LT(sk->dsack_left, c->undo_marker))
        return;
    uint32_t dup = sk->dsack_right - sk->dsack_left;
    c->undo_retrans = dup >= c->undo_retrans ? 0 : c->undo_retrans - dup;
    if (c->undo_retrans == 0)
        undo(pcb, c);
}

/* F-RTO, SACK-enhanced (RFC 5682 3.1), on each ACK after a timeout that
 * sent only the first segment again.  Returns whether the episode goes on
 * as a real loss from here, by RACK's and slow start's rules. */
static void frto_ack(struct tcp_pcb *pcb, struct conn *c, uint32_t ack, bool advanced,
                     bool orig_delivered, bool sacked_more)
{
    if (orig_delivered) {               /* 3.b: data sent once, before it, arrived */
        rec.stats.spurious_rtos++;
        undo(pcb, c);
        return;
    }
    if (c->frto == 1 && advanced && pcb->unsent != NULL &&
        TCP_SEQ_GEQ(seg_seq(pcb->unsent), pcb->snd_nxt) &&
        seg_end(pcb->unsent) - ack <= pcb->snd_wnd) {
        c->frto = 2;                    /* 2.b: two new segments, not old ones */
        pcb->cwnd = (tcpwnd_size_t)(pcb->snd_nxt - ack + 2u * pcb->mss);
        return;
    }
    if (c->frto == 2 && !advanced && !sacked_more)
        return;                         /* a window update, or old news: wait */
    c->frto = 0;                        /* 2.a / 3.a: the loss was real */
    timeout_mark_lost(pcb, c);
}

/* The connection's congestion control (port/cc.h) says ssthresh after a
 * loss in the flight now, found by RACK or by the timer (timeout). */
static tcpwnd_size_t loss_ssthresh(struct tcp_pcb *pcb, int timeout)
{
    return (tcpwnd_size_t)shunt_cc_loss(pcb, pcb->snd_nxt - pcb->lastack, timeout);
}

static void recovery_begin(struct tcp_pcb *pcb, struct conn *c)
{
    uint32_t flight = pcb->snd_nxt - pcb->lastack;

    undo_arm(pcb, c);
    c->in_recovery = true;
    c->recover = pcb->snd_nxt;
    c->ssthresh = loss_ssthresh(pcb, 0);
    c->prr_delivered = 0;
    c->prr_out = 0;
    c->recover_fs = flight;
    c->probe_out = false;
    rec.stats.recoveries++;
}

static void recovery_end(struct tcp_pcb *pcb, struct conn *c)
{
    c->in_recovery = false;
    if (pcb->flags & TF_SACK) {
        pcb->ssthresh = c->ssthresh;
        pcb->cwnd = c->ssthresh;
        tcp_clear_flags(pcb, TF_INFR);
    }
}

/* What RACK found (lost segments, or none) on an ACK or its timer: the
 * first loss begins a recovery, unless a timeout's is under way (its
 * losses are its own: sent again, no second cut); the lost go back to
 * unsent, and PRR sets the window. */
static void respond(struct tcp_pcb *pcb, struct conn *c, uint32_t ack, uint32_t delivered,
                    unsigned lost)
{
    if (lost > 0 && !c->in_recovery && !c->in_loss)
        recovery_begin(pcb, c);
    requeue_lost(pcb, c);
    if (c->in_recovery)
        recovery_window(pcb, c, ack, delivered);
}

/* ---- an ACK ---------------------------------------------------------------- */

/* A peer without SACK: lwIP has begun its fast recovery (three duplicate
 * ACKs); a partial ACK sends the next hole now (RFC 6582 3.2 step 3). */
static void newreno_ack(struct tcp_pcb *pcb, struct conn *c, uint32_t ack)
{
    if (!c->in_recovery && (pcb->flags & TF_INFR)) {
        c->in_recovery = true;
        c->recover = pcb->snd_nxt;
        rec.stats.recoveries++;
    }
    if (!c->in_recovery || !TCP_SEQ_GT(ack, pcb->lastack))
        return;
    if (TCP_SEQ_GEQ(ack, c->recover)) {
        c->in_recovery = false;
        return;
    }
    for (struct tcp_seg **link = &pcb->unacked; *link != NULL; link = &(*link)->next) {
        if (TCP_SEQ_GT(seg_end(*link), ack)) {
            if ((*link)->p->ref == 1) {
                (*link)->shunt_marks |= SEG_LOST;
                rec.stats.lost++;
                requeue(pcb, link);
            }
            return;
        }
    }
}

/* What one ACK tells about the segments in flight. */
struct tally {
    uint32_t delivered;         /* RFC 6937's DeliveredData */
    uint32_t rtt_us;            /* the newest unambiguous RTT; UINT32_MAX: none */
    bool orig;                  /* a segment sent once, before a timeout, arrived */
    bool sacked;                /* something newly SACKed */
};

/* The scoreboard, and what this ACK delivers (RFC 8985 6.2 step 1).
 * DeliveredData is what snd_una moves by, plus what is newly SACKed, less
 * what was SACKed before and is now acknowledged.  Segments on unsent
 * below snd_nxt were sent before, too. */
static struct tally scoreboard_update(struct tcp_pcb *pcb, struct conn *c, uint32_t ack,
                                      const struct sack *sk, uint64_t now)
{
    struct tally t = { .delivered = ack - pcb->lastack, .rtt_us = UINT32_MAX };
    struct tcp_seg *lists[2] = { pcb->unacked, pcb->unsent };

    for (int l = 0; l < 2; l++) {
        for (struct tcp_seg *seg = lists[l]; seg != NULL; seg = seg->next) {
            if (!TCP_SEQ_LT(seg_seq(seg), pcb->snd_nxt))
                break;
            /* Each list is in sequence order: without SACK blocks nothing
             * beyond the ACK has news, and the walk ends there. */
            if (sk->n == 0 && TCP_SEQ_GT(seg_end(seg), ack))
                break;
            if (seg->shunt_sent_ns == 0)
                continue;                       /* split off, not sent itself yet */
            bool was = seg->shunt_marks & SEG_SACKED;
            if (TCP_SEQ_LEQ(seg_end(seg), ack)) {
                if (was) {
                    t.delivered -= TCP_TCPLEN(seg);
                    continue;
                }
            } else if (!was && sacked_by(sk, seg_seq(seg), seg_end(seg))) {
                seg->shunt_marks |= SEG_SACKED;
                t.delivered += TCP_TCPLEN(seg);
                t.sacked = true;
                if (c->fack == 0 || TCP_SEQ_GT(seg_end(seg), c->fack))
                    c->fack = seg_end(seg);
            } else {
                continue;
            }
            rack_delivered(c, seg, now, &t.rtt_us);
            if (!(seg->shunt_marks & SEG_RETRANS) && seg->shunt_sent_ns < c->rto_ns)
                t.orig = true;
        }
    }
    return t;
}

void shunt_recovery_ack(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, uint16_t optlen,
                        uint16_t opt1len, const uint8_t *opt2)
{
    if (pcb->state == LISTEN || pcb->state == TIME_WAIT ||
        (TCPH_FLAGS(hdr) & (TCP_ACK | TCP_RST)) != TCP_ACK)
        return;
    struct conn *c = conn_find(pcb);
    uint32_t ack = hdr->ackno;
    if (c == NULL || TCP_SEQ_LT(ack, pcb->lastack) || TCP_SEQ_GT(ack, pcb->snd_nxt))
        return;                                 /* lwIP judges those */
    uint64_t now = now_ns();
    bool advanced = TCP_SEQ_GT(ack, pcb->lastack);

    struct sack sk = { 0 };
    if (pcb->flags & TF_SACK)
        sack_parse(pcb, hdr, optlen, opt1len, opt2, &sk);
    struct tally t = scoreboard_update(pcb, c, ack, &sk, now);
    if (t.rtt_us != UINT32_MAX)
        rtt_sample(c, t.rtt_us);
    if (sk.dsack)
        dsack_seen(pcb, c, &sk);
    if (c->in_loss && TCP_SEQ_GEQ(ack, c->recover))
        c->in_loss = false;
    if (c->frto != 0)
        frto_ack(pcb, c, ack, advanced, t.orig, t.sacked);
    if (!(pcb->flags & TF_SACK)) {
        newreno_ack(pcb, c, ack);
    } else {
        if (c->in_recovery && TCP_SEQ_GEQ(ack, c->recover))
            recovery_end(pcb, c);
        if (ack == pcb->snd_nxt) {              /* all delivered: nothing lost, none to wait for */
            if (c->early == EARLY_REORDER)
                c->early = EARLY_NONE;
        } else if (c->frto == 0) {              /* F-RTO decides first */
            respond(pcb, c, ack, t.delivered, rack_detect(pcb, c, ack, now));
        }
        /* RACK alone judges loss for a SACK peer: lwIP's own count of
         * duplicate ACKs (fast retransmit, window inflation) stays at 0. */
        pcb->dupacks = 0;
    }
    if (c->probe_out && TCP_SEQ_GEQ(ack, c->probe_end))
        c->probe_out = false;
    if (advanced) {                             /* RFC 6298 5.2, 5.3 */
        c->backoff = 0;
        if (ack == pcb->snd_nxt) {
            c->rto_at = 0;
            c->early = EARLY_NONE;
        } else {
            rto_start(c, now);
            probe_arm(pcb, c, ack, now);
        }
    }
}

/* ---- a segment leaves ------------------------------------------------------- */

void shunt_recovery_seg_sent(struct tcp_pcb *pcb, struct tcp_seg *seg)
{
    struct conn *c = conn_get(pcb);
    uint64_t now = now_ns();

    if (c == NULL)
        return;
    /* Its first time; or a piece lwIP split off a segment that went before
     * (tcp_split_unsent_seg), which the peer may hold in part: sent again. */
    if (TCP_SEQ_GEQ(seg_seq(seg), pcb->snd_nxt))
        seg->shunt_marks = 0;
    else
        seg->shunt_marks = (u8_t)((seg->shunt_marks & ~SEG_LOST) | SEG_RETRANS);
    seg->shunt_sent_ns = LWIP_MAX(now, 1);
    if (TCP_TCPLEN(seg) == 0)
        return;
    if (c->in_recovery)
        c->prr_out += TCP_TCPLEN(seg);
    if ((seg->shunt_marks & SEG_RETRANS) && c->undo_armed) {
        c->undo_retrans += TCP_TCPLEN(seg);
        c->retransmitted = true;
    }
    if (c->rto_at == 0)                         /* RFC 6298 5.1 */
        rto_start(c, now);
    if (c->early != EARLY_REORDER)
        probe_arm(pcb, c, pcb->lastack, now);
}

/* ---- the timers ------------------------------------------------------------ */

/* RFC 8985 7.3: one new segment if the peer's window takes it, else the
 * last one again; cwnd does not hold it back. */
static void probe_send(struct tcp_pcb *pcb, struct conn *c)
{
    struct tcp_seg *next = pcb->unsent;
    tcpwnd_size_t cwnd = pcb->cwnd;

    if (next != NULL && TCP_SEQ_GEQ(seg_seq(next), pcb->snd_nxt) &&
        seg_end(next) - pcb->lastack <= pcb->snd_wnd) {
        pcb->cwnd = LWIP_MAX(cwnd, (tcpwnd_size_t)(seg_end(next) - pcb->lastack));
    } else {
        struct tcp_seg **link = &pcb->unacked;
        if (*link == NULL)
            return;
        while ((*link)->next != NULL)
            link = &(*link)->next;
        if ((*link)->p->ref != 1)
            return;
        requeue(pcb, link);
    }
    bool infr = pcb->flags & TF_INFR;
    tcp_set_flags(pcb, TF_INFR);                /* past Nagle */
    c->probe_out = true;                        /* one at a time: not re-armed as it goes */
    tcp_output(pcb);
    if (!infr)
        tcp_clear_flags(pcb, TF_INFR);
    pcb->cwnd = cwnd;                           /* the probe was outside it */
    c->probe_end = pcb->snd_nxt;
    rec.stats.probes++;
}

/* RFC 6298 5.4-5.7, with lwIP's own steps (tcp_slowtmr's, which no longer
 * does this: port/lwip-patches/0002). */
static void rto_fire(struct tcp_pcb *pcb, struct conn *c, uint64_t now)
{
    c->rto_at = 0;
    c->early = EARLY_NONE;
    if (pcb->persist_backoff > 0 || (pcb->unacked == NULL && pcb->unsent == NULL))
        return;                                 /* the persist timer's, or nothing */
    rec.stats.rtos++;
    if (c->backoff < 30)                        /* 5.5, before 5.6 restarts it */
        c->backoff++;
    c->probe_out = false;
    if (pcb->state == SYN_SENT || pcb->state == SYN_RCVD) {
        tcp_rexmit_rto(pcb);
    } else {
        /* RFC 5681 3.1: ssthresh from the flight, unless a recovery under
         * way has cut it already (as Linux's tcp_enter_loss). */
        bool first = !c->in_recovery && !c->in_loss;
        if (first) {
            undo_arm(pcb, c);
            c->ssthresh = loss_ssthresh(pcb, 1);
        }
        /* F-RTO (RFC 5682 3.1 step 1) on the first timeout of an episode:
         * only the oldest segment goes again until the next ACKs say
         * whether the rest was lost; a later timeout is a real loss. */
        c->frto = (pcb->flags & TF_SACK) && !c->in_loss && c->frto == 0 ? 1 : 0;
        c->rto_ns = now;
        if (c->frto != 0 && pcb->unacked != NULL) {
            if (!(pcb->unacked->shunt_marks & SEG_SACKED))
                mark_lost(c, pcb->unacked);
            requeue_lost(pcb, c);
        } else {
            c->frto = 0;
            timeout_mark_lost(pcb, c);
        }
        c->in_recovery = false;
        c->in_loss = true;                      /* until snd_nxt now is acknowledged */
        c->recover = pcb->snd_nxt;
        pcb->ssthresh = c->ssthresh;
        pcb->cwnd = pcb->mss;
        pcb->bytes_acked = 0;
        tcp_clear_flags(pcb, TF_INFR);
        /* lwIP's own mark: slow start grows by one segment per ACK. */
        tcp_set_flags(pcb, TF_RTO);
        pcb->rto_end = pcb->snd_nxt;
        pcb->rtime = 0;
        tcp_rexmit_rto_commit(pcb);             /* counts toward TCP_MAXRTX, sends */
    }
    if (c->rto_at == 0)                         /* 5.6: nothing went, still timed */
        rto_start(c, now);
}

static void conn_poll(struct tcp_pcb *pcb, struct conn *c, uint64_t now)
{
    if (c->early != EARLY_NONE && c->early_at <= now) {
        enum early e = c->early;
        c->early = EARLY_NONE;
        if (e == EARLY_TLP) {
            probe_send(pcb, c);
        } else {
            unsigned lost = rack_detect(pcb, c, pcb->lastack, now);
            if (lost > 0) {
                respond(pcb, c, pcb->lastack, 0, lost);
                tcp_output(pcb);
            }
        }
    }
    if (c->rto_at != 0 && c->rto_at <= now)
        rto_fire(pcb, c, now);
    if (c->early != EARLY_NONE)
        due_at(c->early_at);
    due_at(c->rto_at);
}

void shunt_recovery_poll(void)
{
    if (rec.next_due == 0 || rec.clock == NULL)
        return;
    uint64_t now = now_ns();
    if (now < rec.next_due)
        return;
    rec.next_due = 0;
    /* lwIP may free a pcb while it sends: its successor is read first. */
    for (struct tcp_pcb *pcb = tcp_active_pcbs, *next; pcb != NULL; pcb = next) {
        next = pcb->next;
        struct conn *c = conn_find(pcb);
        if (c != NULL)
            conn_poll(pcb, c, now);
    }
}

uint64_t shunt_recovery_next_due_ns(void)
{
    return rec.next_due == 0 || rec.clock == NULL ? UINT64_MAX : rec.next_due;
}

/* ---- what TCP_INFO reads ----------------------------------------------------- */

uint32_t shunt_recovery_rtt_us(const struct tcp_pcb *pcb, uint32_t *var_us)
{
    const struct conn *c = conn_find(pcb);

    *var_us = c != NULL ? c->rttvar_us : 0;
    return c != NULL ? c->srtt_us : 0;
}

uint32_t shunt_recovery_min_rtt_us(const struct tcp_pcb *pcb)
{
    const struct conn *c = conn_find(pcb);

    return c != NULL ? c->min_rtt_us : 0;
}

bool shunt_recovery_in_recovery(const struct tcp_pcb *pcb)
{
    const struct conn *c = conn_find(pcb);

    return c != NULL && c->in_recovery;
}

uint32_t shunt_recovery_rto_us(const struct tcp_pcb *pcb)
{
    const struct conn *c = conn_find(pcb);
    struct conn none = { .backoff = 0 };

    return rto_of(c != NULL ? c : &none);
}

struct shunt_recovery_stats shunt_recovery_stats(void)
{
    return rec.stats;
}
