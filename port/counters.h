/*
 * counters.h - what the port layer counts: packets and bytes each way at the
 * wire and to and from the kernel (the exception path), every frame the classifier judged (by verdict), and every dropped
 * frame (or datagram) under exactly one cause.
 *
 * The fast path bumps plain counters in a struct the netif owns; no atomics,
 * since one thread owns the instance.  Counts that others keep - the port's
 * (frames it had no mbuf for) and lwIP's (frames its protocols threw away,
 * by reason) - are folded in when a snapshot is taken (stack/stats.c).
 */
#ifndef SHUNT_COUNTERS_H
#define SHUNT_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>

enum shunt_drop_cause {
    SHUNT_DROP_RX_NOMBUF,       /* no buffer or ring slot to receive into: the loop fell behind */
    SHUNT_DROP_BAD_FRAME,       /* headers that do not hold together: too short, a bad IP
                                   version or header length, lengths beyond the frame */
    SHUNT_DROP_NOT_FOR_US,      /* for another MAC or IP address, a group not joined, or
                                   a protocol Shunt does not speak */
    SHUNT_DROP_BAD_CHECKSUM,    /* a bad IP, TCP, UDP, ICMP or IGMP checksum */
    SHUNT_DROP_TOO_BIG,         /* an IPv6 datagram over lwIP's 65,535 bytes */
    SHUNT_DROP_REASSEMBLY,      /* datagrams given up on: fragments missing too long */
    SHUNT_DROP_SOURCE_FILTERED, /* multicast from a source no member's filter lets in
                                   (IP_ADD_SOURCE_MEMBERSHIP, IP_BLOCK_SOURCE, ...): at the
                                   host's filter, or at a member socket's own */
    SHUNT_DROP_NO_SOCKET,       /* TCP or UDP for a port nobody has (RST/ICMP sent) */
    SHUNT_DROP_SOCKET_FULL,     /* a socket's receive queue was full */
    SHUNT_DROP_BACKLOG_FULL,    /* a SYN for a listener whose accept queue was full */
    SHUNT_DROP_TCP_INVALID,     /* a segment a connection refused (port/challenge.h): an RST
                                   or SYN not exactly at RCV.NXT, an ACK out of range, no
                                   ACK bit; answered with a challenge ACK where due */
    SHUNT_DROP_TCP_THROTTLED,   /* the same, or an empty segment outside the window, whose
                                   answer the rate limits withheld */
    SHUNT_DROP_ARP_QUEUE,       /* no room to hold a packet while ARP/ND resolves */
    SHUNT_DROP_POOL_EMPTY,      /* an lwIP pool or its heap was empty */
    SHUNT_DROP_LWIP,            /* dropped by lwIP for any other reason */
    SHUNT_DROP_FAULT,           /* dropped on purpose by the fault stage (port/faults.h) */
    SHUNT_DROP_TX_NOMBUF,       /* no mbuf to copy an outgoing frame into */
    SHUNT_DROP_TX_RING_FULL,    /* the port's TX queue stayed full (for the kernel's frames
                                   too, on the exception path) */
    SHUNT_DROP_TX_FAULT,        /* an outgoing frame the fault stage dropped on purpose */
    SHUNT_DROP_KERNEL_FULL,     /* the exception path: the kernel's interface refused a
                                   frame for it (its queue was full) */
    SHUNT_DROP_KERNEL_DOWN,     /* the exception path: the kernel's interface is down */
    SHUNT_DROP_KERNEL_NOMBUF,   /* the exception path: no mbuf to copy a frame both the
                                   kernel and Shunt get (ARP replies): the kernel misses it */
    SHUNT_DROP_CAUSES
};

/* What the classifier (port/classify.h) said of a received frame. */
enum shunt_verdict {
    SHUNT_VERDICT_ARP,          /* ARP about this host, or an announcement */
    SHUNT_VERDICT_ARP_OTHER,    /* ARP about another host: lwIP may refresh an entry
                                   from it, yet it is counted as not for us */
    SHUNT_VERDICT_ICMP,         /* ICMP, ICMPv6 (neighbour discovery, MLD), IGMP */
    SHUNT_VERDICT_UNREACHABLE,  /* a port unreachable about a datagram this host sent */
    SHUNT_VERDICT_TCP,          /* a segment of a connection (established or closing) */
    SHUNT_VERDICT_TCP_LISTEN,   /* a segment for a listener: a SYN, most often */
    SHUNT_VERDICT_UDP,          /* a datagram for a socket */
    SHUNT_VERDICT_FRAGMENT,     /* an IP fragment: lwIP reassembles it */
    SHUNT_VERDICT_NO_SOCKET,    /* TCP or UDP for a port nobody has, or an IP protocol
                                   nobody speaks: lwIP answers with RST or ICMP */
    SHUNT_VERDICT_NOT_OURS,     /* another host's, or not IP or ARP */
    SHUNT_VERDICT_MALFORMED,    /* dropped under a cause: bad frame, bad checksum, too big */
    SHUNT_VERDICTS
};

struct shunt_counters {
    uint64_t rx_packets;
    uint64_t rx_bytes;
    uint64_t tx_packets;
    uint64_t tx_bytes;
    /* The exception path (port/exception.h): frames given to the kernel's
     * interface, and frames it sent out the port. */
    uint64_t to_kernel;
    uint64_t to_kernel_bytes;
    uint64_t from_kernel;
    uint64_t from_kernel_bytes;
    uint64_t drops[SHUNT_DROP_CAUSES];
    uint64_t verdicts[SHUNT_VERDICTS];
    /* For the frame balance (stack/stats.h): what became of frames between
     * the wire and lwIP, counted where it happens. */
    uint64_t netif_dropped;     /* received frames the netif dropped before lwIP */
    uint64_t kernel_routed;     /* received frames the netif gave the kernel (exception path) */
    uint64_t kernel_copies;     /* copies of received frames made for the kernel, or tried */
    uint64_t lwip_in;           /* received frames handed to lwIP */
    uint64_t lwip_freed;        /* of those, freed since (port/mbuf.h) */
    uint64_t taken;             /* never lwIP's: port unreachables a socket took, and
                                 * IGMP and MLD (port/mcreport.h) */
    uint64_t looped;            /* packets lwIP sent to its own addresses */
    uint64_t tx_produced;       /* frames lwIP handed the netif to send */
};

/* Whether a cause is about frames sent (tx_*, arp_queue) rather than
 * received; pool_empty counts failed allocations, and is neither. */
bool shunt_drop_is_tx(enum shunt_drop_cause cause);
bool shunt_drop_is_rx(enum shunt_drop_cause cause);

/* Short names, e.g. "rx_nombuf", "tcp_listen"; "unknown" out of range. */
const char *shunt_drop_name(enum shunt_drop_cause cause);
const char *shunt_verdict_name(enum shunt_verdict verdict);

#endif /* SHUNT_COUNTERS_H */
