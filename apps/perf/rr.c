/*
 * rr.c - request/response over --conns connections, each with one request
 * out at a time: requests a second, and the time of each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

struct rr_conn {
    int fd;
    uint64_t seq;
    uint64_t t0;                /* when its request went */
    size_t got;                 /* response bytes so far */
};

static int rr_send(struct client *cl, struct rr_conn *c)
{
    stamp(cl->msg, cl->o->size, ++c->seq);
    c->got = 0;
    c->t0 = tsc_now();
    if (send_all(c->fd, cl->msg, cl->o->size) != 0) {
        if (errno != EINTR)
            fprintf(stderr, PROG ": send: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* Read what there is of c's response; when it is whole, count it and send
 * the next request. */
static int rr_receive(struct client *cl, struct rr_conn *c)
{
    size_t size = cl->o->size;

    for (;;) {
        ssize_t n = shunt_recv(c->fd, cl->buf + c->got, size - c->got, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            fprintf(stderr, PROG ": recv: %s\n", strerror(errno));
            return -1;
        }
        if (n == 0) {
            fprintf(stderr, PROG ": the server closed a connection\n");
            return -1;
        }
        c->got += (size_t)n;
        if (c->got < size)
            continue;
        if (!stamped(cl->buf, size, c->seq)) {
            fprintf(stderr, PROG ": a response is not the request sent\n");
            return -1;
        }
        run_record(&cl->run, c->t0, tsc_now());
        return rr_send(cl, c);
    }
}

int request_response(struct client *cl)
{
    const struct options *o = cl->o;
    struct rr_conn *conns = calloc((size_t)o->conns, sizeof(*conns));
    struct epoll_event events[EPOLL_BATCH];
    int timeout = o->poll == POLL_BLOCK ? TICK_MS : 0, rc = -1;
    uint64_t last_progress = tsc_now();

    if (conns == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return -1;
    }
    for (int i = 0; i < o->conns; i++)
        conns[i].fd = -1;
    for (int i = 0; i < o->conns; i++) {
        struct rr_conn *c = &conns[i];
        /* Reads never block, whatever --poll says: epoll tells when. */
        c->fd = open_client_socket(cl, &cl->echo, SOCK_STREAM, true, true);
        if (c->fd < 0 || watch_client(cl, c->fd, EPOLLIN, c) != 0 || rr_send(cl, c) != 0)
            goto out;
    }
    while (run_on(&cl->run)) {
        int n = shunt_epoll_wait(cl->epfd, events, EPOLL_BATCH, timeout);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
            goto out;
        }
        for (int i = 0; i < n; i++)
            if (rr_receive(cl, events[i].data.ptr) != 0)
                goto out;
        if (n > 0) {
            last_progress = tsc_now();
        } else if (tsc_now() - last_progress > tsc_from_s(STALL_SECONDS)) {
            fprintf(stderr, PROG ": no response on any connection within %d s\n", STALL_SECONDS);
            goto out;
        }
    }
    rc = stop ? -1 : 0;
out:
    for (int i = 0; i < o->conns; i++)
        if (conns[i].fd >= 0)
            shunt_close(conns[i].fd);
    free(conns);
    return rc;
}
