/*
 * udp.h - a UDP socket (api/udp.c): the common socket, its lwIP UDP pcb,
 * the ring of datagrams received, the datagram MSG_MORE is building, and
 * the IPv4 multicast groups it joined.
 *
 * udp.c alone changes these fields; sockstat.c reads them to show the
 * socket, and sockopt.c asks through the calls below.
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

#define SHUNT_MAX_GROUPS 20     /* IP_MAX_MEMBERSHIPS, as Linux */

struct shunt_udp_sock {
    struct shunt_sock sock;     /* the part every socket has */
    struct udp_pcb *pcb;
    bool connected;             /* connect() named a default peer */
    bool steer_owned;           /* its port is in the group's table as ours */

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

    ip4_addr_t groups[SHUNT_MAX_GROUPS];        /* joined IPv4 groups */
    int ngroups;
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

/* IP_ADD_MEMBERSHIP: join an IPv4 group, as Linux: 0, or -EADDRINUSE
 * (joined already), -ENOBUFS (SHUNT_MAX_GROUPS, or lwIP is full). */
int shunt_udp_join(struct shunt_sock *s, const ip4_addr_t *group);

/* IP_DROP_MEMBERSHIP: 0, or -EADDRNOTAVAIL when s is not in the group.
 * lwIP sends the leave report when the last member goes; close leaves all. */
int shunt_udp_leave(struct shunt_sock *s, const ip4_addr_t *group);

#endif /* SHUNT_UDP_H */
