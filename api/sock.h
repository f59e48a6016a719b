/*
 * sock.h - the part of a Shunt socket that every protocol has, the
 * operations a protocol provides, and a socket's life and per-turn work
 * (api/sock.c).
 *
 * The generic calls (api/socket.c) look up the descriptor, check arguments
 * the way Linux does, convert addresses, and turn the poll loop while a
 * blocking call waits.  A protocol module (api/tcp.c, api/udp.c) does each
 * operation once, without waiting, on lwIP's raw API, and returns a count or
 * a negative errno; -EAGAIN means "not now", and the generic layer decides
 * whether to wait.
 *
 * Each protocol's socket embeds a struct shunt_sock as its member `sock`
 * (struct shunt_tcp_sock in tcp.h, struct shunt_udp_sock in udp.h) and owns
 * the fields around it; a file that needs no protocol's fields includes
 * this header alone.
 *
 * Everything runs on the stack's one thread: lwIP's callbacks and the
 * application's calls never overlap, so nothing here is locked.
 */
#ifndef SHUNT_SOCK_H
#define SHUNT_SOCK_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include "lwip/ip_addr.h"

#include "loop.h"
#include "timestamps.h"

struct shunt_sock;
struct shunt_epitem;
struct shunt_zc_sock;

/* A protocol's operations; each returns >= 0 or -errno, and never waits. */
struct shunt_proto {
    /* A zeroed socket of this protocol, or NULL when out of memory. */
    struct shunt_sock *(*create)(void);
    /* Free the socket and what the protocol holds for it (the pcb is gone). */
    void (*destroy)(struct shunt_sock *s);
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
    /* Let go of the pcb and of what the socket holds (queued data, joined
     * groups): gracefully, or with a reset when abort. */
    void (*close)(struct shunt_sock *s, bool abort);
    /* EPOLLIN/OUT/ERR/HUP/RDHUP as they are now. */
    uint32_t (*events)(struct shunt_sock *s);
    /* The local (peer false) or remote address; -ENOTCONN if none. */
    int (*name)(struct shunt_sock *s, bool peer, ip_addr_t *ip, uint16_t *port);
    /* Bytes waiting to be read (FIONREAD). */
    int (*pending)(struct shunt_sock *s);
    /* Bytes written but not yet acknowledged by the peer (SO_LINGER). */
    size_t (*unacked)(struct shunt_sock *s);
    /* Apply the socket's options to its pcb, if it has one (after open or
     * accept, and after each setsockopt). */
    void (*apply_options)(struct shunt_sock *s);
    /* Work left for the end of the loop turn (queued output, ACKs). */
    void (*turn)(struct shunt_sock *s);
};

/* SO_RCVBUF or SO_SNDBUF. */
struct shunt_bufsize {
    int bytes;                  /* as getsockopt reports it: twice what was set */
    bool set;                   /* set by the application: enforce it */
};

/* The options a socket carries, whatever state its pcb is in (sockopt.h
 * sets and reports them; the protocols apply them). */
struct shunt_sockopts {
    struct shunt_bufsize rcvbuf;
    struct shunt_bufsize sndbuf;
    struct timeval rcvtimeo;
    struct timeval sndtimeo;
    struct linger linger;
    bool reuseaddr;
    bool reuseport;
    bool keepalive;
    bool broadcast;
    bool nodelay;
    bool cork;                  /* TCP_CORK */
    bool v6only;
    int ttl;                    /* IP_TTL / IPV6_UNICAST_HOPS */
    int tos;
    int keepidle;               /* seconds, as Linux takes them */
    int keepintvl;
    int keepcnt;
    int maxseg;                 /* TCP_MAXSEG asked for; 0: from the MTU */
    int defer_accept;           /* TCP_DEFER_ACCEPT as Linux keeps it: in
                                 * SYN-ACK retransmissions, not seconds */
    const struct shunt_cc_ops *cc;      /* TCP_CONGESTION (port/cc.h) */
    int mcast_ttl;
    bool mcast_loop;
    ip4_addr_t mcast_if;
};

struct shunt_sock {
    const struct shunt_proto *proto;
    int fd;                     /* -1 while queued for accept() */
    int family;                 /* AF_INET or AF_INET6 */
    int type;                   /* SOCK_STREAM or SOCK_DGRAM */
    bool nonblock;              /* O_NONBLOCK */
    bool cloexec;
    int so_error;               /* for SO_ERROR and the next call */

    bool bound;                 /* has a local address and port */
    bool addr_by_hand;          /* bind() named an address (not the wildcard) */
    bool port_by_hand;          /* bind() named a port (not 0) */
    bool rd_shut;               /* no more to read: peer's FIN, SHUT_RD, or reset */
    bool wr_shut;               /* no more to write: SHUT_WR, or reset */
    /* The kernel socket under fd listens on the same port too (a wildcard
     * listener under the interposer, api/preload.c): accept() and readiness
     * take this host's own connections from it as well. */
    bool kernel_listens;

    struct shunt_sockopts opt;

    /* SO_TIMESTAMP*, SO_TIMESTAMPING, the error queue, the latency
     * histograms (api/timestamps.h). */
    struct shunt_tsock ts;

    /* Epoll instances watching this socket (api/epoll.c). */
    struct shunt_epitem *watchers;

    /* Work for the end of the loop turn (stack/loop.h), when asked for. */
    struct shunt_turn_work work;

    /* Zero-copy views and buffers out on this socket (api/zc.h); NULL
     * until the first. */
    struct shunt_zc_sock *zc;
};

/* The protocol's socket, of type T, around its common part s. */
#define SHUNT_SOCK_OUTER(s, T) ((T *)(void *)((char *)(s) - offsetof(T, sock)))

/*
 * The socket's pending error, which the call that reports it takes: Linux
 * reports an error once, by SO_ERROR or by the next call that fails with it.
 * 0 when there is none.
 */
static inline int shunt_sock_take_error(struct shunt_sock *s)
{
    int err = s->so_error;

    s->so_error = 0;
    return err;
}

/* ---- api/sock.c: life, per-turn work, and what the stack below provides -- */

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

/*
 * Turn the loop once, for a call that waits until `until` (on the stack's
 * clock; UINT64_MAX: for ever; 0 or now: it only looks): the frames
 * received, -EINTR when a signal handler ran that the call does not restart
 * after (a restartable call, restartable true, restarts after SA_RESTART
 * handlers), or -EDEADLK from inside a turn (nothing happens then).  Under
 * poll = spin-then-sleep, a wait that has found nothing for spin_us sleeps
 * before the turn, until a frame arrives, a timer is due or `until`
 * (stack/idle.h).
 */
int shunt_sock_wait_turn(bool restartable, uint64_t until);

/*
 * What a waiting call does before each turn when the stack is shared with
 * other threads and with signal handlers (set by the interposer,
 * api/preload.c; without hooks it only turns, or sleeps).
 */
struct shunt_wait_hooks {
    /* Let other threads' calls in: drop the stack's lock and take it back;
     * sleep, when not NULL, runs in between (the loop's idle sleep). */
    void (*pause)(void (*sleep)(void *arg), void *arg);
    /* Whether a signal handler ran since the call began that ends it. */
    bool (*interrupted)(bool restartable);
};
void shunt_sock_set_wait_hooks(const struct shunt_wait_hooks *h);

/* Now, on the stack's clock, in nanoseconds. */
uint64_t shunt_sock_now_ns(void);

/* The connection hash (port/demux.h) that finds TCP segments' pcbs. */
struct shunt_demux;
struct shunt_demux *shunt_sock_demux(void);

/* The steering stage of a group's instance (port/steer.h): which flows
 * the socket layer enters as this instance's; NULL for an instance alone. */
struct shunt_steer;
struct shunt_steer *shunt_sock_steer(void);

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

/* The mbuf pool frames are received into and sent from (NULL when the
 * instance is not up). */
struct rte_mempool;
struct rte_mempool *shunt_sock_pool(void);

/*
 * A wait with a signal mask (ppoll, pselect, epoll_pwait): wait(arg, false)
 * runs with mask as the thread's signal mask (unchanged when NULL), the old
 * one back after.  A signal the mask lets through that is pending already
 * ends it as on Linux: if wait(arg, true), a look without waiting, finds
 * nothing ready, its handler runs and the call fails with EINTR; else the
 * signal stays pending.
 */
int shunt_sock_masked_wait(const sigset_t *mask, int (*wait)(void *arg, bool look), void *arg);

/* The bytes n iovecs hold (a msghdr's: msg_iov, msg_iovlen). */
size_t shunt_iov_bytes(const struct iovec *iov, size_t n);

/* ---- api/socket.c ---------------------------------------------------------- */

/*
 * For a call on s that got -EAGAIN (flags its MSG_DONTWAIT, until its
 * deadline from shunt_socket_deadline, turns a count that starts at 0): 0
 * to try again after the loop turn this runs, else the error the call
 * gives (-EAGAIN, -EINTR, -EDEADLK), as recv() and send() wait.
 */
int shunt_socket_wait_more(const struct shunt_sock *s, int flags, uint64_t until, unsigned *turns);

/* When a wait with timeout tv (SO_RCVTIMEO, SO_SNDTIMEO) ends. */
uint64_t shunt_socket_deadline(const struct timeval *tv);

/* ---- for the interposer (api/preload.c) ---------------------------------- */

/*
 * Make the program's kernel socket fd (unbound, unconnected) a Shunt socket
 * of the same domain and type (SOCK_NONBLOCK/SOCK_CLOEXEC as it has them).
 * fd or -1 with errno; fd stays the kernel's on failure.
 */
int shunt_socket_adopt(int fd, int domain, int type);

/* Close every Shunt descriptor, as the kernel closes a process's at exit. */
void shunt_socket_close_all(void);

/* The Shunt socket fd (a TCP socket bound to the wildcard, not yet
 * listening) listens on the kernel's side as well when it listens. */
void shunt_socket_listen_both(int fd);

#endif /* SHUNT_SOCK_H */
