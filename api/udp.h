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
#include <sys/socket.h>
#include <sys/types.h>

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

/* ---- for zero-copy (api/zc.c) ---------------------------------------------- */

struct iovec;
struct sockaddr;

/*
 * Take the next datagram as views (at most cap, *n of them) on its pbuf
 * chain, which *p now holds, and its source (from, *fromlen); it stays
 * charged to the socket (*charged) until shunt_udp_zc_uncharge.  Its
 * length, or with none waiting what recv() gets (0 once shut, -errno);
 * -EMSGSIZE for a datagram in more than cap pieces.
 */
ssize_t shunt_udp_zc_take(struct shunt_sock *s, struct iovec *iov, int cap, int *n,
                          struct pbuf **p, size_t *charged, struct sockaddr *from,
                          socklen_t *fromlen);
void shunt_udp_zc_uncharge(struct shunt_sock *s, size_t charged);

/* The largest datagram that leaves unfragmented (the MTU's payload). */
size_t shunt_udp_zc_max(const struct shunt_sock *s);

/* Send the datagram p (to, or the connected peer when NULL) as sendto()
 * checks and sends it; p stays the caller's.  Its length, or -errno. */
ssize_t shunt_udp_zc_send(struct shunt_sock *s, struct pbuf *p, const ip_addr_t *to,
                          uint16_t port);

#endif /* SHUNT_UDP_H */
