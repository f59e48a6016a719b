/*
 * cc-reno.c - NewReno's congestion window (RFC 5681 3.1, RFC 6582), the
 * window lwIP kept by itself before, and the building blocks it lends to
 * other algorithms (<shunt/cc.h>), as Linux's tcp_cong.c does.
 */
#include "cc.h"

/* Reno's private state: the bytes acked towards the next MSS in
 * congestion avoidance (RFC 3465 2.1's bytes_acked). */
struct reno {
    uint32_t counted;
};

_Static_assert(sizeof(struct reno) <= SHUNT_CC_PRIV_SIZE, "reno's state fits in priv");

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

uint32_t shunt_cc_slow_start(struct shunt_cc_conn *c, uint32_t acked)
{
    if (c->cwnd >= c->ssthresh)
        return acked;
    /* RFC 3465 2.2: L = 2 SMSS, so an ACK of two segments (a delayed
     * ACK) grows cwnd by two, and the window doubles each RTT. */
    uint32_t grow = min_u32(min_u32(acked, 2 * c->mss), c->ssthresh - c->cwnd);
    c->cwnd += grow;
    return acked - grow;
}

void shunt_cc_grow_linear(struct shunt_cc_conn *c, uint32_t *counted, uint32_t acked)
{
    *counted += acked;
    if (*counted >= c->cwnd) {
        *counted -= c->cwnd;
        c->cwnd += c->mss;
    }
}

uint32_t shunt_cc_reno_ssthresh(struct shunt_cc_conn *c, uint32_t flight)
{
    uint32_t half = flight / 2;

    return half > 2 * c->mss ? half : 2 * c->mss;
}

static void reno_cong_avoid(struct shunt_cc_conn *c, const struct shunt_cc_ack *a)
{
    struct reno *r = (struct reno *)c->priv;
    uint32_t left = shunt_cc_slow_start(c, a->acked);

    if (left > 0)
        shunt_cc_grow_linear(c, &r->counted, left);
}

static uint32_t reno_ssthresh(struct shunt_cc_conn *c, uint32_t flight)
{
    struct reno *r = (struct reno *)c->priv;

    r->counted = 0;
    return shunt_cc_reno_ssthresh(c, flight);
}

const struct shunt_cc_ops shunt_cc_reno = {
    .name = "reno",
    .cong_avoid = reno_cong_avoid,
    .ssthresh = reno_ssthresh,
};
