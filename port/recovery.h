/*
 * recovery.h - how Shunt's TCP finds lost segments and sends them again:
 * the one place for loss detection, the retransmission timer and the
 * congestion response to loss.  lwIP keeps its queues (unacked, unsent) and
 * its sending; this module reads every ACK before lwIP does, keeps its own
 * state on each connection and on each segment in flight, and moves the
 * segments it judges lost back to the unsent queue, which lwIP's next
 * tcp_output sends first.
 *
 * The rules, each with its source (the code cites the section again):
 * - RTT (RFC 6298 2, 3): every ACK that newly delivers a segment sent once
 *   gives a sample, in microseconds from the instance's clock (Karn: a
 *   retransmitted segment's ACK is ambiguous and gives none).
 * - RTO (RFC 6298 2, 5): SRTT + 4 RTTVAR, within [rto_min_us, rto_max_us]
 *   (1 s before any sample); started when data leaves and none is timed,
 *   restarted by an ACK of new data, stopped when all is acknowledged,
 *   doubled at each expiry up to rto_max_us.  lwIP's own tick-based timer
 *   is off (port/lwip-patches/0002).
 * - SACK scoreboard (RFC 2018, RFC 6675 3): the peer's SACK blocks mark the
 *   segments they cover in full; a marked segment is never judged lost.
 * - RACK (RFC 8985 6): a segment is lost once a segment sent after it has
 *   been delivered and more than RACK.rtt + reo_wnd has passed since it was
 *   sent (a retransmission too: a lost repair is found the same way); a
 *   segment not yet due arms the reordering timer.  reo_wnd is min_rtt / 4
 *   times a multiplier each DSACK raises, or 0 once three segments are
 *   SACKed and no reordering has been seen (RFC 8985 6.2 step 4).  For a
 *   SACK peer RACK alone judges: lwIP's count of duplicate ACKs stays 0.
 * - Recovery (RFC 6675 5, RFC 6937): on the first loss, ssthresh as the
 *   connection's congestion control says (port/cc.h: half the flight
 *   under reno, 0.7 of it under cubic), and until snd_una passes the highest sequence sent then,
 *   PRR sets how much each ACK lets go, repairs first: in proportion to
 *   what the ACK reports delivered while the pipe (not SACKed, not lost) is
 *   above ssthresh, by slow start's bound below it.  At the end, cwnd =
 *   ssthresh.
 * - Timeout (RFC 6298 5.4-5.7, RFC 6675 5.1): cwnd = 1 MSS, ssthresh from
 *   the congestion control (unless a recovery has cut it), and every segment not
 *   SACKed goes again in order in slow start; SACKed ones do not, unless
 *   the oldest is SACKed (the peer reneged, RFC 2018 8).  F-RTO (RFC 5682
 *   3.1) on the first timeout of an episode: only the oldest goes again,
 *   then two new segments if the ACK advances; an ACK for data sent once
 *   before the timeout shows it was spurious.
 * - Undo (RFC 2883, RFC 5682): the cut of a recovery or a timeout is
 *   undone (cwnd and ssthresh as before) when every byte it sent again
 *   came back in DSACK blocks, or when F-RTO finds the timeout spurious.
 * - TLP (RFC 8985 7): with SACK, when no loss is known, a probe timeout of
 *   2 SRTT (plus 200 ms for a lone segment, the peer's delayed ACK), never
 *   beyond the RTO, sends one new segment, or the last one again, so a
 *   lost tail is SACKed around and RACK repairs it instead of the RTO.
 * - A peer without SACK (RFC 6582 3.2): lwIP's fast retransmit on three
 *   duplicate ACKs stays; a partial ACK in that recovery sends the next
 *   hole at once (NewReno) instead of waiting for the RTO.
 * Not done here (yet): the TLP's own loss response (RFC 8985 7.4), a
 * windowed min_rtt filter, and Eifel's timestamp test (RFC 3522).
 *
 * port/hooks.h calls shunt_recovery_ack() for every segment lwIP found a
 * connection for (before lwIP reads it) and shunt_recovery_seg_sent() for
 * every segment of a queue that leaves; the loop calls shunt_recovery_poll()
 * every turn.  All times are the instance's clock (port/clock.h).
 */
#ifndef SHUNT_RECOVERY_H
#define SHUNT_RECOVERY_H

#include <stdbool.h>
#include <stdint.h>

struct shunt_clock;
struct tcp_pcb;
struct tcp_seg;
struct tcp_hdr;

/* The defaults of the config keys tcp_rto_min_us and tcp_rto_max_us (Linux's). */
#define SHUNT_RTO_MIN_US        200000u
#define SHUNT_RTO_MAX_US        120000000u

/* What the module did, since shunt_recovery_init. */
struct shunt_recovery_stats {
    uint64_t rtos;              /* retransmission timeouts */
    uint64_t probes;            /* tail loss probes sent */
    uint64_t lost;              /* segments RACK (or NewReno) judged lost */
    uint64_t recoveries;        /* recovery episodes begun */
    uint64_t sack_bad;          /* SACK options or blocks ignored as malformed */
    uint64_t dsacks;            /* DSACK blocks: the peer got a segment twice */
    uint64_t undos;             /* cuts undone: the retransmissions were needless */
    uint64_t spurious_rtos;     /* of the rtos, found spurious by F-RTO */
};

/* Before lwIP's TCP runs: the clock, and the RTO's bounds (0 < min <= max). */
void shunt_recovery_init(const struct shunt_clock *clock, uint32_t rto_min_us,
                         uint32_t rto_max_us);

/* A segment for pcb, before lwIP reads it (hdr in host order): its ACK and
 * SACK blocks.  opts/opt1len: the options in the header's own buffer,
 * opt2: the rest (optlen - opt1len bytes) when they were split, or NULL. */
void shunt_recovery_ack(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, uint16_t optlen,
                        uint16_t opt1len, const uint8_t *opt2);

/* A segment of pcb's queues leaves (first time or again). */
void shunt_recovery_seg_sent(struct tcp_pcb *pcb, struct tcp_seg *seg);

/* Fire the timers that are due (RTO, TLP, RACK's reordering timer). */
void shunt_recovery_poll(void);

/* When the earliest of them is due, on the clock (UINT64_MAX: none is
 * armed), for a loop that would sleep till then. */
uint64_t shunt_recovery_next_due_ns(void);

/* The smoothed RTT and its variation in microseconds (0 before a sample),
 * and the RTO now, backoff included. */
uint32_t shunt_recovery_rtt_us(const struct tcp_pcb *pcb, uint32_t *var_us);
uint32_t shunt_recovery_rto_us(const struct tcp_pcb *pcb);

/* The least RTT seen in microseconds (0 before a sample), and whether the
 * connection is in loss recovery (the window is this module's then). */
uint32_t shunt_recovery_min_rtt_us(const struct tcp_pcb *pcb);
bool shunt_recovery_in_recovery(const struct tcp_pcb *pcb);

struct shunt_recovery_stats shunt_recovery_stats(void);

#endif /* SHUNT_RECOVERY_H */
