/*
 * classify.h - one place decides, for every frame received, whose it is.
 *
 * Before lwIP sees a frame, the classifier reads its headers - checking
 * every length and the IPv4 header checksum before it believes a field -
 * and gives one verdict (port/counters.h): lwIP's, and on which path (ARP,
 * ICMP, a TCP connection the demux found, a listener, a UDP socket, a
 * fragment to reassemble, a port nobody has); not ours (another host's, not
 * IP or ARP); or malformed, with the drop cause.  The netif (port/netif.c)
 * acts on the verdict; a verdict is all a later stage needs to say "give
 * it to the kernel" instead of "count it and let it go", or "answer with a
 * reset".
 *
 * It decides the way lwIP will: the same tests of address, port and state,
 * on lwIP's own lists of pcbs, so a frame it gives lwIP as a listener's is
 * one lwIP will hand to that listener.  TCP and UDP checksums are lwIP's to
 * check (they cover the whole payload); a frame whose checksum is bad is
 * judged by its headers, and lwIP then drops it as bad_checksum.
 */
#ifndef SHUNT_CLASSIFY_H
#define SHUNT_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "lwip/ip_addr.h"
#include "lwip/netif.h"

#include "counters.h"
#include "demux.h"
#include "mcast.h"

/* What the classifier looks at besides the frame. */
struct shunt_classifier {
    struct netif *netif;                /* this host's MAC, addresses, groups */
    struct shunt_demux *demux;          /* TCP connections by 4-tuple */
    struct shunt_mcast *mcast;          /* groups joined, with their source filters */
    bool nic_checksums;                 /* the port checks checksums on receive */
};

struct shunt_class {
    enum shunt_verdict verdict;
    enum shunt_drop_cause cause;        /* NOT_OURS, ARP_OTHER, MALFORMED: what to count */
    bool l4_checked;                    /* the NIC found the TCP/UDP checksum good */
    /* TCP, TCP_LISTEN, NO_SOCKET of TCP: the connection the demux found
     * (port/demux.h), and that it looked (certain: lwIP need not). */
    struct tcp_pcb *pcb;
    bool certain;
    /* UDP: to a multicast group the classifier found joined (group), whose
     * frame lwIP need not look up again (port/netif.c). */
    bool to_group;
    ip_addr_t group;
    /* UNREACHABLE: the datagram the message is about, as this host sent it. */
    ip_addr_t local;
    ip_addr_t remote;
    uint16_t lport;
    uint16_t rport;
    /* What the exception path (port/exception.h) routes by, each read as
     * the classifier passes it: the IP protocol (ICMP, ICMP6, ...), the ICMP
     * or ICMPv6 type (ICMP), the destination port (TCP, UDP and their
     * NO_SOCKET), an ARP request for this host's address (ARP). */
    uint8_t proto;
    uint8_t icmp_type;
    uint16_t dport;
    bool arp_request;
};

/* Judge the received frame m; fills in out and returns its verdict. */
enum shunt_verdict shunt_classify(const struct shunt_classifier *c, const struct rte_mbuf *m,
                                  struct shunt_class *out);

/* Judge an IP packet the stack sent to its own address, back through
 * lwIP's loopback: no Ethernet header, all of it at packet. */
enum shunt_verdict shunt_classify_own(const struct shunt_classifier *c, const void *packet,
                                      uint32_t len, struct shunt_class *out);

#endif /* SHUNT_CLASSIFY_H */
