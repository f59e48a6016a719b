/*
 * <shunt/cc.h> - TCP congestion control: the algorithms a socket chooses
 * from, and how a program adds its own.
 *
 * The interface is Linux's struct tcp_congestion_ops, cut to what a loss
 * based algorithm needs.  Shunt's loss recovery (which segments go again,
 * and when) stays Shunt's; an algorithm answers two questions only: how
 * far the congestion window grows on an ACK, and what the slow-start
 * threshold becomes when a loss is found.  Built in: "reno" (NewReno,
 * RFC 5681) and "cubic" (RFC 9438, the default, as Linux's).
 *
 * A socket chooses by name with setsockopt(IPPROTO_TCP, TCP_CONGESTION)
 * before connect() or listen() (accepted sockets inherit the listener's);
 * the config key tcp_congestion sets the instance's default.  A program
 * registers its own algorithm before the sockets that use it:
 *
 *     static void fixed_avoid(struct shunt_cc_conn *c, const struct shunt_cc_ack *a)
 *     {
 *         (void)a;
 *         c->cwnd = 20 * c->mss;
 *     }
 *     static uint32_t fixed_ssthresh(struct shunt_cc_conn *c, uint32_t flight)
 *     {
 *         (void)flight;
 *         return 20 * c->mss;
 *     }
 *     static const struct shunt_cc_ops fixed = {
 *         .name = "fixed", .cong_avoid = fixed_avoid, .ssthresh = fixed_ssthresh,
 *     };
 *     shunt_cc_register(&fixed);
 *
 * Every call runs on the instance's own thread, inside its loop turn: an
 * algorithm must not block, and may keep no state outside its connection's
 * priv area (there may be many connections).
 */
#ifndef SHUNT_CC_H
#define SHUNT_CC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHUNT_CC_NAME_MAX   16          /* the NUL included: Linux's TCP_CA_NAME_MAX */
#define SHUNT_CC_PRIV_SIZE  104         /* Linux's ICSK_CA_PRIV_SIZE */
#define SHUNT_CC_MAX        16          /* algorithms registered at once */

/* A connection as its algorithm sees it.  Windows count bytes, as Shunt's
 * TCP does (TCP_INFO reports them in segments, as Linux). */
struct shunt_cc_conn {
    uint32_t cwnd;              /* the congestion window: cong_avoid sets it */
    uint32_t ssthresh;          /* the slow-start threshold */
    uint32_t mss;               /* the sender's maximum segment size */
    uint32_t prior_cwnd;        /* cwnd when the last reduction began */
    /* The algorithm's own state, zero before init; 8-byte aligned. */
    uint64_t priv[SHUNT_CC_PRIV_SIZE / sizeof(uint64_t)];
};

/* What an ACK that acknowledges new data says. */
struct shunt_cc_ack {
    uint32_t acked;             /* bytes it acknowledged for the first time */
    uint32_t srtt_us;           /* the smoothed RTT (RFC 6298); 0: no sample yet */
    uint32_t min_rtt_us;        /* the least RTT seen; 0: no sample yet */
    uint64_t now_ns;            /* the instance's clock (tests drive it) */
};

struct shunt_cc_ops {
    char name[SHUNT_CC_NAME_MAX];
    /* Optional: a connection takes the algorithm (priv is zero). */
    void (*init)(struct shunt_cc_conn *c);
    /* Required: an ACK of new data, outside loss recovery (there the window
     * is recovery's, RFC 6675 5): grow c->cwnd. */
    void (*cong_avoid)(struct shunt_cc_conn *c, const struct shunt_cc_ack *a);
    /* Required: a loss was found, by recovery or by the retransmission
     * timer, with flight bytes outstanding (RFC 5681 eq. 4's FlightSize):
     * the new ssthresh.  Recovery sets cwnd from it. */
    uint32_t (*ssthresh)(struct shunt_cc_conn *c, uint32_t flight);
    /* Optional: the retransmission timer fired (after ssthresh). */
    void (*on_rto)(struct shunt_cc_conn *c);
    /* Optional: the last reduction was spurious (a DSACK or F-RTO showed
     * it): the cwnd to go back to.  Without it, max(cwnd, prior_cwnd). */
    uint32_t (*undo_cwnd)(struct shunt_cc_conn *c);
};

/*
 * Make ops choosable by its name; ops must outlive every socket using it.
 * Returns 0, or -1 with errno EINVAL (no name, a name too long, or no
 * cong_avoid or ssthresh), EEXIST (the name is taken) or ENOSPC (already
 * SHUNT_CC_MAX algorithms).
 */
int shunt_cc_register(const struct shunt_cc_ops *ops);

/* The building blocks Linux exports to its modules (tcp_slow_start,
 * tcp_cong_avoid_ai, tcp_reno_ssthresh), for an algorithm of one's own. */

/* Slow start (RFC 5681 3.1, RFC 3465 2.2 with L = 2 MSS): cwnd grows by
 * the bytes acked, at most 2 MSS an ACK, up to ssthresh.  Returns the
 * bytes acked left over once cwnd reached ssthresh. */
uint32_t shunt_cc_slow_start(struct shunt_cc_conn *c, uint32_t acked);

/* Congestion avoidance by byte counting (RFC 5681 3.1, RFC 3465 2.1): one
 * MSS more each time *counted reaches cwnd bytes acked, one MSS per RTT. */
void shunt_cc_grow_linear(struct shunt_cc_conn *c, uint32_t *counted, uint32_t acked);

/* NewReno's answer to a loss: half the flight, at least 2 MSS (RFC 5681 eq. 4). */
uint32_t shunt_cc_reno_ssthresh(struct shunt_cc_conn *c, uint32_t flight);

#ifdef __cplusplus
}
#endif

#endif /* SHUNT_CC_H */
