/*
 * shunt-echo - TCP and UDP echo over Shunt's sockets: a server, and a client
 * that checks every byte it gets back.
 *
 * It is written only against <shunt/socket.h> and <shunt/shunt.h>, the way
 * any program would use Shunt, so the same binary runs over Shunt (-c FILE)
 * or over the kernel's sockets (--kernel) and the two can be compared.
 *
 * Server: one epoll loop serves TCP and UDP on [::]:PORT (IPv4 too):
 *
 *     shunt-echo (-c FILE | --kernel) [-p PORT] [-b BACKLOG] [--no-accept]
 *                [--join GROUP[,IFADDR]]
 *
 * Client: sends a pseudo-random stream and verifies its echo:
 *
 *     shunt-echo (-c FILE | --kernel) --client HOST [-p PORT] [--udp]
 *                [-n BYTES] [-m MSGSIZE] [--conns N] [--nonblock-connect]
 *                [--keepalive IDLE,INTVL,CNT --hold SECONDS] [--abort]
 *
 * Without -c or --kernel the stack's configuration is the file named by
 * $SHUNT_CONFIG.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "shunt/shunt.h"
#include "shunt/socket.h"

#define UDP_MAX_PAYLOAD 65507   /* the most an IPv4 datagram can carry */
#define EPOLL_BATCH     256
#define TICK_MS         100     /* how long epoll_wait may sleep: a stop signal is seen this soon */

struct options {
    const char *config;         /* -c FILE; NULL: $SHUNT_CONFIG */
    bool kernel;                /* --kernel: the kernel's sockets */
    const char *capture;        /* --capture FILE: every frame, to a pcap file */
    const char *capture_filter; /* --capture-filter EXPR: a tcpdump filter */
    uint16_t port;              /* -p */
    int backlog;                /* -b */
    bool no_accept;             /* --no-accept */
    const char *join;           /* --join GROUP[,IFADDR] */

    const char *client;         /* --client HOST: client mode */
    bool udp;                   /* --udp */
    unsigned long long bytes;   /* -n: per connection (TCP), in all (UDP) */
    size_t msgsize;             /* -m: write size (TCP), datagram size (UDP) */
    int conns;                  /* --conns */
    bool nonblock_connect;      /* --nonblock-connect */
    bool keepalive;             /* --keepalive IDLE,INTVL,CNT */
    int ka_idle, ka_intvl, ka_cnt;
    int hold;                   /* --hold SECONDS */
    bool abort;                 /* --abort */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* ---- small helpers ------------------------------------------------------ */

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int set_int_opt(int fd, int level, int name, int value)
{
    return shunt_setsockopt(fd, level, name, &value, sizeof(value));
}

/* The pending error of a socket (SO_ERROR), which also clears it. */
static int socket_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (shunt_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return errno;
    return err;
}

static int set_nonblocking(int fd)
{
    int flags = shunt_fcntl(fd, F_GETFL);

    if (flags < 0)
        return -1;
    return shunt_fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* "[addr]:port" of a socket address, for messages. */
static const char *addr_str(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
        port = ntohs(sin->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
        port = ntohs(sin6->sin6_port);
    }
    snprintf(out, len, "[%s]:%u", host, port);
    return out;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/* Thousands of connections need thousands of descriptors (Shunt's sockets
 * hold real ones too): take the hard limit. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/*
 * The test stream: splitmix64, seeded per connection, read as bytes.  The
 * sender generates it and the receiver regenerates it, so any byte lost,
 * repeated, reordered or corrupted shows up with its offset, and nothing
 * has to be kept in memory.
 */
struct stream {
    uint64_t state;
    uint64_t word;              /* current output word */
    int left;                   /* bytes of word not yet used */
};

static void stream_init(struct stream *s, uint64_t seed)
{
    s->state = seed;
    s->left = 0;
}

static void stream_fill(struct stream *s, unsigned char *p, size_t n)
{
    while (n-- > 0) {
        if (s->left == 0) {
            uint64_t z = (s->state += 0x9E3779B97F4A7C15ull);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            s->word = z ^ (z >> 31);
            s->left = 8;
        }
        *p++ = (unsigned char)s->word;
        s->word >>= 8;
        s->left--;
    }
}

/* ---- server ------------------------------------------------------------- */

/*
 * Per connection, the bytes read but not yet echoed.  When they fill the
 * buffer the connection stops reading (its receive window closes, which is
 * the backpressure) until the peer takes some of the echo.
 */
#define CONN_BUF (64 * 1024)

enum kind { LISTENER, UDP_SOCKET, CONNECTION };

/* What an epoll event points at; the first member of each such object. */
struct endpoint {
    enum kind kind;
    int fd;
};

struct conn {
    struct endpoint ep;
    struct conn *prev, *next;   /* the server's open connections */
    char peer[INET6_ADDRSTRLEN + 8];
    uint32_t events;            /* what epoll watches for now */
    bool eof;                   /* the peer sent FIN: echo the rest, then close */
    size_t head, tail;          /* unsent bytes are buf[head, tail) */
    unsigned char buf[CONN_BUF];
};

struct server {
    int epfd;
    struct endpoint listener, udp;
    struct conn *conns;         /* open connections, closed at exit */
    unsigned long long accepted, closed, resets, failures, tcp_bytes;
    unsigned long long udp_datagrams, udp_bytes, udp_dropped;
    unsigned char dgram[65535];
};

static int watch(int epfd, int op, struct endpoint *ep, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = ep };

    if (shunt_epoll_ctl(epfd, op, ep->fd, &ev) != 0) {
        fprintf(stderr, "shunt-echo: epoll_ctl: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* A socket on [::]:port that takes IPv4 too (IPV6_V6ONLY off). */
static int open_dual_stack(int type, uint16_t port)
{
    struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT,
                                .sin6_port = htons(port) };
    const char *what = type == SOCK_STREAM ? "tcp" : "udp";
    int fd = shunt_socket(AF_INET6, type | SOCK_NONBLOCK, 0);

    if (fd < 0) {
        fprintf(stderr, "shunt-echo: %s socket: %s\n", what, strerror(errno));
        return -1;
    }
    if (set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0) != 0 ||
        set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1) != 0) {
        fprintf(stderr, "shunt-echo: %s setsockopt: %s\n", what, strerror(errno));
        shunt_close(fd);
        return -1;
    }
    if (shunt_bind(fd, (struct sockaddr *)&any, sizeof(any)) != 0) {
        fprintf(stderr, "shunt-echo: %s bind [::]:%u: %s\n", what, port, strerror(errno));
        shunt_close(fd);
        return -1;
    }
    return fd;
}

/* --join GROUP[,IFADDR]: IP_ADD_MEMBERSHIP on the UDP socket.  IFADDR picks
 * the interface; the kernel needs it when its route to GROUP is elsewhere. */
static int join_group(int fd, const char *spec)
{
    char group[INET_ADDRSTRLEN + 1] = "", ifaddr[INET_ADDRSTRLEN + 1] = "";
    const char *comma = strchr(spec, ',');
    struct ip_mreq mreq = { .imr_interface.s_addr = htonl(INADDR_ANY) };

    snprintf(group, sizeof(group), "%.*s",
             (int)(comma ? (size_t)(comma - spec) : strlen(spec)), spec);
    if (comma)
        snprintf(ifaddr, sizeof(ifaddr), "%s", comma + 1);
    if (inet_pton(AF_INET, group, &mreq.imr_multiaddr) != 1 ||
        !IN_MULTICAST(ntohl(mreq.imr_multiaddr.s_addr)) ||
        (comma && inet_pton(AF_INET, ifaddr, &mreq.imr_interface) != 1)) {
        fprintf(stderr, "shunt-echo: --join %s: expected an IPv4 multicast group, "
                        "optionally ',' and an interface address, e.g. 239.1.2.3,10.9.0.2\n", spec);
        return -1;
    }
    if (shunt_setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) != 0) {
        fprintf(stderr, "shunt-echo: IP_ADD_MEMBERSHIP %s: %s\n", spec, strerror(errno));
        return -1;
    }
    return 0;
}

static void conn_close(struct server *srv, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    shunt_epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->ep.fd, NULL);
    shunt_close(c->ep.fd);
    free(c);
    srv->closed++;
}

/* An error ends this connection only: the server goes on with the others. */
static void conn_fail(struct server *srv, struct conn *c, int err)
{
    if (err == ECONNRESET)
        srv->resets++;
    else
        srv->failures++;
    fprintf(stderr, "shunt-echo: tcp %s: %s\n", c->peer, strerror(err));
    conn_close(srv, c);
}

static size_t conn_pending(const struct conn *c)
{
    return c->tail - c->head;
}

/* Read what fits into the buffer.  Returns 0, or -1 if the connection died. */
static int conn_read(struct server *srv, struct conn *c)
{
    if (c->head == c->tail) {
        c->head = c->tail = 0;
    } else if (c->tail == CONN_BUF && c->head > 0) {
        memmove(c->buf, c->buf + c->head, conn_pending(c));
        c->tail -= c->head;
        c->head = 0;
    }
    ssize_t n = shunt_read(c->ep.fd, c->buf + c->tail, CONN_BUF - c->tail);
    if (n > 0) {
        c->tail += n;
        srv->tcp_bytes += n;
    } else if (n == 0) {
        c->eof = true;
    } else if (errno != EAGAIN && errno != EINTR) {
        conn_fail(srv, c, errno);
        return -1;
    }
    return 0;
}

/* Send what is pending until the socket takes no more. */
static int conn_flush(struct server *srv, struct conn *c)
{
    while (conn_pending(c) > 0) {
        ssize_t n = shunt_write(c->ep.fd, c->buf + c->head, conn_pending(c));
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            conn_fail(srv, c, errno);
            return -1;
        }
        c->head += n;
    }
    return 0;
}

/* Watch for input while there is room for it, for output while there is
 * something to send. */
static int conn_rewatch(struct server *srv, struct conn *c)
{
    uint32_t want = 0;

    if (!c->eof && conn_pending(c) < CONN_BUF)
        want |= EPOLLIN;
    if (conn_pending(c) > 0)
        want |= EPOLLOUT;
    if (want == c->events)
        return 0;
    c->events = want;
    return watch(srv->epfd, EPOLL_CTL_MOD, &c->ep, want);
}

static void conn_event(struct server *srv, struct conn *c, uint32_t events)
{
    if (events & EPOLLERR) {
        conn_fail(srv, c, socket_error(c->ep.fd));
        return;
    }
    /* EPOLLHUP without EPOLLIN: a read says why (0 or the error). */
    if ((c->events & EPOLLIN) && (events & (EPOLLIN | EPOLLHUP)) && conn_read(srv, c) != 0)
        return;
    if (conn_flush(srv, c) != 0)
        return;
    if (c->eof && conn_pending(c) == 0) {
        /* The peer is done and has all its echo: our FIN, then let go.
         * shutdown first, so the FIN is explicit even if close would not
         * send it (a descriptor shared elsewhere). */
        if (shunt_shutdown(c->ep.fd, SHUT_WR) != 0 && errno != ENOTCONN) {
            conn_fail(srv, c, errno);
            return;
        }
        conn_close(srv, c);
        return;
    }
    if (conn_rewatch(srv, c) != 0)
        conn_close(srv, c);
}

/* Take every connection waiting (up to a batch, so UDP and the others get
 * their turn). */
static void accept_connections(struct server *srv)
{
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = shunt_accept4(srv->listener.fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK);

        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            if (errno == ECONNABORTED)     /* reset while queued: next */
                continue;
            fprintf(stderr, "shunt-echo: accept: %s\n", strerror(errno));
            return;
        }
        struct conn *c = malloc(sizeof(*c));
        if (c == NULL) {
            fprintf(stderr, "shunt-echo: out of memory for a connection\n");
            shunt_close(fd);
            continue;
        }
        c->ep = (struct endpoint){ .kind = CONNECTION, .fd = fd };
        c->events = EPOLLIN;
        c->eof = false;
        c->head = c->tail = 0;
        addr_str(&ss, c->peer, sizeof(c->peer));
        if (watch(srv->epfd, EPOLL_CTL_ADD, &c->ep, c->events) != 0) {
            shunt_close(fd);
            free(c);
            continue;
        }
        c->prev = NULL;
        c->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = c;
        srv->conns = c;
        srv->accepted++;
    }
}

/* Echo each waiting datagram to where it came from (a batch at a time). */
static void echo_datagrams(struct server *srv)
{
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage from;
        socklen_t len = sizeof(from);
        ssize_t n = shunt_recvfrom(srv->udp.fd, srv->dgram, sizeof(srv->dgram), 0,
                                   (struct sockaddr *)&from, &len);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                fprintf(stderr, "shunt-echo: udp recvfrom: %s\n", strerror(errno));
            return;
        }
        srv->udp_datagrams++;
        srv->udp_bytes += n;
        if (shunt_sendto(srv->udp.fd, srv->dgram, n, 0, (struct sockaddr *)&from, len) < 0) {
            char who[INET6_ADDRSTRLEN + 8];
            srv->udp_dropped++;     /* UDP may drop; say why unless it is just a full queue */
            if (errno != EAGAIN)
                fprintf(stderr, "shunt-echo: udp sendto %s: %s\n",
                        addr_str(&from, who, sizeof(who)), strerror(errno));
        }
    }
}

static int serve(const struct options *o)
{
    struct server *srv = calloc(1, sizeof(*srv));
    struct epoll_event events[EPOLL_BATCH];
    int rc = 1;

    if (srv == NULL)
        return 1;
    srv->listener = (struct endpoint){ .kind = LISTENER, .fd = -1 };
    srv->udp = (struct endpoint){ .kind = UDP_SOCKET, .fd = -1 };
    srv->epfd = shunt_epoll_create1(0);
    if (srv->epfd < 0) {
        fprintf(stderr, "shunt-echo: epoll_create1: %s\n", strerror(errno));
        goto out;
    }
    srv->listener.fd = open_dual_stack(SOCK_STREAM, o->port);
    if (srv->listener.fd < 0)
        goto out;
    if (shunt_listen(srv->listener.fd, o->backlog) != 0) {
        fprintf(stderr, "shunt-echo: listen: %s\n", strerror(errno));
        goto out;
    }
    srv->udp.fd = open_dual_stack(SOCK_DGRAM, o->port);
    if (srv->udp.fd < 0 || (o->join && join_group(srv->udp.fd, o->join) != 0))
        goto out;
    /* --no-accept leaves connections in the listen queue, to overflow it. */
    if ((!o->no_accept && watch(srv->epfd, EPOLL_CTL_ADD, &srv->listener, EPOLLIN) != 0) ||
        watch(srv->epfd, EPOLL_CTL_ADD, &srv->udp, EPOLLIN) != 0)
        goto out;

    printf("shunt-echo: running: tcp and udp echo on port %u%s%s%s; SIGINT or SIGTERM stops it\n",
           o->port, o->no_accept ? ", not accepting" : "",
           o->join ? ", joined " : "", o->join ? o->join : "");
    fflush(stdout);

    while (!stop) {
        int n = shunt_epoll_wait(srv->epfd, events, EPOLL_BATCH, TICK_MS);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "shunt-echo: epoll_wait: %s\n", strerror(errno));
            goto out;
        }
        for (int i = 0; i < n; i++) {
            struct endpoint *ep = events[i].data.ptr;
            switch (ep->kind) {
            case LISTENER:
                accept_connections(srv);
                break;
            case UDP_SOCKET:
                echo_datagrams(srv);
                break;
            case CONNECTION:
                conn_event(srv, (struct conn *)ep, events[i].events);
                break;
            }
        }
    }
    rc = 0;
out:
    printf("shunt-echo: tcp: %llu connections accepted, %llu closed, %llu reset by the peer, "
           "%llu failed, %llu bytes echoed; udp: %llu datagrams (%llu bytes) echoed, %llu not\n",
           srv->accepted, srv->closed, srv->resets, srv->failures, srv->tcp_bytes,
           srv->udp_datagrams, srv->udp_bytes, srv->udp_dropped);
    while (srv->conns)
        conn_close(srv, srv->conns);
    if (srv->udp.fd >= 0)
        shunt_close(srv->udp.fd);
    if (srv->listener.fd >= 0)
        shunt_close(srv->listener.fd);
    if (srv->epfd >= 0)
        shunt_close(srv->epfd);
    free(srv);
    return rc;
}

/* ---- client ------------------------------------------------------------- */

struct target {
    struct sockaddr_storage addr;
    socklen_t len;
    char name[INET6_ADDRSTRLEN + 8];
};

static int resolve(const char *host, uint16_t port, int type, struct target *t)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = type }, *ai;
    int err = getaddrinfo(host, NULL, &hints, &ai);

    if (err != 0) {
        fprintf(stderr, "shunt-echo: %s: %s\n", host, gai_strerror(err));
        return -1;
    }
    memcpy(&t->addr, ai->ai_addr, ai->ai_addrlen);
    t->len = ai->ai_addrlen;
    freeaddrinfo(ai);
    if (t->addr.ss_family == AF_INET)
        ((struct sockaddr_in *)&t->addr)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&t->addr)->sin6_port = htons(port);
    addr_str(&t->addr, t->name, sizeof(t->name));
    return 0;
}

/* One client connection: the stream it sends, and the stream it expects. */
struct client_conn {
    int fd;
    int index;
    bool connecting;            /* non-blocking connect under way */
    bool sent_all;              /* all sent, and SHUT_WR done */
    bool done;                  /* the whole echo and then EOF came back */
    uint32_t events;
    struct stream tx, rx;
    unsigned long long generated, sent, received;
    size_t chunk_off, chunk_len; /* unsent part of the current write is chunk[off, len) */
    unsigned char *chunk;
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
    struct epoll_event ev = { .events = want, .data.ptr = c };
    int op = c->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;

    if (want == c->events)
        return 0;
    if (shunt_epoll_ctl(cl->epfd, op, c->fd, &ev) != 0) {
        fprintf(stderr, "shunt-echo: epoll_ctl: %s\n", strerror(errno));
        return -1;
    }
    c->events = want;
    return 0;
}

/* Write the stream until the socket takes no more; after the last byte,
 * shut down the sending side: the server echoes what is left and closes. */
static int client_send(struct client *cl, struct client_conn *c)
{
    const struct options *o = cl->o;

    while (!c->sent_all) {
        if (c->chunk_off == c->chunk_len) {
            if (c->generated == o->bytes) {
                if (shunt_shutdown(c->fd, SHUT_WR) != 0) {
                    fprintf(stderr, "shunt-echo: connection %d: shutdown: %s\n", c->index, strerror(errno));
                    return -1;
                }
                c->sent_all = true;
                return client_watch(cl, c, EPOLLIN);
            }
            c->chunk_len = o->bytes - c->generated < o->msgsize ? o->bytes - c->generated : o->msgsize;
            c->chunk_off = 0;
            stream_fill(&c->tx, c->chunk, c->chunk_len);
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
        c->sent += n;
    }
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
    if (n == 0) {
        if (c->received != cl->o->bytes) {
            fprintf(stderr, "shunt-echo: connection %d: the echo ended after %llu of %llu bytes\n",
                    c->index, c->received, cl->o->bytes);
            return -1;
        }
        c->done = true;
        cl->done++;
        shunt_epoll_ctl(cl->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        shunt_close(c->fd);
        c->fd = -1;
        return 0;
    }
    if (c->received + n > c->sent) {
        fprintf(stderr, "shunt-echo: connection %d: %llu bytes of echo, but only %llu sent\n",
                c->index, c->received + n, c->sent);
        return -1;
    }
    stream_fill(&c->rx, cl->expect, n);
    if (memcmp(cl->rbuf, cl->expect, n) != 0) {
        ssize_t i = 0;
        while (cl->rbuf[i] == cl->expect[i])
            i++;
        fprintf(stderr, "shunt-echo: connection %d: the echo differs at offset %llu: "
                        "got 0x%02x, sent 0x%02x\n",
                c->index, c->received + i, cl->rbuf[i], cl->expect[i]);
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
        c->chunk = malloc(o->msgsize);
        if (c->chunk == NULL) {
            fprintf(stderr, "shunt-echo: out of memory\n");
            return -1;
        }
        stream_init(&c->tx, 0x5348554E54ull + i);   /* "SHUNT" + i */
        stream_init(&c->rx, 0x5348554E54ull + i);
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
#define STALL_SECONDS 10

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
        } else if (now() - last_progress > STALL_SECONDS) {
            for (int i = 0; i < o->conns; i++) {
                struct client_conn *c = &cl->conns[i];
                if (!c->done) {
                    fprintf(stderr, "shunt-echo: connection %d: stalled for %d s: %s, "
                                    "%llu bytes sent, %llu echoed of %llu\n",
                            i, STALL_SECONDS, c->connecting ? "still connecting" : "connected",
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
    printf("shunt-echo: verified %llu bytes over %d connection%s in %.2f s (%.1f MB/s)\n",
           total, o->conns, o->conns == 1 ? "" : "s", secs, secs > 0 ? total / secs / 1e6 : 0.0);
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
    if (wait_for(fd, EPOLLOUT, STALL_SECONDS * 1000, &revents) <= 0) {
        fprintf(stderr, "shunt-echo: connection 0: connect: no answer within %d s\n", STALL_SECONDS);
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
        set_int_opt(fd, IPPROTO_TCP, TCP_KEEPIDLE, o->ka_idle) != 0 ||
        set_int_opt(fd, IPPROTO_TCP, TCP_KEEPINTVL, o->ka_intvl) != 0 ||
        set_int_opt(fd, IPPROTO_TCP, TCP_KEEPCNT, o->ka_cnt) != 0) {
        fprintf(stderr, "shunt-echo: keepalive options: %s\n", strerror(errno));
        shunt_close(fd);
        return 1;
    }
    printf("shunt-echo: connected to %s, holding it idle up to %d s, keepalive %d,%d,%d\n",
           t->name, o->hold, o->ka_idle, o->ka_intvl, o->ka_cnt);
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
    return rc;
}

/* --abort: one echo, so the server has surely accepted, then close with a
 * reset (SO_LINGER on, timeout 0). */
static int abort_client(const struct options *o, const struct target *t)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    uint32_t revents;
    char c = 'x';
    int fd = connect_one(o, t);

    if (fd < 0)
        return 1;
    if (shunt_write(fd, &c, 1) != 1 ||
        wait_for(fd, EPOLLIN, STALL_SECONDS * 1000, &revents) <= 0 ||
        shunt_read(fd, &c, 1) != 1) {
        fprintf(stderr, "shunt-echo: --abort: no echo of one byte: %s\n", strerror(errno));
        shunt_close(fd);
        return 1;
    }
    if (shunt_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0) {
        fprintf(stderr, "shunt-echo: SO_LINGER: %s\n", strerror(errno));
        shunt_close(fd);
        return 1;
    }
    if (shunt_close(fd) != 0) {
        fprintf(stderr, "shunt-echo: close: %s\n", strerror(errno));
        return 1;
    }
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
    struct stream tx;
    int fd = shunt_socket(t->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    double start = now();

    if (fd < 0) {
        fprintf(stderr, "shunt-echo: udp socket: %s\n", strerror(errno));
        return 1;
    }
    stream_init(&tx, 0x5348554E54ull);
    while (sent < o->bytes) {
        size_t len = o->bytes - sent < o->msgsize ? o->bytes - sent : o->msgsize;
        bool echoed = false;

        stream_fill(&tx, out, len);
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

    if (resolve(o->client, o->port, o->udp ? SOCK_DGRAM : SOCK_STREAM, &t) != 0)
        return 1;
    if (o->udp)
        return udp_client(o, &t);
    if (o->keepalive)
        return keepalive_client(o, &t);
    if (o->abort)
        return abort_client(o, &t);
    return tcp_client(o, &t);
}

/* ---- command line ------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: shunt-echo (-c FILE | --kernel) [-p PORT] [-b BACKLOG] [--no-accept]\n"
        "                  [--join GROUP[,IFADDR]]\n"
        "       shunt-echo (-c FILE | --kernel) --client HOST [-p PORT] [--udp] [-n BYTES]\n"
        "                  [-m MSGSIZE] [--conns N] [--nonblock-connect]\n"
        "                  [--keepalive IDLE,INTVL,CNT --hold SECONDS] [--abort]\n"
        "\n"
        "  -c FILE           stack configuration (default: $SHUNT_CONFIG)\n"
        "  --kernel          use the kernel's sockets instead of Shunt\n"
        "  --capture FILE    write the frames Shunt receives and sends to a pcap file\n"
        "  --capture-filter EXPR  only those this tcpdump filter keeps\n"
        "  -p PORT           port (default 7)\n"
        "server (TCP and UDP echo on [::]:PORT, IPv4 too):\n"
        "  -b BACKLOG        listen backlog (default 1024)\n"
        "  --no-accept       listen but never accept (to fill the backlog)\n"
        "  --join GROUP[,IFADDR]  join an IPv4 multicast group on the UDP socket\n"
        "client (sends a pseudo-random stream, verifies the echo byte by byte):\n"
        "  --client HOST     the server\n"
        "  --udp             datagrams instead of TCP\n"
        "  -n BYTES          bytes per connection (TCP, default 1048576) or in all\n"
        "                    (UDP, default 100 datagrams)\n"
        "  -m MSGSIZE        bytes per write (TCP, default 16384) or per datagram\n"
        "                    (UDP, 1..65507, default 1472)\n"
        "  --conns N         connections at once (default 1)\n"
        "  --nonblock-connect  connect without blocking, wait with epoll\n"
        "  --keepalive IDLE,INTVL,CNT  hold one idle connection with keepalive on;\n"
        "                    exit 0 once it fails (the peer is gone)\n"
        "  --hold SECONDS    how long --keepalive waits (default 30)\n"
        "  --abort           echo one byte, then close with a reset (SO_LINGER 0)\n");
}

static bool parse_number(const char *s, unsigned long long min, unsigned long long max,
                         unsigned long long *out)
{
    char *end;

    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' && s[0] != '-' && *out >= min && *out <= max;
}

enum { OPT_KERNEL = 256, OPT_CAPTURE, OPT_CAPTURE_FILTER, OPT_NO_ACCEPT, OPT_JOIN, OPT_CLIENT, OPT_UDP, OPT_CONNS,
       OPT_NONBLOCK_CONNECT, OPT_KEEPALIVE, OPT_HOLD, OPT_ABORT };

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "kernel", no_argument, NULL, OPT_KERNEL },
        { "capture", required_argument, NULL, OPT_CAPTURE },
        { "capture-filter", required_argument, NULL, OPT_CAPTURE_FILTER },
        { "no-accept", no_argument, NULL, OPT_NO_ACCEPT },
        { "join", required_argument, NULL, OPT_JOIN },
        { "client", required_argument, NULL, OPT_CLIENT },
        { "udp", no_argument, NULL, OPT_UDP },
        { "conns", required_argument, NULL, OPT_CONNS },
        { "nonblock-connect", no_argument, NULL, OPT_NONBLOCK_CONNECT },
        { "keepalive", required_argument, NULL, OPT_KEEPALIVE },
        { "hold", required_argument, NULL, OPT_HOLD },
        { "abort", no_argument, NULL, OPT_ABORT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool have_n = false, have_m = false;
    unsigned long long v;
    int opt;

    *o = (struct options){ .port = 7, .backlog = 1024, .conns = 1, .hold = 30 };
    while ((opt = getopt_long(argc, argv, "c:p:b:n:m:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': o->config = optarg; break;
        case OPT_KERNEL: o->kernel = true; break;
        case OPT_CAPTURE: o->capture = optarg; break;
        case OPT_CAPTURE_FILTER: o->capture_filter = optarg; break;
        case 'p':
            if (!parse_number(optarg, 0, 65535, &v))
                goto bad;
            o->port = v;
            break;
        case 'b':
            if (!parse_number(optarg, 0, 65535, &v))
                goto bad;
            o->backlog = v;
            break;
        case OPT_NO_ACCEPT: o->no_accept = true; break;
        case OPT_JOIN: o->join = optarg; break;
        case OPT_CLIENT: o->client = optarg; break;
        case OPT_UDP: o->udp = true; break;
        case 'n':
            if (!parse_number(optarg, 0, 1ull << 50, &o->bytes))
                goto bad;
            have_n = true;
            break;
        case 'm':
            if (!parse_number(optarg, 1, 1 << 24, &v))
                goto bad;
            o->msgsize = v;
            have_m = true;
            break;
        case OPT_CONNS:
            if (!parse_number(optarg, 1, 1000000, &v))
                goto bad;
            o->conns = v;
            break;
        case OPT_NONBLOCK_CONNECT: o->nonblock_connect = true; break;
        case OPT_KEEPALIVE:
            if (sscanf(optarg, "%d,%d,%d", &o->ka_idle, &o->ka_intvl, &o->ka_cnt) != 3 ||
                o->ka_idle < 1 || o->ka_intvl < 1 || o->ka_cnt < 1)
                goto bad;
            o->keepalive = true;
            break;
        case OPT_HOLD:
            if (!parse_number(optarg, 1, 86400, &v))
                goto bad;
            o->hold = v;
            break;
        case OPT_ABORT: o->abort = true; break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "shunt-echo: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
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
    if (!o->client && (o->udp || have_n || have_m || o->conns != 1 || o->nonblock_connect ||
                       o->keepalive || o->abort)) {
        fprintf(stderr, "shunt-echo: client options need --client HOST\n");
        return -1;
    }
    if (o->client && (o->no_accept || o->join)) {
        fprintf(stderr, "shunt-echo: --no-accept and --join are server options\n");
        return -1;
    }
    if ((o->keepalive || o->abort) && (o->udp || o->conns != 1 || (o->keepalive && o->abort))) {
        fprintf(stderr, "shunt-echo: --keepalive and --abort take one TCP connection, and not both\n");
        return -1;
    }
    if (!have_m)
        o->msgsize = o->udp ? 1472 : 16384;
    if (o->udp && o->msgsize > UDP_MAX_PAYLOAD) {
        fprintf(stderr, "shunt-echo: -m: a datagram carries at most %d bytes\n", UDP_MAX_PAYLOAD);
        return -1;
    }
    if (!have_n)
        o->bytes = o->udp ? 100ull * o->msgsize : 1048576;
    return 0;
bad:
    fprintf(stderr, "shunt-echo: bad value '%s' for %s\n", optarg, argv[optind - 1]);
    usage(stderr);
    return -1;
}

int main(int argc, char **argv)
{
    struct options o;

    if (parse_options(argc, argv, &o) != 0)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    raise_fd_limit();
    /* A peer that resets while we write must give EPIPE, not kill us. */
    signal(SIGPIPE, SIG_IGN);

    if ((o.kernel ? shunt_init_kernel() : shunt_init(o.config)) != 0)
        return 1;
    if (o.capture && shunt_capture(o.capture, o.capture_filter) != 0) {
        shunt_exit();
        return 1;
    }
    /* No SA_RESTART: a signal also cuts a kernel epoll_wait short. */
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int rc = o.client ? run_client(&o) : serve(&o);
    shunt_exit();
    return rc;
}
