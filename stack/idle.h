/*
 * idle.h - what the loop does when there is no work: spin, or sleep until a
 * frame arrives or a timer is due (the configuration's `poll`, like
 * OpenOnload's EF_POLL_USEC).
 *
 *   poll = spin              every wait turns the loop without pause (the
 *                            default: the lowest latency, a whole core)
 *   poll = spin-then-sleep   a wait spins for spin_us after the last turn
 *                            that had work, then sleeps
 *
 * Only calls that wait sleep (blocking socket calls, epoll_wait, poll and
 * select with a timeout, and, under LD_PRELOAD, the calls that wait for the
 * stack's lock); shunt_poll() never does.  The loop notes each turn's work
 * with shunt_idle_note(), on the clock reading the turn made anyway: while
 * traffic flows this costs one store per turn and no clock read.
 *
 * A sleep waits on a set of wake-ups, one per port, each the best its PMD
 * has:
 *   SHUNT_WAKE_SOCKET   the port's kernel sockets (AF_XDP, AF_PACKET)
 *                       become readable: poll(2) on their descriptors
 *   SHUNT_WAKE_INTR     the PMD's RX interrupt (rte_eth_dev_rx_intr_*),
 *                       armed for the sleep and disarmed after
 *   SHUNT_WAKE_BOUNDED  nothing to wait on (net_ring): the sleep is cut to
 *                       SHUNT_IDLE_BOUND_US, and the loop looks again
 * and ends at the earliest of: a wake-up, the caller's deadline, the next
 * timer (which the loop works out), SHUNT_IDLE_MAX_SLEEP_MS, or a signal.
 *
 * The sleep itself is replaceable (shunt_idle_set_sleep), as the clock is:
 * a test asks for it instead of sleeping, on its own clock.
 */
#ifndef SHUNT_IDLE_H
#define SHUNT_IDLE_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

enum shunt_poll_mode { SHUNT_POLL_SPIN, SHUNT_POLL_SLEEP };

enum shunt_wake { SHUNT_WAKE_SOCKET, SHUNT_WAKE_INTR, SHUNT_WAKE_BOUNDED };

/* The config key spin_us's default. */
#define SHUNT_SPIN_US_DEFAULT       100u
/* The longest sleep on a port with nothing to wait on. */
#define SHUNT_IDLE_BOUND_US         1000
/* The longest sleep of all: shunt-stat's questions wait for a turn. */
#define SHUNT_IDLE_MAX_SLEEP_MS     100u

#define SHUNT_IDLE_MAX_FDS          32
#define SHUNT_IDLE_MAX_INTR         4

/* A sleep of at most ns nanoseconds that ends early when one of fds is
 * readable (or a signal arrives). */
typedef void (*shunt_sleep_fn)(void *arg, struct pollfd *fds, unsigned nfds, uint64_t ns);

struct shunt_idle {
    enum shunt_poll_mode mode;
    uint64_t spin_ns;
    uint64_t idle_since;        /* clock ns of the first turn of this idle
                                 * spell; UINT64_MAX: the last turn worked */
    struct pollfd fds[SHUNT_IDLE_MAX_FDS];
    unsigned nfds;
    struct { uint16_t port, queue; } intr[SHUNT_IDLE_MAX_INTR];     /* to arm */
    unsigned nintr;
    int intr_epfd;              /* the RX interrupts' epoll (in fds), or -1 */
    bool bounded;               /* a port without a wake-up */
    shunt_sleep_fn sleep;       /* NULL: ppoll(2) */
    void *sleep_arg;
    uint64_t sleeps;            /* sleeps begun, for shunt-stat */
};

/* Spin, with no ports to wake on yet. */
void shunt_idle_init(struct shunt_idle *i);

void shunt_idle_set_mode(struct shunt_idle *i, enum shunt_poll_mode mode, uint32_t spin_us);

/*
 * What wakes a sleep when a frame reaches the port's queue: its kernel
 * sockets when it has them (nfds > 0), else its RX interrupt if the PMD has
 * one (the port configured with intr_conf.rxq, see shunt_idle_wants_intr),
 * else nothing.  Returns the wake-up it got.
 */
enum shunt_wake shunt_idle_add_port(struct shunt_idle *i, uint16_t port, uint16_t queue,
                                    const int *fds, unsigned nfds);

/* Whether a port of this driver should be configured with RX interrupts. */
bool shunt_idle_wants_intr(enum shunt_poll_mode mode, const char *driver_name);

/* Forget the ports (before they close). */
void shunt_idle_close(struct shunt_idle *i);

/* Replace the sleep (fn == NULL: ppoll again). */
void shunt_idle_set_sleep(struct shunt_idle *i, shunt_sleep_fn fn, void *arg);

/* A turn ended at now (the clock the loop read), with or without work. */
static inline void shunt_idle_note(struct shunt_idle *i, bool worked, uint64_t now)
{
    if (worked)
        i->idle_since = UINT64_MAX;
    else if (i->idle_since == UINT64_MAX)
        i->idle_since = now;
}

/* Whether a wait at now should sleep rather than turn again. */
static inline bool shunt_idle_sleepy(const struct shunt_idle *i, uint64_t now)
{
    return i->mode == SHUNT_POLL_SLEEP && i->idle_since != UINT64_MAX &&
           now >= i->idle_since && now - i->idle_since >= i->spin_ns;
}

/* The sleep, in three steps: arm the RX interrupts (with the stack's lock,
 * if there is one), sleep up to ns (without it), disarm them (with it). */
void shunt_idle_arm(struct shunt_idle *i);
void shunt_idle_sleep(struct shunt_idle *i, uint64_t ns);
void shunt_idle_disarm(struct shunt_idle *i);

#endif /* SHUNT_IDLE_H */
