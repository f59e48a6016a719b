/*
 * cc.h - congestion control: the registry of algorithms (<shunt/cc.h> is
 * their interface and how a program adds one) and, for each connection,
 * the algorithm it chose and that algorithm's state.
 *
 * Who calls what:
 * - lwIP, on an ACK of new data (port/lwip-patches/0003, through
 *   port/hooks.h and port/netif.c): shunt_cc_ack, where lwIP grew cwnd
 *   itself; and shunt_cc_loss at its own fast retransmit (a peer without
 *   SACK), where it halved ssthresh.
 * - port/recovery.c: shunt_cc_loss when recovery begins and when the
 *   retransmission timer fires; shunt_cc_undo for a reduction found
 *   spurious.  The recovery rules stay there: this module only answers
 *   what ssthresh and cwnd become.
 * - the socket layer: shunt_cc_find for TCP_CONGESTION and shunt_cc_choose
 *   to put a socket's choice on its pcb.
 * A connection with no choice made has the instance's default
 * (tcp_congestion in the config; cubic unless it says otherwise).
 */
#ifndef SHUNT_PORT_CC_H
#define SHUNT_PORT_CC_H

#include <stdbool.h>
#include <stdint.h>

#include "shunt/cc.h"

struct shunt_clock;
struct tcp_pcb;

/* The built-in algorithms (port/cc-reno.c, port/cc-cubic.c). */
extern const struct shunt_cc_ops shunt_cc_reno;
extern const struct shunt_cc_ops shunt_cc_cubic;

#define SHUNT_CC_DEFAULT    "cubic"     /* Linux's default since 2.6.19 */

/* Before lwIP's TCP runs: the clock the algorithms read, and the
 * instance's default algorithm (NULL: SHUNT_CC_DEFAULT). */
void shunt_cc_init(const struct shunt_clock *clock, const struct shunt_cc_ops *def);

/* The algorithm registered under name (NUL-terminated), or NULL. */
const struct shunt_cc_ops *shunt_cc_find(const char *name);
const struct shunt_cc_ops *shunt_cc_default(void);

/* pcb uses ops from now on (its state starts afresh unless it had ops
 * already).  Never on a pcb that may become a listener: lwIP's tcp_listen
 * frees the state of the pcb it replaces. */
void shunt_cc_choose(struct tcp_pcb *pcb, const struct shunt_cc_ops *ops);

/* Whether the window limited the sender when an ACK of acked new bytes
 * came (lwIP has moved lastack past them): only then may it grow
 * (RFC 7661's rule, as Linux's tcp_is_cwnd_limited).  In slow start while
 * the flight was more than half the window, so slow start still doubles
 * it each RTT; above ssthresh while the flight filled it to within a
 * segment.  A request-response flow keeps the window it has, instead of
 * growing it on every ACK to a size the path never carried. */
bool shunt_cc_limited(const struct tcp_pcb *pcb, uint32_t acked);

/* An ACK of acked new bytes outside recovery: the algorithm sets pcb->cwnd. */
void shunt_cc_ack(struct tcp_pcb *pcb, uint32_t acked, uint32_t srtt_us, uint32_t min_rtt_us);

/* A loss found with flight bytes outstanding (timeout: by the
 * retransmission timer): the new ssthresh, which the caller sets.  pcb's
 * cwnd now is remembered for shunt_cc_undo. */
uint32_t shunt_cc_loss(struct tcp_pcb *pcb, uint32_t flight, int timeout);

/* The last reduction was spurious: the cwnd to go back to. */
uint32_t shunt_cc_undo(struct tcp_pcb *pcb);

#endif /* SHUNT_PORT_CC_H */
