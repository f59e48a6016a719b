/*
 * stream.c - messages to the discard port as fast as the socket takes
 * them: throughput, and for UDP how many the server received
 * (common/udpstream.h).
 */
#include <endian.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "udpstream.h"

/* Wait (turning the loop) until fd can take more: --poll epoll asks epoll,
 * the others try again after a turn. */
static int wait_writable(struct client *cl)
{
    if (cl->poll == POLL_EPOLL)
        return spin_epoll(cl, UINT64_MAX);
    shunt_poll();
    return 0;
}

/* Messages to the discard port until the run is over; then FIN, and the
 * server's FIN back says it has taken every byte. */
static int tcp_stream(struct client *cl, uint64_t *end)
{
    const struct options *o = cl->o;
    int fd = open_polled_socket(cl, &cl->discard, SOCK_STREAM, false, EPOLLOUT);
    size_t off = 0;
    int rc = -1;

    if (fd < 0)
        return -1;
    while (run_on(&cl->run)) {
        ssize_t n = shunt_send(fd, cl->msg + off, o->size - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                fprintf(stderr, PROG ": send: %s\n", strerror(errno));
                goto out;
            }
            if (wait_writable(cl) != 0)
                goto out;
            continue;
        }
        off += (size_t)n;
        if (cl->run.measuring)
            cl->run.bytes += (size_t)n;
        if (off == o->size) {
            off = 0;
            if (cl->run.measuring)
                cl->run.ops++;
        }
    }
    if (stop || shunt_shutdown(fd, SHUT_WR) != 0)
        goto out;
    /* The server closes once it has read everything.  (epoll watches
     * EPOLLOUT only: read the recv way.) */
    char c;
    if (cl->poll == POLL_EPOLL)
        cl->poll = POLL_RECV;
    ssize_t n = recv_polled(cl, fd, &c, 1, tsc_now() + tsc_from_s(STALL_SECONDS));
    *end = tsc_now();
    if (n != 0) {
        fprintf(stderr, PROG ": the server did not close after the stream: %s\n",
                n < 0 ? strerror(errno) : "it sent data");
        goto out;
    }
    rc = 0;
out:
    shunt_close(fd);
    return rc;
}

/* Ask the server how much of run it received: 0, or -1 if it never says. */
static int udp_stream_report(struct client *cl, int fd, uint32_t run)
{
    struct stream_hdr q = { htobe32(STREAM_REPORT), htobe32(run), 0 };

    for (int try = 0; try < 10 && !stop; try++) {
        if (shunt_send(fd, &q, sizeof(q), 0) != sizeof(q) && errno != EAGAIN && errno != ENOBUFS) {
            fprintf(stderr, PROG ": send: %s\n", strerror(errno));
            return -1;
        }
        uint64_t deadline = tsc_now() + tsc_from_s(0.2);
        ssize_t n;
        while ((n = recv_polled(cl, fd, cl->buf, UDP_MAX_PAYLOAD, deadline)) >= 0) {
            struct stream_answer a;
            if ((size_t)n < sizeof(a))
                continue;
            memcpy(&a, cl->buf, sizeof(a));
            if (be32toh(a.h.magic) != STREAM_ANSWER || be32toh(a.h.run) != run)
                continue;
            cl->run.received = be64toh(a.received);
            cl->run.out_of_order = be64toh(a.out_of_order);
            return 0;
        }
        if (errno != ETIMEDOUT && errno != EAGAIN)
            break;
    }
    fprintf(stderr, PROG ": the server never said how many datagrams it received\n");
    return -1;
}

/* Datagrams as fast as the socket takes them; the server counts them. */
static int udp_stream(struct client *cl, uint64_t *end)
{
    const struct options *o = cl->o;
    int fd = open_polled_socket(cl, &cl->discard, SOCK_DGRAM, false, EPOLLOUT);
    /* Run ids differ from run to run, and warm-up from measurement. */
    uint32_t run = (uint32_t)(tsc_now() ^ ((uint64_t)getpid() << 16)) & ~1u;
    uint64_t seq = 0;
    bool was_measuring = false;
    int rc = -1;

    if (fd < 0)
        return -1;
    while (run_on(&cl->run)) {
        if (cl->run.measuring && !was_measuring) {
            was_measuring = true;
            seq = 0;
        }
        struct stream_hdr h = { htobe32(STREAM_DATA), htobe32(run | cl->run.measuring), htobe64(seq) };
        memcpy(cl->msg, &h, sizeof(h));
        ssize_t n = shunt_send(fd, cl->msg, o->size, 0);
        if (n < 0) {
            if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR) {
                fprintf(stderr, PROG ": send: %s\n", strerror(errno));
                goto out;
            }
            if (wait_writable(cl) != 0)
                goto out;
            continue;
        }
        seq++;
        if (cl->run.measuring) {
            cl->run.sent++;
            cl->run.ops++;
            cl->run.bytes += (size_t)n;
        }
    }
    *end = tsc_now();
    if (stop)
        goto out;
    /* Let the last datagrams arrive before asking. */
    wait_until(tsc_now() + tsc_from_s(0.1));
    if (cl->poll == POLL_EPOLL)
        cl->poll = POLL_RECV;   /* epoll watches EPOLLOUT only */
    if (cl->poll == POLL_BLOCK && set_recv_timeout(fd, 200) != 0)
        goto out;
    rc = udp_stream_report(cl, fd, run | 1);
out:
    shunt_close(fd);
    return rc;
}

int stream(struct client *cl, uint64_t *end)
{
    return cl->o->udp ? udp_stream(cl, end) : tcp_stream(cl, end);
}
