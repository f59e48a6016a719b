/*
 * tcp.c - TCP sockets on lwIP's raw TCP API.
 *
 * Receive: lwIP hands each in-order segment to on_recv() as pbufs that still
 * live in their mbufs; they wait in the socket's queue, uncopied, until the
 * application reads them, and only then is the window opened again
 * (tcp_recved).  A slow reader closes the window; nothing acknowledged is
 * ever dropped.  When the mbuf pool runs low, arriving data is copied out
 * of its mbufs, so readers that fall behind cannot starve the port.
 *
 * Send: tcp_write() copies the application's bytes into lwIP's send buffer.
 * With TCP_NODELAY they leave at once; otherwise at the end of the loop turn,
 * several writes to a segment (Nagle still applies).
 *
 * ACKs: lwIP acknowledges every second segment by itself.  A lone segment's
 * ACK waits one loop turn, so a reply written in between carries it; failing
 * that it goes alone at the end of the next turn, not after lwIP's 100 ms.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <string.h>
#include <unistd.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "lwip/prot/tcp.h"

#include "addr.h"
#include "bind.h"
#include "clock.h"
#include "demux.h"
#include "epoll.h"
#include "hooks.h"
#include "sock.h"
#include "stats.h"

/* The smallest window SO_RCVBUF can ask for. */
#define MIN_WINDOW 4096

/* The window a socket offers when SO_RCVBUF asks for less than TCP_WND. */
static size_t window_for(const struct shunt_sock *s)
{
    size_t want = (size_t)s->opt.rcvbuf / 2;    /* Linux doubles what is set */

    if (!s->opt.rcvbuf_set || want >= TCP_WND)
        return TCP_WND;
    return want < MIN_WINDOW ? MIN_WINDOW : want;
}

/* ---- lwIP's callbacks ---------------------------------------------------- */

static void remember_names(struct shunt_sock *s)
{
    struct tcp_pcb *pcb = s->pcb.tcp;

    ip_addr_copy(s->local_ip, pcb->local_ip);
    s->local_port = pcb->local_port;
    if (s->state == SOCK_CONNECTED || s->state == SOCK_CONNECTING) {
        ip_addr_copy(s->peer_ip, pcb->remote_ip);
        s->peer_port = pcb->remote_port;
    }
}

/* The connection is up (either way): hold back window SO_RCVBUF denies. */
static void established(struct shunt_sock *s)
{
    shunt_demux_add(s->pcb.tcp);
    s->state = SOCK_CONNECTED;
    s->bound = true;
    s->rx_withheld = TCP_WND - window_for(s);
    if (s->opt.maxseg != 0 && s->pcb.tcp->mss > s->opt.maxseg)
        s->pcb.tcp->mss = (u16_t)s->opt.maxseg;
    remember_names(s);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct shunt_sock *s = arg;

    (void)err;
    if (p == NULL) {                    /* the peer's FIN */
        s->rd_shut = true;
        s->peer_fin = true;
        shunt_sock_wakeup(s);
        return ERR_OK;
    }
    if (s->rx_discard) {                /* SHUT_RD: take it, and forget it */
        tcp_recved(pcb, p->tot_len);
        pbuf_free(p);
        return ERR_OK;
    }
    if (shunt_sock_mbufs_low()) {
        /* Give the mbufs back; the data waits in lwIP's heap.  With no room
         * there either, lwIP holds it and offers it again later. */
        struct pbuf *copy = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
        if (copy == NULL)
            return ERR_MEM;
        pbuf_free(p);
        p = copy;
    }

    /* Queue the pbufs as they are, one after another. */
    size_t len = p->tot_len;
    if (s->rx_head == NULL)
        s->rx_head = p;
    else
        s->rx_tail->next = p;
    while (p->next != NULL)
        p = p->next;
    s->rx_tail = p;
    s->rx_bytes += len;

    s->rx_turn = shunt_sock_turn_number();
    shunt_sock_want_turn(s);
    shunt_sock_wakeup(s);
    return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    shunt_sock_wakeup(arg);
    return ERR_OK;
}

/* lwIP has freed the pcb already: forget it, keep the reason. */
static void on_err(void *arg, err_t err)
{
    struct shunt_sock *s = arg;

    if (s == NULL)
        return;
    s->pcb.tcp = NULL;
    if (s->state == SOCK_CONNECTING)
        s->so_error = err == ERR_RST ? ECONNREFUSED : ETIMEDOUT;
    else if (err == ERR_RST)            /* after the peer's FIN (CLOSE_WAIT): a broken pipe */
        s->so_error = s->peer_fin && !s->wr_shut ? EPIPE : ECONNRESET;
    else if (err == ERR_ABRT)           /* lwIP gave up: retransmissions, keepalive */
        s->so_error = ETIMEDOUT;
    else if (err != ERR_CLSD)
        s->so_error = shunt_sock_errno(err);
    s->state = SOCK_CLOSED;
    s->rd_shut = true;
    s->wr_shut = true;
    shunt_sock_wakeup(s);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct shunt_sock *s = arg;

    (void)pcb;
    (void)err;
    established(s);
    shunt_sock_wakeup(s);
    return ERR_OK;
}

static void hook(struct shunt_sock *s, struct tcp_pcb *pcb)
{
    s->pcb.tcp = pcb;
    tcp_arg(pcb, s);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
}

/* Hand the pcb back to lwIP: its defaults drain whatever still arrives. */
static void unhook(struct tcp_pcb *pcb)
{
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct shunt_sock *l = arg;

    if (err != ERR_OK || pcb == NULL || l == NULL)
        return ERR_VAL;
    struct shunt_sock *c = shunt_sock_child(l);
    if (c == NULL) {
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    hook(c, pcb);
    c->proto->apply_options(c);
    established(c);

    if (l->accept_tail != NULL)
        l->accept_tail->accept_next = c;
    else
        l->accept_head = c;
    l->accept_tail = c;
    l->accept_len++;
    shunt_sock_wakeup(l);
    return ERR_OK;
}

/* ---- the protocol's operations ------------------------------------------- */

static size_t msg_bytes(const struct msghdr *msg)
{
    size_t n = 0;

    for (size_t i = 0; i < msg->msg_iovlen; i++)
        n += msg->msg_iov[i].iov_len;
    return n;
}

static void tcp_apply_options(struct shunt_sock *s)
{
    struct tcp_pcb *pcb = s->pcb.tcp;

    if (pcb == NULL)
        return;
    shunt_bind_mark(s);
    pcb->ttl = (u8_t)s->opt.ttl;
    pcb->tos = (u8_t)s->opt.tos;
    if (s->state == SOCK_LISTEN)
        return;                         /* a listening pcb has nothing more */
    if (s->opt.keepalive)
        ip_set_option(pcb, SOF_KEEPALIVE);
    else
        ip_reset_option(pcb, SOF_KEEPALIVE);
    pcb->keep_idle = (u32_t)s->opt.keepidle * 1000;
    pcb->keep_intvl = (u32_t)s->opt.keepintvl * 1000;
    pcb->keep_cnt = (u32_t)s->opt.keepcnt;
    if (s->opt.nodelay)
        tcp_nagle_disable(pcb);
    else
        tcp_nagle_enable(pcb);
}

static int tcp_open(struct shunt_sock *s)
{
    u8_t type = s->family == AF_INET ? IPADDR_TYPE_V4
              : s->opt.v6only ? IPADDR_TYPE_V6 : IPADDR_TYPE_ANY;
    struct tcp_pcb *pcb = tcp_new_ip_type(type);

    if (pcb == NULL)
        return -ENOBUFS;
    hook(s, pcb);
    tcp_apply_options(s);
    return 0;
}

static int tcp_do_bind(struct shunt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    ip_addr_t local = *ip;

    if (s->family == AF_INET6 && s->opt.v6only && ip_addr_isany(ip))
        ip_addr_copy(local, *IP6_ADDR_ANY);
    err_t err = tcp_bind(s->pcb.tcp, &local, port);
    if (err == ERR_BUF)
        return -EADDRINUSE;             /* no ephemeral port left */
    if (err != ERR_OK)
        return -shunt_sock_errno(err);
    s->bound = true;
    remember_names(s);
    return 0;
}

/* A fresh pcb for a socket whose connection is gone; it keeps the address
 * and port bind() named, as Linux keeps them (not those chosen for it). */
static int reopen(struct shunt_sock *s)
{
    if (s->pcb.tcp != NULL)
        return 0;
    s->bound = false;
    int rc = tcp_open(s);
    if (rc == 0 && (s->addr_by_hand || s->port_by_hand)) {
        const ip_addr_t *any = s->family == AF_INET ? IP4_ADDR_ANY : IP_ANY_TYPE;
        rc = tcp_do_bind(s, s->addr_by_hand ? &s->local_ip : any,
                         s->port_by_hand ? s->local_port : 0);
    }
    return rc;
}

static int tcp_bind_op(struct shunt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    int rc = reopen(s);

    if (rc < 0)
        return rc;
    if (s->bound || s->state != SOCK_CLOSED)
        return -EINVAL;
    if (ip_addr_ismulticast(ip) || !shunt_addr_is_local(ip))
        return -EADDRNOTAVAIL;
    if (port != 0 && port < 1024 && geteuid() != 0)
        return -EACCES;
    if ((rc = shunt_bind_check(s, ip, port)) != 0)
        return rc;
    if ((rc = tcp_do_bind(s, ip, port)) == 0) {
        s->addr_by_hand = !ip_addr_isany(ip);
        s->port_by_hand = port != 0;
    }
    return rc;
}

/* Linux's SOMAXCONN: the backlog listen() is held to. */
#define SOMAXCONN_LINUX 4096

/* ---- round-trip time ---------------------------------------------------- */

/* The socket that owns pcb (a new connection's pcb carries its listener's
 * until accept() gives it one). */
static struct shunt_sock *owner(const struct tcp_pcb *pcb)
{
    struct shunt_sock *s = pcb->callback_arg;

    return s != NULL && s->pcb.tcp == pcb ? s : NULL;
}

/* lwIP has just started timing this segment (it times one at a time and
 * forgets it on a retransmission, as Karn's rule says): time it too. */
static void rtt_sent(const struct tcp_pcb *pcb, const struct tcp_hdr *hdr)
{
    struct shunt_sock *s;

    if (pcb->rttest != 0 && pcb->rtseq == lwip_ntohl(hdr->seqno) && (s = owner(pcb)) != NULL) {
        s->rtt_seq = pcb->rtseq;
        s->rtt_sent_ns = shunt_clock_ns();
    }
}

/* An acknowledgement of the timed segment: a sample, smoothed as RFC 6298
 * does (and as lwIP will, in ticks, when it reads the same ACK). */
static void rtt_acked(const struct tcp_pcb *pcb, const struct tcp_hdr *hdr)
{
    struct shunt_sock *s = owner(pcb);
    u32_t ackno = hdr->ackno;           /* tcp_input has made it host order */

    if (s == NULL || s->rtt_sent_ns == 0 || !(TCPH_FLAGS(hdr) & TCP_ACK) ||
        pcb->rttest == 0 || pcb->rtseq != s->rtt_seq || !TCP_SEQ_LT(s->rtt_seq, ackno) ||
        TCP_SEQ_GT(ackno, pcb->snd_nxt))
        return;
    uint32_t r = (uint32_t)LWIP_MIN((shunt_clock_ns() - s->rtt_sent_ns) / 1000, UINT32_MAX);
    if (s->srtt_us == 0) {
        s->srtt_us = LWIP_MAX(r, 1);
        s->rttvar_us = r / 2;
    } else {
        uint32_t diff = s->srtt_us > r ? s->srtt_us - r : r - s->srtt_us;
        s->rttvar_us = s->rttvar_us - s->rttvar_us / 4 + diff / 4;
        s->srtt_us = LWIP_MAX(s->srtt_us - s->srtt_us / 8 + r / 8, 1);
    }
    s->rtt_sent_ns = 0;
}

uint32_t shunt_tcp_rtt_us(const struct shunt_sock *s, const struct tcp_pcb *pcb,
                          uint32_t *var_us)
{
    if (s != NULL && s->srtt_us != 0) {
        *var_us = s->rttvar_us;
        return s->srtt_us;
    }
    /* lwIP keeps them scaled by 8 (sa) and 4 (sv). */
    *var_us = (uint32_t)(pcb->sv >> 2) * TCP_SLOW_INTERVAL * 1000;
    return (uint32_t)(pcb->sa >> 3) * TCP_SLOW_INTERVAL * 1000;
}

err_t shunt_tcp_inpacket(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen,
                         u16_t opt1len, u8_t *opt2, struct pbuf *p)
{
    (void)optlen;
    (void)opt1len;
    (void)opt2;
    (void)p;
    if (pcb->state != LISTEN) {
        rtt_acked(pcb, hdr);
        return ERR_OK;
    }
    if ((TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK)) != TCP_SYN)
        return ERR_OK;
    const struct shunt_sock *s = pcb->callback_arg;
    /* Full means more than backlog waiting, so backlog + 1 fit (Linux). */
    if (s == NULL || s->accept_len <= s->backlog)
        return ERR_OK;
    shunt_sock_count_drop(SHUNT_DROP_BACKLOG_FULL);
    return ERR_ABRT;
}

u32_t *shunt_tcp_options(struct pbuf *p, struct tcp_hdr *hdr, const struct tcp_pcb *pcb,
                         u32_t *opts)
{
    (void)p;
    if (pcb != NULL && pcb->state != LISTEN)   /* a listener's pcb is the small kind */
        rtt_sent(pcb, hdr);
    /* No pcb: a reset for a port nobody listens on. */
    const struct shunt_sock *s = pcb != NULL ? pcb->callback_arg : NULL;
    if (s == NULL || !(TCPH_FLAGS(hdr) & TCP_SYN) || s->opt.maxseg == 0)
        return opts;
    /* lwIP puts the MSS option first in a SYN. */
    u32_t *mss = (u32_t *)(void *)(hdr + 1);
    u16_t built = (u16_t)(lwip_ntohl(*mss) & 0xffff);
    if ((lwip_ntohl(*mss) >> 16) == 0x0204 && built > s->opt.maxseg)
        *mss = TCP_BUILD_MSS_OPTION((u16_t)s->opt.maxseg);
    return opts;
}

static int tcp_listen_op(struct shunt_sock *s, int backlog)
{
    if (backlog < 0 || backlog > SOMAXCONN_LINUX)
        backlog = SOMAXCONN_LINUX;
    if (s->state == SOCK_LISTEN) {
        s->backlog = backlog;
        return 0;
    }
    if (s->state != SOCK_CLOSED)
        return -EINVAL;
    int rc = reopen(s);
    if (rc == 0 && !s->bound)
        rc = tcp_do_bind(s, s->family == AF_INET ? IP4_ADDR_ANY : IP_ANY_TYPE, 0);
    if (rc == 0)
        rc = shunt_bind_check(s, &s->pcb.tcp->local_ip, s->pcb.tcp->local_port);
    if (rc < 0)
        return rc;

    /* lwIP would refuse a second listener on the port (SO_REUSEPORT):
     * bind.c has already decided. */
    ip_reset_option(s->pcb.tcp, SOF_REUSEADDR);
    err_t err;
    struct tcp_pcb *lpcb = tcp_listen_with_backlog_and_err(s->pcb.tcp, 0, &err);
    if (lpcb == NULL) {
        ip_set_option(s->pcb.tcp, SOF_REUSEADDR);
        return -shunt_sock_errno(err);
    }
    s->pcb.tcp = lpcb;
    s->state = SOCK_LISTEN;
    s->backlog = backlog;
    tcp_arg(lpcb, s);
    tcp_accept(lpcb, on_accept);
    shunt_demux_listen(lpcb);
    shunt_bind_mark(s);
    return 0;
}

static int tcp_accept_op(struct shunt_sock *s, struct shunt_sock **child)
{
    struct shunt_sock *c = s->accept_head;

    if (c == NULL)
        return -EAGAIN;
    s->accept_head = c->accept_next;
    if (s->accept_head == NULL)
        s->accept_tail = NULL;
    s->accept_len--;
    c->accept_next = NULL;
    *child = c;
    return 0;
}

static int tcp_connect_op(struct shunt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    /* The call after an asynchronous connect finished reports how it did,
     * once: 0, or its error, or (the error read already) that the attempt
     * was aborted (Linux's connect(), called again). */
    if (s->connect_pending && s->state != SOCK_CONNECTING) {
        s->connect_pending = false;
        if (s->state == SOCK_CONNECTED)
            return 0;
        int err = s->so_error != 0 ? s->so_error : ECONNABORTED;
        s->so_error = 0;
        return -err;
    }
    switch (s->state) {
    case SOCK_CONNECTED:
    case SOCK_LISTEN:
        return -EISCONN;
    case SOCK_CONNECTING:
        return -EALREADY;
    case SOCK_CLOSED:
        break;
    }
    if (ip == NULL)
        return -EAFNOSUPPORT;
    int rc = reopen(s);
    if (rc < 0)
        return rc;
    if (s->family == AF_INET6 && s->opt.v6only && IP_IS_V4(ip))
        return -ENETUNREACH;

    ip_addr_t to = *ip;
    if (ip_addr_isany(&to)) {           /* as on Linux: this host */
        struct netif *n = shunt_sock_netif();
        if (n == NULL)
            return -ENETUNREACH;
        ip_addr_copy_from_ip4(to, *netif_ip4_addr(n));
    }
    s->so_error = 0;
    s->rd_shut = s->wr_shut = s->peer_fin = false;
    s->rtt_sent_ns = 0;
    s->srtt_us = s->rttvar_us = 0;
    err_t err = tcp_connect(s->pcb.tcp, &to, port, on_connected);
    /* ERR_BUF: no ephemeral port left; ERR_USE: this 4-tuple is taken. */
    if (err == ERR_BUF || err == ERR_USE)
        return -EADDRNOTAVAIL;
    if (err != ERR_OK)
        return err == ERR_RTE ? -ENETUNREACH : -shunt_sock_errno(err);
    s->state = SOCK_CONNECTING;
    shunt_demux_add(s->pcb.tcp);        /* the SYN is out: replies find it by hash */
    s->connect_pending = true;
    s->bound = true;
    remember_names(s);
    shunt_sock_flush();                 /* the SYN leaves now */
    return -EINPROGRESS;
}

static int tcp_connected(struct shunt_sock *s)
{
    if (s->state == SOCK_CONNECTING)
        return -EINPROGRESS;
    s->connect_pending = false;         /* a blocking connect reports it now */
    if (s->state == SOCK_CONNECTED)
        return 0;
    int err = s->so_error ? s->so_error : ECONNREFUSED;
    s->so_error = 0;
    return -err;
}

/* Room in the send buffer for this socket (lwIP's, and SO_SNDBUF's). */
static size_t send_room(const struct shunt_sock *s)
{
    const struct tcp_pcb *pcb = s->pcb.tcp;
    size_t room = pcb->snd_buf;

    if (pcb->snd_queuelen >= TCP_SND_QUEUELEN - 1)
        return 0;
    if (s->opt.sndbuf_set) {
        size_t queued = TCP_SND_BUF - pcb->snd_buf, limit = (size_t)s->opt.sndbuf / 2;
        room = queued >= limit ? 0 : room < limit - queued ? room : limit - queued;
    }
    return room;
}

static ssize_t tcp_send(struct shunt_sock *s, const struct msghdr *msg, int flags,
                        const ip_addr_t *to, uint16_t port)
{
    (void)to;
    (void)port;
    if (s->so_error != 0) {
        int err = s->so_error;
        s->so_error = 0;
        return -err;
    }
    if (s->state == SOCK_CONNECTING)
        return -EAGAIN;
    if (s->state != SOCK_CONNECTED || s->wr_shut || s->pcb.tcp == NULL)
        return -EPIPE;
    if (msg_bytes(msg) == 0)
        return 0;

    struct tcp_pcb *pcb = s->pcb.tcp;
    size_t room = send_room(s), sent = 0;
    for (size_t i = 0; i < msg->msg_iovlen && sent < room; i++) {
        const char *base = msg->msg_iov[i].iov_base;
        size_t left = msg->msg_iov[i].iov_len;
        while (left > 0 && sent < room) {
            u16_t n = (u16_t)LWIP_MIN(LWIP_MIN(left, room - sent), 0xffff);
            bool more = n < left || i + 1 < msg->msg_iovlen;
            if (tcp_write(pcb, base, n, TCP_WRITE_FLAG_COPY | (more ? TCP_WRITE_FLAG_MORE : 0))
                != ERR_OK)
                goto queued;            /* lwIP is out of segments or memory */
            base += n;
            left -= n;
            sent += n;
        }
    }
queued:
    if (sent == 0)
        return -EAGAIN;
    if (s->opt.nodelay && !(flags & MSG_MORE)) {
        tcp_output(pcb);                /* latency first: send it now */
        shunt_sock_flush();
    } else {
        shunt_sock_want_turn(s);        /* at the end of the turn */
    }
    return (ssize_t)sent;
}

/* Open the window for n bytes read, less what SO_RCVBUF holds back. */
static void credit(struct shunt_sock *s, size_t n)
{
    size_t held = LWIP_MIN(n, s->rx_withheld);

    s->rx_withheld -= held;
    n -= held;
    while (n > 0 && s->pcb.tcp != NULL) {
        u16_t part = (u16_t)LWIP_MIN(n, 0xffff);
        tcp_recved(s->pcb.tcp, part);
        n -= part;
    }
}

/* Take n bytes off the front of the receive queue (copying them to iov
 * unless iov is NULL); with peek, leave them there. */
static size_t take(struct shunt_sock *s, const struct msghdr *msg, size_t n, bool peek)
{
    struct pbuf *q = s->rx_head;
    size_t off = s->rx_off, done = 0, iv = 0, ivoff = 0;

    while (done < n && q != NULL) {
        size_t chunk = LWIP_MIN(q->len - off, n - done);
        /* Copy into as many iovecs as the chunk spans. */
        for (size_t c = 0; msg != NULL && c < chunk;) {
            const struct iovec *v = &msg->msg_iov[iv];
            size_t part = LWIP_MIN(chunk - c, v->iov_len - ivoff);
            memcpy((char *)v->iov_base + ivoff, (char *)q->payload + off + c, part);
            c += part;
            ivoff += part;
            if (ivoff == v->iov_len) {
                iv++;
                ivoff = 0;
            }
        }
        done += chunk;
        off += chunk;
        if (off == q->len) {
            struct pbuf *next = q->next;
            if (!peek) {
                q->next = NULL;
                pbuf_free(q);
                s->rx_head = next;
            }
            q = next;
            off = 0;
        }
    }
    if (!peek) {
        s->rx_off = (uint16_t)off;
        if (s->rx_head == NULL) {
            s->rx_tail = NULL;
            s->rx_off = 0;
        }
        s->rx_bytes -= done;
        credit(s, done);
    }
    return done;
}

static ssize_t tcp_recv_op(struct shunt_sock *s, struct msghdr *msg, int flags)
{
    msg->msg_namelen = 0;
    if (s->state == SOCK_LISTEN)
        return -ENOTCONN;
    size_t want = msg_bytes(msg);
    if (s->rx_bytes == 0) {
        if (s->peer_fin)                /* the stream ended, whatever came after */
            return 0;
        if (s->so_error != 0) {
            int err = s->so_error;
            s->so_error = 0;
            return -err;
        }
        if (s->rd_shut)
            return 0;
        if (s->state == SOCK_CLOSED)
            return s->bound && s->peer_port != 0 ? 0 : -ENOTCONN;
        return -EAGAIN;
    }
    /* Even a read of nothing waits for data, as Linux's does. */
    want = LWIP_MIN(want, s->rx_bytes);
    /* MSG_TRUNC on a stream throws the bytes away instead of copying. */
    size_t n = take(s, (flags & MSG_TRUNC) ? NULL : msg, want, (flags & MSG_PEEK) != 0);
    if (n > 0 && !(flags & MSG_PEEK) && s->pcb.tcp != NULL)
        shunt_sock_want_turn(s);        /* a window update may be due */
    return (ssize_t)n;
}

/* Drop what is queued and what comes after: SHUT_RD, or close. */
static void discard_input(struct shunt_sock *s)
{
    take(s, NULL, s->rx_bytes, false);
    s->rx_discard = true;
}

static int tcp_shutdown_op(struct shunt_sock *s, int how)
{
    switch (s->state) {
    case SOCK_LISTEN:
        if (how == SHUT_WR)
            return 0;
        s->proto->close(s, false);      /* shut for reading: stop listening */
        return 0;
    case SOCK_CONNECTING:
        tcp_abort(s->pcb.tcp);          /* on_err forgets the pcb */
        return 0;
    case SOCK_CLOSED:
        return -ENOTCONN;
    case SOCK_CONNECTED:
        break;
    }
    if (how != SHUT_WR) {
        s->rd_shut = true;
        discard_input(s);
    }
    if (how != SHUT_RD && !s->wr_shut && s->pcb.tcp != NULL) {
        s->wr_shut = true;
        err_t err = tcp_shutdown(s->pcb.tcp, 0, 1);
        if (err != ERR_OK && err != ERR_CONN)
            return -shunt_sock_errno(err);
        shunt_sock_flush();             /* the FIN leaves now */
    }
    shunt_sock_wakeup(s);
    return 0;
}

/* lwIP could not queue the FIN: it calls here until it can. */
static err_t close_again(void *arg, struct tcp_pcb *pcb)
{
    (void)arg;
    if (tcp_close(pcb) == ERR_OK)
        tcp_poll(pcb, NULL, 0);
    return ERR_OK;
}

static void tcp_close_op(struct shunt_sock *s, bool abort)
{
    struct tcp_pcb *pcb = s->pcb.tcp;

    if (s->state == SOCK_LISTEN) {
        /* Connections nobody accepted are reset, as Linux does. */
        for (struct shunt_sock *c = s->accept_head, *next; c != NULL; c = next) {
            next = c->accept_next;
            c->proto->close(c, true);
            shunt_sock_free(c);
        }
        s->accept_head = s->accept_tail = NULL;
        s->accept_len = 0;
        tcp_arg(pcb, NULL);
        tcp_accept(pcb, NULL);
        tcp_close(pcb);
        s->pcb.tcp = NULL;
        s->state = SOCK_CLOSED;
        return;
    }

    /* Closing with unread data resets the connection (RFC 2525, Linux). */
    bool unread = s->rx_bytes > 0;
    take(s, NULL, s->rx_bytes, false);
    s->pcb.tcp = NULL;
    if (pcb == NULL)
        return;
    unhook(pcb);
    if (abort || unread || s->state == SOCK_CONNECTING) {
        tcp_abort(pcb);
    } else if (tcp_close(pcb) != ERR_OK) {
        tcp_poll(pcb, close_again, 1);
    }
    shunt_sock_flush();
}

static uint32_t tcp_events(struct shunt_sock *s)
{
    uint32_t ev = 0;

    if (s->state == SOCK_LISTEN)
        return s->accept_head != NULL ? EPOLLIN | EPOLLRDNORM : 0;
    /* Linux's tcp_poll(), condition by condition. */
    if (s->so_error != 0)
        ev |= EPOLLERR;
    if ((s->rd_shut && s->wr_shut) || s->state == SOCK_CLOSED)
        ev |= EPOLLHUP;
    if (s->rd_shut)
        ev |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
    if (s->state != SOCK_CONNECTING) {
        if (s->rx_bytes > 0)
            ev |= EPOLLIN | EPOLLRDNORM;
        if (s->wr_shut || s->state != SOCK_CONNECTED || s->pcb.tcp == NULL ||
            (send_room(s) >= TCP_SNDLOWAT && s->pcb.tcp->snd_queuelen < TCP_SNDQUEUELOWAT))
            ev |= EPOLLOUT | EPOLLWRNORM;
    }
    return ev;
}

static int tcp_name(struct shunt_sock *s, bool peer, ip_addr_t *ip, uint16_t *port)
{
    if (peer) {
        if (s->state != SOCK_CONNECTED)
            return -ENOTCONN;
        ip_addr_copy(*ip, s->peer_ip);
        *port = s->peer_port;
        return 0;
    }
    if (s->pcb.tcp != NULL)
        remember_names(s);
    ip_addr_copy(*ip, s->local_ip);
    *port = s->local_port;
    return 0;
}

static int tcp_pending(struct shunt_sock *s)
{
    if (s->state == SOCK_LISTEN)
        return -EINVAL;
    return (int)LWIP_MIN(s->rx_bytes, (size_t)INT32_MAX);
}

static size_t tcp_unacked(struct shunt_sock *s)
{
    if (s->pcb.tcp == NULL || s->state != SOCK_CONNECTED)
        return 0;
    return TCP_SND_BUF - s->pcb.tcp->snd_buf;
}

/*
 * End of a loop turn: send what the application wrote, and an ACK that has
 * waited a full turn for a reply to carry it.
 */
static void tcp_turn(struct shunt_sock *s)
{
    struct tcp_pcb *pcb = s->pcb.tcp;

    if (pcb == NULL || s->state == SOCK_LISTEN)
        return;
    if (pcb->flags & TF_ACK_DELAY) {
        if (s->rx_turn == shunt_sock_turn_number())
            shunt_sock_want_turn(s);    /* give the application its turn */
        else
            tcp_ack_now(pcb);
    }
    tcp_output(pcb);
}

const struct shunt_proto shunt_tcp_proto = {
    .open = tcp_open,
    .bind = tcp_bind_op,
    .listen = tcp_listen_op,
    .accept = tcp_accept_op,
    .connect = tcp_connect_op,
    .connected = tcp_connected,
    .send = tcp_send,
    .recv = tcp_recv_op,
    .shutdown = tcp_shutdown_op,
    .close = tcp_close_op,
    .events = tcp_events,
    .name = tcp_name,
    .pending = tcp_pending,
    .unacked = tcp_unacked,
    .apply_options = tcp_apply_options,
    .turn = tcp_turn,
};
