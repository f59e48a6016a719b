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
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lwip/ip6.h"
#include "lwip/udp.h"

#include "addr.h"
#include "bind.h"
#include "epoll.h"
#include "hooks.h"
#include "sock.h"
#include "stats.h"

/* What one received buffer costs a socket, as Linux's truesize of a frame. */
#define BUFFER_CHARGE 2304
/* The largest payloads lwIP can carry: 65,535 bytes of IP with headers. */
#define MAX_PAYLOAD4 (0xffff - 20 - 8)
#define MAX_PAYLOAD6 (0xffff - 40 - 8)

static size_t charge(const struct pbuf *p)
{
    return (size_t)pbuf_clen(p) * BUFFER_CHARGE;
}

static void on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                    u16_t port)
{
    struct shunt_sock *s = arg;

    (void)pcb;
    if (s->rd_shut || s->dgram_count == s->dgram_cap ||
        s->dgram_charge + charge(p) > (size_t)s->opt.rcvbuf) {
        pbuf_free(p);
        shunt_sock_count_drop(SHUNT_DROP_SOCKET_FULL);
        return;
    }
    struct shunt_dgram *d = &s->dgrams[(s->dgram_head + s->dgram_count) % s->dgram_cap];
    d->p = p;
    ip_addr_copy(d->from, *addr);
    d->port = port;
    s->dgram_count++;
    s->dgram_charge += charge(p);
    shunt_sock_wakeup(s);
}

int shunt_udp_resize(struct shunt_sock *s)
{
    unsigned cap = (unsigned)(s->opt.rcvbuf / BUFFER_CHARGE) + 1;

    if (cap <= s->dgram_cap)
        return 0;
    struct shunt_dgram *ring = malloc(cap * sizeof(*ring));
    if (ring == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < s->dgram_count; i++)
        ring[i] = s->dgrams[(s->dgram_head + i) % s->dgram_cap];
    free(s->dgrams);
    s->dgrams = ring;
    s->dgram_cap = cap;
    s->dgram_head = 0;
    return 0;
}

static void udp_apply_options(struct shunt_sock *s)
{
    struct udp_pcb *pcb = s->pcb.udp;

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

/* A fresh, unbound pcb for s. */
static int new_pcb(struct shunt_sock *s)
{
    u8_t type = s->family == AF_INET ? IPADDR_TYPE_V4
              : s->opt.v6only ? IPADDR_TYPE_V6 : IPADDR_TYPE_ANY;
    struct udp_pcb *pcb = udp_new_ip_type(type);

    if (pcb == NULL)
        return -ENOBUFS;
    s->pcb.udp = pcb;
    udp_recv(pcb, on_recv, s);
    udp_apply_options(s);
    return 0;
}

static int udp_open(struct shunt_sock *s)
{
    if (shunt_udp_resize(s) != 0)
        return -ENOMEM;
    return new_pcb(s);
}

static int udp_bind_op(struct shunt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    ip_addr_t local = *ip;

    if (s->bound)
        return -EINVAL;
    if (!shunt_addr_is_local(ip))
        return -EADDRNOTAVAIL;
    if (port != 0 && port < 1024 && geteuid() != 0)
        return -EACCES;
    if (s->family == AF_INET6 && s->opt.v6only && ip_addr_isany(ip))
        ip_addr_copy(local, *IP6_ADDR_ANY);
    int rc = shunt_bind_check(s, &local, port);
    if (rc != 0)
        return rc;
    err_t err = udp_bind(s->pcb.udp, &local, port);
    if (err != ERR_OK)
        return err == ERR_USE ? -EADDRINUSE : -shunt_sock_errno(err);
    s->bound = true;
    s->addr_by_hand = !ip_addr_isany(ip);
    s->port_by_hand = port != 0;
    return 0;
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

static int udp_connect_op(struct shunt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    if (ip == NULL) {                   /* AF_UNSPEC: no default peer any more */
        s->udp_connected = false;
        udp_disconnect(s->pcb.udp);
        /* What connect() bound goes back, what bind() named stays (Linux). */
        ip_addr_t local;
        if (s->addr_by_hand)
            ip_addr_copy(local, s->pcb.udp->local_ip);
        else if (s->family == AF_INET)
            ip_addr_set_zero_ip4(&local);
        else
            ip_addr_copy(local, *IP_ANY_TYPE);
        if (s->port_by_hand)
            return -shunt_sock_errno(udp_bind(s->pcb.udp, &local, s->pcb.udp->local_port));
        udp_remove(s->pcb.udp);
        s->bound = s->addr_by_hand;
        int rc = new_pcb(s);
        if (rc == 0 && s->addr_by_hand)
            ip_addr_copy(s->pcb.udp->local_ip, local);  /* bound at the next send */
        return rc;
    }
    if (s->family == AF_INET6 && s->opt.v6only && IP_IS_V4(ip))
        return -ENETUNREACH;
    err_t err = udp_connect(s->pcb.udp, ip, port);
    if (err != ERR_OK)
        return -shunt_sock_errno(err);
    ip_addr_t src;
    if (!s->addr_by_hand && ip_addr_isany(&s->pcb.udp->local_ip) && source_for(ip, &src))
        udp_bind(s->pcb.udp, &src, s->pcb.udp->local_port);
    s->udp_connected = true;
    s->bound = true;
    return 0;
}

bool shunt_udp_unreachable(const ip_addr_t *local, u16_t lport, const ip_addr_t *remote,
                           u16_t rport)
{
    bool taken = false;

    (void)local;
    for (struct udp_pcb *pcb = udp_pcbs; pcb != NULL; pcb = pcb->next) {
        struct shunt_sock *s = pcb->recv_arg;
        if (s == NULL || !s->udp_connected || pcb->local_port != lport ||
            pcb->remote_port != rport || !ip_addr_cmp(&pcb->remote_ip, remote))
            continue;
        s->so_error = ECONNREFUSED;
        shunt_sock_wakeup(s);
        taken = true;
    }
    return taken;
}

static int udp_connected(struct shunt_sock *s)
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

static void drop_cork(struct shunt_sock *s)
{
    if (s->cork != NULL)
        pbuf_free(s->cork);
    s->cork = NULL;
}

/* Where a new datagram goes: 0, or the errno Linux gives for it. */
static int check_destination(struct shunt_sock *s, const ip_addr_t *to, uint16_t port)
{
    if (to == NULL && !s->udp_connected)
        return EDESTADDRREQ;
    if (to != NULL && port == 0)
        return EINVAL;
    const ip_addr_t *dest = to != NULL ? to : &s->pcb.udp->remote_ip;
    if (s->family == AF_INET6 && s->opt.v6only && IP_IS_V4(dest))
        return ENETUNREACH;
    if (is_broadcast(dest) && !s->opt.broadcast)
        return EACCES;
    return 0;
}

static ssize_t udp_send_op(struct shunt_sock *s, const struct msghdr *msg, int flags,
                        const ip_addr_t *to, uint16_t port)
{
    struct udp_pcb *pcb = s->pcb.udp;
    size_t total = 0;
    int rc;

    if (s->so_error != 0) {
        int err = s->so_error;
        s->so_error = 0;
        return -err;
    }
    if ((flags & MSG_OOB) && s->family == AF_INET)
        return -EOPNOTSUPP;             /* IPv6's UDP ignores it (Linux) */
    if (s->wr_shut)
        return -EPIPE;
    /* A corked datagram keeps the destination it started with. */
    if (s->cork == NULL) {
        if ((rc = check_destination(s, to, port)) != 0)
            return -rc;
        ip_addr_copy(s->cork_to, *(to != NULL ? to : &pcb->remote_ip));
        s->cork_port = to != NULL ? port : pcb->remote_port;
    }
    for (size_t i = 0; i < msg->msg_iovlen; i++)
        total += msg->msg_iov[i].iov_len;
    size_t held = s->cork != NULL ? s->cork->tot_len : 0;
    if (held + total > (IP_IS_V4(&s->cork_to) ? MAX_PAYLOAD4 : MAX_PAYLOAD6)) {
        drop_cork(s);                   /* Linux drops what was held too */
        return -EMSGSIZE;
    }

    /* The first piece has room for the headers; later ones are chained on. */
    struct pbuf *p = pbuf_alloc(s->cork != NULL ? PBUF_RAW : PBUF_TRANSPORT, (u16_t)total,
                                PBUF_RAM);
    if (p == NULL)
        return -ENOBUFS;
    size_t off = 0;
    for (size_t i = 0; i < msg->msg_iovlen; i++) {
        pbuf_take_at(p, msg->msg_iov[i].iov_base, (u16_t)msg->msg_iov[i].iov_len, (u16_t)off);
        off += msg->msg_iov[i].iov_len;
    }
    if (s->cork == NULL)
        s->cork = p;
    else if (total > 0)
        pbuf_cat(s->cork, p);
    else
        pbuf_free(p);
    if (flags & MSG_MORE)
        return (ssize_t)total;

    struct pbuf *dgram = s->cork;
    s->cork = NULL;
    err_t err = udp_sendto(pcb, dgram, &s->cork_to, s->cork_port);
    pbuf_free(dgram);
    if (err != ERR_OK)
        return -shunt_sock_errno(err);
    s->bound = true;
    shunt_sock_flush();
    return (ssize_t)total;
}

static void drop_head(struct shunt_sock *s)
{
    struct shunt_dgram *d = &s->dgrams[s->dgram_head];

    s->dgram_charge -= charge(d->p);
    pbuf_free(d->p);
    d->p = NULL;
    s->dgram_head = (s->dgram_head + 1) % s->dgram_cap;
    s->dgram_count--;
}

static ssize_t udp_recv_op(struct shunt_sock *s, struct msghdr *msg, int flags)
{
    if (s->dgram_count == 0) {
        msg->msg_namelen = 0;
        if (s->so_error != 0) {
            int err = s->so_error;
            s->so_error = 0;
            return -err;
        }
        return s->rd_shut ? 0 : -EAGAIN;
    }

    const struct shunt_dgram *d = &s->dgrams[s->dgram_head];
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
    if (!(flags & MSG_PEEK))
        drop_head(s);
    /* MSG_TRUNC asks for the datagram's real length. */
    return (flags & MSG_TRUNC) ? (ssize_t)len : (ssize_t)done;
}

static int udp_shutdown_op(struct shunt_sock *s, int how)
{
    if (!s->udp_connected)
        return -ENOTCONN;
    if (how != SHUT_WR) {
        s->rd_shut = true;
        while (s->dgram_count > 0)
            drop_head(s);
    }
    if (how != SHUT_RD)
        s->wr_shut = true;
    shunt_sock_wakeup(s);
    return 0;
}

static void udp_close_op(struct shunt_sock *s, bool abort)
{
    (void)abort;
    drop_cork(s);
    while (s->dgram_count > 0)
        drop_head(s);
    if (s->pcb.udp != NULL)
        udp_remove(s->pcb.udp);
    s->pcb.udp = NULL;
}

static uint32_t udp_events(struct shunt_sock *s)
{
    uint32_t ev = EPOLLOUT | EPOLLWRNORM;

    if (s->dgram_count > 0 || s->rd_shut)
        ev |= EPOLLIN | EPOLLRDNORM;
    if (s->rd_shut)
        ev |= EPOLLRDHUP;
    if (s->rd_shut && s->wr_shut)
        ev |= EPOLLHUP;
    if (s->so_error != 0)
        ev |= EPOLLERR;
    return ev;
}

static int udp_name(struct shunt_sock *s, bool peer, ip_addr_t *ip, uint16_t *port)
{
    const struct udp_pcb *pcb = s->pcb.udp;

    if (peer) {
        if (!s->udp_connected)
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
static int udp_pending(struct shunt_sock *s)
{
    return s->dgram_count > 0 ? s->dgrams[s->dgram_head].p->tot_len : 0;
}

static size_t udp_unacked(struct shunt_sock *s)
{
    (void)s;
    return 0;
}

const struct shunt_proto shunt_udp_proto = {
    .open = udp_open,
    .bind = udp_bind_op,
    .listen = NULL,                     /* socket.c refuses: EOPNOTSUPP */
    .accept = NULL,
    .connect = udp_connect_op,
    .connected = udp_connected,
    .send = udp_send_op,
    .recv = udp_recv_op,
    .shutdown = udp_shutdown_op,
    .close = udp_close_op,
    .events = udp_events,
    .name = udp_name,
    .pending = udp_pending,
    .unacked = udp_unacked,
    .apply_options = udp_apply_options,
    .turn = NULL,                       /* UDP sends at once: nothing waits */
};
