/*
 * sock.c - a socket's life (memory, per-turn work) and what the socket layer
 * asks of the stack below it.
 */
#include "sock.h"

#include <errno.h>

#include "lwip/err.h"

#include "sockopt.h"
#include "sockstat.h"
#include "stack.h"
#include "tcp.h"
#include "udp.h"
#include "zc.h"

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
    shunt_tstamp_inherit(s, listener);
    return s;
}

/*
 * The socket layer keeps no state of its own: its sockets hang off their
 * descriptors, and what it asks of each loop turn is the instance's loop's.
 */
static struct shunt_loop *loop(void)
{
    return &shunt_instance()->loop;
}

void shunt_sock_free(struct shunt_sock *s)
{
    if (s->zc != NULL)
        shunt_zc_forget(s);
    shunt_loop_forget(loop(), &s->work);
    shunt_tstamp_free(s);
    s->proto->destroy(s);
}

void shunt_sock_want_turn(struct shunt_sock *s)
{
    shunt_loop_want_turn(loop(), &s->work);
}

uint64_t shunt_sock_turn_number(void)
{
    return loop()->turns;
}

/* The loop's output step, for a socket that asked: its work (it may ask
 * again, for the next turn). */
static void sock_turn(void *arg, struct shunt_turn_work *w)
{
    struct shunt_sock *s = (struct shunt_sock *)(void *)((char *)w - offsetof(struct shunt_sock, work));

    (void)arg;
    s->proto->turn(s);
}

void shunt_sock_attach_stack(void)
{
    struct shunt_instance *in = shunt_instance();
    const struct shunt_netif_upcalls up = {
        shunt_udp_unreachable, shunt_tcp_input, shunt_tcp_output, shunt_tcp_segment_out, NULL,
    };

    shunt_loop_set_output(&in->loop, sock_turn, NULL);
    shunt_netif_set_upcalls(&in->netif, &up);
    shunt_telemetry_set_sockets(&in->telemetry, shunt_sockstat_describe);
}

static const struct shunt_wait_hooks *wait_hooks;

void shunt_sock_set_wait_hooks(const struct shunt_wait_hooks *h)
{
    wait_hooks = h;
}

struct nap {
    struct shunt_idle *idle;
    uint64_t ns;
};

static void nap(void *arg)
{
    struct nap *n = arg;

    shunt_idle_sleep(n->idle, n->ns);
}

int shunt_sock_wait_turn(bool restartable, uint64_t until)
{
    struct shunt_loop *l = loop();
    struct nap n = { &l->idle, l->in_turn ? 0 : shunt_loop_idle_ns(l, until) };

    /* The interrupts are armed and disarmed with the lock held, the sleep
     * is without it. */
    if (n.ns > 0)
        shunt_idle_arm(n.idle);
    if (wait_hooks != NULL)
        wait_hooks->pause(n.ns > 0 ? nap : NULL, &n);
    else if (n.ns > 0)
        nap(&n);
    if (n.ns > 0)
        shunt_idle_disarm(n.idle);
    if (wait_hooks != NULL && wait_hooks->interrupted(restartable))
        return -EINTR;
    return shunt_stack_poll();
}

uint64_t shunt_sock_now_ns(void)
{
    return shunt_clock_ns(&shunt_instance()->clock);
}

struct shunt_demux *shunt_sock_demux(void)
{
    return &shunt_instance()->netif.demux;
}

struct shunt_steer *shunt_sock_steer(void)
{
    return shunt_stack_steer();
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

struct rte_mempool *shunt_sock_pool(void)
{
    struct shunt_netif *sn = shunt_stack_netif();

    return sn != NULL ? sn->conf.pool : NULL;
}

bool shunt_sock_mbufs_low(void)
{
    struct shunt_netif *sn = shunt_stack_netif();

    return sn != NULL && shunt_netif_mbufs_low(sn);
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

/* Whether a signal is pending that mask would let through. */
static bool signal_let_through(const sigset_t *mask)
{
    sigset_t pending;

    if (sigpending(&pending) != 0)
        return false;
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(&pending, sig) == 1 && sigismember(mask, sig) == 0)
            return true;
    return false;
}

int shunt_sock_masked_wait(const sigset_t *mask, int (*wait)(void *arg, bool look), void *arg)
{
    sigset_t old;

    if (mask == NULL)
        return wait(arg, false);
    if (signal_let_through(mask)) {
        int n = wait(arg, true);        /* Linux looks at the descriptors first */
        if (n != 0)
            return n;
        pthread_sigmask(SIG_SETMASK, mask, &old);      /* the handler runs here */
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        errno = EINTR;
        return -1;
    }
    pthread_sigmask(SIG_SETMASK, mask, &old);
    int n = wait(arg, false), err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = err;
    return n;
}
