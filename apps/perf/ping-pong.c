/*
 * ping-pong.c - one message out, its echo back, again: the round trip of
 * each, at --mps or as fast as echoes come back.  TCP echoes are whole and
 * checked; a UDP echo later than --timeout is lost.
 */
#include <stdio.h>
#include <string.h>

#include "client.h"

/* A TCP echo, by the deadline: all of it, checked.  0, or -1
 * after saying why. */
static int tcp_echo(struct client *cl, int fd, uint64_t seq, uint64_t deadline)
{
    size_t size = cl->o->size, got = 0;

    while (got < size) {
        ssize_t n = recv_polled(cl, fd, cl->buf + got, size - got, deadline);
        if (n <= 0) {
            if (n == 0)
                fprintf(stderr, PROG ": the server closed the connection\n");
            else if (errno == ETIMEDOUT)
                fprintf(stderr, PROG ": no echo within %d s\n", STALL_SECONDS);
            else if (errno != EINTR)
                fprintf(stderr, PROG ": recv: %s\n", strerror(errno));
            return -1;
        }
        got += (size_t)n;
    }
    if (!stamped(cl->buf, size, seq)) {
        fprintf(stderr, PROG ": echo %llu is not the message sent\n", (unsigned long long)seq);
        return -1;
    }
    return 0;
}

/*
 * A UDP echo of datagram seq.  1 when it came, 0 when it did not by the
 * deadline (lost, so far), -1 on error.  Echoes of earlier datagrams, come
 * after their time, are counted received but out of order.
 */
static int udp_echo(struct client *cl, int fd, uint64_t seq, uint64_t deadline)
{
    size_t size = cl->o->size;

    for (;;) {
        ssize_t n = recv_polled(cl, fd, cl->buf, UDP_MAX_PAYLOAD, deadline);
        if (n < 0) {
            if (errno == ETIMEDOUT)
                return 0;
            if (errno == ECONNREFUSED)
                fprintf(stderr, PROG ": udp: nothing listens on the server's port\n");
            else if (errno != EINTR)
                fprintf(stderr, PROG ": recv: %s\n", strerror(errno));
            return -1;
        }
        if ((size_t)n != size) {
            fprintf(stderr, PROG ": an echo of %zd bytes for datagrams of %zu\n", n, size);
            return -1;
        }
        if (stamped(cl->buf, size, seq))
            return 1;
        if (cl->run.measuring) {
            cl->run.received++;
            cl->run.out_of_order++;
        }
    }
}

int ping_pong(struct client *cl)
{
    const struct options *o = cl->o;
    struct run *r = &cl->run;
    int fd = open_polled_socket(cl, &cl->echo, o->udp ? SOCK_DGRAM : SOCK_STREAM, !o->udp, EPOLLIN);
    struct pacer pace;
    uint64_t seq = 0;
    int rc = -1;
    /* How long an echo may take, worked out once, outside the timing. */
    uint64_t wait = o->udp ? tsc_from_s(o->timeout_ms / 1e3) : tsc_from_s(STALL_SECONDS);

    if (fd < 0)
        return -1;
    pacer_init(&pace, o->mps);
    if (o->poll == POLL_BLOCK &&
        set_recv_timeout(fd, o->udp ? o->timeout_ms : STALL_SECONDS * 1000) != 0)
        goto out;
    while (run_on(r)) {
        wait_until(pacer_next(&pace));
        stamp(cl->msg, o->size, ++seq);
        uint64_t t0 = tsc_now();
        if (send_all(fd, cl->msg, o->size) != 0) {
            if (errno != EINTR)
                fprintf(stderr, PROG ": send: %s\n", strerror(errno));
            goto out;
        }
        int got = o->udp ? udp_echo(cl, fd, seq, t0 + wait)
                         : (tcp_echo(cl, fd, seq, t0 + wait) == 0 ? 1 : -1);
        uint64_t t1 = tsc_now();
        if (got < 0)
            goto out;
        run_round_trip(r, got, t0, t1);
    }
    rc = stop ? -1 : 0;
out:
    shunt_close(fd);
    return rc;
}
