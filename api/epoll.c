/*
 * epoll.c - epoll over Shunt's sockets, and the kernel's descriptors too.
 *
 * Each registration (an item) links a socket to an epoll instance.  When a
 * socket's state changes, lwIP's callbacks call shunt_sock_wakeup(), which
 * puts the socket's items whose events now hold on their instance's ready
 * list - as Linux's ep_poll_callback does.  epoll_wait() turns the poll loop,
 * then walks the ready list: level-triggered items stay on it while their
 * events hold, edge-triggered ones leave it until the next wakeup, one-shot
 * ones are disarmed until EPOLL_CTL_MOD.
 *
 * Kernel descriptors (a timerfd, a pipe, stdin) added to a Shunt epoll go to
 * a kernel epoll instance inside it, which epoll_wait() asks without waiting
 * on every loop turn - a system call per turn only while there are some.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "epoll.h"
#include "fd.h"
#include "kernel.h"
#include "path.h"
#include "shunt/socket.h"
#include "sock.h"

#define K (shunt_kernel())
#define ALWAYS (EPOLLERR | EPOLLHUP)    /* reported whether asked for or not */

struct shunt_epoll;

struct shunt_epitem {
    struct shunt_epoll *ep;
    struct shunt_sock *sock;
    uint32_t events;                    /* as given to epoll_ctl */
    bool armed;                         /* false once a one-shot event fired */
    epoll_data_t data;
    struct shunt_epitem *sock_next;     /* the socket's items */
    struct shunt_epitem *ep_prev;       /* the instance's items */
    struct shunt_epitem *ep_next;
    struct shunt_epitem *ready_prev;    /* the instance's ready list */
    struct shunt_epitem *ready_next;
    bool ready;
};

struct shunt_epoll {
    int fd;                             /* a kernel epoll: it holds the kernel descriptors */
    struct shunt_epitem *items;
    struct shunt_epitem *ready_head;
    struct shunt_epitem *ready_tail;
    int nkernel;
};

/* ---- the ready list ------------------------------------------------------- */

static void ready_add(struct shunt_epitem *it)
{
    struct shunt_epoll *ep = it->ep;

    if (it->ready)
        return;
    it->ready = true;
    it->ready_next = NULL;
    it->ready_prev = ep->ready_tail;
    if (ep->ready_tail != NULL)
        ep->ready_tail->ready_next = it;
    else
        ep->ready_head = it;
    ep->ready_tail = it;
}

static void ready_remove(struct shunt_epitem *it)
{
    struct shunt_epoll *ep = it->ep;

    if (!it->ready)
        return;
    if (it->ready_prev != NULL)
        it->ready_prev->ready_next = it->ready_next;
    else
        ep->ready_head = it->ready_next;
    if (it->ready_next != NULL)
        it->ready_next->ready_prev = it->ready_prev;
    else
        ep->ready_tail = it->ready_prev;
    it->ready = false;
}

/* What the item would report now: the events it asked for that hold. */
static uint32_t item_events(const struct shunt_epitem *it)
{
    if (!it->armed)
        return 0;
    return it->sock->proto->events(it->sock) & (it->events | ALWAYS) &
           ~(uint32_t)(EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP);
}

void shunt_sock_wakeup(struct shunt_sock *s)
{
    for (struct shunt_epitem *it = s->watchers; it != NULL; it = it->sock_next)
        if (!it->ready && item_events(it) != 0)
            ready_add(it);
}

/* ---- items ------------------------------------------------------------------- */

static struct shunt_epitem *find_item(struct shunt_epoll *ep, struct shunt_sock *s)
{
    for (struct shunt_epitem *it = s->watchers; it != NULL; it = it->sock_next)
        if (it->ep == ep)
            return it;
    return NULL;
}

static void item_free(struct shunt_epitem *it)
{
    struct shunt_epoll *ep = it->ep;
    struct shunt_sock *s = it->sock;

    ready_remove(it);
    for (struct shunt_epitem **p = &s->watchers; *p != NULL; p = &(*p)->sock_next) {
        if (*p == it) {
            *p = it->sock_next;
            break;
        }
    }
    if (it->ep_prev != NULL)
        it->ep_prev->ep_next = it->ep_next;
    else
        ep->items = it->ep_next;
    if (it->ep_next != NULL)
        it->ep_next->ep_prev = it->ep_prev;
    free(it);
}

void shunt_epoll_forget(struct shunt_sock *s)
{
    while (s->watchers != NULL)
        item_free(s->watchers);
}

/* Add, change or remove a kernel descriptor in the inner kernel epoll. */
static int ctl_kernel(struct shunt_epoll *ep, int op, int fd, struct epoll_event *event)
{
    if (K->epoll_ctl(ep->fd, op, fd, event) != 0)
        return -1;
    ep->nkernel += op == EPOLL_CTL_ADD ? 1 : op == EPOLL_CTL_DEL ? -1 : 0;
    return 0;
}

/* ---- the calls ------------------------------------------------------------- */

/* A Shunt epoll instance on the kernel epoll kfd, which holds nkernel
 * kernel descriptors; -1 with errno (kfd's own error, or ENOMEM). */
static int epoll_on(int kfd, int nkernel)
{
    struct shunt_epoll *ep = calloc(1, sizeof(*ep));

    if (ep == NULL) {
        errno = ENOMEM;
        return -1;
    }
    ep->fd = kfd;
    ep->nkernel = nkernel;
    if (shunt_fd_claim(kfd, SHUNT_FD_EPOLL, ep) != 0) {
        free(ep);
        return -1;
    }
    return kfd;
}

int shunt_epoll_create1(int flags)
{
    if (shunt_path() != SHUNT_PATH_STACK)
        return K->epoll_create1(flags);
    if (flags & ~EPOLL_CLOEXEC) {
        errno = EINVAL;
        return -1;
    }
    /* The kernel epoll under the number also holds the kernel descriptors
     * added to this instance. */
    int kfd = K->epoll_create1(flags);
    if (kfd < 0)
        return -1;
    int fd = epoll_on(kfd, 0);
    if (fd < 0) {
        int err = errno;
        K->close(kfd);
        errno = err;
    }
    return fd;
}

int shunt_epoll_adopt(int epfd, int nkernel)
{
    return epoll_on(epfd, nkernel) < 0 ? -1 : 0;
}

bool shunt_epoll_watches_sockets(int epfd)
{
    struct shunt_epoll *ep = shunt_fd_get(epfd, SHUNT_FD_EPOLL);

    return ep != NULL && ep->items != NULL;
}

int shunt_epoll_create(int size)
{
    if (size <= 0) {                    /* ignored since Linux 2.6.8, but checked */
        errno = EINVAL;
        return -1;
    }
    return shunt_epoll_create1(0);
}

int shunt_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    struct shunt_epoll *ep = shunt_fd_get(epfd, SHUNT_FD_EPOLL);

    if (ep == NULL) {
        if (shunt_fd_kind(epfd) == SHUNT_FD_SOCKET) {
            errno = EINVAL;             /* not an epoll descriptor */
            return -1;
        }
        return K->epoll_ctl(epfd, op, fd, event);
    }
    if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL) {
        errno = EINVAL;
        return -1;
    }
    if (op != EPOLL_CTL_DEL && event == NULL) {
        errno = EFAULT;
        return -1;
    }
    if (fd == epfd) {
        errno = EINVAL;
        return -1;
    }
    if (shunt_fd_kind(fd) == SHUNT_FD_NONE && K->fcntl(fd, F_GETFD) < 0)
        return -1;                      /* EBADF: not an open descriptor */
    /* EPOLLEXCLUSIVE: only when adding, with only these events (Linux). */
    if (op != EPOLL_CTL_DEL && (event->events & EPOLLEXCLUSIVE) &&
        (op == EPOLL_CTL_MOD || shunt_fd_kind(fd) == SHUNT_FD_EPOLL ||
         (event->events & ~(uint32_t)(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP |
                                      EPOLLET | EPOLLEXCLUSIVE)))) {
        errno = EINVAL;
        return -1;
    }

    struct shunt_sock *s = shunt_fd_get(fd, SHUNT_FD_SOCKET);
    if (s == NULL) {
        if (shunt_fd_kind(fd) == SHUNT_FD_EPOLL) {
            errno = EINVAL;             /* nesting Shunt's epolls: not supported */
            return -1;
        }
        return ctl_kernel(ep, op, fd, event);
    }

    /* A wildcard listener's kernel half is watched in the kernel epoll. */
    if (s->kernel_listens && ctl_kernel(ep, op, fd, event) != 0)
        return -1;
    struct shunt_epitem *it = find_item(ep, s);
    switch (op) {
    case EPOLL_CTL_ADD:
        if (it != NULL) {
            errno = EEXIST;
            return -1;
        }
        it = calloc(1, sizeof(*it));
        if (it == NULL) {
            errno = ENOMEM;
            return -1;
        }
        it->ep = ep;
        it->sock = s;
        it->sock_next = s->watchers;
        s->watchers = it;
        it->ep_next = ep->items;
        if (ep->items != NULL)
            ep->items->ep_prev = it;
        ep->items = it;
        break;
    case EPOLL_CTL_MOD:
        if (it == NULL) {
            errno = ENOENT;
            return -1;
        }
        if (it->events & EPOLLEXCLUSIVE) {
            errno = EINVAL;             /* an exclusive item cannot change */
            return -1;
        }
        break;
    case EPOLL_CTL_DEL:
        if (it == NULL) {
            errno = ENOENT;
            return -1;
        }
        item_free(it);
        return 0;
    }
    it->events = event->events;
    it->data = event->data;
    it->armed = true;
    /* Like Linux, look at the socket now: it may be ready already. */
    ready_remove(it);
    if (item_events(it) != 0)
        ready_add(it);
    return 0;
}

/* Report ready items into events; returns how many. */
/*
 * A wait asks the kernel epoll (kernel descriptors in the set: redis's
 * pipe, nginx's eventfd) on its first pass and then every KERNEL_EVERY
 * turns, not on every one: asking is a system call, as long as a turn
 * that finds nothing, and it would halve the rate a spinning wait turns
 * the loop at.  A kernel descriptor's event waits at most that many turns.
 */
#define KERNEL_EVERY 8

static int collect(struct shunt_epoll *ep, struct epoll_event *events, int maxevents,
                   bool ask_kernel)
{
    int n = 0;
    struct shunt_epitem *it = ep->ready_head, *last = ep->ready_tail;

    while (it != NULL && n < maxevents) {
        struct shunt_epitem *next = it == last ? NULL : it->ready_next;
        uint32_t ev = item_events(it);
        ready_remove(it);
        if (ev != 0) {
            events[n].events = ev;
            events[n].data = it->data;
            n++;
            if (it->events & EPOLLONESHOT)
                it->armed = false;
            else if (!(it->events & EPOLLET))
                ready_add(it);          /* level-triggered: ask again next time */
        }
        it = next;
    }
    if (ask_kernel && ep->nkernel > 0 && n < maxevents) {
        int k = K->epoll_wait(ep->fd, events + n, maxevents - n, 0);
        if (k > 0)
            n += k;
    }
    return n;
}

int shunt_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
    struct shunt_epoll *ep = shunt_fd_get(epfd, SHUNT_FD_EPOLL);

    if (ep == NULL) {
        if (shunt_fd_kind(epfd) == SHUNT_FD_SOCKET) {
            errno = EINVAL;
            return -1;
        }
        return K->epoll_wait(epfd, events, maxevents, timeout);
    }
    if (maxevents <= 0) {
        errno = EINVAL;
        return -1;
    }
    if (events == NULL) {
        errno = EFAULT;
        return -1;
    }

    uint64_t until = timeout < 0 ? UINT64_MAX
                   : shunt_sock_now_ns() + (uint64_t)timeout * 1000000u;
    for (unsigned pass = 0;; pass++) {
        /* Every call turns the loop: what the application wrote since
         * leaves, and what arrived is taken in.  From inside a turn it can
         * only look, not wait. */
        int rc = shunt_sock_wait_turn(false, until);
        if (rc < 0 && timeout != 0) {
            errno = -rc;                /* EINTR, EDEADLK */
            return -1;
        }
        int n = collect(ep, events, maxevents, pass % KERNEL_EVERY == 0);
        if (n > 0 || shunt_sock_now_ns() >= until)
            return n;
    }
}

struct pwait_args {
    int epfd;
    struct epoll_event *events;
    int maxevents;
    int timeout;
};

static int pwait_wait(void *arg, bool look)
{
    struct pwait_args *a = arg;

    return shunt_epoll_wait(a->epfd, a->events, a->maxevents, look ? 0 : a->timeout);
}

int shunt_epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout,
                      const sigset_t *sigmask)
{
    struct pwait_args a = { epfd, events, maxevents, timeout };

    /* The kernel's own, which sets the mask and waits in one step. */
    if (shunt_fd_kind(epfd) == SHUNT_FD_NONE)
        return K->epoll_pwait(epfd, events, maxevents, timeout, sigmask);
    return shunt_sock_masked_wait(sigmask, pwait_wait, &a);
}

uint32_t shunt_epoll_events(int epfd)
{
    struct shunt_epoll *ep = shunt_fd_get(epfd, SHUNT_FD_EPOLL);

    return ep != NULL && ep->ready_head != NULL ? EPOLLIN : 0;
}

int shunt_epoll_close(int epfd)
{
    struct shunt_epoll *ep = shunt_fd_get(epfd, SHUNT_FD_EPOLL);

    if (shunt_fd_release(epfd))
        return 0;                       /* a dup still holds the instance */
    while (ep->items != NULL)
        item_free(ep->items);
    free(ep);
    return 0;
}
