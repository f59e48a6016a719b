/*
 * sock.c - a socket's life (memory, per-turn work) and what the socket layer
 * asks of the stack below it.
 */
#include "sock.h"

#include <errno.h>

#include <rte_mempool.h>

#include "lwip/err.h"

#include "loop.h"
#include "netif.h"
#include "sockopt.h"
#include "sockstat.h"
#include "stack.h"
#include "tcp.h"
#include "udp.h"

/* The pool is low below 1/8 of its mbufs, and never above 1,024 free. */
#define LOW_MBUFS_FRACTION 8
#define LOW_MBUFS_MIN 1024

/* Sockets with work for the end of the turn, and the turn's number. */
static struct shunt_sock *work_list;
static uint64_t turn_number = 1;

struct shunt_sock *shunt_sock_new(int family, int type)
{
    const struct shunt_proto *proto = type == SOCK_STREAM ? &shunt_tcp_proto : &shunt_udp_proto;
    struct shunt_sock *s = proto->create();

    if (s == NULL)
        return NULL;
    s->proto = proto;
    s->fd = -1;
    s->family = family;
    s->type = type;
    shunt_sockopt_defaults(s);
    return s;
}

struct shunt_sock *shunt_sock_child(struct shunt_sock *listener)
{
    struct shunt_sock *s = shunt_sock_new(listener->family, listener->type);

    if (s == NULL)
        return NULL;
    /* Linux's accepted sockets inherit the listener's options. */
    s->opt = listener->opt;
    return s;
}

static void unlink_work(struct shunt_sock *s)
{
    for (struct shunt_sock **p = &work_list; *p != NULL; p = &(*p)->work_next) {
        if (*p == s) {
            *p = s->work_next;
            break;
        }
    }
    s->on_work_list = false;
}

void shunt_sock_free(struct shunt_sock *s)
{
    if (s->on_work_list)
        unlink_work(s);
    s->proto->destroy(s);
}

void shunt_sock_want_turn(struct shunt_sock *s)
{
    if (s->on_work_list)
        return;
    s->on_work_list = true;
    s->work_next = work_list;
    work_list = s;
}

uint64_t shunt_sock_turn_number(void)
{
    return turn_number;
}

/* The loop's output step: each socket with work does it (and may ask to be
 * called again next turn). */
static void turn_all(void)
{
    struct shunt_sock *list = work_list;

    work_list = NULL;
    while (list != NULL) {
        struct shunt_sock *s = list;
        list = s->work_next;
        s->on_work_list = false;
        s->proto->turn(s);
    }
    turn_number++;
}

void shunt_sock_attach_stack(void)
{
    shunt_loop_set_output(turn_all);
    shunt_sockstat_attach();
}

void shunt_sock_wait_turn(void)
{
    shunt_stack_poll();
}

void shunt_sock_count_drop(int cause)
{
    struct shunt_netif *sn = shunt_stack_netif();

    if (sn != NULL && cause >= 0 && cause < SHUNT_DROP_CAUSES)
        sn->counters.drops[cause]++;
}

struct netif *shunt_sock_netif(void)
{
    struct shunt_netif *sn = shunt_stack_netif();

    return sn != NULL ? &sn->netif : NULL;
}

void shunt_sock_flush(void)
{
    struct shunt_netif *sn = shunt_stack_netif();

    if (sn != NULL)
        shunt_netif_flush(sn);
}

bool shunt_sock_mbufs_low(void)
{
    static unsigned calls;
    static bool low;
    struct shunt_netif *sn = shunt_stack_netif();

    /* Counting free mbufs walks every core's cache: look every 64th time. */
    if (sn == NULL || (calls++ & 63) != 0)
        return low;
    unsigned free = rte_mempool_avail_count(sn->conf.pool);
    low = free < LOW_MBUFS_MIN || free < sn->conf.pool->size / LOW_MBUFS_FRACTION;
    return low;
}

int shunt_sock_errno(int err)
{
    switch (err) {
    case ERR_OK:
        return 0;
    case ERR_MEM:
    case ERR_BUF:
        return ENOBUFS;
    case ERR_TIMEOUT:
        return ETIMEDOUT;
    case ERR_RTE:
        return ENETUNREACH;
    case ERR_INPROGRESS:
        return EINPROGRESS;
    case ERR_WOULDBLOCK:
        return EAGAIN;
    case ERR_USE:
        return EADDRINUSE;
    case ERR_ALREADY:
        return EALREADY;
    case ERR_ISCONN:
        return EISCONN;
    case ERR_CONN:
    case ERR_CLSD:
        return ENOTCONN;
    case ERR_IF:
        return EIO;
    case ERR_ABRT:
        return ECONNABORTED;
    case ERR_RST:
        return ECONNRESET;
    default:
        return EINVAL;
    }
}

size_t shunt_iov_bytes(const struct iovec *iov, size_t n)
{
    size_t total = 0;

    for (size_t i = 0; i < n; i++)
        total += iov[i].iov_len;
    return total;
}
