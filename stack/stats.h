/*
 * stats.h - what a stack instance counts: packets and bytes each way, and
 * every dropped frame (or datagram) under exactly one cause.
 *
 * The fast path (port/, api/) bumps plain counters in a struct the netif
 * owns; no atomics, since one thread owns the instance.  Counts that others
 * keep - the port's (frames it had no mbuf for) and lwIP's (frames its
 * protocols threw away, by reason) - are folded in when a snapshot is taken,
 * sorted into the same causes: lwIP counts each dropped packet once under
 * "drop" and once under a reason, and stats.c takes the reasons it can name
 * out of "lwip".
 */
#ifndef SHUNT_STATS_H
#define SHUNT_STATS_H

#include <stdint.h>
#include <stdio.h>

enum shunt_drop_cause {
    SHUNT_DROP_RX_NOMBUF,       /* no buffer or ring slot to receive into: the loop fell behind */
    SHUNT_DROP_BAD_FRAME,       /* shorter than its Ethernet (and ARP) header */
    SHUNT_DROP_NOT_FOR_US,      /* for another MAC or IP address, or a group not joined */
    SHUNT_DROP_BAD_CHECKSUM,    /* a bad IP, TCP, UDP, ICMP or IGMP checksum */
    SHUNT_DROP_TOO_BIG,         /* an IPv6 datagram over lwIP's 65,535 bytes */
    SHUNT_DROP_REASSEMBLY,      /* datagrams given up on: fragments missing too long */
    SHUNT_DROP_NO_SOCKET,       /* TCP or UDP for a port nobody has (RST/ICMP sent) */
    SHUNT_DROP_SOCKET_FULL,     /* a socket's receive queue was full */
    SHUNT_DROP_BACKLOG_FULL,    /* a SYN for a listener whose accept queue was full */
    SHUNT_DROP_ARP_QUEUE,       /* no room to hold a packet while ARP/ND resolves */
    SHUNT_DROP_POOL_EMPTY,      /* an lwIP pool or its heap was empty */
    SHUNT_DROP_LWIP,            /* dropped by lwIP for any other reason */
    SHUNT_DROP_TX_NOMBUF,       /* no mbuf to copy an outgoing frame into */
    SHUNT_DROP_TX_RING_FULL,    /* the port's TX queue stayed full */
    SHUNT_DROP_CAUSES
};

struct shunt_counters {
    uint64_t rx_packets;
    uint64_t rx_bytes;
    uint64_t tx_packets;
    uint64_t tx_bytes;
    uint64_t drops[SHUNT_DROP_CAUSES];
};

/* A short name for a cause, e.g. "rx_nombuf". */
const char *shunt_drop_name(enum shunt_drop_cause cause);

/*
 * live, completed with the port's and lwIP's own counts.  port_id may be
 * UINT16_MAX when there is no port (yet).
 */
void shunt_stats_snapshot(const struct shunt_counters *live, uint16_t port_id,
                          struct shunt_counters *out);

/* A human summary, a few lines. */
void shunt_stats_print(FILE *f, const struct shunt_counters *c);

#endif /* SHUNT_STATS_H */
