/*
 * cc-cubic.c - CUBIC (RFC 9438), Linux's default congestion control.
 *
 * After a loss the window is cut to β = 0.7 of what was in flight, and then
 * grows as a cubic function of the time since that stage began, not of
 * the ACKs: flat near the window where the loss happened (W_max), fast
 * away from it, so a long, fat path is filled again in seconds, whatever
 * its RTT.  Where Reno would grow faster (short RTTs, small windows), CUBIC
 * grows as Reno would (the Reno-friendly region).
 *
 * The RFC counts windows in segments and time in seconds; so does this
 * file, in doubles, and turns the result into bytes for the connection.
 * Not done: HyStart++ (RFC 9406; slow start here is RFC 5681's), and
 * restarting the epoch after an idle period (Linux's CA_EVENT_TX_START).
 */
#include <math.h>

#include "cc.h"

#define BETA        0.7                                 /* 4.6: β_cubic */
#define C           0.4                                 /* 4.2: segments / s^3 */
#define ALPHA       (3.0 * (1.0 - BETA) / (1.0 + BETA)) /* 4.3: α_cubic */
#define GROW_MAX    1.5                                 /* 4.2: target at most 1.5 cwnd */

struct cubic {
    uint64_t epoch_ns;          /* t_epoch: this congestion avoidance stage began; 0: none */
    double w_max;               /* the window before the last reduction; 0: none yet */
    double k;                   /* seconds from t_epoch until W_cubic is back at w_max */
    double w_est;               /* 4.3: the window Reno would have */
    double cwnd_prior;          /* cwnd when the last reduction began */
    double carry;               /* growth in bytes not yet a whole byte */
    double undo_w_max;          /* 4.9: what the last reduction replaced */
    double undo_cwnd_prior;
};

_Static_assert(sizeof(struct cubic) <= SHUNT_CC_PRIV_SIZE, "cubic's state fits in priv");

static struct cubic *cubic_of(struct shunt_cc_conn *c)
{
    return (struct cubic *)c->priv;
}

/* 4.2, Figure 1: W_cubic(t) = C (t - K)^3 + W_max. */
static double w_cubic(const struct cubic *q, double t)
{
    double d = t - q->k;

    return C * d * d * d + q->w_max;
}

/* 4.2: a congestion avoidance stage begins with cwnd segments.  K comes
 * from Figure 2; after a timeout, or before any loss, W_max is the window
 * now and K is 0 (4.8). */
static void epoch_begin(struct cubic *q, double cwnd, uint64_t now_ns)
{
    q->epoch_ns = now_ns > 0 ? now_ns : 1;
    q->w_est = cwnd;                            /* 4.3: W_est = cwnd_epoch */
    if (q->w_max > cwnd) {
        q->k = cbrt((q->w_max - cwnd) / C);
    } else {
        q->k = 0;
        q->w_max = cwnd;
    }
}

static void cubic_cong_avoid(struct shunt_cc_conn *c, const struct shunt_cc_ack *a)
{
    struct cubic *q = cubic_of(c);
    uint32_t acked = shunt_cc_slow_start(c, a->acked);      /* 4.10 */

    if (acked == 0)
        return;
    double cwnd = (double)c->cwnd / c->mss, segs = (double)acked / c->mss;
    if (q->epoch_ns == 0)
        epoch_begin(q, cwnd, a->now_ns);
    double t = (double)(a->now_ns - q->epoch_ns) / 1e9;
    double rtt = (a->srtt_us != 0 ? a->srtt_us : a->min_rtt_us) / 1e6;

    /* 4.3: Reno's window, grown by α per RTT until it passes the window
     * of the last loss, by one per RTT after. */
    q->w_est += (q->w_est >= q->cwnd_prior ? 1.0 : ALPHA) * segs / cwnd;
    double grow;
    if (w_cubic(q, t) < q->w_est) {
        grow = q->w_est - cwnd;                 /* 4.3: cwnd = W_est */
    } else {
        /* 4.4, 4.5: towards W_cubic one RTT ahead, within [cwnd, 1.5 cwnd],
         * by (target - cwnd) / cwnd for each segment acked (as Linux counts
         * it; the RFC says for each ACK). */
        double target = fmin(fmax(w_cubic(q, t + rtt), cwnd), GROW_MAX * cwnd);
        grow = (target - cwnd) / cwnd * segs;
    }
    if (grow <= 0)
        return;
    double bytes = fmin(grow * c->mss + q->carry, (double)(UINT32_MAX - c->cwnd));
    uint32_t whole = (uint32_t)bytes;
    q->carry = bytes - whole;
    c->cwnd += whole;
}

/* 4.6 and 4.7: a loss ends the stage. */
static uint32_t cubic_ssthresh(struct shunt_cc_conn *c, uint32_t flight)
{
    struct cubic *q = cubic_of(c);
    double cwnd = (double)c->cwnd / c->mss;

    q->undo_w_max = q->w_max;
    q->undo_cwnd_prior = q->cwnd_prior;
    /* 4.7, fast convergence: a loss below the last one's window means a
     * new flow takes its share; give it room sooner. */
    q->w_max = cwnd < q->w_max ? cwnd * (1.0 + BETA) / 2.0 : cwnd;
    q->cwnd_prior = cwnd;
    q->epoch_ns = 0;
    q->carry = 0;
    return (uint32_t)(flight * BETA);           /* 4.6: flight_size × β */
}

/* 4.8: the first stage after a timeout starts from its own window, K = 0. */
static void cubic_on_rto(struct shunt_cc_conn *c)
{
    cubic_of(c)->w_max = 0;
}

/* 4.9: a spurious reduction is forgotten. */
static uint32_t cubic_undo_cwnd(struct shunt_cc_conn *c)
{
    struct cubic *q = cubic_of(c);

    q->w_max = q->undo_w_max;
    q->cwnd_prior = q->undo_cwnd_prior;
    q->epoch_ns = 0;
    return c->cwnd > c->prior_cwnd ? c->cwnd : c->prior_cwnd;
}

const struct shunt_cc_ops shunt_cc_cubic = {
    .name = "cubic",
    .cong_avoid = cubic_cong_avoid,
    .ssthresh = cubic_ssthresh,
    .on_rto = cubic_on_rto,
    .undo_cwnd = cubic_undo_cwnd,
};
