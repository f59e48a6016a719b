/*
 * sock.h - a Shunt socket, and what each protocol module provides.
 *
 * The generic calls (api/socket.c) look up the descriptor, check arguments
 * the way Linux does, convert addresses, and turn the poll loop while a
 * blocking call waits.  A protocol module (api/tcp.c, api/udp.c) does each
 * operation once, without waiting, on lwIP's raw API, and returns a count or
 * a negative errno; -EAGAIN means "not now", and the generic layer decides
 * whether to wait.
 *
 * Everything runs on the stack's one thread: lwIP's callbacks and the
 * application's calls never overlap, so nothing here is locked.
 */
#ifndef SHUNT_SOCK_H
#define SHUNT_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"

struct shunt_sock;
struct shunt_epitem;

/* A protocol's operations; each returns >= 0 or -errno, and never waits. */
struct shunt_proto {
    int (*open)(struct shunt_sock *s);
    int (*bind)(struct shunt_sock *s, const ip_addr_t *ip, uint16_t port);
    int (*listen)(struct shunt_sock *s, int backlog);
    /* Take a queued connection: *child is a socket without a descriptor. */
    int (*accept)(struct shunt_sock *s, struct shunt_sock **child);
    /* 0 when connected, -EINPROGRESS when under way; NULL ip disconnects. */
    int (*connect)(struct shunt_sock *s, const ip_addr_t *ip, uint16_t port);
    /* Finish a connect under way: 0, -EINPROGRESS still, or its error. */
    int (*connected)(struct shunt_sock *s);
    ssize_t (*send)(struct shunt_sock *s, const struct msghdr *msg, int flags,
                    const ip_addr_t *to, uint16_t port);
    ssize_t (*recv)(struct shunt_sock *s, struct msghdr *msg, int flags);
    int (*shutdown)(struct shunt_sock *s, int how);
    /* Let go of the pcb (gracefully, or with a reset when abort). */
    void (*close)(struct shunt_sock *s, bool abort);
    /* EPOLLIN/OUT/ERR/HUP/RDHUP as they are now. */
    uint32_t (*events)(struct shunt_sock *s);
    /* The local (peer false) or remote address; -ENOTCONN if none. */
    int (*name)(struct shunt_sock *s, bool peer, ip_addr_t *ip, uint16_t *port);
    /* Bytes waiting to be read (FIONREAD). */
    int (*pending)(struct shunt_sock *s);
    /* Bytes written but not yet acknowledged by the peer (SO_LINGER). */
    size_t (*unacked)(struct shunt_sock *s);
    /* Apply the socket's options to its pcb (after open or accept). */
    void (*apply_options)(struct shunt_sock *s);
    /* Work left for the end of the loop turn (queued output, ACKs). */
    void (*turn)(struct shunt_sock *s);
};

extern const struct shunt_proto shunt_tcp_proto;

/*
 * A TCP connection's smoothed round-trip time and its variation, in
 * microseconds: Shunt's own measure when its socket has one, else lwIP's
 * (in 200 ms ticks).  s may be NULL (a pcb no socket has yet).  In api/tcp.c.
 */
struct tcp_pcb;
uint32_t shunt_tcp_rtt_us(const struct shunt_sock *s, const struct tcp_pcb *pcb,
                          uint32_t *var_us);
extern const struct shunt_proto shunt_udp_proto;

/* A received datagram, waiting to be read. */
struct shunt_dgram {
    struct pbuf *p;
    ip_addr_t from;
    uint16_t port;
};

/* The options a socket carries, whatever state its pcb is in. */
struct shunt_sockopts {
    int rcvbuf;                 /* SO_RCVBUF as getsockopt reports it */
    int sndbuf;
    bool rcvbuf_set;            /* set by the application: enforce it */
    bool sndbuf_set;
    struct timeval rcvtimeo;
    struct timeval sndtimeo;
    struct linger linger;
    bool reuseaddr;
    bool reuseport;
    bool keepalive;
    bool broadcast;
    bool nodelay;
    bool v6only;
    int ttl;                    /* IP_TTL / IPV6_UNICAST_HOPS */
    int tos;
    int keepidle;               /* seconds, as Linux takes them */
    int keepintvl;
    int keepcnt;
    int maxseg;                 /* TCP_MAXSEG asked for; 0: from the MTU */
    int mcast_ttl;
    bool mcast_loop;
    ip4_addr_t mcast_if;
};

#define SHUNT_MAX_GROUPS 20     /* IP_MAX_MEMBERSHIPS, as Linux */

struct shunt_sock {
    const struct shunt_proto *proto;
    int fd;                     /* -1 while queued for accept() */
    int family;                 /* AF_INET or AF_INET6 */
    int type;                   /* SOCK_STREAM or SOCK_DGRAM */
    bool nonblock;              /* O_NONBLOCK */
    bool cloexec;
    int so_error;               /* for SO_ERROR and the next call */

    /* TCP connection state, Linux's view of it. */
    enum { SOCK_CLOSED, SOCK_LISTEN, SOCK_CONNECTING, SOCK_CONNECTED } state;
    bool bound;
    bool addr_by_hand;          /* bind() named an address (not the wildcard) */
    bool port_by_hand;          /* bind() named a port (not 0) */
    bool connect_pending;       /* an asynchronous connect() to report once */
    bool rd_shut;               /* no more to read: peer's FIN or SHUT_RD */
    bool wr_shut;               /* no more to write: SHUT_WR, or reset */
    bool peer_fin;              /* EPOLLRDHUP */

    union {
        struct tcp_pcb *tcp;
        struct udp_pcb *udp;
    } pcb;

    /* Names, kept for when the pcb is gone (getsockname after a reset). */
    ip_addr_t local_ip;
    uint16_t local_port;
    ip_addr_t peer_ip;
    uint16_t peer_port;

    /* TCP: received pbufs in order, each pbuf on its own (next unused
     * across chains); rx_off bytes of the first are already read. */
    struct pbuf *rx_head;
    struct pbuf *rx_tail;
    uint16_t rx_off;
    size_t rx_bytes;
    size_t rx_withheld;         /* window held back to honour SO_RCVBUF */
    bool rx_discard;            /* SHUT_RD: drop what arrives */
    uint64_t rx_turn;           /* the loop turn data last arrived in */

    /* TCP: the round-trip time on the stack's clock.  lwIP times one
     * segment at a time in 200 ms ticks; Shunt times the same segment in
     * nanoseconds and keeps RFC 6298's smoothed estimate, for TCP_INFO and
     * shunt-stat.  In api/tcp.c. */
    uint64_t rtt_sent_ns;       /* when the timed segment left; 0: none timed */
    uint32_t rtt_seq;           /* its sequence number */
    uint32_t srtt_us;           /* 0 until the first sample */
    uint32_t rttvar_us;

    /* UDP: a ring of received datagrams, charged against SO_RCVBUF. */
    struct shunt_dgram *dgrams;
    unsigned dgram_cap;
    unsigned dgram_head;
    unsigned dgram_count;
    size_t dgram_charge;
    bool udp_connected;
    /* UDP: the datagram MSG_MORE is building, and where it will go. */
    struct pbuf *cork;
    ip_addr_t cork_to;
    uint16_t cork_port;

    /* TCP listener: connections lwIP has accepted, for accept(). */
    struct shunt_sock *accept_head;
    struct shunt_sock *accept_tail;
    struct shunt_sock *accept_next;
    int accept_len;
    int backlog;

    struct shunt_sockopts opt;
    ip4_addr_t groups[SHUNT_MAX_GROUPS];        /* joined IPv4 groups */
    int ngroups;

    /* Epoll instances watching this socket. */
    struct shunt_epitem *watchers;

    /* On the list of sockets with work for the end of the loop turn. */
    struct shunt_sock *work_next;
    bool on_work_list;
};

/* ---- api/udp.c ---------------------------------------------------------------- */

/* Size the datagram ring for the socket's SO_RCVBUF; -ENOMEM if it cannot. */
int shunt_udp_resize(struct shunt_sock *s);

/* ---- api/sock.c: life, readiness and per-turn work of a socket ---------- */

/* A new socket (no descriptor, no pcb yet), or NULL when out of memory. */
struct shunt_sock *shunt_sock_new(int family, int type);

/* A child for an incoming connection, with the listener's options. */
struct shunt_sock *shunt_sock_child(struct shunt_sock *listener);

/* Free the socket and what it holds (its pcb must be gone already). */
void shunt_sock_free(struct shunt_sock *s);

/* Ask for s->proto->turn(s) at the end of this loop turn. */
void shunt_sock_want_turn(struct shunt_sock *s);

/* The number of the loop turn under way (it counts up from 1). */
uint64_t shunt_sock_turn_number(void);

/* Hook the socket layer's per-turn work into the stack's loop. */
void shunt_sock_attach_stack(void);

/* Turn the loop once, for a call that waits. */
void shunt_sock_wait_turn(void);

/* Count a received packet a socket had no room for (SHUNT_DROP_*). */
void shunt_sock_count_drop(int cause);

/* lwIP's err_t as the errno Linux would give. */
int shunt_sock_errno(int err);

/* The netif lwIP routes through (for multicast and address checks). */
struct netif *shunt_sock_netif(void);

/* Send the frames queued so far now, not at the end of the turn. */
void shunt_sock_flush(void);

/*
 * Whether the mbuf pool runs low: received data then moves out of its mbufs
 * (into lwIP's heap), so sockets that are slow to read cannot starve the
 * port of buffers to receive into.
 */
bool shunt_sock_mbufs_low(void);

#endif /* SHUNT_SOCK_H */
