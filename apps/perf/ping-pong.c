/*
 * ping-pong.c - one message out, its echo back, again: the round trip of
 * each, at --mps or as fast as echoes come back.  TCP echoes are whole and
 * checked; a UDP echo later than --timeout is lost.  With --zc the message
 * is written into zero-copy buffers and sent from there (common/sock.h:
 * zc_send_all), and the echo is read where it arrived (<shunt/zc.h>).
 */
#include <stdio.h>
#include <string.h>

#include "shunt/zc.h"

#include "client.h"

/* The bytes of rx from offset off into buf, up to cap: how a split echo
 * is checked (the views are read in place otherwise). */
static void gather(const struct shunt_zc_rx *rx, unsigned char *buf, size_t off, size_t cap)
{
    for (int i = 0; i < rx->iovcnt && off < cap; i++) {
        size_t n = rx->iov[i].iov_len < cap - off ? rx->iov[i].iov_len : cap - off;
        memcpy(buf + off, rx->iov[i].iov_base, n);
        off += n;
    }
}

/*
 * --zc: the echo's views, polled as recv_polled polls (at most max bytes),
 * released once looked at: the bytes, 0 at end of stream, -1 with errno.
 * An echo that came whole in one view is checked in place for seq (*checked
 * 1 when it carries it, 0 when not); else its bytes are gathered into
 * cl->buf from off, for the caller to check (*checked -1).
 */
static ssize_t zc_recv_polled(struct client *cl, int fd, size_t max, size_t off, uint64_t deadline,
                              uint64_t seq, int *checked)
{
    struct shunt_zc_rx rx;

    for (;;) {
        if (cl->poll == POLL_EPOLL && spin_epoll(cl, deadline) != 0)
            return -1;
        ssize_t n = shunt_zc_recv(fd, &rx, max, MSG_DONTWAIT);
        if (n > 0) {
            /* The usual case: the whole echo, in one view, checked in place. */
            *checked = -1;
            if (off == 0 && (size_t)n == cl->o->size && rx.iovcnt == 1)
                *checked = stamped(rx.iov[0].iov_base, (size_t)n, seq);
            else
                gather(&rx, cl->buf, off, cl->o->size);
            shunt_zc_release(rx.batch);
            return n;
        }
        if (n == 0 && rx.batch == NULL)
            return 0;
        if (n == 0) {                   /* an empty datagram */
            shunt_zc_release(rx.batch);
            continue;
        }
        if (read_again(cl, deadline) != 0)
            return -1;
    }
}

/* A TCP echo, by the deadline: all of it, checked.  0, or -1
 * after saying why. */
static int tcp_echo(struct client *cl, int fd, uint64_t seq, uint64_t deadline)
{
    size_t size = cl->o->size, got = 0;
    int checked = -1;

    while (got < size) {
        ssize_t n = cl->o->zc ? zc_recv_polled(cl, fd, size - got, got, deadline, seq, &checked)
                              : recv_polled(cl, fd, cl->buf + got, size - got, deadline);
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
    if (checked >= 0 ? !checked : !stamped(cl->buf, size, seq)) {
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
        int checked = -1;
        ssize_t n = cl->o->zc ? zc_recv_polled(cl, fd, UDP_MAX_PAYLOAD, 0, deadline, seq, &checked)
                              : recv_polled(cl, fd, cl->buf, UDP_MAX_PAYLOAD, deadline);
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
        if (checked >= 0 ? checked : stamped(cl->buf, size, seq))
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
        if ((o->zc ? zc_send_all(fd, cl->msg, o->size, NULL, 0)
                   : send_all(fd, cl->msg, o->size)) != 0) {
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
