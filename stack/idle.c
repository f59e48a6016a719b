/*
 * idle.c - the loop's sleep when there is no work (idle.h).
 */
#define _GNU_SOURCE
#include "idle.h"

#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_interrupts.h>

void shunt_idle_init(struct shunt_idle *i)
{
    memset(i, 0, sizeof(*i));
    i->mode = SHUNT_POLL_SPIN;
    i->spin_ns = (uint64_t)SHUNT_SPIN_US_DEFAULT * 1000u;
    i->idle_since = UINT64_MAX;
    i->intr_epfd = -1;
}

void shunt_idle_set_mode(struct shunt_idle *i, enum shunt_poll_mode mode, uint32_t spin_us)
{
    i->mode = mode;
    i->spin_ns = (uint64_t)spin_us * 1000u;
    i->idle_since = UINT64_MAX;
}

bool shunt_idle_wants_intr(enum shunt_poll_mode mode, const char *driver_name)
{
    /* The socket PMDs wake through their sockets; asking them for RX
     * interrupts would only have them refuse. */
    return mode == SHUNT_POLL_SLEEP && strcmp(driver_name, "net_af_xdp") != 0 &&
           strcmp(driver_name, "net_af_packet") != 0;
}

static bool add_fd(struct shunt_idle *i, int fd)
{
    if (i->nfds == SHUNT_IDLE_MAX_FDS)
        return false;
    i->fds[i->nfds++] = (struct pollfd){ .fd = fd, .events = POLLIN };
    return true;
}

/*
 * The port's RX interrupt, DPDK's way: the queue's event descriptor joins an
 * epoll of our own (rte_epoll_wait drains it after a wake-up: an eventfd
 * must be read, a tap's descriptor must not), and that epoll joins fds.
 */
static bool add_intr(struct shunt_idle *i, uint16_t port, uint16_t queue)
{
    if (i->nintr == SHUNT_IDLE_MAX_INTR || rte_eth_dev_rx_intr_ctl_q_get_fd(port, queue) < 0)
        return false;
    if (i->intr_epfd < 0) {
        i->intr_epfd = epoll_create1(EPOLL_CLOEXEC);
        if (i->intr_epfd < 0)
            return false;
        if (!add_fd(i, i->intr_epfd)) {
            close(i->intr_epfd);
            i->intr_epfd = -1;
            return false;
        }
    }
    if (rte_eth_dev_rx_intr_ctl_q(port, queue, i->intr_epfd, RTE_INTR_EVENT_ADD, NULL) != 0)
        return false;
    rte_eth_dev_rx_intr_disable(port, queue);       /* armed only for sleeps */
    i->intr[i->nintr].port = port;
    i->intr[i->nintr].queue = queue;
    i->nintr++;
    return true;
}

enum shunt_wake shunt_idle_add_port(struct shunt_idle *i, uint16_t port, uint16_t queue,
                                    const int *fds, unsigned nfds)
{
    unsigned added = 0;

    while (added < nfds && add_fd(i, fds[added]))
        added++;
    if (nfds > 0 && added == nfds)
        return SHUNT_WAKE_SOCKET;
    if (nfds == 0 && add_intr(i, port, queue))
        return SHUNT_WAKE_INTR;
    i->bounded = true;
    return SHUNT_WAKE_BOUNDED;
}

void shunt_idle_close(struct shunt_idle *i)
{
    for (unsigned k = 0; k < i->nintr; k++)
        rte_eth_dev_rx_intr_ctl_q(i->intr[k].port, i->intr[k].queue, i->intr_epfd,
                                  RTE_INTR_EVENT_DEL, NULL);
    if (i->intr_epfd >= 0)
        close(i->intr_epfd);
    i->nfds = i->nintr = 0;
    i->intr_epfd = -1;
    i->bounded = false;
}

void shunt_idle_set_sleep(struct shunt_idle *i, shunt_sleep_fn fn, void *arg)
{
    i->sleep = fn;
    i->sleep_arg = arg;
}

void shunt_idle_arm(struct shunt_idle *i)
{
    for (unsigned k = 0; k < i->nintr; k++)
        rte_eth_dev_rx_intr_enable(i->intr[k].port, i->intr[k].queue);
}

void shunt_idle_disarm(struct shunt_idle *i)
{
    for (unsigned k = 0; k < i->nintr; k++)
        rte_eth_dev_rx_intr_disable(i->intr[k].port, i->intr[k].queue);
    if (i->intr_epfd >= 0) {
        struct rte_epoll_event ev[SHUNT_IDLE_MAX_INTR];
        rte_epoll_wait(i->intr_epfd, ev, SHUNT_IDLE_MAX_INTR, 0);
    }
}

/* The default sleep: ppoll, which a signal ends too (as it would the
 * kernel's own blocking call). */
static void sleep_ppoll(struct pollfd *fds, unsigned nfds, uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

    ppoll(fds, nfds, &ts, NULL);
}

void shunt_idle_sleep(struct shunt_idle *i, uint64_t ns)
{
    if (ns > (uint64_t)SHUNT_IDLE_MAX_SLEEP_MS * 1000000u)
        ns = (uint64_t)SHUNT_IDLE_MAX_SLEEP_MS * 1000000u;
    if (i->bounded && ns > (uint64_t)SHUNT_IDLE_BOUND_US * 1000u)
        ns = (uint64_t)SHUNT_IDLE_BOUND_US * 1000u;
    i->sleeps++;
    if (i->sleep != NULL)
        i->sleep(i->sleep_arg, i->fds, i->nfds, ns);
    else
        sleep_ppoll(i->fds, i->nfds, ns);
}
