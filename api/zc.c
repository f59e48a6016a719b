/*
 * zc.c - zero-copy receive and send (the contract: <shunt/zc.h>; what the
 * socket layer tells it: zc.h).
 *
 * Receive: a batch holds the pbufs its views lie in (a reference each: the
 * queue's, taken over, or one more for a pbuf read in part) and what to give
 * back on release: the bytes to open the TCP window for, or the charge a
 * UDP datagram keeps on SO_RCVBUF.  A socket lists the batches it has out,
 * so that its going leaves them nothing to call back into.
 *
 * Send: a buffer is an mbuf of the stack's pool.  Until sent it is on its
 * socket's list (a close frees it).  A UDP buffer becomes a pbuf that owns
 * the mbuf (port/mbuf.h), which netif output sends as it is.  A TCP buffer
 * goes to lwIP as data it must not copy (tcp_write without
 * TCP_WRITE_FLAG_COPY), and waits in its connection's flight - a list in
 * sequence order on an ext-arg slot of the pcb - until the peer
 * acknowledges its last byte; whatever is left when lwIP frees the pcb (a
 * reset, the end of a close) goes then, when lwIP no longer points into it.
 *
 * On the kernel path the same calls copy: a batch is a buffer recv() read
 * into, a buffer one malloc() gave.
 */
#include "shunt/zc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>

#include <rte_mbuf.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

#include "addr.h"
#include "fd.h"
#include "kernel.h"
#include "mbuf.h"
#include "sock.h"
#include "tcp.h"
#include "udp.h"
#include "zc.h"

/* The largest read a kernel-path batch makes. */
#define KERNEL_READ_MAX 65536

/* ---- lists ----------------------------------------------------------------- */

struct link {
    struct link *next, *prev;
};

static void list_init(struct link *head)
{
    head->next = head->prev = head;
}

static bool list_empty(const struct link *head)
{
    return head->next == head;
}

static void list_add_tail(struct link *head, struct link *l)
{
    l->prev = head->prev;
    l->next = head;
    head->prev->next = l;
    head->prev = l;
}

static void list_del(struct link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->next = l->prev = l;
}

/* ---- what a socket has out ------------------------------------------------- */

struct shunt_zc_batch {
    struct link link;           /* first: on its socket's list of batches */
    struct shunt_sock *sock;    /* NULL once the socket is gone, or the kernel's */
    size_t credit;              /* TCP: bytes the window opens for; UDP: the charge */
    int n;
    struct pbuf *refs[SHUNT_ZC_IOV_MAX];
    void *copy;                 /* the kernel path's buffer */
};

struct zc_buf {
    struct shunt_zc_buf pub;
    struct link link;           /* on its socket's unsent list, or in its flight */
    struct shunt_sock *sock;    /* the socket it is for, until sent */
    struct rte_mbuf *m;         /* NULL on the kernel path (pub.data malloc'd) */
    uint32_t end;               /* TCP: the sequence number after its last byte */
};

struct shunt_zc_sock {
    struct link batches;
    struct link unsent;
};

/* A connection's buffers given to lwIP, oldest first. */
struct flight {
    struct link bufs;
};

static unsigned held;           /* batches held by the program (Shunt's) */

/*
 * Batches and buffers given back wait here for the next call, so the
 * message path does not go to malloc: at most SPARE_MAX of each, chained
 * through their first bytes.
 */
#define SPARE_MAX 64
struct spare {
    struct spare *next;
};
static struct spare *spare_batches, *spare_bufs;
static unsigned nspare_batches, nspare_bufs;

static void *spare_take(struct spare **spare, unsigned *n, size_t size)
{
    struct spare *o = *spare;

    if (o == NULL)
        return malloc(size);
    *spare = o->next;
    --*n;
    return o;
}

static void spare_put(struct spare **spare, unsigned *n, void *obj)
{
    struct spare *o = obj;

    if (*n == SPARE_MAX) {
        free(obj);
        return;
    }
    o->next = *spare;
    *spare = o;
    ++*n;
}

/* A batch with nothing in it yet, or NULL. */
static struct shunt_zc_batch *batch_new(void)
{
    struct shunt_zc_batch *b = spare_take(&spare_batches, &nspare_batches, sizeof(*b));

    if (b != NULL) {
        list_init(&b->link);
        b->sock = NULL;
        b->credit = 0;
        b->n = 0;
        b->copy = NULL;
    }
    return b;
}

static void batch_free(struct shunt_zc_batch *b)
{
    spare_put(&spare_batches, &nspare_batches, b);
}

static struct zc_buf *buf_of(struct shunt_zc_buf *pub)
{
    return (struct zc_buf *)(void *)pub;
}

static struct zc_buf *buf_at(struct link *l)
{
    return (struct zc_buf *)(void *)((char *)l - offsetof(struct zc_buf, link));
}

static struct shunt_zc_sock *zc_of(struct shunt_sock *s)
{
    if (s->zc == NULL && (s->zc = malloc(sizeof(*s->zc))) != NULL) {
        list_init(&s->zc->batches);
        list_init(&s->zc->unsent);
    }
    return s->zc;
}

/* A buffer for data at `data` (m's, or malloc'd when m is NULL), or NULL. */
static struct zc_buf *buf_new(struct rte_mbuf *m, void *data, size_t size)
{
    struct zc_buf *b = spare_take(&spare_bufs, &nspare_bufs, sizeof(*b));

    if (b != NULL) {
        *b = (struct zc_buf){ .pub = { data, size }, .m = m };
        list_init(&b->link);
    }
    return b;
}

static void buf_free(struct zc_buf *b)
{
    if (b->m != NULL)
        rte_pktmbuf_free(b->m);
    else
        free(b->pub.data);
    spare_put(&spare_bufs, &nspare_bufs, b);
}

/* ---- a connection's flight ------------------------------------------------- */

static u8_t flight_id = 0xff;   /* its ext-arg slot */

static void flight_freed(u8_t id, void *data)
{
    struct flight *f = data;

    (void)id;
    while (!list_empty(&f->bufs)) {
        struct zc_buf *b = buf_at(f->bufs.next);
        list_del(&b->link);
        buf_free(b);
    }
    free(f);
}

static const struct tcp_ext_arg_callbacks flight_callbacks = { flight_freed, NULL };

static struct flight *flight_of(const struct tcp_pcb *pcb)
{
    return flight_id != 0xff ? tcp_ext_arg_get(pcb, flight_id) : NULL;
}

static struct flight *flight_for(struct tcp_pcb *pcb)
{
    struct flight *f = flight_of(pcb);

    if (f != NULL)
        return f;
    if (flight_id == 0xff)
        flight_id = tcp_ext_arg_alloc_id();
    if ((f = malloc(sizeof(*f))) == NULL)
        return NULL;
    list_init(&f->bufs);
    tcp_ext_arg_set_callbacks(pcb, flight_id, &flight_callbacks);
    tcp_ext_arg_set(pcb, flight_id, f);
    return f;
}

/* Free the buffers whose last byte the peer has acknowledged. */
static void land(struct flight *f, const struct tcp_pcb *pcb)
{
    while (!list_empty(&f->bufs)) {
        struct zc_buf *b = buf_at(f->bufs.next);
        if (TCP_SEQ_GT(b->end, pcb->lastack))
            break;
        list_del(&b->link);
        buf_free(b);
    }
}

void shunt_zc_acked(struct shunt_sock *s, struct tcp_pcb *pcb)
{
    struct flight *f = flight_of(pcb);

    (void)s;
    if (f != NULL)
        land(f, pcb);
}

/* The sent callback of a pcb no socket has any more. */
static err_t orphan_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    struct flight *f = flight_of(pcb);

    (void)arg;
    (void)len;
    if (f != NULL)
        land(f, pcb);
    if (f == NULL || list_empty(&f->bufs))
        tcp_sent(pcb, NULL);
    return ERR_OK;
}

void shunt_zc_detached(struct tcp_pcb *pcb)
{
    struct flight *f = flight_of(pcb);

    if (f != NULL && !list_empty(&f->bufs))
        tcp_sent(pcb, orphan_sent);
}

/* ---- the socket's life ------------------------------------------------------- */

void shunt_zc_credit_held(struct shunt_sock *s)
{
    struct link *head = &s->zc->batches;

    for (struct link *l = head->next; l != head; l = l->next) {
        struct shunt_zc_batch *b = (struct shunt_zc_batch *)(void *)l;
        shunt_tcp_zc_credit(s, b->credit);
        b->credit = 0;
    }
}

void shunt_zc_forget(struct shunt_sock *s)
{
    struct shunt_zc_sock *z = s->zc;

    while (!list_empty(&z->batches)) {
        struct shunt_zc_batch *b = (struct shunt_zc_batch *)(void *)z->batches.next;
        list_del(&b->link);
        b->sock = NULL;                 /* its data stays until released */
    }
    while (!list_empty(&z->unsent)) {
        struct zc_buf *b = buf_at(z->unsent.next);
        list_del(&b->link);
        buf_free(b);
    }
    free(z);
    s->zc = NULL;
}

/* ---- helpers ----------------------------------------------------------------- */

static ssize_t fail(int err)
{
    errno = err;
    return -1;
}

/* fd's Shunt socket; NULL with *kernel true when fd is the kernel's (the
 * kernel's calls then say what is wrong with it), else NULL with errno. */
static struct shunt_sock *sock_of(int fd, bool *kernel)
{
    struct shunt_sock *s = shunt_fd_get(fd, SHUNT_FD_SOCKET);

    *kernel = s == NULL && shunt_fd_kind(fd) == SHUNT_FD_NONE;
    if (s == NULL && !*kernel)
        errno = ENOTSOCK;               /* an epoll instance */
    return s;
}

/* ---- receive ----------------------------------------------------------------- */

static ssize_t kernel_recv(int fd, struct shunt_zc_rx *rx, size_t max, int flags)
{
    struct shunt_zc_batch *b = batch_new();
    size_t size = max < KERNEL_READ_MAX ? max : KERNEL_READ_MAX;

    if (b == NULL || (b->copy = malloc(size)) == NULL) {
        if (b != NULL)
            batch_free(b);
        return fail(ENOMEM);
    }
    rx->fromlen = sizeof(rx->from);
    ssize_t n = shunt_kernel()->recvfrom(fd, b->copy, size, flags, (struct sockaddr *)&rx->from,
                                         &rx->fromlen);
    int type = 0;
    socklen_t tl = sizeof(type);
    if (n < 0 || (n == 0 && shunt_kernel()->getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
                  type == SOCK_STREAM)) {
        int err = errno;
        free(b->copy);
        batch_free(b);
        errno = err;
        return n;                       /* an error, or the end of the stream */
    }
    rx->iov[0] = (struct iovec){ b->copy, (size_t)n };
    rx->iovcnt = 1;
    rx->len = (size_t)n;
    rx->batch = b;
    return n;
}

/* One try at taking what s has queued into b and rx. */
static ssize_t take(struct shunt_sock *s, struct shunt_zc_batch *b, struct shunt_zc_rx *rx,
                    size_t max)
{
    if (s->type == SOCK_STREAM) {
        rx->fromlen = 0;
        ssize_t n = shunt_tcp_zc_take(s, max, rx->iov, b->refs, SHUNT_ZC_IOV_MAX, &b->n);
        b->credit = n > 0 ? (size_t)n : 0;
        rx->iovcnt = b->n;
        return n;
    }
    ssize_t n = shunt_udp_zc_take(s, rx->iov, SHUNT_ZC_IOV_MAX, &rx->iovcnt, &b->refs[0],
                                  &b->credit, (struct sockaddr *)&rx->from, &rx->fromlen);
    b->n = n >= 0 && rx->iovcnt > 0 ? 1 : 0;
    return n;
}

ssize_t shunt_zc_recv(int fd, struct shunt_zc_rx *rx, size_t max, int flags)
{
    bool kernel;
    struct shunt_sock *s = sock_of(fd, &kernel);

    if (rx == NULL || max == 0)
        return fail(EINVAL);
    rx->batch = NULL;
    rx->iovcnt = 0;
    rx->len = 0;
    if (kernel)
        return kernel_recv(fd, rx, max, flags);
    if (s == NULL)
        return -1;
    struct shunt_zc_sock *z = zc_of(s);
    if (z == NULL)
        return fail(ENOMEM);
    if (held >= SHUNT_ZC_MAX_HELD)
        return fail(ENOBUFS);           /* give some back first */
    struct shunt_zc_batch *b = batch_new();
    if (b == NULL)
        return fail(ENOMEM);

    uint64_t until = 0;                 /* read from the clock only to wait */
    unsigned turns = 0;
    ssize_t n;
    while ((n = take(s, b, rx, max)) == -EAGAIN) {
        if (turns == 0)
            until = shunt_socket_deadline(&s->opt.rcvtimeo);
        int waited = shunt_socket_wait_more(s, flags, until, &turns);
        if (waited != 0) {
            n = waited;
            break;
        }
    }
    /* Nothing to hold: an error, or the end of the stream (a UDP
     * datagram of no bytes is still one to release). */
    if (n < 0 || b->n == 0) {
        batch_free(b);
        return n < 0 ? fail((int)-n) : 0;
    }
    b->sock = s;
    list_add_tail(&z->batches, &b->link);
    held++;
    rx->len = (size_t)n;
    rx->batch = b;
    return n;
}

int shunt_zc_release(struct shunt_zc_batch *b)
{
    if (b == NULL)
        return (int)fail(EINVAL);
    if (b->copy != NULL) {
        free(b->copy);
        batch_free(b);
        return 0;
    }
    for (int i = 0; i < b->n; i++)
        pbuf_free(b->refs[i]);
    if (b->sock != NULL) {
        list_del(&b->link);
        if (b->sock->type == SOCK_STREAM)
            shunt_tcp_zc_credit(b->sock, b->credit);
        else
            shunt_udp_zc_uncharge(b->sock, b->credit);
    }
    held--;
    batch_free(b);
    return 0;
}

/* ---- send ---------------------------------------------------------------------- */

struct shunt_zc_buf *shunt_zc_alloc(int fd, size_t len)
{
    bool kernel;
    struct shunt_sock *s = sock_of(fd, &kernel);
    struct zc_buf *b;

    if (s == NULL && !kernel)
        return NULL;
    if (len == 0) {
        errno = EINVAL;
        return NULL;
    }
    if (kernel) {
        if (shunt_kernel()->fcntl(fd, F_GETFD) < 0)
            return NULL;                /* EBADF */
        void *data = malloc(len);
        if (data == NULL || (b = buf_new(NULL, data, len)) == NULL) {
            free(data);
            errno = ENOMEM;
            return NULL;
        }
        return &b->pub;
    }
    /* A TCP buffer is at most a segment: what the program asks past that
     * is for the next one. */
    int rc = s->type == SOCK_STREAM ? shunt_tcp_zc_check(s, &len)
           : len > shunt_udp_zc_max(s) ? -EMSGSIZE : 0;
    if (rc != 0) {
        errno = -rc;
        return NULL;
    }
    struct shunt_zc_sock *z = zc_of(s);
    struct rte_mempool *pool = shunt_sock_pool();
    /* The pool's last mbufs are for receiving into. */
    struct rte_mbuf *m = pool != NULL && !shunt_sock_mbufs_low() ? rte_pktmbuf_alloc(pool) : NULL;
    if (m == NULL || z == NULL) {
        rte_pktmbuf_free(m);
        errno = ENOBUFS;
        return NULL;
    }
    if (len > rte_pktmbuf_tailroom(m)) {
        rte_pktmbuf_free(m);
        errno = EMSGSIZE;
        return NULL;
    }
    if ((b = buf_new(m, rte_pktmbuf_mtod(m, void *), len)) == NULL) {
        rte_pktmbuf_free(m);
        errno = ENOMEM;
        return NULL;
    }
    b->sock = s;
    list_add_tail(&z->unsent, &b->link);
    return &b->pub;
}

void shunt_zc_free(struct shunt_zc_buf *pub)
{
    if (pub == NULL)
        return;
    struct zc_buf *b = buf_of(pub);
    list_del(&b->link);
    buf_free(b);
}

/* A TCP buffer to lwIP, waiting as send() does for room; then in flight. */
static ssize_t send_tcp(struct shunt_sock *s, struct zc_buf *b, size_t len, int flags)
{
    uint64_t until = 0;                 /* read from the clock only to wait */
    unsigned turns = 0;
    struct tcp_pcb *pcb = shunt_tcp_of(s)->pcb;
    struct flight *f = pcb != NULL ? flight_for(pcb) : NULL;
    int rc;

    if (pcb != NULL && f == NULL)
        return -ENOBUFS;
    while ((rc = shunt_tcp_zc_write(s, b->pub.data, len, flags, &b->end)) == -EAGAIN) {
        if (turns == 0)
            until = shunt_socket_deadline(&s->opt.sndtimeo);
        int waited = shunt_socket_wait_more(s, flags, until, &turns);
        if (waited != 0)
            return waited;
    }
    if (rc < 0)
        return rc;
    list_del(&b->link);
    b->sock = NULL;
    list_add_tail(&f->bufs, &b->link);
    return (ssize_t)len;
}

/* A UDP buffer out as a datagram, in its own mbuf (port/mbuf.h). */
static ssize_t send_udp(struct shunt_sock *s, struct zc_buf *b, size_t len,
                        const struct sockaddr *to, socklen_t tolen)
{
    ip_addr_t ip;
    uint16_t port = 0;
    int rc;

    if (to != NULL && (rc = shunt_addr_in(s, to, tolen, SHUNT_ADDR_SEND, &ip, &port)) != 0)
        return rc;
    struct rte_mbuf *m = b->m;
    m->data_len = (uint16_t)len;
    m->pkt_len = (uint32_t)len;
    struct pbuf *p = shunt_mbuf_zc_pbuf(m);
    /* The pbuf's reference goes with it; this one keeps the buffer the
     * program's should the send fail. */
    rte_mbuf_refcnt_update(m, 1);
    ssize_t n = shunt_udp_zc_send(s, p, to != NULL ? &ip : NULL, port);
    pbuf_free(p);
    if (n < 0) {
        m->data_off = RTE_PKTMBUF_HEADROOM;
        m->data_len = 0;
        m->pkt_len = 0;
        return n;
    }
    list_del(&b->link);
    buf_free(b);                        /* the wire may hold it still */
    return n;
}

ssize_t shunt_zc_sendto(int fd, struct shunt_zc_buf *pub, size_t len, int flags,
                        const struct sockaddr *to, socklen_t tolen)
{
    bool kernel;
    struct shunt_sock *s = sock_of(fd, &kernel);

    if (s == NULL && !kernel)
        return -1;
    if (pub == NULL || len == 0 || len > pub->size)
        return fail(EINVAL);
    struct zc_buf *b = buf_of(pub);
    if (kernel) {
        if (b->m != NULL)
            return fail(EINVAL);        /* a Shunt socket's buffer */
        ssize_t n = shunt_kernel()->sendto(fd, pub->data, len, flags, to, tolen);
        if (n >= 0)
            buf_free(b);
        return n;
    }
    if (b->sock != s)
        return fail(EINVAL);            /* another socket's, or sent already */
    ssize_t n = s->type == SOCK_STREAM ? send_tcp(s, b, len, flags)
                                       : send_udp(s, b, len, to, tolen);
    if (n == -EPIPE && !(flags & MSG_NOSIGNAL))
        raise(SIGPIPE);                 /* as send() */
    return n < 0 ? fail((int)-n) : n;
}

ssize_t shunt_zc_send(int fd, struct shunt_zc_buf *buf, size_t len, int flags)
{
    return shunt_zc_sendto(fd, buf, len, flags, NULL, 0);
}
