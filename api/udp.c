/*
 * udp.c - UDP sockets on lwIP's raw UDP API.
 *
 * Received datagrams stay in their mbufs: on_recv() puts the pbuf and its
 * source in a ring, and recvfrom() copies it out.  The ring is charged, like
 * Linux charges a socket, for the buffers a datagram pins (not its payload
 * length), against SO_RCVBUF; a datagram that does not fit is dropped and
 * counted (socket_full), as the kernel would.
 *
 * A datagram is sent at once (a tx burst of one).  MSG_MORE corks, as on
 * Linux: the data of calls that say more follows is held, and the next call
 * without it sends it all as one datagram, to where the first call said.
 * lwIP fragments datagrams longer than the MTU.
 *
 * A datagram to a group the socket joined passes its source filter first
 * (api/membership.h).
 *
 * The protocol's operations are dgram_* (lwIP's own are udp_*).  Every pcb
 * carries its struct shunt_udp_sock as its receive argument.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "lwip/ip6.h"
#include "lwip/udp.h"

#include "addr.h"
#include "bind.h"
#include "epoll.h"
#include "membership.h"
#include "counters.h"
#include "steer.h"
#include "udp.h"

/* What one received buffer costs a socket, as Linux's truesize of a frame. */
#define BUFFER_CHARGE 2304
/* The largest payloads lwIP can carry: 65,535 bytes of IP with headers. */
#define MAX_PAYLOAD4 (0xffff - 20 - 8)
#define MAX_PAYLOAD6 (0xffff - 40 - 8)

/* A received datagram, waiting to be read. */
struct shunt_dgram {
    struct pbuf *p;
    ip_addr_t from;
    uint16_t port;
    struct shunt_stamp at;      /* when it arrived */
};

static size_t charge(const struct pbuf *p)
{
    return (size_t)pbuf_clen(p) * BUFFER_CHARGE;
}

static void on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                    u16_t port)
{
    struct shunt_udp_sock *u = arg;

    (void)pcb;
    /* A member's source filter (the host's let it through: another member
     * wants this source). */
    if ((u->ngroups4 | u->ngroups6) != 0 && ip_addr_ismulticast(ip_current_dest_addr()) &&
        !shunt_membership_allows(&u->sock, ip_current_dest_addr(), addr)) {
        pbuf_free(p);
        shunt_sock_count_drop(SHUNT_DROP_SOURCE_FILTERED);
        return;
    }
    if (u->sock.rd_shut || u->rx_count == u->rx_cap ||
        u->rx_charge + charge(p) > (size_t)u->sock.opt.rcvbuf.bytes) {
        pbuf_free(p);
        shunt_sock_count_drop(SHUNT_DROP_SOCKET_FULL);
        return;
    }
    struct shunt_dgram *d = &u->rx_ring[(u->rx_head + u->rx_count) % u->rx_cap];
    d->p = p;
    ip_addr_copy(d->from, *addr);
    d->port = port;
    shunt_tstamp_rx(&d->at);
    u->rx_count++;
    u->rx_charge += charge(p);
    shunt_sock_wakeup(&u->sock);
}

int shunt_udp_resize(struct shunt_sock *s)
{
    struct shunt_udp_sock *u = shunt_udp_of(s);
    unsigned cap = (unsigned)(s->opt.rcvbuf.bytes / BUFFER_CHARGE) + 1;

    if (cap <= u->rx_cap)
        return 0;
    struct shunt_dgram *ring = malloc(cap * sizeof(*ring));
    if (ring == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < u->rx_count; i++)
        ring[i] = u->rx_ring[(u->rx_head + i) % u->rx_cap];
    free(u->rx_ring);
    u->rx_ring = ring;
    u->rx_cap = cap;
    u->rx_head = 0;
    return 0;
}

static struct shunt_sock *dgram_create(void)
{
    struct shunt_udp_sock *u = calloc(1, sizeof(*u));

    return u != NULL ? &u->sock : NULL;
}

static void dgram_destroy(struct shunt_sock *s)
{
    struct shunt_udp_sock *u = shunt_udp_of(s);

    free(u->rx_ring);
    free(u);
}

static void dgram_apply_options(struct shunt_sock *s)
{
    struct udp_pcb *pcb = shunt_udp_of(s)->pcb;

    if (pcb == NULL)
        return;
    shunt_bind_mark(s);
    if (s->opt.broadcast)
        ip_set_option(pcb, SOF_BROADCAST);
    else
        ip_reset_option(pcb, SOF_BROADCAST);
    pcb->ttl = (u8_t)s->opt.ttl;
    pcb->tos = (u8_t)s->opt.tos;
    udp_set_multicast_ttl(pcb, (u8_t)s->opt.mcast_ttl);
    udp_set_multicast_netif_addr(pcb, &s->opt.mcast_if);
    if (s->opt.mcast_loop)
        udp_set_flags(pcb, UDP_FLAGS_MULTICAST_LOOP);
    else
        udp_clear_flags(pcb, UDP_FLAGS_MULTICAST_LOOP);
}

/* A fresh, unbound pcb for the socket. */
static int dgram_new_pcb(struct shunt_udp_sock *u)
{
    struct udp_pcb *pcb = udp_new_ip_type(shunt_addr_type(&u->sock));

    if (pcb == NULL)
        return -ENOBUFS;
    u->pcb = pcb;
    udp_recv(pcb, on_recv, u);
    dgram_apply_options(&u->sock);
    return 0;
}

static int dgram_open(struct shunt_sock *s)
{
    if (shunt_udp_resize(s) != 0)
        return -ENOMEM;
    return dgram_new_pcb(shunt_udp_of(s));
}

/*
 * Bind the pcb to ip:port, and in a group make its datagrams come to this
 * instance: without a port, it takes one the steering rule gives this
 * instance; a port in the rule's range that the rule gives another goes in
 * the group's table as this one's.  Ports outside the range are served
 * where their datagrams land (a server on every instance, as SO_REUSEPORT
 * servers are), and so is one another live instance holds already.
 */
#define STEER_PICKS 64                  /* ports tried before giving up */

static err_t steer_udp_bind(struct shunt_udp_sock *u, const ip_addr_t *ip, uint16_t port)
{
    struct shunt_steer *st = shunt_sock_steer();
    ip_addr_t local = *ip;              /* ip may be the pcb's own */
    err_t err = ERR_USE;

    if (st == NULL || port != 0) {
        err = udp_bind(u->pcb, &local, port);
        if (err == ERR_OK && st != NULL && !u->steer_owned &&
            shunt_steer_port_owner(st, port) >= 0 &&
            shunt_steer_port_owner(st, port) != (int)st->self)
            u->steer_owned = shunt_steer_own_udp(st, port) == 0;
        return err;
    }
    for (int i = 0; i < STEER_PICKS && err == ERR_USE; i++)
        err = udp_bind(u->pcb, &local, shunt_steer_pick_port(st));
    return err;
}

/* The group's table forgets the pcb's port (it is closing or rebinding). */
static void steer_udp_release(struct shunt_udp_sock *u)
{
    if (u->steer_owned && shunt_sock_steer() != NULL)
        shunt_steer_disown_udp(shunt_sock_steer(), u->pcb->local_port);
    u->steer_owned = false;
}

/* In a group, what lwIP would bind by itself as a datagram goes or a peer
 * is named is bound here first, to a port of this instance's. */
static int steer_udp_autobind(struct shunt_udp_sock *u)
{
    if (shunt_sock_steer() == NULL || u->pcb->local_port != 0)
        return 0;
    return -shunt_sock_errno(steer_udp_bind(u, &u->pcb->local_ip, 0));
}

static int dgram_bind(struct shunt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    int rc = shunt_bind_check(s, ip, port);

    if (rc != 0)
        return rc;
    if ((rc = -shunt_sock_errno(steer_udp_bind(shunt_udp_of(s), ip, port))) == 0)
        shunt_bind_named(s, ip, port);
    return rc;
}

/* The address this host sends to ip from (Linux binds it at connect). */
static bool source_for(const ip_addr_t *ip, ip_addr_t *src)
{
    struct netif *n = shunt_sock_netif();

    if (n == NULL)
        return false;
    if (IP_IS_V4(ip)) {
        ip_addr_copy_from_ip4(*src, *netif_ip4_addr(n));
        return true;
    }
    const ip_addr_t *a = ip6_select_source_address(n, ip_2_ip6(ip));
    if (a == NULL)
        return false;
    ip_addr_copy(*src, *a);
    return true;
}

/* connect(AF_UNSPEC): no default peer any more.  What connect() bound goes
 * back, what bind() named stays (Linux). */
static int dgram_disconnect(struct shunt_udp_sock *u)
{
    struct shunt_sock *s = &u->sock;
    ip_addr_t local;

    u->connected = false;
    udp_disconnect(u->pcb);
    /* A copy: the pcb may go. */
    ip_addr_copy(local, *(s->addr_by_hand ? &u->pcb->local_ip : shunt_addr_any(s)));
    if (s->port_by_hand)
        return -shunt_sock_errno(udp_bind(u->pcb, &local, u->pcb->local_port));
    steer_udp_release(u);
    udp_remove(u->pcb);
    s->bound = s->addr_by_hand;
    int rc = dgram_new_pcb(u);
    if (rc == 0 && s->addr_by_hand)
        ip_addr_copy(u->pcb->local_ip, local);  /* bound at the next send */
    return rc;
}

static int dgram_connect(struct shunt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    struct shunt_udp_sock *u = shunt_udp_of(s);

    if (ip == NULL)
        return dgram_disconnect(u);
    if (!shunt_addr_reaches(s, ip))
        return -ENETUNREACH;
    int rc = steer_udp_autobind(u);
    if (rc < 0)
        return rc;
    err_t err = udp_connect(u->pcb, ip, port);
    if (err != ERR_OK)
        return -shunt_sock_errno(err);
    ip_addr_t src;
    if (!s->addr_by_hand && ip_addr_isany(&u->pcb->local_ip) && source_for(ip, &src))
        udp_bind(u->pcb, &src, u->pcb->local_port);
    u->connected = true;
    s->bound = true;
    return 0;
}

bool shunt_udp_unreachable(void *arg, const ip_addr_t *local, uint16_t lport,
                           const ip_addr_t *remote, uint16_t rport)
{
    bool taken = false;

    (void)arg;
    (void)local;
    for (struct udp_pcb *pcb = udp_pcbs; pcb != NULL; pcb = pcb->next) {
        struct shunt_udp_sock *u = pcb->recv_arg;
        if (u == NULL || !u->connected || pcb->local_port != lport ||
            pcb->remote_port != rport || !ip_addr_cmp(&pcb->remote_ip, remote))
            continue;
        u->sock.so_error = ECONNREFUSED;
        shunt_sock_wakeup(&u->sock);
        taken = true;
    }
    return taken;
}

static int dgram_connected(struct shunt_sock *s)
{
    (void)s;
    return 0;
}

/* A limited or directed broadcast address, which needs SO_BROADCAST. */
static bool is_broadcast(const ip_addr_t *ip)
{
    struct netif *n = shunt_sock_netif();

    return IP_IS_V4(ip) && n != NULL && ip4_addr_isbroadcast(ip_2_ip4(ip), n);
}

static void drop_cork(struct shunt_udp_sock *u)
{
    if (u->cork != NULL)
        pbuf_free(u->cork);
    u->cork = NULL;
}

/* Where a new datagram goes: 0, or the errno Linux gives for it. */
static int check_destination(struct shunt_udp_sock *u, const ip_addr_t *to, uint16_t port)
{
    if (to == NULL && !u->connected)
        return EDESTADDRREQ;
    if (to != NULL && port == 0)
        return EINVAL;
    const ip_addr_t *dest = to != NULL ? to : &u->pcb->remote_ip;
    if (!shunt_addr_reaches(&u->sock, dest))
        return ENETUNREACH;
    if (is_broadcast(dest) && !u->sock.opt.broadcast)
        return EACCES;
    return 0;
}

static ssize_t dgram_send(struct shunt_sock *s, const struct msghdr *msg, int flags,
                          const ip_addr_t *to, uint16_t port)
{
    struct shunt_udp_sock *u = shunt_udp_of(s);
    struct udp_pcb *pcb = u->pcb;
    uint64_t write_ns = shunt_sock_now_ns();
    int rc;

    if (s->so_error != 0)
        return -shunt_sock_take_error(s);
    if ((flags & MSG_OOB) && s->family == AF_INET)
        return -EOPNOTSUPP;             /* IPv6's UDP ignores it (Linux) */
    if (s->wr_shut)
        return -EPIPE;
    /* A corked datagram keeps the destination it started with. */
    if (u->cork == NULL) {
        if ((rc = check_destination(u, to, port)) != 0)
            return -rc;
        ip_addr_copy(u->cork_to, *(to != NULL ? to : &pcb->remote_ip));
        u->cork_port = to != NULL ? port : pcb->remote_port;
    }
    size_t total = shunt_iov_bytes(msg->msg_iov, msg->msg_iovlen);
    size_t held = u->cork != NULL ? u->cork->tot_len : 0;
    if (held + total > (IP_IS_V4(&u->cork_to) ? MAX_PAYLOAD4 : MAX_PAYLOAD6)) {
        drop_cork(u);                   /* Linux drops what was held too */
        return -EMSGSIZE;
    }

    /* The first piece has room for the headers; later ones are chained on. */
    struct pbuf *p = pbuf_alloc(u->cork != NULL ? PBUF_RAW : PBUF_TRANSPORT, (u16_t)total,
                                PBUF_RAM);
    if (p == NULL)
        return -ENOBUFS;
    size_t off = 0;
    for (size_t i = 0; i < msg->msg_iovlen; i++) {
        pbuf_take_at(p, msg->msg_iov[i].iov_base, (u16_t)msg->msg_iov[i].iov_len, (u16_t)off);
        off += msg->msg_iov[i].iov_len;
    }
    if (u->cork == NULL)
        u->cork = p;
    else if (total > 0)
        pbuf_cat(u->cork, p);
    else
        pbuf_free(p);
    if (flags & MSG_MORE)
        return (ssize_t)total;

    if ((rc = steer_udp_autobind(u)) < 0) {
        drop_cork(u);
        return rc;
    }
    struct pbuf *dgram = u->cork;
    u->cork = NULL;
    err_t err = udp_sendto(pcb, dgram, &u->cork_to, u->cork_port);
    pbuf_free(dgram);
    if (err != ERR_OK)
        return -shunt_sock_errno(err);
    s->bound = true;
    shunt_sock_flush();
    shunt_tstamp_dgram_sent(s, write_ns);
    return (ssize_t)total;
}

static void drop_head(struct shunt_udp_sock *u)
{
    struct shunt_dgram *d = &u->rx_ring[u->rx_head];

    u->rx_charge -= charge(d->p);
    pbuf_free(d->p);
    d->p = NULL;
    u->rx_head = (u->rx_head + 1) % u->rx_cap;
    u->rx_count--;
}

/* Drop every datagram waiting: SHUT_RD, or close. */
static void drop_all(struct shunt_udp_sock *u)
{
    while (u->rx_count > 0)
        drop_head(u);
}

/* What a read gets with no datagram waiting: the pending error, -EAGAIN,
 * or 0 once shut for reading. */
static ssize_t nothing_waiting(struct shunt_sock *s)
{
    if (s->so_error != 0)
        return -shunt_sock_take_error(s);
    return s->rd_shut ? 0 : -EAGAIN;
}

static ssize_t dgram_recv(struct shunt_sock *s, struct msghdr *msg, int flags)
{
    struct shunt_udp_sock *u = shunt_udp_of(s);

    /* A pending error comes before queued datagrams (Linux's
     * __skb_recv_udp looks at sk_err first). */
    if (s->so_error != 0)
        return -shunt_sock_take_error(s);
    if (u->rx_count == 0) {
        /* msg_namelen is left as it is: the caller tries again after a
         * loop turn, with the room it had. */
        ssize_t rc = nothing_waiting(s);
        if (rc == 0)
            msg->msg_namelen = 0;
        return rc;
    }

    const struct shunt_dgram *d = &u->rx_ring[u->rx_head];
    size_t len = d->p->tot_len, done = 0;
    for (size_t i = 0; i < msg->msg_iovlen && done < len; i++) {
        u16_t n = (u16_t)LWIP_MIN(msg->msg_iov[i].iov_len, len - done);
        done += pbuf_copy_partial(d->p, msg->msg_iov[i].iov_base, n, (u16_t)done);
    }
    if (msg->msg_name != NULL)
        shunt_addr_out(s, &d->from, d->port, msg->msg_name, &msg->msg_namelen);
    else
        msg->msg_namelen = 0;
    if (done < len)
        msg->msg_flags |= MSG_TRUNC;
    shunt_tstamp_read_dgram(s, &d->at, (flags & MSG_PEEK) != 0);
    if (!(flags & MSG_PEEK))
        drop_head(u);
    /* MSG_TRUNC asks for the datagram's real length. */
    return (flags & MSG_TRUNC) ? (ssize_t)len : (ssize_t)done;
}

/* ---- zero-copy (api/zc.h) ------------------------------------------------- */

ssize_t shunt_udp_zc_take(struct shunt_sock *s, struct iovec *iov, int cap, int *n,
                          struct pbuf **p, size_t *charged, struct sockaddr *from,
                          socklen_t *fromlen)
{
    struct shunt_udp_sock *u = shunt_udp_of(s);

    *n = 0;
    if (u->rx_count == 0)
        return nothing_waiting(s);
    struct shunt_dgram *d = &u->rx_ring[u->rx_head];
    if (pbuf_clen(d->p) > cap)
        return -EMSGSIZE;               /* more pieces than one batch holds */
    for (struct pbuf *q = d->p; q != NULL; q = q->next)
        iov[(*n)++] = (struct iovec){ q->payload, q->len };
    *fromlen = sizeof(struct sockaddr_storage);
    shunt_addr_out(s, &d->from, d->port, from, fromlen);
    *p = d->p;
    *charged = charge(d->p);            /* the socket's until given back */
    d->p = NULL;
    u->rx_head = (u->rx_head + 1) % u->rx_cap;
    u->rx_count--;
    return (*p)->tot_len;
}

void shunt_udp_zc_uncharge(struct shunt_sock *s, size_t charged)
{
    shunt_udp_of(s)->rx_charge -= charged;
}

size_t shunt_udp_zc_max(const struct shunt_sock *s)
{
    struct netif *n = shunt_sock_netif();
    size_t mtu = n != NULL ? n->mtu : 0, hdr = (s->family == AF_INET6 ? 40 : 20) + 8;

    return mtu > hdr ? mtu - hdr : 0;
}

ssize_t shunt_udp_zc_send(struct shunt_sock *s, struct pbuf *p, const ip_addr_t *to,
                          uint16_t port)
{
    struct shunt_udp_sock *u = shunt_udp_of(s);
    int rc;

    if (s->so_error != 0)
        return -shunt_sock_take_error(s);
    if (s->wr_shut)
        return -EPIPE;
    if (u->cork != NULL)
        return -EINVAL;                 /* a datagram MSG_MORE is building */
    if ((rc = check_destination(u, to, port)) != 0)
        return -rc;
    err_t err = udp_sendto(u->pcb, p, to != NULL ? to : &u->pcb->remote_ip,
                           to != NULL ? port : u->pcb->remote_port);
    if (err != ERR_OK)
        return -shunt_sock_errno(err);
    s->bound = true;
    shunt_sock_flush();
    return p->tot_len;
}

static int dgram_shutdown(struct shunt_sock *s, int how)
{
    struct shunt_udp_sock *u = shunt_udp_of(s);

    if (!u->connected)
        return -ENOTCONN;
    if (how != SHUT_WR) {
        s->rd_shut = true;
        drop_all(u);
    }
    if (how != SHUT_RD)
        s->wr_shut = true;
    shunt_sock_wakeup(s);
    return 0;
}

static void dgram_close(struct shunt_sock *s, bool abort)
{
    struct shunt_udp_sock *u = shunt_udp_of(s);

    (void)abort;
    shunt_membership_leave_all(s);
    drop_cork(u);
    drop_all(u);
    if (u->pcb != NULL) {
        steer_udp_release(u);
        udp_remove(u->pcb);
    }
    u->pcb = NULL;
}

static uint32_t dgram_events(struct shunt_sock *s)
{
    struct shunt_udp_sock *u = shunt_udp_of(s);
    uint32_t ev = EPOLLOUT | EPOLLWRNORM;

    if (u->rx_count > 0 || s->rd_shut)
        ev |= EPOLLIN | EPOLLRDNORM;
    if (s->rd_shut)
        ev |= EPOLLRDHUP;
    if (s->rd_shut && s->wr_shut)
        ev |= EPOLLHUP;
    if (s->so_error != 0 || shunt_tstamp_pending(&s->ts))
        ev |= EPOLLERR;
    return ev;
}

static int dgram_name(struct shunt_sock *s, bool peer, ip_addr_t *ip, uint16_t *port)
{
    const struct shunt_udp_sock *u = shunt_udp_of(s);
    const struct udp_pcb *pcb = u->pcb;

    if (peer) {
        if (!u->connected)
            return -ENOTCONN;
        ip_addr_copy(*ip, pcb->remote_ip);
        *port = pcb->remote_port;
        return 0;
    }
    ip_addr_copy(*ip, pcb->local_ip);
    *port = pcb->local_port;
    return 0;
}

/* FIONREAD on a UDP socket: the size of the next datagram, as Linux. */
static int dgram_pending(struct shunt_sock *s)
{
    const struct shunt_udp_sock *u = shunt_udp_of(s);

    return u->rx_count > 0 ? u->rx_ring[u->rx_head].p->tot_len : 0;
}

static size_t dgram_unacked(struct shunt_sock *s)
{
    (void)s;
    return 0;
}

const struct shunt_proto shunt_udp_proto = {
    .create = dgram_create,
    .destroy = dgram_destroy,
    .open = dgram_open,
    .bind = dgram_bind,
    .listen = NULL,                     /* socket.c refuses: EOPNOTSUPP */
    .accept = NULL,
    .connect = dgram_connect,
    .connected = dgram_connected,
    .send = dgram_send,
    .recv = dgram_recv,
    .shutdown = dgram_shutdown,
    .close = dgram_close,
    .events = dgram_events,
    .name = dgram_name,
    .pending = dgram_pending,
    .unacked = dgram_unacked,
    .apply_options = dgram_apply_options,
    .turn = NULL,                       /* UDP sends at once: nothing waits */
};

