/*
 * shunt-perf - latency and throughput over Shunt's sockets or the kernel's,
 * in the manner of sockperf: one binary, so both paths run the same code.
 *
 *     shunt-perf server    (-c FILE | --kernel) [-p PORT] [--poll epoll|block]
 *     shunt-perf ping-pong (-c FILE | --kernel) [--tcp|--udp] [-m SIZE] [--mps RATE]
 *                          [--poll recv|epoll|block] [--timeout MS] [COMMON] HOST
 *     shunt-perf rr        (-c FILE | --kernel) [--conns N] [-m SIZE] [--poll epoll|block]
 *                          [COMMON] HOST
 *     shunt-perf connrate  (-c FILE | --kernel) [-m SIZE] [COMMON] HOST
 *     shunt-perf stream    (-c FILE | --kernel) [--tcp|--udp] [-m SIZE]
 *                          [--poll recv|epoll|block] [COMMON] HOST
 *     COMMON: [-p PORT] [-t SECONDS | -n COUNT] [--warmup SECONDS]
 *             [--json FILE] [--csv FILE] [--label TEXT] [-q]
 *
 * The server echoes TCP and UDP on PORT (TCP_NODELAY on) and discards them
 * on PORT+1, where it also counts each UDP stream's datagrams so the client
 * can ask how many arrived.  The clients:
 *   ping-pong  one message out, its echo back, again: round-trip times;
 *   rr         N connections, each with one request out at a time: requests/s;
 *   connrate   connect, one request and its response, close: connections/s;
 *   stream     messages to the discard port as fast as they go: Gbit/s, and
 *              for UDP how many were lost.
 * Every round trip (request, connection) goes into a histogram, none is
 * sampled; the first --warmup seconds are run but not counted.
 *
 * Busy polling: --poll recv reads the socket without blocking in a loop,
 * --poll epoll asks epoll_wait with timeout 0 in a loop, --poll block lets
 * the call block.  On Shunt's path the program turns the poll loop itself
 * when a non-blocking read finds nothing (shunt_poll), and epoll_wait and
 * blocking calls turn it for it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
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
#include <unistd.h>

#include "shunt/shunt.h"
#include "shunt/socket.h"

#include "cycles.h"
#include "histogram.h"
#include "report.h"

#define PROG            "shunt-perf"
#define DEFAULT_PORT    11111
#define UDP_MAX_PAYLOAD 65507       /* the most an IPv4 datagram carries */
#define TCP_MAX_ECHO    65536       /* the server's echo buffer per connection */
#define STREAM_MAX      (1 << 20)
#define EPOLL_BATCH     256
#define TICK_MS         100         /* longest sleep of a blocking wait: stop is seen this soon */
#define STALL_SECONDS   10          /* no answer for this long ends a TCP client */

enum test { SERVER, PING_PONG, RR, CONNRATE, STREAM };
enum poll_method { POLL_RECV, POLL_EPOLL, POLL_BLOCK };

static const char *const test_names[] = { "server", "ping-pong", "rr", "connrate", "stream" };
static const char *const poll_names[] = { "recv", "epoll", "block" };

struct options {
    enum test test;
    const char *config;         /* -c FILE; NULL: $SHUNT_CONFIG */
    bool kernel;                /* --kernel */
    const char *host;           /* the server (clients) */
    uint16_t port;              /* -p: echo; PORT+1 discards */
    bool udp;                   /* --udp */
    size_t size;                /* -m */
    double seconds;             /* -t, measured */
    uint64_t count;             /* -n, measured; 0: by time */
    double warmup;              /* --warmup */
    double mps;                 /* --mps; 0: as fast as possible */
    enum poll_method poll;      /* --poll */
    int conns;                  /* --conns */
    int timeout_ms;             /* --timeout: a UDP echo later than this is lost */
    bool rst;                   /* --rst: connrate closes with a reset */
    const char *json, *csv, *label;
    bool quiet;                 /* -q: no progress */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* ---- small helpers ------------------------------------------------------ */

static int set_int_opt(int fd, int level, int name, int value)
{
    return shunt_setsockopt(fd, level, name, &value, sizeof(value));
}

static int set_nonblocking(int fd)
{
    int flags = shunt_fcntl(fd, F_GETFL);

    if (flags < 0)
        return -1;
    return shunt_fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int socket_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (shunt_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return errno;
    return err;
}

/* Many rr connections need many descriptors (Shunt's sockets hold real
 * ones too): take the hard limit. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Put seq in the first bytes of a message (as many as fit, up to 8), so an
 * echo can be matched to its request. */
static void stamp(unsigned char *msg, size_t size, uint64_t seq)
{
    uint64_t le = htole64(seq);

    memcpy(msg, &le, size < 8 ? size : 8);
}

static bool stamped(const unsigned char *msg, size_t size, uint64_t seq)
{
    unsigned char want[8];
    uint64_t le = htole64(seq);

    memcpy(want, &le, 8);
    return memcmp(msg, want, size < 8 ? size : 8) == 0;
}

/* ---- the UDP stream protocol (discard port) ------------------------------ */

/*
 * Each datagram of a UDP stream starts with this header.  The client's run
 * id keeps its warm-up apart from the measured run; after the run it sends
 * REPORT and the server answers with what it counted for that run.
 */
#define STREAM_DATA     0x53504431u     /* "SPD1" */
#define STREAM_REPORT   0x53505231u     /* "SPR1" */
#define STREAM_ANSWER   0x53504131u     /* "SPA1" */

struct stream_hdr {
    uint32_t magic;
    uint32_t run;
    uint64_t seq;
};

struct stream_answer {
    struct stream_hdr h;
    uint64_t received;
    uint64_t out_of_order;
};

/* ---- server --------------------------------------------------------------- */

#define FLOWS 16                /* UDP streams counted at once; the oldest goes */

enum kind { ECHO_LISTENER, DISCARD_LISTENER, ECHO_UDP, DISCARD_UDP, ECHO_CONN, DISCARD_CONN };

/* What an epoll event points at: the first member of each such object. */
struct endpoint {
    enum kind kind;
    int fd;
};

struct conn {
    struct endpoint ep;
    struct conn *prev, *next;
    uint32_t events;            /* what epoll watches for now */
    bool eof;                   /* the peer is done: echo the rest, then close */
    size_t head, tail;          /* echo pending: buf[head, tail) */
    unsigned char buf[];        /* TCP_MAX_ECHO bytes, echo connections only */
};

struct flow {
    bool used;
    struct sockaddr_storage from;
    uint32_t run;
    uint64_t received, out_of_order, next_seq, last_used;
};

struct server {
    const struct options *o;
    int epfd;
    struct endpoint listeners[2], udp[2];
    struct conn *conns;
    struct flow flows[FLOWS];
    uint64_t flow_clock;
    unsigned long long accepted, echoed_bytes, echoed_dgrams, discarded_bytes, discarded_dgrams, errors;
    unsigned char dgram[65536];
};

static int watch(int epfd, int op, struct endpoint *ep, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = ep };

    if (shunt_epoll_ctl(epfd, op, ep->fd, &ev) != 0) {
        fprintf(stderr, PROG ": epoll_ctl: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* A socket on [::]:port that takes IPv4 too. */
static int open_server_socket(int type, uint16_t port)
{
    struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT,
                                .sin6_port = htons(port) };
    const char *what = type == SOCK_STREAM ? "tcp" : "udp";
    int fd = shunt_socket(AF_INET6, type | SOCK_NONBLOCK, 0);

    if (fd < 0) {
        fprintf(stderr, PROG ": %s socket: %s\n", what, strerror(errno));
        return -1;
    }
    if (set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0) != 0 ||
        set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1) != 0) {
        fprintf(stderr, PROG ": %s setsockopt: %s\n", what, strerror(errno));
        shunt_close(fd);
        return -1;
    }
    if (shunt_bind(fd, (struct sockaddr *)&any, sizeof(any)) != 0 ||
        (type == SOCK_STREAM && shunt_listen(fd, 4096) != 0)) {
        fprintf(stderr, PROG ": %s port %u: %s\n", what, port, strerror(errno));
        shunt_close(fd);
        return -1;
    }
    return fd;
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
}

/* A connection that fails ends alone; resets are what clients that stop
 * early do, so only other errors are worth a line. */
static void conn_fail(struct server *srv, struct conn *c, int err)
{
    if (err != ECONNRESET && err != EPIPE) {
        srv->errors++;
        fprintf(stderr, PROG ": connection: %s\n", strerror(err));
    }
    conn_close(srv, c);
}

static void accept_all(struct server *srv, struct endpoint *listener)
{
    bool echo = listener->kind == ECHO_LISTENER;

    for (int i = 0; i < 64; i++) {
        int fd = shunt_accept4(listener->fd, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
            if (errno == ECONNABORTED)
                continue;
            return;
        }
        /* Echoes leave at once; a discarding connection sends nothing. */
        if (echo && set_int_opt(fd, IPPROTO_TCP, TCP_NODELAY, 1) != 0) {
            fprintf(stderr, PROG ": TCP_NODELAY: %s\n", strerror(errno));
            shunt_close(fd);
            continue;
        }
        struct conn *c = malloc(sizeof(*c) + (echo ? TCP_MAX_ECHO : 0));
        if (c == NULL) {
            fprintf(stderr, PROG ": out of memory for a connection\n");
            shunt_close(fd);
            continue;
        }
        *c = (struct conn){ .ep = { echo ? ECHO_CONN : DISCARD_CONN, fd }, .events = EPOLLIN };
        if (watch(srv->epfd, EPOLL_CTL_ADD, &c->ep, c->events) != 0) {
            shunt_close(fd);
            free(c);
            continue;
        }
        c->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = c;
        srv->conns = c;
        srv->accepted++;
    }
}

/* Echo: read what fits, write what is pending, watch for what is next.
 * While the buffer is full the connection is not read: its window closes. */
static void echo_conn(struct server *srv, struct conn *c, uint32_t events)
{
    if (events & EPOLLERR)
        return conn_fail(srv, c, socket_error(c->ep.fd));
    if ((c->events & EPOLLIN) && (events & (EPOLLIN | EPOLLHUP))) {
        if (c->head == c->tail)
            c->head = c->tail = 0;
        ssize_t n = shunt_read(c->ep.fd, c->buf + c->tail, TCP_MAX_ECHO - c->tail);
        if (n > 0)
            c->tail += (size_t)n;
        else if (n == 0)
            c->eof = true;
        else if (errno != EAGAIN && errno != EINTR)
            return conn_fail(srv, c, errno);
    }
    while (c->head < c->tail) {
        ssize_t n = shunt_write(c->ep.fd, c->buf + c->head, c->tail - c->head);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            return conn_fail(srv, c, errno);
        }
        c->head += (size_t)n;
        srv->echoed_bytes += (size_t)n;
    }
    if (c->eof && c->head == c->tail)
        return conn_close(srv, c);
    uint32_t want = (!c->eof && c->tail < TCP_MAX_ECHO ? EPOLLIN : 0) |
                    (c->head < c->tail ? EPOLLOUT : 0);
    if (want != c->events) {
        c->events = want;
        if (watch(srv->epfd, EPOLL_CTL_MOD, &c->ep, want) != 0)
            conn_close(srv, c);
    }
}

static void discard_conn(struct server *srv, struct conn *c, uint32_t events)
{
    if (events & EPOLLERR)
        return conn_fail(srv, c, socket_error(c->ep.fd));
    for (int i = 0; i < 16; i++) {
        ssize_t n = shunt_read(c->ep.fd, srv->dgram, sizeof(srv->dgram));
        if (n > 0) {
            srv->discarded_bytes += (size_t)n;
            continue;
        }
        if (n == 0)
            return conn_close(srv, c);
        if (errno != EAGAIN && errno != EINTR)
            return conn_fail(srv, c, errno);
        return;
    }
}

static void echo_datagrams(struct server *srv, int fd)
{
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage from;
        socklen_t len = sizeof(from);
        ssize_t n = shunt_recvfrom(fd, srv->dgram, sizeof(srv->dgram), 0, (struct sockaddr *)&from, &len);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                fprintf(stderr, PROG ": udp recvfrom: %s\n", strerror(errno));
            return;
        }
        if (shunt_sendto(fd, srv->dgram, (size_t)n, 0, (struct sockaddr *)&from, len) == n)
            srv->echoed_dgrams++;
        else if (errno != EAGAIN && errno != ENOBUFS)
            fprintf(stderr, PROG ": udp sendto: %s\n", strerror(errno));
    }
}

static bool same_sender(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

/* The flow a datagram belongs to; a new one takes the least recently used
 * slot.  create false: NULL if there is none. */
static struct flow *find_flow(struct server *srv, const struct sockaddr_storage *from,
                              uint32_t run, bool create)
{
    struct flow *oldest = &srv->flows[0];

    for (int i = 0; i < FLOWS; i++) {
        struct flow *f = &srv->flows[i];
        if (f->used && f->run == run && same_sender(&f->from, from)) {
            f->last_used = ++srv->flow_clock;
            return f;
        }
        if (!f->used || (oldest->used && f->last_used < oldest->last_used))
            oldest = f;
    }
    if (!create)
        return NULL;
    *oldest = (struct flow){ .used = true, .from = *from, .run = run, .last_used = ++srv->flow_clock };
    return oldest;
}

static void count_stream_datagram(struct server *srv, const struct stream_hdr *h,
                                  const struct sockaddr_storage *from)
{
    struct flow *f = find_flow(srv, from, be32toh(h->run), true);
    uint64_t seq = be64toh(h->seq);

    f->received++;
    if (seq < f->next_seq)
        f->out_of_order++;
    else
        f->next_seq = seq + 1;
}

static void answer_report(struct server *srv, int fd, const struct stream_hdr *h,
                          const struct sockaddr_storage *from, socklen_t len)
{
    struct flow *f = find_flow(srv, from, be32toh(h->run), false);
    struct stream_answer a = {
        .h = { htobe32(STREAM_ANSWER), h->run, 0 },
        .received = htobe64(f ? f->received : 0),
        .out_of_order = htobe64(f ? f->out_of_order : 0),
    };

    if (shunt_sendto(fd, &a, sizeof(a), 0, (const struct sockaddr *)from, len) != sizeof(a))
        fprintf(stderr, PROG ": udp report: %s\n", strerror(errno));
}

static void discard_datagrams(struct server *srv, int fd)
{
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage from;
        socklen_t len = sizeof(from);
        ssize_t n = shunt_recvfrom(fd, srv->dgram, sizeof(srv->dgram), 0, (struct sockaddr *)&from, &len);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                fprintf(stderr, PROG ": udp recvfrom: %s\n", strerror(errno));
            return;
        }
        srv->discarded_dgrams++;
        if ((size_t)n < sizeof(struct stream_hdr))
            continue;
        struct stream_hdr h;
        memcpy(&h, srv->dgram, sizeof(h));
        if (be32toh(h.magic) == STREAM_DATA)
            count_stream_datagram(srv, &h, &from);
        else if (be32toh(h.magic) == STREAM_REPORT)
            answer_report(srv, fd, &h, &from, len);
    }
}

static void server_event(struct server *srv, struct endpoint *ep, uint32_t events)
{
    switch (ep->kind) {
    case ECHO_LISTENER:
    case DISCARD_LISTENER:
        accept_all(srv, ep);
        break;
    case ECHO_UDP:
        echo_datagrams(srv, ep->fd);
        break;
    case DISCARD_UDP:
        discard_datagrams(srv, ep->fd);
        break;
    case ECHO_CONN:
        echo_conn(srv, (struct conn *)ep, events);
        break;
    case DISCARD_CONN:
        discard_conn(srv, (struct conn *)ep, events);
        break;
    }
}

static int server_open(struct server *srv)
{
    const uint16_t ports[2] = { srv->o->port, (uint16_t)(srv->o->port + 1) };

    srv->epfd = shunt_epoll_create1(0);
    if (srv->epfd < 0) {
        fprintf(stderr, PROG ": epoll_create1: %s\n", strerror(errno));
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        srv->listeners[i] = (struct endpoint){ i == 0 ? ECHO_LISTENER : DISCARD_LISTENER,
                                               open_server_socket(SOCK_STREAM, ports[i]) };
        srv->udp[i] = (struct endpoint){ i == 0 ? ECHO_UDP : DISCARD_UDP,
                                         open_server_socket(SOCK_DGRAM, ports[i]) };
        if (srv->listeners[i].fd < 0 || srv->udp[i].fd < 0 ||
            watch(srv->epfd, EPOLL_CTL_ADD, &srv->listeners[i], EPOLLIN) != 0 ||
            watch(srv->epfd, EPOLL_CTL_ADD, &srv->udp[i], EPOLLIN) != 0)
            return -1;
    }
    return 0;
}

static void server_close(struct server *srv)
{
    while (srv->conns)
        conn_close(srv, srv->conns);
    for (int i = 0; i < 2; i++) {
        if (srv->listeners[i].fd >= 0)
            shunt_close(srv->listeners[i].fd);
        if (srv->udp[i].fd >= 0)
            shunt_close(srv->udp[i].fd);
    }
    if (srv->epfd >= 0)
        shunt_close(srv->epfd);
}

static int serve(const struct options *o)
{
    struct server *srv = calloc(1, sizeof(*srv));
    struct epoll_event events[EPOLL_BATCH];
    /* Busy: epoll_wait never sleeps (on Shunt each call is a loop turn). */
    int timeout = o->poll == POLL_BLOCK ? TICK_MS : 0;
    int rc = 1;

    if (srv == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    srv->o = o;
    srv->epfd = srv->listeners[0].fd = srv->listeners[1].fd = srv->udp[0].fd = srv->udp[1].fd = -1;
    if (server_open(srv) != 0)
        goto out;
    printf(PROG ": running: echo on tcp and udp port %u, discard on port %u, %s path, poll %s; "
           "SIGINT or SIGTERM stops it\n", o->port, o->port + 1, o->kernel ? "kernel" : "shunt",
           o->poll == POLL_BLOCK ? "block" : "epoll (busy)");
    fflush(stdout);
    while (!stop) {
        int n = shunt_epoll_wait(srv->epfd, events, EPOLL_BATCH, timeout);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, PROG ": epoll_wait: %s\n", strerror(errno));
            goto out;
        }
        for (int i = 0; i < n; i++)
            server_event(srv, events[i].data.ptr, events[i].events);
    }
    rc = 0;
out:
    printf(PROG ": server: %llu connections, echoed %llu bytes and %llu datagrams, "
           "discarded %llu bytes and %llu datagrams, %llu errors\n",
           srv->accepted, srv->echoed_bytes, srv->echoed_dgrams, srv->discarded_bytes,
           srv->discarded_dgrams, srv->errors);
    server_close(srv);
    free(srv);
    return rc;
}

/* ---- clients: what they share ------------------------------------------------ */

struct target {
    struct sockaddr_storage addr;
    socklen_t len;
};

/*
 * A client run: its phases (warm-up, then measuring until -t or -n is
 * reached), what it counted while measuring, and the buffers it sends and
 * reads.  ops counts what the mode times: round trips, requests,
 * connections, messages.
 */
struct client {
    const struct options *o;
    struct target echo, discard;
    int epfd;                   /* --poll epoll, rr */
    enum poll_method poll;      /* how reads wait now: --poll, but see the streams */
    bool measuring;
    uint64_t warm_end;          /* TSC: measuring starts */
    uint64_t start, end;        /* TSC: measuring started; ends (by time) */
    uint64_t next_progress;
    uint64_t ops, bytes, sent, received, out_of_order;
    struct histogram lat;
    struct cpu_meter cpu;
    unsigned char *msg, *buf;
};

static int resolve(const char *host, uint16_t port, struct target *t)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
    int err = getaddrinfo(host, NULL, &hints, &ai);

    if (err != 0) {
        fprintf(stderr, PROG ": %s: %s\n", host, gai_strerror(err));
        return -1;
    }
    memcpy(&t->addr, ai->ai_addr, ai->ai_addrlen);
    t->len = ai->ai_addrlen;
    freeaddrinfo(ai);
    if (t->addr.ss_family == AF_INET)
        ((struct sockaddr_in *)&t->addr)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&t->addr)->sin6_port = htons(port);
    return 0;
}

static const char *ops_name(enum test test)
{
    switch (test) {
    case RR: return "requests";
    case CONNRATE: return "connections";
    case STREAM: return "messages";
    default: return "round trips";
    }
}

static void progress(struct client *cl, uint64_t now)
{
    const struct options *o = cl->o;
    double secs = tsc_to_s(now - cl->start);

    if (o->count)
        fprintf(stderr, PROG ": %llu/%llu %s", (unsigned long long)cl->ops,
                (unsigned long long)o->count, ops_name(o->test));
    else
        fprintf(stderr, PROG ": %.0f/%.0f s: %llu %s", secs, o->seconds,
                (unsigned long long)cl->ops, ops_name(o->test));
    fprintf(stderr, ", %.0f/s", secs > 0 ? (double)cl->ops / secs : 0.0);
    if (cl->lat.n > 0)
        fprintf(stderr, ", p50 %.3f us, p99 %.3f us", hist_percentile(&cl->lat, 50) / 1e3,
                hist_percentile(&cl->lat, 99) / 1e3);
    if (o->test == STREAM)
        fprintf(stderr, ", %.3f Gbit/s sent", secs > 0 ? (double)cl->bytes * 8 / secs / 1e9 : 0.0);
    fputc('\n', stderr);
}

static void start_measuring(struct client *cl, uint64_t now)
{
    cl->measuring = true;
    cl->ops = cl->bytes = cl->sent = cl->received = cl->out_of_order = 0;
    hist_reset(&cl->lat);
    cl->start = now;
    cl->end = now + tsc_from_s(cl->o->seconds);
    cl->next_progress = now + tsc_from_s(1.0);
    cpu_meter_start(&cl->cpu);
}

/*
 * Between two operations (never inside a timed one): start measuring when
 * the warm-up is over, say how it goes once a second.  False when the run
 * is complete, or stopped.
 */
static bool run_on(struct client *cl)
{
    uint64_t now = tsc_now();

    if (stop)
        return false;
    if (!cl->measuring) {
        if (now >= cl->warm_end)
            start_measuring(cl, now);
        return true;
    }
    if (cl->o->count ? cl->ops >= cl->o->count : now >= cl->end)
        return false;
    if (now >= cl->next_progress) {
        if (!cl->o->quiet)
            progress(cl, now);
        cl->next_progress += tsc_from_s(1.0);
    }
    return true;
}

/* When the measured run is over: stop the meter, fill what all modes share. */
static void finish(struct client *cl, struct result *r, uint64_t end)
{
    const struct options *o = cl->o;

    cpu_meter_stop(&cl->cpu);
    *r = (struct result){
        .tool = PROG, .path = o->kernel ? "kernel" : "shunt", .label = o->label,
        .test = test_names[o->test], .proto = o->udp ? "udp" : "tcp",
        .poll = poll_names[o->poll], .size = o->size, .conns = o->test == RR ? o->conns : 1,
        .mps = o->mps, .warmup = o->warmup, .seconds = tsc_to_s(end - cl->start),
        .ops = cl->ops, .ops_name = ops_name(o->test), .bytes = cl->bytes,
        .udp = o->udp, .sent = cl->sent, .received = cl->received,
        .lost = cl->sent > cl->received ? cl->sent - cl->received : 0,
        .out_of_order = cl->out_of_order,
        .latency = o->test == STREAM ? NULL : &cl->lat,
    };
    cpu_meter_cost(&cl->cpu, cl->ops, &r->cpu);
}

static int report(const struct options *o, const struct result *r)
{
    report_table(stdout, r);
    fflush(stdout);
    if (o->json && report_json(o->json, r) != 0)
        return -1;
    if (o->csv && report_csv(o->csv, r) != 0)
        return -1;
    return 0;
}

/* A connected socket to t: TCP (with TCP_NODELAY, or bulk) or UDP,
 * blocking or not.  -1 after saying why. */
static int open_client_socket(const struct client *cl, const struct target *t, int type,
                              bool nodelay, bool nonblock)
{
    const struct options *o = cl->o;
    const char *what = type == SOCK_STREAM ? "tcp" : "udp";
    int fd = shunt_socket(t->addr.ss_family, type, 0);

    if (fd < 0) {
        fprintf(stderr, PROG ": %s socket: %s\n", what, strerror(errno));
        return -1;
    }
    if (shunt_connect(fd, (const struct sockaddr *)&t->addr, t->len) != 0) {
        fprintf(stderr, PROG ": %s connect to %s port %u: %s\n", what, o->host,
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

static int watch_client(struct client *cl, int fd, uint32_t events, void *ptr)
{
    struct epoll_event ev = { .events = events, .data.ptr = ptr };

    if (shunt_epoll_ctl(cl->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        fprintf(stderr, PROG ": epoll_ctl: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* A blocking socket's reads give up after ms (SO_RCVTIMEO), as the busy
 * ones do by the clock. */
static int set_recv_timeout(int fd, int ms)
{
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

    if (shunt_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
        fprintf(stderr, PROG ": SO_RCVTIMEO: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* --poll epoll: ask epoll_wait without waiting until the socket is ready. */
static int spin_epoll(struct client *cl, uint64_t deadline)
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
 * Some bytes (or one datagram) from fd, polled the --poll way, by TSC
 * deadline.  The count, 0 at end of stream, or -1 with errno (ETIMEDOUT
 * past the deadline, EINTR when stopped).
 */
static ssize_t recv_polled(struct client *cl, int fd, void *buf, size_t len, uint64_t deadline)
{
    enum poll_method poll = cl->poll;

    for (;;) {
        if (poll == POLL_EPOLL && spin_epoll(cl, deadline) != 0)
            return -1;
        ssize_t n = shunt_recv(fd, buf, len, 0);
        if (n >= 0)
            return n;
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        if (stop) {
            errno = EINTR;
            return -1;
        }
        /* A blocking read that gives EAGAIN ran out its SO_RCVTIMEO. */
        if ((poll == POLL_BLOCK && errno == EAGAIN) || tsc_now() >= deadline) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (poll == POLL_RECV)
            shunt_poll();       /* Shunt: take in what arrived; kernel: nothing */
    }
}

/* Send all of buf.  A full socket (rare: one message is out at a time)
 * gets loop turns until it takes more. */
static int send_all(int fd, const void *buf, size_t len)
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
static void wait_until(uint64_t t)
{
    while (tsc_now() < t && !stop)
        shunt_poll();
}

/* ---- ping-pong -------------------------------------------------------------- */

/* A TCP echo: all of it, checked.  0, or -1 after saying why. */
static int tcp_echo(struct client *cl, int fd, uint64_t seq)
{
    size_t size = cl->o->size, got = 0;
    uint64_t deadline = tsc_now() + tsc_from_s(STALL_SECONDS);

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
 * A UDP echo of datagram seq.  1 when it came, 0 when it did not within
 * --timeout (lost, so far), -1 on error.  Echoes of earlier datagrams, come
 * after their time, are counted received but out of order.
 */
static int udp_echo(struct client *cl, int fd, uint64_t seq)
{
    size_t size = cl->o->size;
    uint64_t deadline = tsc_now() + tsc_from_s(cl->o->timeout_ms / 1e3);

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
        if (cl->measuring) {
            cl->received++;
            cl->out_of_order++;
        }
    }
}

static int ping_pong(struct client *cl)
{
    const struct options *o = cl->o;
    int fd = open_client_socket(cl, &cl->echo, o->udp ? SOCK_DGRAM : SOCK_STREAM, !o->udp,
                                o->poll != POLL_BLOCK);
    uint64_t interval = o->mps > 0 ? tsc_from_s(1.0 / o->mps) : 0, next_send = tsc_now();
    uint64_t seq = 0;
    int rc = -1;

    if (fd < 0)
        return -1;
    if (o->poll == POLL_EPOLL && watch_client(cl, fd, EPOLLIN, NULL) != 0)
        goto out;
    if (o->poll == POLL_BLOCK &&
        set_recv_timeout(fd, o->udp ? o->timeout_ms : STALL_SECONDS * 1000) != 0)
        goto out;
    while (run_on(cl)) {
        if (interval) {
            wait_until(next_send);
            /* Behind schedule (a slow echo): the missed slots are skipped, not
             * made up in a burst that would queue behind itself. */
            next_send += interval;
            if (next_send < tsc_now())
                next_send = tsc_now();
        }
        stamp(cl->msg, o->size, ++seq);
        uint64_t t0 = tsc_now();
        if (send_all(fd, cl->msg, o->size) != 0) {
            if (errno != EINTR)
                fprintf(stderr, PROG ": send: %s\n", strerror(errno));
            goto out;
        }
        int got = o->udp ? udp_echo(cl, fd, seq) : (tcp_echo(cl, fd, seq) == 0 ? 1 : -1);
        uint64_t t1 = tsc_now();
        if (got < 0)
            goto out;
        if (!cl->measuring)
            continue;
        cl->sent++;
        if (got) {
            cl->received++;
            cl->ops++;
            hist_record(&cl->lat, tsc_to_ns(t1 - t0));
        }
    }
    rc = stop ? -1 : 0;
out:
    shunt_close(fd);
    return rc;
}

/* ---- request/response over N connections ---------------------------------- */

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
        if (cl->measuring) {
            cl->ops++;
            hist_record(&cl->lat, tsc_to_ns(tsc_now() - c->t0));
        }
        return rr_send(cl, c);
    }
}

static int request_response(struct client *cl)
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
    while (run_on(cl)) {
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

/* ---- connection rate ---------------------------------------------------------- */

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
    stamp(cl->msg, o->size, cl->ops);
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
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    if (cl->o->rst && shunt_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) != 0) {
        fprintf(stderr, PROG ": SO_LINGER: %s\n", strerror(errno));
        goto fail;
    }
    if (shunt_close(fd) != 0) {
        fprintf(stderr, PROG ": close: %s\n", strerror(errno));
        return -1;
    }
    return 0;
fail:
    shunt_close(fd);
    return -1;
}

static int connection_rate(struct client *cl)
{
    while (run_on(cl)) {
        uint64_t t0 = tsc_now();
        if (one_connection(cl) != 0)
            return -1;
        if (cl->measuring) {
            cl->ops++;
            hist_record(&cl->lat, tsc_to_ns(tsc_now() - t0));
        }
    }
    return stop ? -1 : 0;
}

/* ---- bulk stream ---------------------------------------------------------------- */

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
    int fd = open_client_socket(cl, &cl->discard, SOCK_STREAM, false, o->poll != POLL_BLOCK);
    size_t off = 0;
    int rc = -1;

    if (fd < 0)
        return -1;
    if (o->poll == POLL_EPOLL && watch_client(cl, fd, EPOLLOUT, NULL) != 0)
        goto out;
    while (run_on(cl)) {
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
        if (cl->measuring)
            cl->bytes += (size_t)n;
        if (off == o->size) {
            off = 0;
            if (cl->measuring)
                cl->ops++;
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
            cl->received = be64toh(a.received);
            cl->out_of_order = be64toh(a.out_of_order);
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
    int fd = open_client_socket(cl, &cl->discard, SOCK_DGRAM, false, o->poll != POLL_BLOCK);
    /* Run ids differ from run to run, and warm-up from measurement. */
    uint32_t run = (uint32_t)(tsc_now() ^ ((uint64_t)getpid() << 16)) & ~1u;
    uint64_t seq = 0;
    bool was_measuring = false;
    int rc = -1;

    if (fd < 0)
        return -1;
    if (o->poll == POLL_EPOLL && watch_client(cl, fd, EPOLLOUT, NULL) != 0)
        goto out;
    while (run_on(cl)) {
        if (cl->measuring && !was_measuring) {
            was_measuring = true;
            seq = 0;
        }
        struct stream_hdr h = { htobe32(STREAM_DATA), htobe32(run | cl->measuring), htobe64(seq) };
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
        if (cl->measuring) {
            cl->sent++;
            cl->ops++;
            cl->bytes += (size_t)n;
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

/* ---- clients: the run ------------------------------------------------------- */

static int client_setup(struct client *cl, const struct options *o)
{
    size_t bufsize = o->size > UDP_MAX_PAYLOAD ? o->size : UDP_MAX_PAYLOAD + 1;

    memset(cl, 0, sizeof(*cl));
    cl->o = o;
    cl->poll = o->poll;
    cl->epfd = -1;
    if (resolve(o->host, o->port, &cl->echo) != 0 ||
        resolve(o->host, (uint16_t)(o->port + 1), &cl->discard) != 0)
        return -1;
    cl->msg = calloc(1, o->size);
    cl->buf = malloc(bufsize);
    if (cl->msg == NULL || cl->buf == NULL || hist_init(&cl->lat) != 0) {
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
    cpu_meter_open(&cl->cpu);
    cl->warm_end = tsc_now() + tsc_from_s(o->warmup);
    return 0;
}

static void client_cleanup(struct client *cl)
{
    if (cl->epfd >= 0)
        shunt_close(cl->epfd);
    cpu_meter_close(&cl->cpu);
    hist_free(&cl->lat);
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

static int run_client(const struct options *o)
{
    struct client cl;
    struct result r;
    uint64_t end = 0;
    int rc = -1;

    if (client_setup(&cl, o) != 0)
        goto out;
    say_start(o);
    switch (o->test) {
    case PING_PONG: rc = ping_pong(&cl); break;
    case RR: rc = request_response(&cl); break;
    case CONNRATE: rc = connection_rate(&cl); break;
    case STREAM: rc = o->udp ? udp_stream(&cl, &end) : tcp_stream(&cl, &end); break;
    case SERVER: break;
    }
    if (rc != 0) {
        if (stop)
            fprintf(stderr, PROG ": interrupted\n");
        goto out;
    }
    finish(&cl, &r, end ? end : tsc_now());
    rc = report(o, &r);
out:
    client_cleanup(&cl);
    return rc == 0 ? 0 : 1;
}

/* ---- command line ----------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: shunt-perf server    (-c FILE | --kernel) [-p PORT] [--poll epoll|block]\n"
        "       shunt-perf ping-pong (-c FILE | --kernel) [--tcp|--udp] [-m SIZE] [--mps RATE]\n"
        "                            [--poll recv|epoll|block] [--timeout MS] [COMMON] HOST\n"
        "       shunt-perf rr        (-c FILE | --kernel) [--conns N] [-m SIZE]\n"
        "                            [--poll epoll|block] [COMMON] HOST\n"
        "       shunt-perf connrate  (-c FILE | --kernel) [-m SIZE] [--rst] [COMMON] HOST\n"
        "       shunt-perf stream    (-c FILE | --kernel) [--tcp|--udp] [-m SIZE]\n"
        "                            [--poll recv|epoll|block] [COMMON] HOST\n"
        "COMMON: [-p PORT] [-t SECONDS | -n COUNT] [--warmup SECONDS] [--json FILE]\n"
        "        [--csv FILE] [--label TEXT] [-q]\n"
        "\n"
        "  -c FILE        stack configuration (default: $SHUNT_CONFIG)\n"
        "  --kernel       the kernel's sockets instead of Shunt\n"
        "  -p PORT        the server's echo port (default %d); PORT+1 discards\n"
        "  --tcp, --udp   the protocol (default tcp; rr and connrate are TCP)\n"
        "  -m SIZE        message bytes (default 64; stream 1472): tcp 1..%d\n"
        "                 (stream 1..%d), udp 1..%d (stream 16..)\n"
        "  -t SECONDS     how long to measure (default 10)\n"
        "  -n COUNT       measure this many round trips, requests, connections\n"
        "                 or messages instead\n"
        "  --warmup SECONDS  run this long first, not measured (default 1)\n"
        "  --mps RATE     ping-pong: send at this many messages a second\n"
        "                 (default: each as soon as the last echo is back)\n"
        "  --poll HOW     recv: non-blocking reads in a loop (ping-pong, stream default);\n"
        "                 epoll: epoll_wait with timeout 0 in a loop (server, rr default);\n"
        "                 block: blocking calls (connrate always)\n"
        "  --conns N      rr: connections, each with one request out (default 16)\n"
        "  --timeout MS   udp ping-pong: an echo later than this is lost (default 100)\n"
        "  --rst          connrate: close with a reset (SO_LINGER 0), leaving no TIME_WAIT\n"
        "  --json FILE    write the results as JSON\n"
        "  --csv FILE     write the results as CSV (a header and one row)\n"
        "  --label TEXT   a name for this run in the results\n"
        "  -q             no progress on stderr\n",
        DEFAULT_PORT, TCP_MAX_ECHO, STREAM_MAX, UDP_MAX_PAYLOAD);
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;

    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_seconds(const char *s, double min, double *out)
{
    char *end;

    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min || v > 86400 * 365)
        return false;
    *out = v;
    return true;
}

static bool parse_test(const char *s, enum test *out)
{
    for (size_t i = 0; i < sizeof(test_names) / sizeof(test_names[0]); i++) {
        if (strcmp(s, test_names[i]) == 0) {
            *out = (enum test)i;
            return true;
        }
    }
    return false;
}

static bool parse_poll(const char *s, enum poll_method *out)
{
    for (size_t i = 0; i < sizeof(poll_names) / sizeof(poll_names[0]); i++) {
        if (strcmp(s, poll_names[i]) == 0) {
            *out = (enum poll_method)i;
            return true;
        }
    }
    return false;
}

/* Options given, to check each belongs to the mode. */
enum {
    GAVE_SIZE = 1 << 0, GAVE_TIME = 1 << 1, GAVE_COUNT = 1 << 2, GAVE_WARMUP = 1 << 3,
    GAVE_MPS = 1 << 4, GAVE_CONNS = 1 << 5, GAVE_TIMEOUT = 1 << 6, GAVE_UDP = 1 << 7,
    GAVE_OUTPUT = 1 << 8, GAVE_POLL = 1 << 9, GAVE_RST = 1 << 10,
};

static int bad_option(const struct options *o, const char *what)
{
    fprintf(stderr, PROG " %s: %s\n", test_names[o->test], what);
    return -1;
}

/* The mode's own rules, defaults, and limits. */
static int check_options(struct options *o, unsigned gave)
{
    bool client = o->test != SERVER;

    if (o->kernel && o->config)
        return bad_option(o, "-c and --kernel exclude each other");
    if (!client && (gave & ~GAVE_POLL))
        return bad_option(o, "the server takes only -c or --kernel, -p, --poll and -q");
    if (!client && (gave & GAVE_POLL) && o->poll == POLL_RECV)
        return bad_option(o, "--poll is epoll or block for the server");
    if (client && o->host == NULL)
        return bad_option(o, "which server? give its address last, "
                             "e.g. shunt-perf ping-pong --kernel 127.0.0.1");
    if ((gave & GAVE_TIME) && (gave & GAVE_COUNT))
        return bad_option(o, "-t and -n exclude each other: measure for a time or a count");
    if ((gave & GAVE_MPS) && o->test != PING_PONG)
        return bad_option(o, "--mps is for ping-pong");
    if ((gave & GAVE_CONNS) && o->test != RR)
        return bad_option(o, "--conns is for rr");
    if ((gave & GAVE_TIMEOUT) && !(o->test == PING_PONG && o->udp))
        return bad_option(o, "--timeout is for udp ping-pong");
    if ((gave & GAVE_RST) && o->test != CONNRATE)
        return bad_option(o, "--rst is for connrate");
    if ((gave & GAVE_UDP) && (o->test == RR || o->test == CONNRATE))
        return bad_option(o, "it is TCP only: --udp does not apply");
    if (o->test == RR && o->poll == POLL_RECV && (gave & GAVE_POLL))
        return bad_option(o, "--poll is epoll or block for rr");
    if (o->test == CONNRATE && (gave & GAVE_POLL) && o->poll != POLL_BLOCK)
        return bad_option(o, "connrate makes blocking calls; --poll does not apply");

    /* Defaults that depend on the mode. */
    if (!(gave & GAVE_POLL))
        o->poll = o->test == SERVER || o->test == RR ? POLL_EPOLL
                : o->test == CONNRATE ? POLL_BLOCK : POLL_RECV;
    if (!(gave & GAVE_SIZE))
        o->size = o->test == STREAM ? 1472 : 64;

    size_t max = o->udp ? UDP_MAX_PAYLOAD : o->test == STREAM ? STREAM_MAX : TCP_MAX_ECHO;
    if (o->size > max) {
        char why[96];
        snprintf(why, sizeof(why), "-m %zu: at most %zu bytes", o->size, max);
        return bad_option(o, why);
    }
    if (o->test == STREAM && o->udp && o->size < sizeof(struct stream_hdr))
        return bad_option(o, "a udp stream's datagrams carry a 16-byte header: -m 16 or more");
    return 0;
}

enum {
    OPT_KERNEL = 256, OPT_TCP, OPT_UDP, OPT_WARMUP, OPT_MPS, OPT_POLL, OPT_CONNS,
    OPT_TIMEOUT, OPT_JSON, OPT_CSV, OPT_LABEL, OPT_RST,
};

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "kernel", no_argument, NULL, OPT_KERNEL },
        { "tcp", no_argument, NULL, OPT_TCP },
        { "udp", no_argument, NULL, OPT_UDP },
        { "warmup", required_argument, NULL, OPT_WARMUP },
        { "mps", required_argument, NULL, OPT_MPS },
        { "poll", required_argument, NULL, OPT_POLL },
        { "conns", required_argument, NULL, OPT_CONNS },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "json", required_argument, NULL, OPT_JSON },
        { "csv", required_argument, NULL, OPT_CSV },
        { "label", required_argument, NULL, OPT_LABEL },
        { "rst", no_argument, NULL, OPT_RST },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    unsigned gave = 0;
    uint64_t v;
    int opt;

    *o = (struct options){ .port = DEFAULT_PORT, .seconds = 10, .warmup = 1, .conns = 16,
                           .timeout_ms = 100 };
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        exit(argc < 2 ? 2 : 0);
    }
    if (!parse_test(argv[1], &o->test)) {
        fprintf(stderr, PROG ": unknown mode '%s': server, ping-pong, rr, connrate or stream\n", argv[1]);
        return -1;
    }
    argc--;
    argv++;
    int longindex = -1;
    while ((opt = getopt_long(argc, argv, "c:p:m:t:n:qh", longopts, &longindex)) != -1) {
        switch (opt) {
        case 'c': o->config = optarg; break;
        case OPT_KERNEL: o->kernel = true; break;
        case 'p':
            if (!parse_u64(optarg, 1, 65534, &v))
                goto bad;
            o->port = (uint16_t)v;
            break;
        case OPT_TCP: o->udp = false; break;
        case OPT_UDP: o->udp = true; gave |= GAVE_UDP; break;
        case 'm':
            if (!parse_u64(optarg, 1, STREAM_MAX, &v))
                goto bad;
            o->size = (size_t)v;
            gave |= GAVE_SIZE;
            break;
        case 't':
            if (!parse_seconds(optarg, 0.001, &o->seconds))
                goto bad;
            gave |= GAVE_TIME;
            break;
        case 'n':
            if (!parse_u64(optarg, 1, UINT64_MAX / 2, &o->count))
                goto bad;
            gave |= GAVE_COUNT;
            break;
        case OPT_WARMUP:
            if (!parse_seconds(optarg, 0, &o->warmup))
                goto bad;
            gave |= GAVE_WARMUP;
            break;
        case OPT_MPS:
            if (!parse_seconds(optarg, 0.001, &o->mps) || o->mps > 1e9)
                goto bad;
            gave |= GAVE_MPS;
            break;
        case OPT_POLL:
            if (!parse_poll(optarg, &o->poll))
                goto bad;
            gave |= GAVE_POLL;
            break;
        case OPT_CONNS:
            if (!parse_u64(optarg, 1, 100000, &v))
                goto bad;
            o->conns = (int)v;
            gave |= GAVE_CONNS;
            break;
        case OPT_TIMEOUT:
            if (!parse_u64(optarg, 1, 60000, &v))
                goto bad;
            o->timeout_ms = (int)v;
            gave |= GAVE_TIMEOUT;
            break;
        case OPT_JSON: o->json = optarg; gave |= GAVE_OUTPUT; break;
        case OPT_CSV: o->csv = optarg; gave |= GAVE_OUTPUT; break;
        case OPT_LABEL: o->label = optarg; gave |= GAVE_OUTPUT; break;
        case OPT_RST: o->rst = true; gave |= GAVE_RST; break;
        case 'q': o->quiet = true; break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            fprintf(stderr, PROG ": see shunt-perf --help\n");
            return -1;
        }
        longindex = -1;         /* for the next option */
    }
    if (optind < argc)
        o->host = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (o->test == SERVER && o->host != NULL) {
        fprintf(stderr, PROG " server: unexpected argument '%s': the server listens on every address\n",
                o->host);
        return -1;
    }
    return check_options(o, gave);
bad:
    /* The option by its name as given: getopt_long sets longindex only for
     * long ones. */
    if (longindex >= 0)
        fprintf(stderr, PROG ": bad value '%s' for --%s; see shunt-perf --help\n", optarg,
                longopts[longindex].name);
    else
        fprintf(stderr, PROG ": bad value '%s' for -%c; see shunt-perf --help\n", optarg, opt);
    return -1;
}

int main(int argc, char **argv)
{
    struct options o;

    if (parse_options(argc, argv, &o) != 0)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);
    tsc_calibrate();

    if ((o.kernel ? shunt_init_kernel() : shunt_init(o.config)) != 0)
        return 1;
    /* No SA_RESTART: a signal also cuts a kernel call short. */
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int rc = o.test == SERVER ? serve(&o) : run_client(&o);
    shunt_exit();
    return rc;
}
