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

/* A segment's marks (struct tcp_seg's shunt_marks, port/lwipopts.h). */
#define SEG_SACKED      0x01    /* the peer holds it (SACK) */
#define SEG_LOST        0x02    /* judged lost, back on the unsent queue */
#define SEG_RETRANS     0x04    /* sent more than once */

#define RTO_INITIAL_US  1000000u        /* RFC 6298 2.1 */
#define DELACK_MAX_US   200000u         /* RFC 8985 7.2: WCDelAckT */
#define DUPTHRESH       3               /* RFC 8985 6.2 step 4 (and RFC 5681) */
#define TCP_OPT_SACK    5
#define SACK_BLOCKS_MAX 4

enum early { EARLY_NONE, EARLY_TLP, EARLY_REORDER };

/* A connection's state, from its first segment sent to lwIP's free. */
struct conn {
    struct conn *next_free;
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
    /* Recovery (RFC 6675 / RFC 6582) and the probe (RFC 8985 7). */
    bool in_recovery;
    uint32_t recover;                           /* snd_nxt when it began */
    tcpwnd_size_t ssthresh;                     /* the real one, in recovery */
    bool probe_out;
    uint32_t probe_end;
};

static struct {
    const struct shunt_clock *clock;
    uint32_t rto_min_us, rto_max_us;
    uint8_t ext_id;
    uint64_t next_due;                          /* earliest timer; 0: none */
    struct conn *free;
    struct shunt_recovery_stats stats;
    struct conn conns[MEMP_NUM_TCP_PCB];        /* lwIP has no more pcbs */
} rec = { .ext_id = 0xff };

static uint64_t now_ns(void)
{
    return shunt_clock_ns(rec.clock);
}

static void conn_free(u8_t id, void *data)
{
    struct conn *c = data;

    (void)id;
    if (c == NULL)
        return;
    c->next_free = rec.free;
    rec.free = c;
}

static const struct tcp_ext_arg_callbacks on_free = { conn_free, NULL };

void shunt_recovery_init(const struct shunt_clock *clock, uint32_t rto_min_us,
                         uint32_t rto_max_us)
{
    rec.clock = clock;
    rec.rto_min_us = rto_min_us;
    rec.rto_max_us = rto_max_us;
    /* lwIP hands out ext-arg slots once per process, and never back. */
    if (rec.ext_id == 0xff)
        rec.ext_id = tcp_ext_arg_alloc_id();
    rec.next_due = 0;
    memset(&rec.stats, 0, sizeof(rec.stats));
    rec.free = NULL;
    for (size_t i = MEMP_NUM_TCP_PCB; i-- > 0;)
        conn_free(0, &rec.conns[i]);
}

static struct conn *conn_find(const struct tcp_pcb *pcb)
{
    return rec.ext_id != 0xff ? tcp_ext_arg_get(pcb, rec.ext_id) : NULL;
}

/* The pool holds one state for every pcb lwIP can have: never empty. */
static struct conn *conn_get(struct tcp_pcb *pcb)
{
    struct conn *c = conn_find(pcb);

    if (c != NULL || rec.free == NULL)
        return c;
    c = rec.free;
    rec.free = c->next_free;
    memset(c, 0, sizeof(*c));
    tcp_ext_arg_set_callbacks(pcb, rec.ext_id, &on_free);
    tcp_ext_arg_set(pcb, rec.ext_id, c);
    return c;
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

static bool flight_is_one(const struct tcp_pcb *pcb)
{
    return pcb->unacked != NULL && pcb->unacked->next == NULL;
}

static void probe_arm(struct tcp_pcb *pcb, struct conn *c, uint64_t now)
{
    if (!(pcb->flags & TF_SACK) || c->in_recovery || c->probe_out || c->srtt_us == 0 ||
        pcb->unacked == NULL || c->rto_at == 0 ||
        (pcb->state != ESTABLISHED && pcb->state != CLOSE_WAIT)) {
        if (c->early == EARLY_TLP)
            c->early = EARLY_NONE;
        return;
    }
    uint64_t pto = 2ull * c->srtt_us + (flight_is_one(pcb) ? DELACK_MAX_US : 0);
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

/* Segments SEG_LOST in unacked go to unsent; returns how many. */
static unsigned requeue_lost(struct tcp_pcb *pcb)
{
    unsigned n = 0;

    for (struct tcp_seg **link = &pcb->unacked; *link != NULL;) {
        /* A frame the driver still holds cannot be rewritten (lwIP's own rule). */
        if (((*link)->shunt_marks & SEG_LOST) && (*link)->p->ref == 1) {
            requeue(pcb, link);
            n++;
        } else {
            link = &(*link)->next;
        }
    }
    return n;
}

/* ---- SACK blocks (RFC 2018) ---------------------------------------------- */

struct sack {
    unsigned n;
    uint32_t left[SACK_BLOCKS_MAX], right[SACK_BLOCKS_MAX];
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
        if (i + 1 >= optlen)
            break;
        u8_t len = opt_byte(hdr, opt1len, opt2, (u16_t)(i + 1));
        if (len < 2 || i + len > optlen)
            break;
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
                if (TCP_SEQ_LEQ(r, hdr->ackno))
                    continue;                   /* DSACK, or old news */
                s->left[s->n] = l;
                s->right[s->n] = r;
                s->n++;
            }
            return;
        }
        i = (u16_t)(i + len);
    }
    if (optlen > 0)
        rec.stats.sack_bad++;                   /* a truncated or bad option */
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
    return LWIP_MIN(c->min_rtt_us / 4, c->srtt_us);
}

/* Step 5: mark what is lost; arm the reordering timer for what may be. */
static unsigned rack_detect(struct tcp_pcb *pcb, struct conn *c, uint32_t ack, uint64_t now)
{
    unsigned sacked = 0, lost = 0;
    uint64_t wait = 0;

    if (c->rack_sent_ns == 0)
        return 0;
    for (const struct tcp_seg *s = pcb->unacked; s != NULL; s = s->next)
        sacked += (s->shunt_marks & SEG_SACKED) && TCP_SEQ_GT(seg_end(s), ack);
    uint64_t reo = (uint64_t)reo_wnd_us(c, sacked) * 1000;
    for (struct tcp_seg *s = pcb->unacked; s != NULL; s = s->next) {
        if ((s->shunt_marks & (SEG_SACKED | SEG_LOST)) || TCP_SEQ_LEQ(seg_end(s), ack))
            continue;
        if (!(c->rack_sent_ns > s->shunt_sent_ns ||
              (c->rack_sent_ns == s->shunt_sent_ns && TCP_SEQ_GT(c->rack_end, seg_end(s)))))
            continue;                           /* sent after the newest delivered */
        uint64_t due = s->shunt_sent_ns + (uint64_t)c->rack_rtt_us * 1000 + reo;
        if (due <= now) {
            s->shunt_marks |= SEG_LOST;
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

/* The segments requeued go at once (the pipe does not count them), new
 * data only while the pipe is below ssthresh.  lwIP measures its window
 * from snd_una (ack, once it has read this ACK), so that is what cwnd
 * says; lwIP sets cwnd to ssthresh when it leaves its own fast recovery,
 * hence pcb->ssthresh carries the same value while ours is kept aside. */
static void recovery_window(struct tcp_pcb *pcb, struct conn *c, uint32_t ack)
{
    uint32_t pipe = pipe_after(pcb, ack), lost = 0;

    for (const struct tcp_seg *s = pcb->unsent; s != NULL && TCP_SEQ_LT(seg_seq(s), pcb->snd_nxt);
         s = s->next)
        lost += TCP_TCPLEN(s);
    uint32_t room = c->ssthresh > pipe + lost ? c->ssthresh - pipe - lost : 0;
    tcpwnd_size_t w = (tcpwnd_size_t)(pcb->snd_nxt - ack) + room;
    pcb->cwnd = LWIP_MAX(w, (tcpwnd_size_t)pcb->mss);
    pcb->ssthresh = pcb->cwnd;
    /* lwIP's own fast retransmit stays out (it checks TF_INFR), and its
     * Nagle lets a short lost segment go. */
    tcp_set_flags(pcb, TF_INFR);
}

static void recovery_begin(struct tcp_pcb *pcb, struct conn *c)
{
    uint32_t flight = pcb->snd_nxt - pcb->lastack;

    c->in_recovery = true;
    c->recover = pcb->snd_nxt;
    c->ssthresh = (tcpwnd_size_t)shunt_cc_loss(pcb, flight, 0);
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
    uint32_t rtt = UINT32_MAX, fack = c->fack;
    if (pcb->flags & TF_SACK)
        sack_parse(pcb, hdr, optlen, opt1len, opt2, &sk);
    /* The scoreboard, and what this ACK delivers (RFC 8985 6.2 step 1);
     * segments on unsent below snd_nxt were sent before, too. */
    struct tcp_seg *lists[2] = { pcb->unacked, pcb->unsent };
    for (int l = 0; l < 2; l++) {
        for (struct tcp_seg *seg = lists[l]; seg != NULL; seg = seg->next) {
            if (!TCP_SEQ_LT(seg_seq(seg), pcb->snd_nxt))
                break;
            if (seg->shunt_sent_ns == 0)
                continue;                       /* split off, not sent itself yet */
            bool was = seg->shunt_marks & SEG_SACKED;
            if (TCP_SEQ_LEQ(seg_end(seg), ack)) {
                if (!was)
                    rack_delivered(c, seg, now, &rtt);
            } else if (!was && sacked_by(&sk, seg_seq(seg), seg_end(seg))) {
                seg->shunt_marks |= SEG_SACKED;
                rack_delivered(c, seg, now, &rtt);
                if (TCP_SEQ_GT(seg_end(seg), fack))
                    fack = seg_end(seg);
            }
        }
    }
    c->fack = fack;
    if (rtt != UINT32_MAX)
        rtt_sample(c, rtt);
    if (!(pcb->flags & TF_SACK)) {
        newreno_ack(pcb, c, ack);
    } else {
        if (c->in_recovery && TCP_SEQ_GEQ(ack, c->recover))
            recovery_end(pcb, c);
        if (rack_detect(pcb, c, ack, now) > 0 && !c->in_recovery)
            recovery_begin(pcb, c);
        requeue_lost(pcb);
        if (c->in_recovery)
            recovery_window(pcb, c, ack);
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
            probe_arm(pcb, c, now);
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
    if (c->rto_at == 0)                         /* RFC 6298 5.1 */
        rto_start(c, now);
    if (c->early != EARLY_REORDER)
        probe_arm(pcb, c, now);
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
    tcp_output(pcb);
    if (!infr)
        tcp_clear_flags(pcb, TF_INFR);
    pcb->cwnd = cwnd;                           /* the probe was outside it */
    c->probe_out = true;
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
    if (c->in_recovery)
        recovery_end(pcb, c);
    c->probe_out = false;
    if (pcb->state == SYN_SENT || pcb->state == SYN_RCVD) {
        tcp_rexmit_rto(pcb);
    } else if (tcp_rexmit_rto_prepare(pcb) == ERR_OK || pcb->unacked == NULL) {
        pcb->ssthresh = (tcpwnd_size_t)shunt_cc_loss(pcb, LWIP_MIN(pcb->cwnd, pcb->snd_wnd), 1);
        pcb->cwnd = pcb->mss;
        pcb->bytes_acked = 0;
        tcp_clear_flags(pcb, TF_INFR);
        pcb->rtime = 0;
        tcp_rexmit_rto_commit(pcb);
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
        } else if (rack_detect(pcb, c, pcb->lastack, now) > 0) {
            if (!c->in_recovery)
                recovery_begin(pcb, c);
            requeue_lost(pcb);
            recovery_window(pcb, c, pcb->lastack);
            tcp_output(pcb);
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
