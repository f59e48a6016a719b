/*
 * server.c - shunt-perf's server: echo on PORT and discard on PORT+1, TCP
 * and UDP (common/server.h), busy-polling unless --poll block.
 */
#include <stdio.h>

#include "app.h"
#include "perf.h"
#include "server.h"

int serve(const struct options *o)
{
    /* Echoes leave at once; resets are what clients that stop early (and
     * connrate --rst) do, so only other errors are worth a line. */
    const struct server_config c = {
        .port = o->port, .discard = true, .backlog = 4096, .nodelay = true,
        .busy = o->poll != POLL_BLOCK, .quiet_resets = true,
    };
    struct server *srv = server_open(&c);

    if (srv == NULL)
        return 1;
    printf(PROG ": running: echo on tcp and udp port %u, discard on port %u, %s path, poll %s; "
           "SIGINT or SIGTERM stops it\n", o->port, o->port + 1, o->kernel ? "kernel" : "shunt",
           o->poll == POLL_BLOCK ? "block" : "epoll (busy)");
    fflush(stdout);
    int rc = server_run(srv) == 0 ? 0 : 1;
    const struct server_counts *n = server_counts(srv);
    printf(PROG ": server: %llu connections, echoed %llu bytes and %llu datagrams, "
           "discarded %llu bytes and %llu datagrams, %llu errors\n",
           n->accepted, n->echoed_bytes, n->echoed_dgrams, n->discarded_bytes,
           n->discarded_dgrams, n->failures);
    server_close(srv);
    return rc;
}
