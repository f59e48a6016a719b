/*
 * connrate.c - connections a second: each one connected, one request and
 * its response, closed.
 */
#include <stdio.h>
#include <string.h>

#include "client.h"

/*
 * connect, one request and its response, close: with blocking calls, as a
 * program that does this would write it.  The client closes first, so its
 * side keeps each connection in TIME_WAIT, unless --rst closes with a
 * reset (SO_LINGER 0), as load generators do to leave nothing behind.
 */
static int one_connection(struct client *cl)
{
    const struct options *o = cl->o;
    int fd = open_client_socket(cl, &cl->echo, SOCK_STREAM, true, false);
    size_t got = 0;

    if (fd < 0)
        return -1;
    stamp(cl->msg, o->size, cl->run.ops);
    if (send_all(fd, cl->msg, o->size) != 0) {
        if (errno != EINTR)
            fprintf(stderr, PROG ": send: %s\n", strerror(errno));
        goto fail;
    }
    while (got < o->size) {
        ssize_t n = shunt_recv(fd, cl->buf + got, o->size - got, 0);
        if (n < 0 && errno == EINTR && !stop)
            continue;
        if (n <= 0) {
            fprintf(stderr, PROG ": recv: %s\n", n == 0 ? "the server closed first" : strerror(errno));
            goto fail;
        }
        got += (size_t)n;
    }
    return close_socket(fd, cl->o->rst);
fail:
    shunt_close(fd);
    return -1;
}

int connection_rate(struct client *cl)
{
    while (run_on(&cl->run)) {
        uint64_t t0 = tsc_now();
        if (one_connection(cl) != 0)
            return -1;
        run_record(&cl->run, t0, tsc_now());
    }
    return stop ? -1 : 0;
}
