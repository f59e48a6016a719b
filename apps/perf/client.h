/*
 * client.h - what shunt-perf's client modes share: the run (its phases and
 * counts, common/run.h), the server's two ports, the buffers, and the
 * calls a timed loop makes for each message.
 *
 * Those calls (recv_polled, send_all, ...) are inline here rather than in
 * client.c: they sit inside the timed loops, and each mode's file inlines
 * its own copy, so a round trip pays no call for them.
 */
#ifndef SHUNT_APPS_PERF_CLIENT_H
#define SHUNT_APPS_PERF_CLIENT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "shunt/shunt.h"
#include "shunt/socket.h"

#include "perf.h"
#include "run.h"
#include "sock.h"

struct client {
    const struct options *o;
    struct target echo, discard;
    int epfd;                   /* --poll epoll, rr */
    enum poll_method poll;      /* how reads wait now: --poll, but see the streams */
    struct run run;
    unsigned char *msg, *buf;   /* what is sent; what is read (UDP_MAX_PAYLOAD + 1 or -m) */
};

/* The modes.  0, or -1 after saying why (or when stopped); a stream also
 * says when its run ended (*end, TSC), which is after the last byte
 * arrived. */
int ping_pong(struct client *cl);
int request_response(struct client *cl);
int connection_rate(struct client *cl);
int stream(struct client *cl, uint64_t *end);

/* A connected socket to t: TCP (with TCP_NODELAY, or bulk) or UDP,
 * blocking or not.  -1 after saying why. */
int open_client_socket(const struct client *cl, const struct target *t, int type,
                       bool nodelay, bool nonblock);

/* One socket polled the --poll way: non-blocking unless --poll block, and
 * in the client's epoll set for events under --poll epoll. */
int open_polled_socket(struct client *cl, const struct target *t, int type, bool nodelay,
                       uint32_t events);

/* Add fd to the client's epoll set. */
int watch_client(struct client *cl, int fd, uint32_t events, void *ptr);

/* A blocking socket's reads give up after ms (SO_RCVTIMEO), as the busy
 * ones do by the clock. */
int set_recv_timeout(int fd, int ms);

/* ---- inside the timed loops ------------------------------------------------- */

/* --poll epoll: ask epoll_wait without waiting until the socket is ready. */
static inline int spin_epoll(struct client *cl, uint64_t deadline)
{
    struct epoll_event ev;

    for (;;) {
        int n = shunt_epoll_wait(cl->epfd, &ev, 1, 0);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
        if (stop) {
            errno = EINTR;
            return -1;
        }
        if (tsc_now() >= deadline) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
}

/*
 * A read found nothing (errno says why): 0 to read again (the loop turned
 * first under --poll recv), or -1 with errno (ETIMEDOUT past the TSC
 * deadline, EINTR when stopped, or the read's own error).
 */
static inline int read_again(struct client *cl, uint64_t deadline)
{
    if (errno != EAGAIN && errno != EINTR)
        return -1;
    if (stop) {
        errno = EINTR;
        return -1;
    }
    /* A blocking read that gives EAGAIN ran out its SO_RCVTIMEO. */
    if ((cl->poll == POLL_BLOCK && errno == EAGAIN) || tsc_now() >= deadline) {
        errno = ETIMEDOUT;
        return -1;
    }
    if (cl->poll == POLL_RECV)
        shunt_poll();           /* Shunt: take in what arrived; kernel: nothing */
    return 0;
}

/*
 * Some bytes (or one datagram) from fd, polled the --poll way, by TSC
 * deadline.  The count, 0 at end of stream, or -1 with errno (ETIMEDOUT
 * past the deadline, EINTR when stopped).
 */
static inline ssize_t recv_polled(struct client *cl, int fd, void *buf, size_t len, uint64_t deadline)
{
    for (;;) {
        if (cl->poll == POLL_EPOLL && spin_epoll(cl, deadline) != 0)
            return -1;
        ssize_t n = shunt_recv(fd, buf, len, 0);
        if (n >= 0)
            return n;
        if (read_again(cl, deadline) != 0)
            return -1;
    }
}

/* Send all of buf.  A full socket (rare: one message is out at a time)
 * gets loop turns until it takes more. */
static inline int send_all(int fd, const void *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = shunt_send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);
        if (n >= 0) {
            done += (size_t)n;
            continue;
        }
        if (stop) {
            errno = EINTR;
            return -1;
        }
        if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR)
            return -1;
        shunt_poll();
    }
    return 0;
}

/* Wait until the TSC reaches t, turning the loop (Shunt) meanwhile. */
/* Turn the loop until TSC time t; 0 (an unpaced run) does not wait and
 * reads no clock. */
static inline void wait_until(uint64_t t)
{
    while (t != 0 && tsc_now() < t && !stop)
        shunt_poll();
}

#endif /* SHUNT_APPS_PERF_CLIENT_H */
