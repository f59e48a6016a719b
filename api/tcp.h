/*
 * tcp.h - a TCP socket (api/tcp.c): the common socket, a connection on
 * lwIP's raw TCP API, its receive queue and round-trip time, and a
 * listener's queue of accepted connections.
 *
 * tcp.c alone changes these fields; sockstat.c reads them to show the
 * socket, and sockopt.c asks through the calls below.
 */
#ifndef SHUNT_TCP_H
#define SHUNT_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lwip/err.h"
#include "lwip/ip_addr.h"

#include "sock.h"

struct pbuf;
struct tcp_pcb;
struct tcp_info;

extern const struct shunt_proto shunt_tcp_proto;

/* The connection as Linux's socket calls see it. */
enum shunt_tcp_state {
    SHUNT_TCP_CLOSED,           /* none yet, or it failed or was reset */
    SHUNT_TCP_LISTEN,
    SHUNT_TCP_CONNECTING,       /* the SYN is out */
    SHUNT_TCP_CONNECTED,
};

struct shunt_tcp_sock {
    struct shunt_sock sock;     /* the part every socket has */
    struct tcp_pcb *pcb;        /* NULL once lwIP has let go of it */
    enum shunt_tcp_state state;
    bool connect_pending;       /* an asynchronous connect() to report once */
    bool peer_fin;              /* the peer sent FIN (EPOLLRDHUP) */

    /* Names, kept for when the pcb is gone (getsockname after a reset). */
    ip_addr_t local_ip;
    uint16_t local_port;
    ip_addr_t peer_ip;
    uint16_t peer_port;

    /* Received pbufs in order, each pbuf on its own (next unused across
     * chains); rx_off bytes of the first are already read. */
    struct pbuf *rx_head;
    struct pbuf *rx_tail;
    uint16_t rx_off;
    size_t rx_bytes;
    size_t rx_withheld;         /* window held back to honour SO_RCVBUF */
    bool rx_discard;            /* SHUT_RD: drop what arrives */
    uint64_t rx_turn;           /* the loop turn data last arrived in */

    /* TCP_CORK: bytes short of a full segment, not yet given to lwIP. */
    char *cork_buf;             /* TCP_MSS bytes, from the first corked write */
    size_t cork_len;

    /* A listener: connections lwIP has accepted, for accept(). */
    struct shunt_tcp_sock *accept_head;
    struct shunt_tcp_sock *accept_tail;
    struct shunt_tcp_sock *accept_next;
    int accept_len;
    int backlog;
};

/* The TCP socket whose common part is s (s->type is SOCK_STREAM). */
static inline struct shunt_tcp_sock *shunt_tcp_of(const struct shunt_sock *s)
{
    return SHUNT_SOCK_OUTER(s, struct shunt_tcp_sock);
}

/* Whether s is a listening TCP socket (SO_ACCEPTCONN; accept() needs one). */
static inline bool shunt_tcp_listening(const struct shunt_sock *s)
{
    return s->type == SOCK_STREAM && shunt_tcp_of(s)->state == SHUNT_TCP_LISTEN;
}

/*
 * What lwIP's TCP tells the socket layer (struct shunt_netif_upcalls in
 * port/netif.h).  Input, for each segment lwIP found the pcb of: a SYN for
 * a listening socket whose accept queue is full is dropped (and counted
 * backlog_full), as Linux drops it; an ACK for the segment being timed
 * gives a round-trip sample.  Output, for each segment leaving: a SYN's MSS
 * option is lowered to what TCP_MAXSEG asked for (lwIP builds it from
 * TCP_MSS and the MTU alone); the segment lwIP times is timed too.
 */
struct tcp_hdr;
err_t shunt_tcp_input(void *arg, struct tcp_pcb *pcb, const struct tcp_hdr *hdr);
void shunt_tcp_output(void *arg, const struct tcp_pcb *pcb, struct tcp_hdr *hdr);
/* A segment leaves for the first time: the writes it ends are out (their
 * transmit stamps, api/timestamps.h). */
void shunt_tcp_segment_out(void *arg, const struct tcp_pcb *pcb, uint32_t seq, uint32_t len);

/* The base SOF_TIMESTAMPING_OPT_ID counts a connection's bytes from, as
 * Linux takes it: snd_una, or with OPT_ID_TCP the next byte written;
 * -EINVAL without a connection. */
int shunt_tcp_tskey_base(struct shunt_sock *s, bool write_seq, uint32_t *base);

/* ---- for the options (api/sockopt.c) -------------------------------------- */

/* TCP_NODELAY turned on, or TCP_CORK off: what the connection holds back
 * (Nagle's wait, the cork's partial segment) leaves now, as Linux pushes. */
void shunt_tcp_push(struct shunt_sock *s);

/* Whether every connection has sent all it holds, its FIN included, and
 * had it acknowledged (for an exit that lets them finish). */
bool shunt_tcp_all_sent(void);

/* TCP_MAXSEG was set: a connection's MSS comes down to it (never up). */
void shunt_tcp_maxseg_set(struct shunt_sock *s);

/* TCP_MAXSEG as Linux reports it: the connection's MSS, or before one, what
 * was asked for (or 536). */
int shunt_tcp_maxseg(const struct shunt_sock *s);

/* TCP_INFO from what lwIP keeps of the connection. */
void shunt_tcp_info(const struct shunt_sock *s, struct tcp_info *ti);

/* ---- for zero-copy (api/zc.c) ---------------------------------------------- */

struct iovec;

/*
 * Take up to max bytes off the front of the receive queue as at most cap
 * views (iov), each holding a reference to its pbuf (refs), *n of them; the
 * window stays shut for them until shunt_tcp_zc_credit.  The bytes taken,
 * or with none queued what recv() gets: 0 at the end of the stream, -errno
 * (-EAGAIN: nothing yet).
 */
ssize_t shunt_tcp_zc_take(struct shunt_sock *s, size_t max, struct iovec *iov,
                          struct pbuf **refs, int cap, int *n);

/* n bytes of views given back: the window opens for them. */
void shunt_tcp_zc_credit(struct shunt_sock *s, size_t n);

/* Whether a zero-copy buffer can go on s: 0, -ENOTCONN or -EPIPE; *len
 * comes down to a full segment if it is more. */
int shunt_tcp_zc_check(struct shunt_sock *s, size_t *len);

/*
 * Queue the len bytes at data, which lwIP keeps (no copy) until they are
 * acknowledged, as send() queues (TCP_NODELAY pushes them, MSG_MORE holds
 * them); *end is the sequence number after their last byte.  0, or -errno
 * (-EAGAIN: no room for all of them yet).
 */
int shunt_tcp_zc_write(struct shunt_sock *s, const void *data, size_t len, int flags,
                       uint32_t *end);

#endif /* SHUNT_TCP_H */
