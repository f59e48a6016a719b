/*
 * poll.c - poll() and select() over Shunt's sockets and kernel descriptors.
 *
 * Each pass turns the poll loop, reads the readiness of Shunt's descriptors
 * and asks the kernel, without waiting, about its own; passes repeat until
 * something is ready or the timeout ends.  select() is poll() with its
 * arguments translated.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "epoll.h"
#include "fd.h"
#include "kernel.h"
#include "path.h"
#include "shunt/socket.h"
#include "sock.h"

#define K (shunt_kernel())

/* A Shunt descriptor's revents for what pfd asks. */
static short revents_of(const struct pollfd *pfd)
{
    uint32_t ev;

    if (shunt_fd_kind(pfd->fd) == SHUNT_FD_EPOLL) {
        ev = shunt_epoll_events(pfd->fd);
    } else {
        struct shunt_sock *s = shunt_fd_get(pfd->fd, SHUNT_FD_SOCKET);
        ev = s->proto->events(s);
        struct pollfd k = { pfd->fd, POLLIN, 0 };
        if (s->kernel_listens && K->poll(&k, 1, 0) == 1)
            ev |= EPOLLIN;
    }
    /* EPOLL* and POLL* share their values; errors and hang-ups always count. */
    return (short)(ev & ((uint16_t)pfd->events | POLLERR | POLLHUP));
}

/* One pass over fds; kernel ones are asked in one poll() of kfds. */
static int pass(struct pollfd *fds, nfds_t nfds, struct pollfd *kfds, nfds_t nk)
{
    int ready = 0;

    if (nk > 0 && K->poll(kfds, nk, 0) < 0)
        return -1;
    for (nfds_t i = 0, k = 0; i < nfds; i++) {
        if (fds[i].fd < 0)
            fds[i].revents = 0;
        else if (shunt_fd_kind(fds[i].fd) == SHUNT_FD_NONE)
            fds[i].revents = kfds[k++].revents;
        else
            fds[i].revents = revents_of(&fds[i]);
        ready += fds[i].revents != 0;
    }
    return ready;
}

int shunt_poll_fds(struct pollfd *fds, nfds_t nfds, int timeout)
{
    struct rlimit rl;

    if (shunt_path() != SHUNT_PATH_STACK)
        return K->poll(fds, nfds, timeout);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && nfds > rl.rlim_cur) {
        errno = EINVAL;
        return -1;
    }
    if (nfds > 0 && fds == NULL) {
        errno = EFAULT;
        return -1;
    }

    /* The kernel's descriptors, in order, for one poll() per pass. */
    nfds_t nk = 0;
    for (nfds_t i = 0; i < nfds; i++)
        nk += fds[i].fd >= 0 && shunt_fd_kind(fds[i].fd) == SHUNT_FD_NONE;
    struct pollfd *kfds = nk > 0 ? malloc(nk * sizeof(*kfds)) : NULL;
    if (nk > 0 && kfds == NULL) {
        errno = ENOMEM;
        return -1;
    }
    for (nfds_t i = 0, k = 0; i < nfds; i++)
        if (fds[i].fd >= 0 && shunt_fd_kind(fds[i].fd) == SHUNT_FD_NONE)
            kfds[k++] = (struct pollfd){ fds[i].fd, fds[i].events, 0 };

    uint64_t until = timeout < 0 ? UINT64_MAX : shunt_sock_now_ns() + (uint64_t)timeout * 1000000u;
    int ready;
    do {
        /* From inside a loop turn it can only look, not wait. */
        int rc = shunt_sock_wait_turn(false, until);
        if (rc < 0 && timeout != 0) {
            free(kfds);
            errno = -rc;                /* EINTR, EDEADLK */
            return -1;
        }
        ready = pass(fds, nfds, kfds, nk);
    } while (ready == 0 && shunt_sock_now_ns() < until);
    free(kfds);
    return ready;
}

int shunt_select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                 struct timeval *timeout)
{
    if (shunt_path() != SHUNT_PATH_STACK)
        return K->select(nfds, readfds, writefds, exceptfds, timeout);
    if (nfds < 0 || nfds > FD_SETSIZE ||
        (timeout != NULL && (timeout->tv_sec < 0 || timeout->tv_usec < 0 ||
                             timeout->tv_usec >= 1000000))) {
        errno = EINVAL;
        return -1;
    }

    struct pollfd pfds[FD_SETSIZE];
    nfds_t n = 0;
    for (int fd = 0; fd < nfds; fd++) {
        short ev = 0;
        if (readfds != NULL && FD_ISSET(fd, readfds))
            ev |= POLLIN;
        if (writefds != NULL && FD_ISSET(fd, writefds))
            ev |= POLLOUT;
        if (exceptfds != NULL && FD_ISSET(fd, exceptfds))
            ev |= POLLPRI;
        if (ev != 0)
            pfds[n++] = (struct pollfd){ fd, ev, 0 };
    }
    /* A part of a millisecond waits a whole one, as the kernel's select
     * waits at least the time asked. */
    int ms = timeout == NULL ? -1 : (int)(timeout->tv_sec * 1000 + (timeout->tv_usec + 999) / 1000);
    uint64_t start = shunt_sock_now_ns();
    int rc = shunt_poll_fds(pfds, n, ms);
    if (rc < 0)
        return -1;

    /* Rebuild the sets: select counts each set bit, not each descriptor. */
    int count = 0;
    for (nfds_t i = 0; i < n; i++) {
        int fd = pfds[i].fd;
        short re = pfds[i].revents;
        if (re & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
        if (readfds != NULL && FD_ISSET(fd, readfds) && !(re & (POLLIN | POLLHUP | POLLERR)))
            FD_CLR(fd, readfds);
        if (writefds != NULL && FD_ISSET(fd, writefds) && !(re & (POLLOUT | POLLERR)))
            FD_CLR(fd, writefds);
        if (exceptfds != NULL && FD_ISSET(fd, exceptfds) && !(re & POLLPRI))
            FD_CLR(fd, exceptfds);
        count += (readfds != NULL && FD_ISSET(fd, readfds)) +
                 (writefds != NULL && FD_ISSET(fd, writefds)) +
                 (exceptfds != NULL && FD_ISSET(fd, exceptfds));
    }
    if (timeout != NULL) {             /* Linux leaves the time not slept */
        uint64_t spent_us = (shunt_sock_now_ns() - start) / 1000;
        uint64_t left_us = (uint64_t)timeout->tv_sec * 1000000 + (uint64_t)timeout->tv_usec;
        left_us = left_us > spent_us ? left_us - spent_us : 0;
        timeout->tv_sec = (time_t)(left_us / 1000000);
        timeout->tv_usec = (suseconds_t)(left_us % 1000000);
    }
    return count;
}

/* A timespec as poll()'s milliseconds, rounded up (the wait lasts at least
 * what was asked); -1 for none; false if Linux refuses it (EINVAL). */
static bool timespec_ms(const struct timespec *ts, int *ms)
{
    if (ts == NULL) {
        *ms = -1;
        return true;
    }
    if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
        return false;
    long long v = (long long)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
    *ms = v > INT_MAX ? INT_MAX : (int)v;
    return true;
}

struct ppoll_args {
    struct pollfd *fds;
    nfds_t nfds;
    int ms;
};

static int ppoll_wait(void *arg, bool look)
{
    struct ppoll_args *a = arg;

    return shunt_poll_fds(a->fds, a->nfds, look ? 0 : a->ms);
}

int shunt_ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout,
                const sigset_t *sigmask)
{
    struct ppoll_args a = { fds, nfds, -1 };

    if (shunt_path() != SHUNT_PATH_STACK)
        return K->ppoll(fds, nfds, timeout, sigmask);
    if (!timespec_ms(timeout, &a.ms)) {
        errno = EINVAL;
        return -1;
    }
    return shunt_sock_masked_wait(sigmask, ppoll_wait, &a);
}

struct pselect_args {
    int nfds;
    fd_set *sets[3];                    /* read, write, except */
    struct timeval *timeout;
};

/* A look leaves the sets alone when nothing is ready, as an interrupted
 * select does. */
static int pselect_wait(void *arg, bool look)
{
    struct pselect_args *a = arg;
    fd_set copy[3], *sets[3];
    struct timeval zero = { 0, 0 };

    for (int k = 0; k < 3; k++) {
        sets[k] = a->sets[k];
        if (look && sets[k] != NULL) {
            copy[k] = *sets[k];
            sets[k] = &copy[k];
        }
    }
    int n = shunt_select(a->nfds, sets[0], sets[1], sets[2], look ? &zero : a->timeout);
    for (int k = 0; k < 3 && look && n > 0; k++)
        if (a->sets[k] != NULL)
            *a->sets[k] = copy[k];
    return n;
}

int shunt_pselect(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                  const struct timespec *timeout, const sigset_t *sigmask)
{
    struct timeval tv;
    struct pselect_args a = { nfds, { readfds, writefds, exceptfds }, NULL };

    if (shunt_path() != SHUNT_PATH_STACK)
        return K->pselect(nfds, readfds, writefds, exceptfds, timeout, sigmask);
    if (timeout != NULL) {
        if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000) {
            errno = EINVAL;
            return -1;
        }
        /* select()'s microseconds, rounded up; pselect leaves timeout as it was. */
        tv.tv_sec = timeout->tv_sec;
        tv.tv_usec = (suseconds_t)((timeout->tv_nsec + 999) / 1000);
        if (tv.tv_usec == 1000000) {
            tv.tv_sec++;
            tv.tv_usec = 0;
        }
        a.timeout = &tv;
    }
    return shunt_sock_masked_wait(sigmask, pselect_wait, &a);
}
