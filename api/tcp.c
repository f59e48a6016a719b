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
 *
 * The protocol's operations are stream_* (lwIP's own are tcp_*), lwIP's
 * callbacks on_*.  Every pcb the module hooks carries its struct
 * shunt_tcp_sock as its callback argument.
 */
#include <errno.h>
#include <linux/bpf.h>                  /* BPF_TCP_*: Linux's TCP state numbers */
#include <linux/tcp.h>                  /* struct tcp_info, the kernel's whole layout */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/tcp.h"
#include "lwip/tcp.h"

#include "addr.h"
#include "bind.h"
#include "cc.h"
#include "demux.h"
#include "epoll.h"
#include "counters.h"
#include "recovery.h"
#include "steer.h"
#include "tcp.h"
#include "zc.h"

/* The smallest window SO_RCVBUF can ask for. */
#define MIN_WINDOW 4096

/* Linux's SOMAXCONN: the backlog listen() is held to. */
#define SOMAXCONN_LINUX 4096

/* TCP_MAXSEG before a connection and without one asked for: TCP's
 * default MSS (RFC 879), which Linux reports. */
#define DEFAULT_MSS 536

/* The window a socket offers when SO_RCVBUF asks for less than TCP_WND. */
static size_t window_for(const struct shunt_tcp_sock *t)
{
    const struct shunt_bufsize *rcvbuf = &t->sock.opt.rcvbuf;
    size_t want = (size_t)rcvbuf->bytes / 2;    /* Linux doubles what is set */

    if (!rcvbuf->set || want >= TCP_WND)
        return TCP_WND;
    return want < MIN_WINDOW ? MIN_WINDOW : want;
}

/* ---- lwIP's callbacks ---------------------------------------------------- */

static void remember_names(struct shunt_tcp_sock *t)
{
    ip_addr_copy(t->local_ip, t->pcb->local_ip);
    t->local_port = t->pcb->local_port;
    if (t->state == SHUNT_TCP_CONNECTED || t->state == SHUNT_TCP_CONNECTING) {
        ip_addr_copy(t->peer_ip, t->pcb->remote_ip);
        t->peer_port = t->pcb->remote_port;
    }
}

/* A connection's MSS brought down to what TCP_MAXSEG asks, if it asks less. */
static void cap_mss(struct shunt_tcp_sock *t)
{
    int maxseg = t->sock.opt.maxseg;

    if (maxseg != 0 && t->pcb->mss > maxseg)
        t->pcb->mss = (u16_t)maxseg;
}

/* The connection is up (either way): hold back window SO_RCVBUF denies. */
static void established(struct shunt_tcp_sock *t)
{
    shunt_demux_add(shunt_sock_demux(), t->pcb);
    t->state = SHUNT_TCP_CONNECTED;
    t->sock.bound = true;
    t->rx_withheld = TCP_WND - window_for(t);
    cap_mss(t);
    remember_names(t);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct shunt_tcp_sock *t = arg;

    (void)err;
    if (p == NULL) {                    /* the peer's FIN */
        t->sock.rd_shut = true;
        t->peer_fin = true;
        shunt_sock_wakeup(&t->sock);
        return ERR_OK;
    }
    if (t->rx_discard) {                /* SHUT_RD: take it, and forget it */
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
    if (t->rx_head == NULL)
        t->rx_head = p;
    else
        t->rx_tail->next = p;
    while (p->next != NULL)
        p = p->next;
    t->rx_tail = p;
    t->rx_bytes += len;
    shunt_tstamp_tcp_arrived(&t->sock, (uint32_t)len);

    t->rx_turn = shunt_sock_turn_number();
    shunt_sock_want_turn(&t->sock);
    shunt_sock_wakeup(&t->sock);
    return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    struct shunt_tcp_sock *t = arg;

    (void)len;
    if (t->sock.zc != NULL)
        shunt_zc_acked(&t->sock, pcb);  /* zero-copy buffers acknowledged go */
    shunt_sock_wakeup(&t->sock);
    return ERR_OK;
}

/* lwIP has freed the pcb already: forget it, keep the reason. */
static void on_err(void *arg, err_t err)
{
    struct shunt_tcp_sock *t = arg;

    if (t == NULL)
        return;
    struct shunt_sock *s = &t->sock;
    t->pcb = NULL;
    if (t->state == SHUNT_TCP_CONNECTING)
        s->so_error = err == ERR_RST ? ECONNREFUSED : ETIMEDOUT;
    else if (err == ERR_RST)            /* after the peer's FIN (CLOSE_WAIT): a broken pipe */
        s->so_error = t->peer_fin && !s->wr_shut ? EPIPE : ECONNRESET;
    else if (err == ERR_ABRT)           /* lwIP gave up: retransmissions, keepalive */
        s->so_error = ETIMEDOUT;
    else if (err != ERR_CLSD)
        s->so_error = shunt_sock_errno(err);
    t->state = SHUNT_TCP_CLOSED;
    s->rd_shut = true;
    s->wr_shut = true;
    shunt_sock_wakeup(s);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct shunt_tcp_sock *t = arg;

    (void)pcb;
    (void)err;
    established(t);
    shunt_sock_wakeup(&t->sock);
    return ERR_OK;
}

/* Make pcb the socket's, its events the socket's callbacks. */
static void attach_pcb(struct shunt_tcp_sock *t, struct tcp_pcb *pcb)
{
    t->pcb = pcb;
    tcp_arg(pcb, t);
    tcp_recv(pcb, on_recv);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_err);
}

/* Hand the pcb back to lwIP: its defaults drain whatever still arrives. */
static void detach_pcb(struct tcp_pcb *pcb)
{
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
}

/* ---- the protocol's operations ------------------------------------------- */

static struct shunt_sock *stream_create(void)
{
    struct shunt_tcp_sock *t = calloc(1, sizeof(*t));

    return t != NULL ? &t->sock : NULL;
}

static void stream_destroy(struct shunt_sock *s)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    free(t->cork_buf);
    free(t);
}

static void stream_apply_options(struct shunt_sock *s)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);
    struct tcp_pcb *pcb = t->pcb;

    if (pcb == NULL)
        return;
    shunt_bind_mark(s);
    pcb->ttl = (u8_t)s->opt.ttl;
    pcb->tos = (u8_t)s->opt.tos;
    if (t->state == SHUNT_TCP_LISTEN)
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
    /* A closed pcb may yet listen, and tcp_listen frees the state of the
     * pcb it replaces: the choice goes on at connect, or on accept. */
    if (pcb->state != CLOSED)
        shunt_cc_choose(pcb, s->opt.cc);
}

static int stream_open(struct shunt_sock *s)
{
    struct tcp_pcb *pcb = tcp_new_ip_type(shunt_addr_type(s));

    if (pcb == NULL)
        return -ENOBUFS;
    attach_pcb(shunt_tcp_of(s), pcb);
    stream_apply_options(s);
    return 0;
}

/* Bind the pcb: for bind(), or by itself for listen() and a new connect(). */
static int stream_bind_pcb(struct shunt_tcp_sock *t, const ip_addr_t *ip, uint16_t port)
{
    err_t err = tcp_bind(t->pcb, ip, port);

    if (err == ERR_BUF)
        return -EADDRINUSE;             /* no ephemeral port left */
    if (err != ERR_OK)
        return -shunt_sock_errno(err);
    t->sock.bound = true;
    remember_names(t);
    return 0;
}

/*
 * In a group, an active open's replies must come back to this instance,
 * whichever queue the port puts them on: a socket not bound to a port
 * takes one the steering rule gives this instance (no table entry); one
 * bind() gave a port of the rule's for another is entered in the group's
 * table as this instance's (a full table is counted; the connection then
 * works while its frames land here).
 */
#define STEER_PICKS 64                  /* ports tried before giving up */

static int steer_active_open(struct shunt_tcp_sock *t)
{
    struct shunt_steer *st = shunt_sock_steer();

    if (st == NULL)
        return 0;
    if (t->pcb->local_port != 0) {
        if (shunt_steer_port_owner(st, t->pcb->local_port) != (int)st->self)
            shunt_steer_own_pcb(st, t->pcb);
        return 0;
    }
    ip_addr_t local = t->pcb->local_ip;
    for (int i = 0; i < STEER_PICKS; i++) {
        err_t err = tcp_bind(t->pcb, &local, shunt_steer_pick_port(st));
        if (err == ERR_OK)
            return 0;
        if (err != ERR_USE)
            return -shunt_sock_errno(err);
    }
    return -EADDRNOTAVAIL;
}

/* A fresh pcb for a socket whose connection is gone; it keeps the address
 * and port bind() named, as Linux keeps them (not those chosen for it). */
static int reopen(struct shunt_tcp_sock *t)
{
    struct shunt_sock *s = &t->sock;

    if (t->pcb != NULL)
        return 0;
    s->bound = false;
    int rc = stream_open(s);
    if (rc == 0 && (s->addr_by_hand || s->port_by_hand))
        rc = stream_bind_pcb(t, s->addr_by_hand ? &t->local_ip : shunt_addr_any(s),
                             s->port_by_hand ? t->local_port : 0);
    return rc;
}

static int stream_bind(struct shunt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);
    int rc = reopen(t);

    if (rc < 0)
        return rc;
    if (t->state != SHUNT_TCP_CLOSED)
        return -EINVAL;
    if ((rc = shunt_bind_check(s, ip, port)) != 0)
        return rc;
    if ((rc = stream_bind_pcb(t, ip, port)) == 0)
        shunt_bind_named(s, ip, port);
    return rc;
}

/* ---- round-trip time ---------------------------------------------------- */

err_t shunt_tcp_input(void *arg, struct tcp_pcb *pcb, const struct tcp_hdr *hdr)
{
    (void)arg;
    if (pcb->state != LISTEN || (TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK)) != TCP_SYN)
        return ERR_OK;
    const struct shunt_tcp_sock *l = pcb->callback_arg;
    /* Full means more than backlog waiting, so backlog + 1 fit (Linux). */
    if (l == NULL || l->accept_len <= l->backlog)
        return ERR_OK;
    shunt_sock_count_drop(SHUNT_DROP_BACKLOG_FULL);
    return ERR_ABRT;
}

void shunt_tcp_output(void *arg, const struct tcp_pcb *pcb, struct tcp_hdr *hdr)
{
    (void)arg;
    /* No pcb: a reset for a port nobody listens on. */
    const struct shunt_tcp_sock *t = pcb != NULL ? pcb->callback_arg : NULL;
    if (t == NULL || !(TCPH_FLAGS(hdr) & TCP_SYN) || t->sock.opt.maxseg == 0)
        return;
    /* lwIP puts the MSS option first in a SYN. */
    u32_t *mss = (u32_t *)(void *)(hdr + 1);
    u16_t built = (u16_t)(lwip_ntohl(*mss) & 0xffff);
    if ((lwip_ntohl(*mss) >> 16) == 0x0204 && built > t->sock.opt.maxseg)
        *mss = TCP_BUILD_MSS_OPTION((u16_t)t->sock.opt.maxseg);
}

void shunt_tcp_segment_out(void *arg, const struct tcp_pcb *pcb, uint32_t seq, uint32_t len)
{
    struct shunt_tcp_sock *t = pcb->callback_arg;

    (void)arg;
    if (t != NULL && t->pcb == pcb)     /* not a listener's child not yet accepted */
        shunt_tstamp_tcp_segment(&t->sock, seq, len);
}

int shunt_tcp_tskey_base(struct shunt_sock *s, bool write_seq, uint32_t *base)
{
    const struct shunt_tcp_sock *t = shunt_tcp_of(s);

    /* Linux: EINVAL in CLOSE and LISTEN. */
    if (t->pcb == NULL || t->state == SHUNT_TCP_LISTEN || t->state == SHUNT_TCP_CLOSED)
        return -EINVAL;
    *base = write_seq ? t->pcb->snd_lbb + (uint32_t)t->cork_len : t->pcb->lastack;
    return 0;
}

/* ---- listening and connecting ------------------------------------------- */

/* lwIP accepted a connection: queue it, as its own socket, for accept(). */
static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct shunt_tcp_sock *l = arg;

    if (err != ERR_OK || pcb == NULL || l == NULL)
        return ERR_VAL;
    struct shunt_sock *child = shunt_sock_child(&l->sock);
    if (child == NULL) {
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    struct shunt_tcp_sock *c = shunt_tcp_of(child);
    attach_pcb(c, pcb);
    stream_apply_options(child);
    established(c);

    if (l->accept_tail != NULL)
        l->accept_tail->accept_next = c;
    else
        l->accept_head = c;
    l->accept_tail = c;
    l->accept_len++;
    shunt_sock_wakeup(&l->sock);
    return ERR_OK;
}

static int stream_listen(struct shunt_sock *s, int backlog)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    if (backlog < 0 || backlog > SOMAXCONN_LINUX)
        backlog = SOMAXCONN_LINUX;
    if (t->state == SHUNT_TCP_LISTEN) {
        t->backlog = backlog;
        return 0;
    }
    if (t->state != SHUNT_TCP_CLOSED)
        return -EINVAL;
    int rc = reopen(t);
    if (rc == 0 && !s->bound)
        rc = stream_bind_pcb(t, shunt_addr_any(s), 0);
    if (rc == 0)
        rc = shunt_bind_conflict(s, &t->pcb->local_ip, t->pcb->local_port);
    if (rc < 0)
        return rc;

    /* lwIP would refuse a second listener on the port (SO_REUSEPORT):
     * bind.c has already decided. */
    ip_reset_option(t->pcb, SOF_REUSEADDR);
    err_t err;
    struct tcp_pcb *lpcb = tcp_listen_with_backlog_and_err(t->pcb, 0, &err);
    if (lpcb == NULL) {
        ip_set_option(t->pcb, SOF_REUSEADDR);
        return -shunt_sock_errno(err);
    }
    t->pcb = lpcb;
    t->state = SHUNT_TCP_LISTEN;
    t->backlog = backlog;
    tcp_arg(lpcb, t);
    tcp_accept(lpcb, on_accept);
    shunt_demux_listen(shunt_sock_demux(), lpcb);
    if (shunt_sock_steer() != NULL)     /* listeners everywhere: a SYN is served where it lands */
        shunt_steer_listen(shunt_sock_steer(), lpcb);
    shunt_bind_mark(s);
    return 0;
}

static int stream_accept(struct shunt_sock *s, struct shunt_sock **child)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s), *c = t->accept_head;

    if (c == NULL)
        return -EAGAIN;
    t->accept_head = c->accept_next;
    if (t->accept_head == NULL)
        t->accept_tail = NULL;
    t->accept_len--;
    c->accept_next = NULL;
    *child = &c->sock;
    return 0;
}

/* How a connect that is no longer under way ended, told once: 0, or its
 * error; unknown when the error was read already (by SO_ERROR). */
static int connect_result(struct shunt_tcp_sock *t, int unknown)
{
    t->connect_pending = false;
    if (t->state == SHUNT_TCP_CONNECTED)
        return 0;
    int err = shunt_sock_take_error(&t->sock);
    return -(err != 0 ? err : unknown);
}

static int stream_connect(struct shunt_sock *s, const ip_addr_t *ip, uint16_t port)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    /* The call after an asynchronous connect finished reports how it did,
     * or (the error read already) that the attempt was aborted (Linux's
     * connect(), called again). */
    if (t->connect_pending && t->state != SHUNT_TCP_CONNECTING)
        return connect_result(t, ECONNABORTED);
    switch (t->state) {
    case SHUNT_TCP_CONNECTED:
    case SHUNT_TCP_LISTEN:
        return -EISCONN;
    case SHUNT_TCP_CONNECTING:
        return -EALREADY;
    case SHUNT_TCP_CLOSED:
        break;
    }
    if (ip == NULL)
        return -EAFNOSUPPORT;
    int rc = reopen(t);
    if (rc < 0)
        return rc;
    if (!shunt_addr_reaches(s, ip))
        return -ENETUNREACH;

    ip_addr_t to = *ip;
    if (ip_addr_isany(&to)) {           /* as on Linux: this host */
        struct netif *n = shunt_sock_netif();
        if (n == NULL)
            return -ENETUNREACH;
        ip_addr_copy_from_ip4(to, *netif_ip4_addr(n));
    }
    if ((rc = steer_active_open(t)) < 0)
        return rc;
    s->so_error = 0;
    s->rd_shut = s->wr_shut = t->peer_fin = false;
    err_t err = tcp_connect(t->pcb, &to, port, on_connected);
    /* ERR_BUF: no ephemeral port left; ERR_USE: this 4-tuple is taken. */
    if (err == ERR_BUF || err == ERR_USE)
        return -EADDRNOTAVAIL;
    if (err != ERR_OK)
        return err == ERR_RTE ? -ENETUNREACH : -shunt_sock_errno(err);
    t->state = SHUNT_TCP_CONNECTING;
    shunt_cc_choose(t->pcb, s->opt.cc);
    shunt_demux_add(shunt_sock_demux(), t->pcb);            /* the SYN is out: replies find it by hash */
    t->connect_pending = true;
    s->bound = true;
    remember_names(t);
    shunt_sock_flush();                 /* the SYN leaves now */
    return -EINPROGRESS;
}

static int stream_connected(struct shunt_sock *s)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    if (t->state == SHUNT_TCP_CONNECTING)
        return -EINPROGRESS;
    return connect_result(t, ECONNREFUSED);     /* a blocking connect reports it now */
}

/* ---- sending and receiving ---------------------------------------------- */

/* Room in the send buffer for this socket (lwIP's, and SO_SNDBUF's), less
 * what TCP_CORK holds back. */
static size_t send_room(const struct shunt_tcp_sock *t)
{
    const struct tcp_pcb *pcb = t->pcb;
    const struct shunt_bufsize *sndbuf = &t->sock.opt.sndbuf;
    size_t room = pcb->snd_buf;

    if (pcb->snd_queuelen >= TCP_SND_QUEUELEN - 1)
        return 0;
    if (sndbuf->set) {
        size_t queued = TCP_SND_BUF - pcb->snd_buf, limit = (size_t)sndbuf->bytes / 2;
        room = queued >= limit ? 0 : room < limit - queued ? room : limit - queued;
    }
    return room > t->cork_len ? room - t->cork_len : 0;
}

/* The payload of a full segment, as tcp_write() cuts them: the MSS (or half
 * the largest window the peer offered, if less) less the options. */
static size_t full_segment(const struct tcp_pcb *pcb)
{
    size_t mss = LWIP_MIN(pcb->mss, TCPWND_MIN16(pcb->snd_wnd_max / 2));

    if (mss == 0)
        mss = pcb->mss;
    /* (lwIP's macro is a sum without parentheses of its own.) */
    return mss - (LWIP_TCP_OPT_LENGTH((pcb->flags & TF_TIMESTAMP) ? TF_SEG_OPTS_TS : 0));
}

/* Queue n bytes of msg's buffers, from byte off on, into lwIP; returns how
 * many it took (fewer when lwIP is out of segments or memory). */
static size_t write_iov(struct tcp_pcb *pcb, const struct msghdr *msg, size_t off, size_t n,
                        bool more)
{
    size_t sent = 0;

    for (size_t i = 0; i < msg->msg_iovlen && sent < n; i++) {
        const char *base = msg->msg_iov[i].iov_base;
        size_t left = msg->msg_iov[i].iov_len;
        size_t skip = LWIP_MIN(off, left);
        off -= skip;
        base += skip;
        left -= skip;
        while (left > 0 && sent < n) {
            u16_t k = (u16_t)LWIP_MIN(LWIP_MIN(left, n - sent), 0xffff);
            bool after = more || k < n - sent;
            if (tcp_write(pcb, base, k, TCP_WRITE_FLAG_COPY | (after ? TCP_WRITE_FLAG_MORE : 0))
                != ERR_OK)
                return sent;
            base += k;
            left -= k;
            sent += k;
        }
    }
    return sent;
}

/* Add n bytes of msg's buffers, from byte off on, to what TCP_CORK holds. */
static void cork_add(struct shunt_tcp_sock *t, const struct msghdr *msg, size_t off, size_t n)
{
    for (size_t i = 0; i < msg->msg_iovlen && n > 0; i++) {
        size_t len = msg->msg_iov[i].iov_len, skip = LWIP_MIN(off, len);
        size_t part = LWIP_MIN(len - skip, n);
        off -= skip;
        memcpy(t->cork_buf + t->cork_len, (const char *)msg->msg_iov[i].iov_base + skip, part);
        t->cork_len += part;
        n -= part;
    }
}

/* Hand what TCP_CORK holds to lwIP; false if lwIP has no room for it yet. */
static bool cork_flush(struct shunt_tcp_sock *t, bool more)
{
    if (t->cork_len == 0)
        return true;
    if (tcp_write(t->pcb, t->cork_buf, (u16_t)t->cork_len,
                  TCP_WRITE_FLAG_COPY | (more ? TCP_WRITE_FLAG_MORE : 0)) != ERR_OK)
        return false;
    t->cork_len = 0;
    return true;
}

/*
 * Queue up to n bytes of msg while TCP_CORK is on: as Linux does, only full
 * segments leave; the bytes short of one wait in the socket (at most a
 * segment's worth, copied once more) until later writes fill it or the cork
 * comes off.  Returns the bytes taken, counting those held.
 */
static size_t write_corked(struct shunt_tcp_sock *t, const struct msghdr *msg, size_t n)
{
    size_t seg = full_segment(t->pcb), total = t->cork_len + n, tail = total % seg;

    if (t->cork_buf == NULL && (t->cork_buf = malloc(TCP_MSS)) == NULL)
        return write_iov(t->pcb, msg, 0, n, false);     /* no room to hold: send */
    if (total < seg) {
        cork_add(t, msg, 0, n);
        return n;
    }
    if (!cork_flush(t, true))
        return 0;
    size_t sent = write_iov(t->pcb, msg, 0, n - tail, tail > 0);
    if (sent < n - tail)
        return sent;
    cork_add(t, msg, n - tail, tail);
    return n;
}

/* Send now what is queued (TCP_NODELAY's latency, or a cork coming off). */
static void push(struct shunt_tcp_sock *t)
{
    tcp_output(t->pcb);
    shunt_sock_flush();
}

static ssize_t stream_send(struct shunt_sock *s, const struct msghdr *msg, int flags,
                           const ip_addr_t *to, uint16_t port)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);
    uint64_t write_ns = shunt_sock_now_ns();

    (void)to;
    (void)port;
    if (s->so_error != 0)
        return -shunt_sock_take_error(s);
    if (t->state == SHUNT_TCP_CONNECTING)
        return -EAGAIN;
    if (t->state != SHUNT_TCP_CONNECTED || s->wr_shut || t->pcb == NULL)
        return -EPIPE;
    size_t want = shunt_iov_bytes(msg->msg_iov, msg->msg_iovlen);
    if (want == 0)
        return 0;

    size_t n = LWIP_MIN(want, send_room(t));
    size_t sent = s->opt.cork ? write_corked(t, msg, n) : write_iov(t->pcb, msg, 0, n, false);
    if (sent == 0)
        return -EAGAIN;
    /* Followed until its last byte leaves: its stamp, and how long it waited. */
    shunt_tstamp_tcp_written(s, t->pcb->snd_lbb + (uint32_t)t->cork_len, write_ns);
    if (s->opt.nodelay && !(flags & MSG_MORE))
        push(t);                        /* latency first: send it now */
    else
        shunt_sock_want_turn(s);        /* at the end of the turn */
    return (ssize_t)sent;
}

/* Open the window for n bytes read, less what SO_RCVBUF holds back. */
static void credit(struct shunt_tcp_sock *t, size_t n)
{
    size_t held = LWIP_MIN(n, t->rx_withheld);

    t->rx_withheld -= held;
    n -= held;
    while (n > 0 && t->pcb != NULL) {
        u16_t part = (u16_t)LWIP_MIN(n, 0xffff);
        tcp_recved(t->pcb, part);
        n -= part;
    }
}

/* Take n bytes off the front of the receive queue (copying them to iov
 * unless iov is NULL); with peek, leave them there. */
static size_t take(struct shunt_tcp_sock *t, const struct msghdr *msg, size_t n, bool peek)
{
    struct pbuf *q = t->rx_head;
    size_t off = t->rx_off, done = 0, iv = 0, ivoff = 0;

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
                t->rx_head = next;
            }
            q = next;
            off = 0;
        }
    }
    if (!peek) {
        t->rx_off = (uint16_t)off;
        if (t->rx_head == NULL) {
            t->rx_tail = NULL;
            t->rx_off = 0;
        }
        t->rx_bytes -= done;
        credit(t, done);
    }
    return done;
}

/* What a read gets with nothing queued: 0 at the end of the stream, the
 * pending error, or -EAGAIN. */
static ssize_t nothing_queued(struct shunt_tcp_sock *t)
{
    struct shunt_sock *s = &t->sock;

    if (t->peer_fin)                    /* the stream ended, whatever came after */
        return 0;
    if (s->so_error != 0)
        return -shunt_sock_take_error(s);
    if (s->rd_shut)
        return 0;
    if (t->state == SHUNT_TCP_CLOSED)
        return s->bound && t->peer_port != 0 ? 0 : -ENOTCONN;
    return -EAGAIN;
}

static ssize_t stream_recv(struct shunt_sock *s, struct msghdr *msg, int flags)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    msg->msg_namelen = 0;
    if (t->state == SHUNT_TCP_LISTEN)
        return -ENOTCONN;
    size_t want = shunt_iov_bytes(msg->msg_iov, msg->msg_iovlen);
    if (t->rx_bytes == 0)
        return nothing_queued(t);
    /* Even a read of nothing waits for data, as Linux's does. */
    want = LWIP_MIN(want, t->rx_bytes);
    /* MSG_TRUNC on a stream throws the bytes away instead of copying. */
    size_t n = take(t, (flags & MSG_TRUNC) ? NULL : msg, want, (flags & MSG_PEEK) != 0);
    shunt_tstamp_tcp_read(s, (uint32_t)n, (flags & MSG_PEEK) != 0);
    if (n > 0 && !(flags & MSG_PEEK) && t->pcb != NULL)
        shunt_sock_want_turn(s);        /* a window update may be due */
    return (ssize_t)n;
}

/* ---- zero-copy (api/zc.h) ------------------------------------------------- */

ssize_t shunt_tcp_zc_take(struct shunt_sock *s, size_t max, struct iovec *iov,
                          struct pbuf **refs, int cap, int *n)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    *n = 0;
    if (t->state == SHUNT_TCP_LISTEN)
        return -ENOTCONN;
    if (t->rx_bytes == 0)
        return nothing_queued(t);
    size_t done = 0;
    while (done < max && *n < cap && t->rx_head != NULL) {
        struct pbuf *q = t->rx_head;
        size_t chunk = LWIP_MIN((size_t)q->len - t->rx_off, max - done);
        iov[*n] = (struct iovec){ (char *)q->payload + t->rx_off, chunk };
        if (t->rx_off + chunk == q->len) {
            /* The view takes the queue's reference. */
            t->rx_head = q->next;
            q->next = NULL;
            t->rx_off = 0;
        } else {
            if (q->ref == (LWIP_PBUF_REF_T)-1)
                break;                  /* no reference left to count a view by */
            pbuf_ref(q);                /* the rest stays queued */
            t->rx_off = (uint16_t)(t->rx_off + chunk);
        }
        refs[(*n)++] = q;
        done += chunk;
    }
    if (t->rx_head == NULL)
        t->rx_tail = NULL;
    t->rx_bytes -= done;
    return (ssize_t)done;
}

void shunt_tcp_zc_credit(struct shunt_sock *s, size_t n)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    if (t->pcb == NULL || t->state != SHUNT_TCP_CONNECTED)
        return;
    credit(t, n);
    shunt_sock_want_turn(s);            /* a window update may be due */
}

int shunt_tcp_zc_check(struct shunt_sock *s, size_t *len)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    if (t->state != SHUNT_TCP_CONNECTED || t->pcb == NULL)
        return t->state == SHUNT_TCP_CLOSED && t->peer_port != 0 ? -EPIPE : -ENOTCONN;
    if (s->wr_shut)
        return -EPIPE;
    *len = LWIP_MIN(*len, full_segment(t->pcb));
    return 0;
}

int shunt_tcp_zc_write(struct shunt_sock *s, const void *data, size_t len, int flags,
                       uint32_t *end)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    if (s->so_error != 0)
        return -shunt_sock_take_error(s);
    size_t seg = len;
    int rc = shunt_tcp_zc_check(s, &seg);
    if (rc != 0)
        return rc;
    if (seg < len)
        return -EMSGSIZE;               /* the MSS came down since the alloc */
    /* What TCP_CORK holds was written first: it goes first. */
    if (len > send_room(t) || !cork_flush(t, true))
        return -EAGAIN;
    /* No TCP_WRITE_FLAG_COPY: lwIP's segments point into the buffer. */
    if (tcp_write(t->pcb, data, (u16_t)len, (flags & MSG_MORE) ? TCP_WRITE_FLAG_MORE : 0) != ERR_OK)
        return -EAGAIN;
    *end = t->pcb->snd_lbb;
    if (s->opt.nodelay && !(flags & MSG_MORE))
        push(t);
    else
        shunt_sock_want_turn(s);
    return 0;
}

/* ---- shutting down and closing ------------------------------------------ */

/* lwIP could not queue the FIN: it calls here until it can. */
static err_t close_again(void *arg, struct tcp_pcb *pcb)
{
    (void)arg;
    if (tcp_close(pcb) == ERR_OK)
        tcp_poll(pcb, NULL, 0);
    return ERR_OK;
}

/* Connections still in their handshake carry the listener as their arg
 * (lwIP copies it to each, and its SYN-ACK retransmissions read it): they
 * go with the listener, silently, as Linux drops its request socks; the
 * peer's next segment finds no one and is reset. */
static void drop_half_open(const struct shunt_tcp_sock *listener)
{
    for (struct tcp_pcb *pcb = tcp_active_pcbs, *next; pcb != NULL; pcb = next) {
        next = pcb->next;
        if (pcb->state == SYN_RCVD && pcb->callback_arg == listener) {
            tcp_arg(pcb, NULL);
            tcp_abandon(pcb, 0);
        }
    }
}

static void stream_close(struct shunt_sock *s, bool abort)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);
    struct tcp_pcb *pcb = t->pcb;

    if (t->state == SHUNT_TCP_LISTEN) {
        /* Connections nobody accepted are reset, as Linux does. */
        for (struct shunt_tcp_sock *c = t->accept_head, *next; c != NULL; c = next) {
            next = c->accept_next;
            stream_close(&c->sock, true);
            shunt_sock_free(&c->sock);
        }
        t->accept_head = t->accept_tail = NULL;
        t->accept_len = 0;
        drop_half_open(t);
        tcp_arg(pcb, NULL);
        tcp_accept(pcb, NULL);
        tcp_close(pcb);
        t->pcb = NULL;
        t->state = SHUNT_TCP_CLOSED;
        return;
    }

    /* Closing with unread data resets the connection (RFC 2525, Linux);
     * zero-copy views still held count as read. */
    bool unread = t->rx_bytes > 0;
    take(t, NULL, t->rx_bytes, false);
    if (s->zc != NULL)
        shunt_zc_credit_held(s);
    if (pcb != NULL && !abort && !unread)
        cork_flush(t, false);           /* what TCP_CORK holds goes before the FIN */
    t->pcb = NULL;
    if (pcb == NULL)
        return;
    detach_pcb(pcb);
    if (s->zc != NULL)
        shunt_zc_detached(pcb);         /* buffers in flight go as they are acknowledged */
    if (abort || unread || t->state == SHUNT_TCP_CONNECTING) {
        tcp_abort(pcb);
    } else if (tcp_close(pcb) != ERR_OK) {
        tcp_poll(pcb, close_again, 1);
    }
    shunt_sock_flush();
}

/* Drop what is queued and what comes after: SHUT_RD. */
static void discard_input(struct shunt_tcp_sock *t)
{
    take(t, NULL, t->rx_bytes, false);
    t->rx_discard = true;
}

static int stream_shutdown(struct shunt_sock *s, int how)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    switch (t->state) {
    case SHUNT_TCP_LISTEN:
        if (how != SHUT_WR)
            stream_close(s, false);     /* shut for reading: stop listening */
        return 0;
    case SHUNT_TCP_CONNECTING:
        tcp_abort(t->pcb);              /* on_err forgets the pcb */
        return 0;
    case SHUNT_TCP_CLOSED:
        return -ENOTCONN;
    case SHUNT_TCP_CONNECTED:
        break;
    }
    if (how != SHUT_WR) {
        s->rd_shut = true;
        discard_input(t);
    }
    if (how != SHUT_RD && !s->wr_shut && t->pcb != NULL) {
        s->wr_shut = true;
        cork_flush(t, false);           /* what TCP_CORK holds goes before the FIN */
        err_t err = tcp_shutdown(t->pcb, 0, 1);
        if (err != ERR_OK && err != ERR_CONN)
            return -shunt_sock_errno(err);
        shunt_sock_flush();             /* the FIN leaves now */
    }
    shunt_sock_wakeup(s);
    return 0;
}

/* ---- state --------------------------------------------------------------- */

static uint32_t stream_events(struct shunt_sock *s)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);
    uint32_t ev = 0;

    if (t->state == SHUNT_TCP_LISTEN)
        return t->accept_head != NULL ? EPOLLIN | EPOLLRDNORM : 0;
    /* Linux's tcp_poll(), condition by condition. */
    if (s->so_error != 0 || shunt_tstamp_pending(&s->ts))
        ev |= EPOLLERR;
    if ((s->rd_shut && s->wr_shut) || t->state == SHUNT_TCP_CLOSED)
        ev |= EPOLLHUP;
    if (s->rd_shut)
        ev |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
    if (t->state != SHUNT_TCP_CONNECTING) {
        if (t->rx_bytes > 0)
            ev |= EPOLLIN | EPOLLRDNORM;
        if (s->wr_shut || t->state != SHUNT_TCP_CONNECTED || t->pcb == NULL ||
            (send_room(t) >= TCP_SNDLOWAT && t->pcb->snd_queuelen < TCP_SNDQUEUELOWAT))
            ev |= EPOLLOUT | EPOLLWRNORM;
    }
    return ev;
}

static int stream_name(struct shunt_sock *s, bool peer, ip_addr_t *ip, uint16_t *port)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    if (peer) {
        if (t->state != SHUNT_TCP_CONNECTED)
            return -ENOTCONN;
        ip_addr_copy(*ip, t->peer_ip);
        *port = t->peer_port;
        return 0;
    }
    if (t->pcb != NULL)
        remember_names(t);
    ip_addr_copy(*ip, t->local_ip);
    *port = t->local_port;
    return 0;
}

static int stream_pending(struct shunt_sock *s)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    if (t->state == SHUNT_TCP_LISTEN)
        return -EINVAL;
    return (int)LWIP_MIN(t->rx_bytes, (size_t)INT32_MAX);
}

static size_t stream_unacked(struct shunt_sock *s)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    if (t->pcb == NULL || t->state != SHUNT_TCP_CONNECTED)
        return 0;
    return TCP_SND_BUF - t->pcb->snd_buf;
}

/*
 * End of a loop turn: send what the application wrote, and an ACK that has
 * waited a full turn for a reply to carry it.
 */
static void stream_turn(struct shunt_sock *s)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);
    struct tcp_pcb *pcb = t->pcb;

    if (pcb == NULL || t->state == SHUNT_TCP_LISTEN)
        return;
    if (!s->opt.cork && !cork_flush(t, false))
        shunt_sock_want_turn(s);        /* uncorked while lwIP was full: again */
    if (pcb->flags & TF_ACK_DELAY) {
        if (t->rx_turn == shunt_sock_turn_number())
            shunt_sock_want_turn(s);    /* give the application its turn */
        else
            tcp_ack_now(pcb);
    }
    tcp_output(pcb);
}

const struct shunt_proto shunt_tcp_proto = {
    .create = stream_create,
    .destroy = stream_destroy,
    .open = stream_open,
    .bind = stream_bind,
    .listen = stream_listen,
    .accept = stream_accept,
    .connect = stream_connect,
    .connected = stream_connected,
    .send = stream_send,
    .recv = stream_recv,
    .shutdown = stream_shutdown,
    .close = stream_close,
    .events = stream_events,
    .name = stream_name,
    .pending = stream_pending,
    .unacked = stream_unacked,
    .apply_options = stream_apply_options,
    .turn = stream_turn,
};

/* ---- for the options ------------------------------------------------------ */

bool shunt_tcp_all_sent(void)
{
    for (const struct tcp_pcb *pcb = tcp_active_pcbs; pcb != NULL; pcb = pcb->next)
        if (pcb->unsent != NULL || pcb->unacked != NULL || pcb->state == FIN_WAIT_1 ||
            pcb->state == CLOSING || pcb->state == LAST_ACK)
            return false;
    return true;
}

void shunt_tcp_push(struct shunt_sock *s)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    if (t->pcb == NULL || t->state != SHUNT_TCP_CONNECTED)
        return;
    if (!cork_flush(t, false))
        shunt_sock_want_turn(s);        /* lwIP is full: what is left waits */
    push(t);
}

void shunt_tcp_maxseg_set(struct shunt_sock *s)
{
    struct shunt_tcp_sock *t = shunt_tcp_of(s);

    if (t->pcb != NULL && t->state == SHUNT_TCP_CONNECTED)
        cap_mss(t);
}

int shunt_tcp_maxseg(const struct shunt_sock *s)
{
    const struct shunt_tcp_sock *t = shunt_tcp_of(s);

    if (t->state == SHUNT_TCP_CONNECTED && t->pcb != NULL)
        return t->pcb->mss;
    return s->opt.maxseg != 0 ? s->opt.maxseg : DEFAULT_MSS;
}

/* lwIP's TCP states as Linux numbers them (the BPF names are Linux's
 * include/net/tcp_states.h, which no other user header has next to
 * <linux/tcp.h>). */
static const uint8_t linux_state[] = {
    [CLOSED] = BPF_TCP_CLOSE,             [LISTEN] = BPF_TCP_LISTEN,
    [SYN_SENT] = BPF_TCP_SYN_SENT,        [SYN_RCVD] = BPF_TCP_SYN_RECV,
    [ESTABLISHED] = BPF_TCP_ESTABLISHED,  [FIN_WAIT_1] = BPF_TCP_FIN_WAIT1,
    [FIN_WAIT_2] = BPF_TCP_FIN_WAIT2,     [CLOSE_WAIT] = BPF_TCP_CLOSE_WAIT,
    [CLOSING] = BPF_TCP_CLOSING,          [LAST_ACK] = BPF_TCP_LAST_ACK,
    [TIME_WAIT] = BPF_TCP_TIME_WAIT,
};

/* Linux's tcp_reordering default; lwIP's fast retransmit waits for as many
 * duplicate ACKs. */
#define REORDERING 3

void shunt_tcp_info(const struct shunt_sock *s, struct tcp_info *ti)
{
    const struct shunt_tcp_sock *t = shunt_tcp_of(s);
    const struct tcp_pcb *pcb = t->pcb;

    memset(ti, 0, sizeof(*ti));
    if (pcb == NULL) {
        ti->tcpi_state = BPF_TCP_CLOSE;
        return;
    }
    ti->tcpi_state = linux_state[pcb->state];
    if (t->state == SHUNT_TCP_LISTEN) {
        ti->tcpi_unacked = (uint32_t)t->accept_len;     /* as Linux reports a listener */
        ti->tcpi_sacked = (uint32_t)t->backlog;
        return;
    }
    struct netif *n = shunt_sock_netif();
    ti->tcpi_ca_state = (pcb->flags & TF_INFR) ? TCP_CA_Recovery
                      : (pcb->flags & TF_RTO) ? TCP_CA_Loss : TCP_CA_Open;
    ti->tcpi_retransmits = pcb->nrtx;
    ti->tcpi_backoff = pcb->nrtx;
    ti->tcpi_rto = shunt_recovery_rto_us(pcb);
    ti->tcpi_snd_mss = pcb->mss;
    ti->tcpi_rcv_mss = pcb->mss;
    ti->tcpi_advmss = pcb->mss;
    ti->tcpi_pmtu = n != NULL ? n->mtu : 0;
    ti->tcpi_rtt = shunt_recovery_rtt_us(pcb, &ti->tcpi_rttvar);
    ti->tcpi_snd_cwnd = pcb->mss ? pcb->cwnd / pcb->mss : 0;
    ti->tcpi_snd_ssthresh = pcb->mss ? pcb->ssthresh / pcb->mss : 0;
    ti->tcpi_reordering = REORDERING;
    /* Linux counts segments in flight; lwIP keeps them on its unacked list. */
    for (const struct tcp_seg *seg = pcb->unacked; seg != NULL; seg = seg->next)
        ti->tcpi_unacked++;
    for (const struct tcp_seg *seg = pcb->unsent; seg != NULL; seg = seg->next)
        ti->tcpi_notsent_bytes += seg->len;
    ti->tcpi_rcv_space = pcb->rcv_wnd;
    ti->tcpi_rcv_ssthresh = pcb->rcv_ann_wnd;
    ti->tcpi_snd_wnd = pcb->snd_wnd;
    if (pcb->flags & TF_TIMESTAMP)
        ti->tcpi_options |= TCPI_OPT_TIMESTAMPS;
    if (pcb->flags & TF_SACK)
        ti->tcpi_options |= TCPI_OPT_SACK;
    if (pcb->flags & TF_WND_SCALE) {
        ti->tcpi_options |= TCPI_OPT_WSCALE;
        ti->tcpi_snd_wscale = pcb->snd_scale & 0xf;
        ti->tcpi_rcv_wscale = pcb->rcv_scale & 0xf;
    }
}
