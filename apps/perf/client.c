/*
 * client.c - see client.h: a client run from set-up to report.
 */
#include "client.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

int open_client_socket(const struct client *cl, const struct target *t, int type,
                       bool nodelay, bool nonblock)
{
    const char *what = type == SOCK_STREAM ? "tcp" : "udp";
    int fd = shunt_socket(t->addr.ss_family, type, 0);

    if (fd < 0) {
        fprintf(stderr, PROG ": %s socket: %s\n", what, strerror(errno));
        return -1;
    }
    if (shunt_connect(fd, (const struct sockaddr *)&t->addr, t->len) != 0) {
        fprintf(stderr, PROG ": %s connect to %s port %u: %s\n", what, cl->o->host,
                ntohs(((const struct sockaddr_in *)&t->addr)->sin_port), strerror(errno));
        goto fail;
    }
    if (nodelay && set_int_opt(fd, IPPROTO_TCP, TCP_NODELAY, 1) != 0) {
        fprintf(stderr, PROG ": TCP_NODELAY: %s\n", strerror(errno));
        goto fail;
    }
    if (nonblock && set_nonblocking(fd) != 0) {
        fprintf(stderr, PROG ": O_NONBLOCK: %s\n", strerror(errno));
        goto fail;
    }
    return fd;
fail:
    shunt_close(fd);
    return -1;
}

int watch_client(struct client *cl, int fd, uint32_t events, void *ptr)
{
    return epoll_watch(cl->epfd, EPOLL_CTL_ADD, fd, events, ptr);
}

int open_polled_socket(struct client *cl, const struct target *t, int type, bool nodelay,
                       uint32_t events)
{
    int fd = open_client_socket(cl, t, type, nodelay, cl->poll != POLL_BLOCK);

    if (fd >= 0 && cl->poll == POLL_EPOLL && watch_client(cl, fd, events, NULL) != 0) {
        shunt_close(fd);
        return -1;
    }
    return fd;
}

int set_recv_timeout(int fd, int ms)
{
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

    if (shunt_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
        fprintf(stderr, PROG ": SO_RCVTIMEO: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* What a mode counts as one operation. */
static const char *ops_name(enum test test)
{
    switch (test) {
    case RR: return "requests";
    case CONNRATE: return "connections";
    case STREAM: return "messages";
    default: return "round trips";
    }
}

/* This side's loop work time, for the run's sides (Shunt only). */
static int loop_work_ns(uint64_t *ns)
{
    struct shunt_loop_load load;

    if (shunt_loop_load(&load) != 0)
        return -1;
    *ns = load.work_ns;
    return 0;
}

static int client_setup(struct client *cl, const struct options *o)
{
    size_t bufsize = o->size > UDP_MAX_PAYLOAD ? o->size : UDP_MAX_PAYLOAD + 1;

    memset(cl, 0, sizeof(*cl));
    cl->o = o;
    cl->poll = o->poll;
    cl->epfd = -1;
    cl->run = (struct run){ .ops_name = ops_name(o->test), .seconds = o->seconds,
                            .count = o->count, .quiet = o->quiet,
                            .server_pid = o->server_pid, .work = loop_work_ns };
    if (run_open(&cl->run) != 0) {
        fprintf(stderr, PROG ": out of memory\n");
        return -1;
    }
    if (resolve(o->host, o->port, SOCK_STREAM, &cl->echo) != 0 ||
        resolve(o->host, (uint16_t)(o->port + 1), SOCK_STREAM, &cl->discard) != 0)
        return -1;
    cl->msg = calloc(1, o->size);
    cl->buf = malloc(bufsize);
    if (cl->msg == NULL || cl->buf == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return -1;
    }
    if (o->poll == POLL_EPOLL || o->test == RR) {
        cl->epfd = shunt_epoll_create1(0);
        if (cl->epfd < 0) {
            fprintf(stderr, PROG ": epoll_create1: %s\n", strerror(errno));
            return -1;
        }
    }
    run_begin(&cl->run, o->warmup);
    return 0;
}

static void client_cleanup(struct client *cl)
{
    if (cl->epfd >= 0)
        shunt_close(cl->epfd);
    run_close(&cl->run);
    free(cl->msg);
    free(cl->buf);
}

static void say_start(const struct options *o)
{
    if (o->quiet)
        return;
    fprintf(stderr, PROG ": %s %s, %zu-byte messages, to %s port %u, %s path, poll %s",
            test_names[o->test], o->udp ? "udp" : "tcp", o->size, o->host,
            o->test == STREAM ? o->port + 1 : o->port, o->kernel ? "kernel" : "shunt",
            poll_names[o->poll]);
    if (o->test == RR)
        fprintf(stderr, ", %d connections", o->conns);
    if (o->count)
        fprintf(stderr, ": %.1f s warm-up, then %llu %s\n", o->warmup,
                (unsigned long long)o->count, ops_name(o->test));
    else
        fprintf(stderr, ": %.1f s warm-up, then %.1f s\n", o->warmup, o->seconds);
}

/* The table on stdout, and the files asked for. */
static int report(const struct options *o, struct client *cl, uint64_t end)
{
    struct result r = {
        .tool = PROG, .path = o->kernel ? "kernel" : "shunt", .label = o->label,
        .test = test_names[o->test], .proto = o->udp ? "udp" : "tcp",
        .poll = poll_names[o->poll], .size = o->size, .conns = o->test == RR ? o->conns : 1,
        .mps = o->mps, .warmup = o->warmup, .udp = o->udp,
    };

    run_result(&cl->run, end, &r);
    if (o->test == STREAM)
        r.latency = NULL;       /* a stream times no round trips */
    report_table(stdout, &r);
    fflush(stdout);
    if (o->json && report_json(o->json, &r) != 0)
        return -1;
    if (o->csv && report_csv(o->csv, &r) != 0)
        return -1;
    return 0;
}

int run_client(const struct options *o)
{
    struct client cl;
    uint64_t end = 0;
    int rc = -1;

    if (client_setup(&cl, o) != 0)
        goto out;
    say_start(o);
    switch (o->test) {
    case PING_PONG: rc = ping_pong(&cl); break;
    case RR: rc = request_response(&cl); break;
    case CONNRATE: rc = connection_rate(&cl); break;
    case STREAM: rc = stream(&cl, &end); break;
    case SERVER: break;
    }
    if (rc != 0) {
        if (stop)
            fprintf(stderr, PROG ": interrupted\n");
        goto out;
    }
    rc = report(o, &cl, end ? end : tsc_now());
out:
    client_cleanup(&cl);
    return rc == 0 ? 0 : 1;
}
