/*
 * udp.h - a UDP socket (api/udp.c): the common socket, its lwIP UDP pcb,
 * the ring of datagrams received, the datagram MSG_MORE is building, and
 * how many multicast groups it joined.
 *
 * udp.c alone changes these fields, but for the counts of groups, which
 * api/mcast.c keeps; sockstat.c reads them to show the socket, and
 * sockopt.c asks through the calls below.
 */
#ifndef SHUNT_UDP_H
#define SHUNT_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/ip_addr.h"

#include "sock.h"

struct pbuf;
struct udp_pcb;
struct shunt_dgram;

extern const struct shunt_proto shunt_udp_proto;

struct shunt_udp_sock {
    struct shunt_sock sock;     /* the part every socket has */
    struct udp_pcb *pcb;
    bool connected;             /* connect() named a default peer */

    /* Received datagrams, a ring charged against SO_RCVBUF as Linux
     * charges a socket: for the buffers a datagram pins. */
    struct shunt_dgram *rx_ring;
    unsigned rx_cap;
    unsigned rx_head;
    unsigned rx_count;
    size_t rx_charge;

    /* The datagram MSG_MORE is building, and where it will go. */
    struct pbuf *cork;
    ip_addr_t cork_to;
    uint16_t cork_port;

    /* Groups joined (the memberships are in port/mcast.h's table). */
    unsigned ngroups4, ngroups6;
};

/* The UDP socket whose common part is s (s->type is SOCK_DGRAM). */
static inline struct shunt_udp_sock *shunt_udp_of(const struct shunt_sock *s)
{
    return SHUNT_SOCK_OUTER(s, struct shunt_udp_sock);
}

/* An ICMP or ICMPv6 "port unreachable" about a datagram sent from
 * local:lport to remote:rport (struct shunt_netif_upcalls, port/netif.h): a
 * UDP socket connected there gets ECONNREFUSED, as on Linux.  True if one
 * did. */
bool shunt_udp_unreachable(void *arg, const ip_addr_t *local, uint16_t lport,
                           const ip_addr_t *remote, uint16_t rport);

/* ---- for the options (api/sockopt.c) -------------------------------------- */

/* Size the datagram ring for the socket's SO_RCVBUF; -ENOMEM if it cannot. */
int shunt_udp_resize(struct shunt_sock *s);

#endif /* SHUNT_UDP_H */
