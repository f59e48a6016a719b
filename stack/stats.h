/*
 * stats.h - snapshots and summaries of a stack instance's counters
 * (port/counters.h), completed with what others count: the port (frames it
 * had no buffer for), the kernel under an AF_XDP or AF_PACKET port (frames
 * dropped at a full ring, stack/dev.h), the fault stage (frames it dropped
 * on purpose) and lwIP (frames its protocols threw away, by reason).  lwIP
 * counts each dropped packet once under "drop" and once under a reason; the
 * reasons Shunt can name are taken out of "lwip".
 *
 * The frame balance: every frame ends in exactly one place.
 *
 *   in:   rx_packets + rx_copies + looped + kernel_copies
 *                              = consumed + to_kernel + held + Σ RX drops
 *   out:  tx_produced + tx_copies + from_kernel
 *                              = tx_packets + Σ TX drops + held
 *
 * rx_packets are frames the port delivered (rx_nombuf counts frames it never
 * did, so it is outside the sum); rx_copies the fault stage's duplicates;
 * looped what lwIP sent to its own addresses.  consumed: taken by lwIP or a
 * socket with no drop counted for it - data or control delivered, a pure
 * ACK, an ARP/ND/ICMP exchange answered - in_sockets of them still queued
 * there.  held, as current counts: TCP (out-of-order queues, data a socket
 * had no room for yet), IP reassembly, the fault stage's frames held back.
 * A held frame released later moves to consumed (delivered) or to a drop
 * (reassembly, lwip: given up on in a timer; stack/loop.c counts those).
 * On the way out: tx_produced are frames lwIP handed the netif; held the
 * netif's TX buffer and the fault stage's; arp_waiting (packets waiting for
 * ARP/ND, not frames yet) is shown beside it, and arp_queue counts the
 * packets that found no room there.  pool_empty counts failed allocations,
 * not frames, and is in neither sum.  The exception path (port/exception.h)
 * is one more destination on the way in - to_kernel, the frames the kernel's
 * interface took, whole or as copies (kernel_copies: ARP replies both get),
 * and its kernel_* drops; held, the frames waiting for the next burst to
 * it - and one more source on the way out: from_kernel, the kernel's frames
 * sent down the pipeline like lwIP's.
 *
 * What the balance checks, each counted on its own: frames out of the
 * device pipeline (one verdict each) against rx_packets and the fault
 * stage's drops, copies and held frames; verdicts against the frames the
 * classifier dropped, those a socket took and those handed to lwIP; frames
 * lwIP took against those it freed and those it holds.  A frame lwIP frees
 * without counting it shows as consumed: lwIP's counters are the word on
 * its drops.  The capture stage sits below the fault stage: it sees the
 * rx_packets frames, before the faults' drops and copies, and on the way
 * out the frames the faults let through (tx_packets, once each, plus those
 * the port refused).
 */
#ifndef SHUNT_STATS_H
#define SHUNT_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "counters.h"
#include "dev.h"
#include "faults.h"
#include "netif.h"

/* live, completed with the port's, the kernel's, the fault stage's and
 * lwIP's own counts; dev and faults may be NULL (no port yet, no stage). */
void shunt_stats_snapshot(const struct shunt_counters *live, struct shunt_dev *dev,
                          const struct shunt_faults *faults, struct shunt_counters *out);

struct shunt_balance {
    /* in */
    uint64_t rx_packets, rx_copies, looped, kernel_copies;
    uint64_t consumed, in_sockets, to_kernel;
    uint64_t held_tcp, held_reassembly, held_faults_rx, held_kernel;
    uint64_t rx_drops;
    uint64_t steered_in, steered_away;  /* to and from the group's others */
    bool rx_holds;
    /* out */
    uint64_t tx_produced, tx_copies, from_kernel;
    uint64_t tx_packets, tx_drops;
    uint64_t held_tx_buffer, held_faults_tx;
    uint64_t arp_waiting;
    bool tx_holds;
};

/* The balance of a snapshot c of sn's counters (faults, and steer for an
 * instance alone, may be NULL). */
struct shunt_steer_stats;
void shunt_stats_balance(const struct shunt_counters *c, const struct shunt_netif *sn,
                         const struct shunt_faults *faults, const struct shunt_steer_stats *steer,
                         struct shunt_balance *b);

static inline uint64_t shunt_balance_rx_held(const struct shunt_balance *b)
{
    return b->held_tcp + b->held_reassembly + b->held_faults_rx + b->held_kernel;
}

static inline uint64_t shunt_balance_tx_held(const struct shunt_balance *b)
{
    return b->held_tx_buffer + b->held_faults_tx;
}

/* A human summary, a few lines; b may be NULL. */
void shunt_stats_print(FILE *f, const struct shunt_counters *c, const struct shunt_balance *b);

#endif /* SHUNT_STATS_H */
