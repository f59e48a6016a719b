/*
 * shunt-echo - TCP and UDP echo over Shunt's sockets: a server, and a client
 * that checks every byte it gets back.
 *
 * It is written only against <shunt/socket.h> and <shunt/shunt.h>, the way
 * any program would use Shunt, so the same binary runs over Shunt (-c FILE)
 * or over the kernel's sockets (--kernel) and the two can be compared.
 *
 * Server: one epoll loop serves TCP and UDP on [::]:PORT (IPv4 too), and
 * with --one-way checks a stream sent to PORT+2 and sends one from PORT+3
 * (common/server.h):
 *
 *     shunt-echo (-c FILE [--instance I] | --kernel) [-p PORT] [-b BACKLOG] [--no-accept]
 *                [--join GROUP[,IFADDR]] [--one-way] [--nodelay] [--congestion NAME]
 *
 * Client: sends a pseudo-random stream (common/pattern.h) and verifies its
 * echo; or with --send only sends it, for the server to check, or with
 * --receive only receives it from the server, and checks it:
 *
 *     shunt-echo (-c FILE | --kernel) --client HOST [-p PORT] [--udp]
 *                [-n BYTES] [-m MSGSIZE] [--conns N] [--nonblock-connect]
 *                [--send | --receive] [--congestion NAME]
 *                [--keepalive IDLE,INTVL,CNT --hold SECONDS [--linger SECONDS]] [--abort]
 *                [--stall SECONDS]
 *
 * Without -c or --kernel the stack's configuration is the file named by
 * $SHUNT_CONFIG.  A configuration of a group (instances = N) starts N
 * processes, one per instance, unless --instance I picks one
 * (common/group.h).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shunt/shunt.h"
#include "shunt/socket.h"

#include "app.h"
#include "group.h"
#include "opts.h"
#include "pattern.h"
#include "server.h"
#include "sock.h"

const char app_name[] = "shunt-echo";

struct keepalive {
    bool on;
    int idle, intvl, cnt;       /* TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT */
};

struct options {
    const char *config;         /* -c FILE; NULL: $SHUNT_CONFIG */
    const char *instance;       /* --instance I: one of a group's; NULL: all */
    bool kernel;                /* --kernel: the kernel's sockets */
    const char *capture;        /* --capture FILE: every frame, to a pcap file */
    const char *capture_filter; /* --capture-filter EXPR: a tcpdump filter */
    uint16_t port;              /* -p */
    int backlog;                /* -b */
    bool no_accept;             /* --no-accept */
    const char *join;           /* --join GROUP[,IFADDR] */
    bool one_way;               /* --one-way: check on PORT+2, source on PORT+3 */
    bool nodelay;               /* --nodelay: TCP_NODELAY on echo connections */
    const char *congestion;     /* --congestion NAME: TCP_CONGESTION, both roles */

    const char *client;         /* --client HOST: client mode */
    bool udp;                   /* --udp */
    unsigned long long bytes;   /* -n: per connection (TCP), in all (UDP) */
    size_t msgsize;             /* -m: write size (TCP), datagram size (UDP) */
    int conns;                  /* --conns */
    bool nonblock_connect;      /* --nonblock-connect */
    bool send;                  /* --send: the stream one way, to the server's check port */
    bool receive;               /* --receive: the stream the other way, from its source port */
    struct keepalive ka;        /* --keepalive IDLE,INTVL,CNT */
    int hold;                   /* --hold SECONDS */
    int linger;                 /* --linger SECONDS */
    bool abort;                 /* --abort */
    int stall;                  /* --stall SECONDS: no progress that long fails */
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- server ------------------------------------------------------------- */

/* TCP and UDP echo on [::]:PORT (common/server.h), until SIGINT or SIGTERM. */
static int serve(const struct options *o)
{
    const struct server_config c = {
        .port = o->port, .backlog = o->backlog, .no_accept = o->no_accept, .join = o->join,
        .one_way = o->one_way, .nodelay = o->nodelay, .congestion = o->congestion,
    };
    struct server *srv = server_open(&c);

    if (srv == NULL)
        return 1;
    printf("shunt-echo: running: tcp and udp echo on port %u%s%s%s%s; SIGINT or SIGTERM stops it\n",
           o->port, o->one_way ? ", check and source on the two ports after the next" : "",
           o->no_accept ? ", not accepting" : "", o->join ? ", joined " : "", o->join ? o->join : "");
    fflush(stdout);
    int rc = server_run(srv) == 0 ? 0 : 1;
    const struct server_counts *n = server_counts(srv);
    printf("shunt-echo: tcp: %llu connections accepted, %llu closed, %llu reset by the peer, "
           "%llu failed, %llu bytes echoed, %llu checked, %llu sourced; "
           "udp: %llu datagrams (%llu bytes) echoed, %llu not\n",
           n->accepted, n->closed, n->resets, n->failures, n->echoed_bytes, n->checked_bytes,
           n->sourced_bytes, n->echoed_dgrams, n->echoed_dgram_bytes, n->not_echoed);
    server_close(srv);
    return rc;
}

/* ---- client ------------------------------------------------------------- */

/* One client connection: the stream it sends, and the stream it expects
 * (or with --send, the server's count of what it checked). */
struct client_conn {
    int fd;
    int index;
    bool connecting;            /* non-blocking connect under way */
    bool in_request;            /* the chunk is the pattern_request (--send, --receive) */
    bool sent_all;              /* all sent, and SHUT_WR done */
    bool done;                  /* the whole echo and then EOF came back */
    uint32_t events;
    struct pattern tx, rx;
    unsigned long long generated, sent, received;
    size_t chunk_off, chunk_len; /* unsent part of the current write is chunk[off, len) */
    unsigned char *chunk;
    unsigned char answer[8];    /* --send: the count the server checked, big-endian */
    size_t answer_got;          /* bytes of it so far */
};

struct client {
    const struct options *o;
    struct target target;
    int epfd;
    struct client_conn *conns;
    int done;
    unsigned char rbuf[64 * 1024], expect[64 * 1024];
};

/* Open a TCP connection: blocking connect() unless --nonblock-connect, in
 * which case it may still be under way.  Returns the descriptor, or -1
 * after saying why. */
static int open_connection(const struct options *o, const struct target *t, int index,
                           bool *in_progress)
{
    int fd = shunt_socket(t->addr.ss_family, SOCK_STREAM | (o->nonblock_connect ? SOCK_NONBLOCK : 0), 0);

    *in_progress = false;
    if (fd < 0) {
        fprintf(stderr, "shunt-echo: connection %d: socket: %s\n", index, strerror(errno));
        return -1;
    }
    if (set_congestion(fd, o->congestion) != 0) {
        shunt_close(fd);
        return -1;
    }
    if (shunt_connect(fd, (const struct sockaddr *)&t->addr, t->len) != 0) {
        if (o->nonblock_connect && errno == EINPROGRESS) {
            *in_progress = true;
            return fd;
        }
        fprintf(stderr, "shunt-echo: connection %d: connect: %s\n", index, strerror(errno));
        shunt_close(fd);
        return -1;
    }
    if (!o->nonblock_connect && set_nonblocking(fd) != 0) {
        fprintf(stderr, "shunt-echo: connection %d: fcntl: %s\n", index, strerror(errno));
        shunt_close(fd);
        return -1;
    }
    return fd;
}

static int client_watch(struct client *cl, struct client_conn *c, uint32_t want)
{
    if (want == c->events)
        return 0;
    if (epoll_watch(cl->epfd, c->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, want, c) != 0)
        return -1;
    c->events = want;
    return 0;
}

/* The stream bytes a connection sends: none when it only receives. */
static unsigned long long to_send(const struct options *o)
{
    return o->receive ? 0 : o->bytes;
}

/* Write the request (--send, --receive), then the stream until the socket
 * takes no more; after the last byte, shut down the sending side: the
 * server echoes what is left (or answers, or sends) and closes. */
static int client_send(struct client *cl, struct client_conn *c)
{
    const struct options *o = cl->o;

    while (!c->sent_all) {
        if (c->chunk_off == c->chunk_len) {
            if (c->generated == to_send(o)) {
                if (shunt_shutdown(c->fd, SHUT_WR) != 0) {
                    fprintf(stderr, "shunt-echo: connection %d: shutdown: %s\n", c->index, strerror(errno));
                    return -1;
                }
                c->sent_all = true;
                return client_watch(cl, c, EPOLLIN);
            }
            c->chunk_len = o->bytes - c->generated < o->msgsize ? o->bytes - c->generated : o->msgsize;
            c->chunk_off = 0;
            pattern_fill(&c->tx, c->chunk, c->chunk_len);
            c->generated += c->chunk_len;
        }
        ssize_t n = shunt_write(c->fd, c->chunk + c->chunk_off, c->chunk_len - c->chunk_off);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            fprintf(stderr, "shunt-echo: connection %d: write at offset %llu: %s\n",
                    c->index, c->sent, strerror(errno));
            return -1;
        }
        c->chunk_off += n;
        if (c->in_request)
            c->in_request = c->chunk_off < c->chunk_len;
        else
            c->sent += n;
    }
    return 0;
}

/* --send: n bytes of the server's answer in cl->rbuf, the count of bytes
 * it checked, or its FIN (n 0).  0 while it comes, 1 at the FIN, -1 if it
 * is wrong. */
static int client_answer(struct client *cl, struct client_conn *c, ssize_t n)
{
    uint64_t count;

    if (n > 0) {
        if (c->answer_got + n > sizeof(c->answer)) {
            fprintf(stderr, "shunt-echo: connection %d: the server answered more than a count\n",
                    c->index);
            return -1;
        }
        memcpy(c->answer + c->answer_got, cl->rbuf, n);
        c->answer_got += n;
        return 0;
    }
    memcpy(&count, c->answer, sizeof(count));
    if (c->answer_got != sizeof(c->answer) || be64toh(count) != cl->o->bytes) {
        fprintf(stderr, "shunt-echo: connection %d: the server did not confirm the %llu bytes sent "
                        "(its log says why)\n", c->index, cl->o->bytes);
        return -1;
    }
    return 1;
}

/* The connection's whole stream is through, checked: close it. */
static int client_finish(struct client *cl, struct client_conn *c)
{
    c->done = true;
    cl->done++;
    shunt_epoll_ctl(cl->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    shunt_close(c->fd);
    c->fd = -1;
    return 0;
}

/* Read some echo and check it against the regenerated stream. */
static int client_receive(struct client *cl, struct client_conn *c)
{
    ssize_t n = shunt_read(c->fd, cl->rbuf, sizeof(cl->rbuf));

    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return 0;
        fprintf(stderr, "shunt-echo: connection %d: read at offset %llu: %s\n",
                c->index, c->received, strerror(errno));
        return -1;
    }
    if (cl->o->send) {
        int end = client_answer(cl, c, n);
        return end <= 0 ? end : client_finish(cl, c);
    }
    if (n == 0) {
        if (c->received != cl->o->bytes) {
            fprintf(stderr, "shunt-echo: connection %d: the stream ended after %llu of %llu bytes\n",
                    c->index, c->received, cl->o->bytes);
            return -1;
        }
        return client_finish(cl, c);
    }
    /* An echo is no longer than what was sent; a received stream no
     * longer than what was asked for. */
    unsigned long long most = cl->o->receive ? cl->o->bytes : c->sent;
    if (c->received + n > most) {
        fprintf(stderr, "shunt-echo: connection %d: %llu bytes of stream, but only %llu %s\n",
                c->index, c->received + n, most, cl->o->receive ? "asked for" : "sent");
        return -1;
    }
    size_t same = pattern_check(&c->rx, cl->rbuf, n, cl->expect);
    if (same < (size_t)n) {
        fprintf(stderr, "shunt-echo: connection %d: the stream differs at offset %llu: "
                        "got 0x%02x, expected 0x%02x\n",
                c->index, c->received + same, cl->rbuf[same], cl->expect[same]);
        return -1;
    }
    c->received += n;
    return 0;
}

static int client_event(struct client *cl, struct client_conn *c, uint32_t events)
{
    if (c->connecting) {
        int err = socket_error(c->fd);
        if (err != 0) {
            fprintf(stderr, "shunt-echo: connection %d: connect: %s\n", c->index, strerror(err));
            return -1;
        }
        if (!(events & EPOLLOUT))
            return 0;
        c->connecting = false;
        return client_watch(cl, c, EPOLLIN | EPOLLOUT);
    }
    if (events & EPOLLERR) {
        fprintf(stderr, "shunt-echo: connection %d: at offset %llu: %s\n",
                c->index, c->received, strerror(socket_error(c->fd)));
        return -1;
    }
    if ((events & (EPOLLIN | EPOLLHUP)) && client_receive(cl, c) != 0)
        return -1;
    if (!c->done && (events & EPOLLOUT) && client_send(cl, c) != 0)
        return -1;
    return 0;
}

/* Open the connections; seeds differ per connection so no two streams are
 * alike. */
static int client_connect_all(struct client *cl)
{
    const struct options *o = cl->o;

    for (int i = 0; i < o->conns; i++) {
        struct client_conn *c = &cl->conns[i];
        bool in_progress;

        c->index = i;
        c->chunk = malloc(o->msgsize > sizeof(struct pattern_request) ? o->msgsize
                                                                    : sizeof(struct pattern_request));
        if (c->chunk == NULL) {
            fprintf(stderr, "shunt-echo: out of memory\n");
            return -1;
        }
        pattern_init(&c->tx, PATTERN_SEED(i));
        pattern_init(&c->rx, PATTERN_SEED(i));
        if (o->send || o->receive) {
            /* The server's pattern starts from the same seed. */
            const struct pattern_request req = { htobe64(PATTERN_SEED(i)), htobe64(o->bytes) };
            memcpy(c->chunk, &req, sizeof(req));
            c->chunk_len = sizeof(req);
            c->in_request = true;
        }
        c->fd = open_connection(o, &cl->target, i, &in_progress);
        if (c->fd < 0)
            return -1;
        c->connecting = in_progress;
        if (client_watch(cl, c, in_progress ? EPOLLOUT : EPOLLIN | EPOLLOUT) != 0)
            return -1;
    }
    return 0;
}

/* How long the client waits without any progress before it gives up. */

static int tcp_client(const struct options *o, const struct target *t)
{
    struct client *cl = calloc(1, sizeof(*cl));
    struct epoll_event events[EPOLL_BATCH];
    int rc = 1;

    if (cl == NULL)
        return 1;
    cl->o = o;
    cl->target = *t;
    cl->conns = calloc(o->conns, sizeof(*cl->conns));
    cl->epfd = shunt_epoll_create1(0);
    if (cl->conns == NULL || cl->epfd < 0) {
        fprintf(stderr, "shunt-echo: %s\n", strerror(cl->conns ? errno : ENOMEM));
        goto out;
    }
    for (int i = 0; i < o->conns; i++)
        cl->conns[i].fd = -1;

    double start = now(), last_progress = start;
    if (client_connect_all(cl) != 0)
        goto out;
    while (cl->done < o->conns && !stop) {
        int n = shunt_epoll_wait(cl->epfd, events, EPOLL_BATCH, TICK_MS);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "shunt-echo: epoll_wait: %s\n", strerror(errno));
            goto out;
        }
        for (int i = 0; i < n; i++)
            if (client_event(cl, events[i].data.ptr, events[i].events) != 0)
                goto out;
        if (n > 0) {
            last_progress = now();
        } else if (now() - last_progress > o->stall) {
            for (int i = 0; i < o->conns; i++) {
                struct client_conn *c = &cl->conns[i];
                if (!c->done) {
                    fprintf(stderr, "shunt-echo: connection %d: stalled for %d s: %s, "
                                    "%llu bytes sent, %llu echoed of %llu\n",
                            i, o->stall, c->connecting ? "still connecting" : "connected",
                            c->sent, c->received, o->bytes);
                    break;
                }
            }
            fprintf(stderr, "shunt-echo: %d of %d connections finished\n", cl->done, o->conns);
            goto out;
        }
    }
    if (stop) {
        fprintf(stderr, "shunt-echo: interrupted: %d of %d connections finished\n", cl->done, o->conns);
        goto out;
    }
    double secs = now() - start;
    unsigned long long total = o->bytes * o->conns;
    printf("shunt-echo: verified %llu bytes over %d connection%s in %.3f s (%.1f MB/s), %s\n",
           total, o->conns, o->conns == 1 ? "" : "s", secs, secs > 0 ? total / secs / 1e6 : 0.0,
           o->send ? "sent (the server checked them)" : o->receive ? "received" : "echoed");
    rc = 0;
out:
    for (int i = 0; cl->conns && i < o->conns; i++) {
        if (cl->conns[i].fd >= 0)
            shunt_close(cl->conns[i].fd);
        free(cl->conns[i].chunk);
    }
    if (cl->epfd >= 0)
        shunt_close(cl->epfd);
    free(cl->conns);
    free(cl);
    return rc;
}

/* Wait until fd is ready for events or timeout_ms passes: 1, 0 on timeout,
 * -1 on error.  Uses epoll, like the rest, so only <shunt/socket.h> is needed. */
static int wait_for(int fd, uint32_t events, int timeout_ms, uint32_t *revents)
{
    int epfd = shunt_epoll_create1(0), n = -1;
    struct epoll_event ev = { .events = events };

    if (epfd < 0)
        return -1;
    if (shunt_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
        double deadline = now() + timeout_ms / 1e3;
        do {
            int left = (int)((deadline - now()) * 1e3);
            n = shunt_epoll_wait(epfd, &ev, 1, left < 0 ? 0 : left < TICK_MS ? left : TICK_MS);
        } while ((n == 0 || (n < 0 && errno == EINTR)) && now() < deadline && !stop);
        if (n > 0)
            *revents = ev.events;
    }
    int saved = errno;
    shunt_close(epfd);
    errno = saved;
    return n < 0 ? -1 : n;
}

/* One connection, connected, for --keepalive and --abort. */
static int connect_one(const struct options *o, const struct target *t)
{
    bool in_progress;
    uint32_t revents = 0;
    int fd = open_connection(o, t, 0, &in_progress);

    if (fd < 0 || !in_progress)
        return fd;
    if (wait_for(fd, EPOLLOUT, o->stall * 1000, &revents) <= 0) {
        fprintf(stderr, "shunt-echo: connection 0: connect: no answer within %d s\n", o->stall);
        shunt_close(fd);
        return -1;
    }
    int err = socket_error(fd);
    if (err != 0) {
        fprintf(stderr, "shunt-echo: connection 0: connect: %s\n", strerror(err));
        shunt_close(fd);
        return -1;
    }
    return fd;
}

/* --keepalive: hold an idle connection with keepalive probes on, and wait
 * for the error that says the peer is gone. */
static int keepalive_client(const struct options *o, const struct target *t)
{
    int fd = connect_one(o, t);
    uint32_t revents = 0;

    if (fd < 0)
        return 1;
    if (set_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE, 1) != 0 ||
        set_int_opt(fd, IPPROTO_TCP, TCP_KEEPIDLE, o->ka.idle) != 0 ||
        set_int_opt(fd, IPPROTO_TCP, TCP_KEEPINTVL, o->ka.intvl) != 0 ||
        set_int_opt(fd, IPPROTO_TCP, TCP_KEEPCNT, o->ka.cnt) != 0) {
        fprintf(stderr, "shunt-echo: keepalive options: %s\n", strerror(errno));
        shunt_close(fd);
        return 1;
    }
    printf("shunt-echo: connected to %s, holding it idle up to %d s, keepalive %d,%d,%d\n",
           t->name, o->hold, o->ka.idle, o->ka.intvl, o->ka.cnt);
    fflush(stdout);

    int n = wait_for(fd, EPOLLIN, o->hold * 1000, &revents);
    int rc = 1;
    if (n < 0) {
        fprintf(stderr, "shunt-echo: epoll_wait: %s\n", strerror(errno));
    } else if (n == 0) {
        printf("shunt-echo: keepalive: no error within %d s\n", o->hold);
    } else {
        int err = socket_error(fd);
        char c;
        ssize_t got = err ? -1 : shunt_read(fd, &c, 1);
        if (got < 0 && err == 0)
            err = errno;
        if (err != 0) {
            printf("shunt-echo: keepalive: the connection failed: %s\n", strerror(err));
            rc = 0;
        } else {
            printf("shunt-echo: keepalive: the peer %s\n", got == 0 ? "closed the connection" : "sent data");
        }
    }
    fflush(stdout);
    shunt_close(fd);
    if (o->linger > 0) {
        /* The loop runs on, so shunt-stat can see what the failure freed. */
        printf("shunt-echo: closed; lingering %d s\n", o->linger);
        fflush(stdout);
        shunt_poll_fds(NULL, 0, o->linger * 1000);
    }
    return rc;
}

/* --abort: one echo, so the server has surely accepted, then close with a
 * reset (SO_LINGER on, timeout 0). */
static int abort_client(const struct options *o, const struct target *t)
{
    uint32_t revents;
    char c = 'x';
    int fd = connect_one(o, t);

    if (fd < 0)
        return 1;
    if (shunt_write(fd, &c, 1) != 1 ||
        wait_for(fd, EPOLLIN, o->stall * 1000, &revents) <= 0 ||
        shunt_read(fd, &c, 1) != 1) {
        fprintf(stderr, "shunt-echo: --abort: no echo of one byte: %s\n", strerror(errno));
        shunt_close(fd);
        return 1;
    }
    if (close_socket(fd, true) != 0)
        return 1;
    printf("shunt-echo: connected to %s, echoed one byte, closed with a reset\n", t->name);
    return 0;
}

/* UDP: each datagram carries the next MSGSIZE bytes of the stream; wait for
 * its echo, sending it again after a silence. */
#define UDP_WAIT_MS 2000
#define UDP_TRIES   4

static int udp_client(const struct options *o, const struct target *t)
{
    static unsigned char out[UDP_MAX_PAYLOAD], prev[UDP_MAX_PAYLOAD], in[65536];
    size_t prev_len = 0;
    unsigned long long sent = 0, datagrams = 0, resent = 0;
    struct pattern tx;
    int fd = shunt_socket(t->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    double start = now();

    if (fd < 0) {
        fprintf(stderr, "shunt-echo: udp socket: %s\n", strerror(errno));
        return 1;
    }
    pattern_init(&tx, PATTERN_SEED(0));
    while (sent < o->bytes) {
        size_t len = o->bytes - sent < o->msgsize ? o->bytes - sent : o->msgsize;
        bool echoed = false;

        pattern_fill(&tx, out, len);
        for (int try = 0; try < UDP_TRIES && !echoed; try++) {
            if (try > 0) {
                resent++;
                fprintf(stderr, "shunt-echo: datagram %llu (%zu bytes): no echo in %d ms, sending it again\n",
                        datagrams, len, UDP_WAIT_MS);
            }
            if (shunt_sendto(fd, out, len, 0, (const struct sockaddr *)&t->addr, t->len) != (ssize_t)len) {
                fprintf(stderr, "shunt-echo: datagram %llu (%zu bytes): sendto: %s\n",
                        datagrams, len, strerror(errno));
                goto fail;
            }
            uint32_t revents;
            while (!echoed && wait_for(fd, EPOLLIN, UDP_WAIT_MS, &revents) > 0) {
                struct sockaddr_storage from;
                socklen_t fromlen = sizeof(from);
                ssize_t n = shunt_recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&from, &fromlen);
                if (n < 0) {
                    if (errno == EAGAIN || errno == EINTR)
                        continue;
                    fprintf(stderr, "shunt-echo: datagram %llu: recvfrom: %s\n", datagrams, strerror(errno));
                    goto fail;
                }
                if (!same_addr(&from, &t->addr))
                    continue;               /* not from the server */
                if ((size_t)n == len && memcmp(in, out, len) == 0) {
                    echoed = true;
                } else if ((size_t)n == prev_len && memcmp(in, prev, prev_len) == 0) {
                    continue;               /* a late echo of a datagram sent twice */
                } else {
                    fprintf(stderr, "shunt-echo: datagram %llu: the echo differs: %zd bytes back "
                                    "for %zu sent\n", datagrams, n, len);
                    goto fail;
                }
            }
        }
        if (!echoed) {
            fprintf(stderr, "shunt-echo: datagram %llu (%zu bytes): no echo in %d tries of %d ms\n",
                    datagrams, len, UDP_TRIES, UDP_WAIT_MS);
            goto fail;
        }
        memcpy(prev, out, len);
        prev_len = len;
        sent += len;
        datagrams++;
    }
    double secs = now() - start;
    printf("shunt-echo: verified %llu bytes in %llu datagram%s of %zu bytes in %.2f s (%.1f MB/s), "
           "%llu sent again\n", sent, datagrams, datagrams == 1 ? "" : "s", o->msgsize, secs,
           secs > 0 ? sent / secs / 1e6 : 0.0, resent);
    shunt_close(fd);
    return 0;
fail:
    shunt_close(fd);
    return 1;
}

static int run_client(const struct options *o)
{
    struct target t;

    /* --send goes to the server's check port, --receive to its source
     * port (common/server.h). */
    uint16_t port = o->port + (o->send ? 2 : o->receive ? 3 : 0);

    if (resolve(o->client, port, o->udp ? SOCK_DGRAM : SOCK_STREAM, &t) != 0)
        return 1;
    if (o->udp)
        return udp_client(o, &t);
    if (o->ka.on)
        return keepalive_client(o, &t);
    if (o->abort)
        return abort_client(o, &t);
    return tcp_client(o, &t);
}

/* ---- command line ------------------------------------------------------- */

/* --keepalive IDLE,INTVL,CNT: three counts of seconds (CNT: probes), each 1 or more. */
static int parse_keepalive(const char *arg, void *field)
{
    struct keepalive *ka = field;
    int used = 0;

    if (sscanf(arg, "%d,%d,%d%n", &ka->idle, &ka->intvl, &ka->cnt, &used) != 3 ||
        arg[used] != '\0' || ka->idle < 1 || ka->intvl < 1 || ka->cnt < 1)
        return -1;
    ka->on = true;
    return 0;
}

/* Options given, for the checks below. */
enum { GAVE_BYTES = 1 << 0, GAVE_MSGSIZE = 1 << 1 };

#define AT(field) OPT_AT(struct options, field)

static const struct opt table[] = {
    { 'c', NULL, OPT_STRING, "FILE", AT(config), .help = "stack configuration (default: $SHUNT_CONFIG)" },
    { 0, "instance", OPT_STRING, "I", AT(instance),
      .help = "run only instance I of the configuration's group\n(default: start them all)" },
    { 0, "kernel", OPT_SET, NULL, AT(kernel), .help = "use the kernel's sockets instead of Shunt" },
    { 0, "capture", OPT_STRING, "FILE", AT(capture),
      .help = "write the frames Shunt receives and sends to a pcap file" },
    { 0, "capture-filter", OPT_STRING, "EXPR", AT(capture_filter),
      .help = "only those this tcpdump filter keeps" },
    { 'p', NULL, OPT_UINT, "PORT", AT(port), .min = 0, .max = 65535, .help = "port (default 7)" },
    { 'h', "help", OPT_HELP, .help = "this help" },
    { .kind = OPT_HEADING, .help = "server (TCP and UDP echo on [::]:PORT, IPv4 too):" },
    { 'b', NULL, OPT_UINT, "BACKLOG", AT(backlog), .min = 0, .max = 65535,
      .help = "listen backlog (default 1024)" },
    { 0, "no-accept", OPT_SET, NULL, AT(no_accept),
      .help = "listen but never accept (to fill the backlog)" },
    { 0, "join", OPT_STRING, "GROUP[,IFADDR]", AT(join),
      .help = "join an IPv4 multicast group on the UDP socket" },
    { 0, "one-way", OPT_SET, NULL, AT(one_way),
      .help = "also check a stream sent to PORT+2 (--send)\nand send one from PORT+3 (--receive)" },
    { 0, "nodelay", OPT_SET, NULL, AT(nodelay),
      .help = "TCP_NODELAY on echo connections" },
    { 0, "congestion", OPT_STRING, "NAME", AT(congestion),
      .help = "TCP_CONGESTION NAME on TCP sockets (server or client)" },
    { .kind = OPT_HEADING, .help = "client (sends a pseudo-random stream, verifies the echo byte by byte):" },
    { 0, "client", OPT_STRING, "HOST", AT(client), .help = "the server" },
    { 0, "udp", OPT_SET, NULL, AT(udp), .help = "datagrams instead of TCP" },
    { 'n', NULL, OPT_UINT, "BYTES", AT(bytes), .min = 0, .max = 1ull << 50, .gave = GAVE_BYTES,
      .help = "bytes per connection (TCP, default 1048576) or in all\n(UDP, default 100 datagrams)" },
    { 'm', NULL, OPT_UINT, "MSGSIZE", AT(msgsize), .min = 1, .max = 1 << 24, .gave = GAVE_MSGSIZE,
      .help = "bytes per write (TCP, default 16384) or per datagram\n(UDP, 1..65507, default 1472)" },
    { 0, "conns", OPT_UINT, "N", AT(conns), .min = 1, .max = 1000000,
      .help = "connections at once (default 1)" },
    { 0, "nonblock-connect", OPT_SET, NULL, AT(nonblock_connect),
      .help = "connect without blocking, wait with epoll" },
    { 0, "send", OPT_SET, NULL, AT(send),
      .help = "only send the stream; the server (--one-way)\nchecks it and says how much it got" },
    { 0, "receive", OPT_SET, NULL, AT(receive),
      .help = "only receive the stream, from the server\n(--one-way), and check it" },
    { 0, "keepalive", OPT_CUSTOM, "IDLE,INTVL,CNT", AT(ka), .parse = parse_keepalive,
      .help = "hold one idle connection with keepalive on;\nexit 0 once it fails (the peer is gone)" },
    { 0, "hold", OPT_UINT, "SECONDS", AT(hold), .min = 1, .max = 86400,
      .help = "how long --keepalive waits (default 30)" },
    { 0, "linger", OPT_UINT, "SECONDS", AT(linger), .min = 1, .max = 86400,
      .help = "with --keepalive: once it is done and closed, run on\nthat long (for shunt-stat)" },
    { 0, "abort", OPT_SET, NULL, AT(abort),
      .help = "echo one byte, then close with a reset (SO_LINGER 0)" },
    { 0, "stall", OPT_UINT, "SECONDS", AT(stall), .min = 1, .max = 86400,
      .help = "give up after this long without progress (default 10;\nTCP's backoff under heavy loss can wait longer)" },
};

static const struct opts_spec spec = {
    table, sizeof(table) / sizeof(table[0]),
    "usage: shunt-echo (-c FILE [--instance I] | --kernel) [-p PORT] [-b BACKLOG] [--no-accept]\n"
    "                  [--join GROUP[,IFADDR]] [--one-way] [--nodelay] [--congestion NAME]\n"
    "       shunt-echo (-c FILE | --kernel) --client HOST [-p PORT] [--udp] [-n BYTES]\n"
    "                  [-m MSGSIZE] [--conns N] [--nonblock-connect] [--send | --receive]\n"
    "                  [--congestion NAME]\n"
    "                  [--keepalive IDLE,INTVL,CNT --hold SECONDS [--linger SECONDS]] [--abort]\n"
    "                  [--stall SECONDS]\n"
    "\n",
    20, 0, NULL,
};

/* Which options go together, and the defaults that depend on the mode. */
static int check_options(struct options *o, unsigned gave)
{
    if (o->kernel && o->config) {
        fprintf(stderr, "shunt-echo: -c and --kernel exclude each other\n");
        return -1;
    }
    if (o->kernel && o->capture) {
        fprintf(stderr, "shunt-echo: --capture is Shunt's: use tcpdump on the kernel path\n");
        return -1;
    }
    if (o->capture_filter && !o->capture) {
        fprintf(stderr, "shunt-echo: --capture-filter needs --capture FILE\n");
        return -1;
    }
    if (!o->client && (o->udp || gave != 0 || o->conns != 1 || o->nonblock_connect ||
                       o->ka.on || o->abort || o->send || o->receive || o->stall != STALL_SECONDS)) {
        fprintf(stderr, "shunt-echo: client options need --client HOST\n");
        return -1;
    }
    if (o->client && (o->no_accept || o->join || o->one_way || o->nodelay)) {
        fprintf(stderr, "shunt-echo: --no-accept, --join, --one-way and --nodelay are server options\n");
        return -1;
    }
    if ((o->send || o->receive) && (o->udp || o->ka.on || o->abort || (o->send && o->receive))) {
        fprintf(stderr, "shunt-echo: --send or --receive: a TCP stream one way, not both\n");
        return -1;
    }
    if (o->linger > 0 && !o->ka.on) {
        fprintf(stderr, "shunt-echo: --linger is for --keepalive: add --keepalive IDLE,INTVL,CNT\n");
        return -1;
    }
    if ((o->ka.on || o->abort) && (o->udp || o->conns != 1 || (o->ka.on && o->abort))) {
        fprintf(stderr, "shunt-echo: --keepalive and --abort take one TCP connection, and not both\n");
        return -1;
    }
    if (!(gave & GAVE_MSGSIZE))
        o->msgsize = o->udp ? 1472 : 16384;
    if (o->udp && o->msgsize > UDP_MAX_PAYLOAD) {
        fprintf(stderr, "shunt-echo: -m: a datagram carries at most %d bytes\n", UDP_MAX_PAYLOAD);
        return -1;
    }
    if (!(gave & GAVE_BYTES))
        o->bytes = o->udp ? 100ull * o->msgsize : 1048576;
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    unsigned gave = 0;

    *o = (struct options){ .port = 7, .backlog = 1024, .conns = 1, .hold = 30, .stall = STALL_SECONDS };
    if (opts_parse(&spec, argc, argv, o, &gave) < 0)
        return -1;
    return check_options(o, gave);
}

int main(int argc, char **argv)
{
    struct options o;

    if (parse_options(argc, argv, &o) != 0)
        return 2;
    if (start_sockets(o.kernel, o.config, o.instance) != 0)
        return 1;
    if (o.capture && shunt_capture(o.capture, o.capture_filter) != 0) {
        shunt_exit();
        return 1;
    }

    int rc = o.client ? run_client(&o) : serve(&o);
    if (o.client)
        group_finish();
    shunt_exit();
    return rc;
}
