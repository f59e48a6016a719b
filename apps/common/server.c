/*
 * server.c - see server.h.
 */
#define _GNU_SOURCE
#include "server.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shunt/socket.h"

#include "app.h"
#include "pattern.h"
#include "profile.h"
#include "sock.h"
#include "udpstream.h"

/* An echo connection's bytes read but not yet echoed; while they fill it
 * the connection is not read. */
#define BATCH       64          /* accepts or datagrams per event: the others get their turn */
#define FLOWS       16          /* UDP streams counted at once; the least recently used goes */

/* What each port does, by its offset from the first (server.h). */
enum service { ECHO, DISCARD, CHECK, SOURCE, SERVICES };
enum kind { LISTENER, DATAGRAMS, CONNECTION };

/* What an epoll event points at: the first member of each such object. */
struct endpoint {
    enum kind kind;
    enum service service;
    int fd;
};

struct conn {
    struct endpoint ep;
    struct conn *prev, *next;   /* the server's open connections */
    struct sockaddr_storage peer;
    uint32_t events;            /* what epoll watches for now */
    bool eof;                   /* the peer sent FIN: echo the rest, then close */
    size_t head, tail;          /* unsent bytes are buf[head, tail) */
    struct pattern_request req; /* check and source: what the client asked */
    size_t req_got;             /* bytes of it read so far */
    struct pattern pattern;     /* from req.seed */
    uint64_t pattern_bytes;     /* of it checked (check) or made (source) */
    unsigned char buf[];        /* SERVER_ECHO_BUF bytes; none for discard */
};

/* One UDP stream on the discard port, by sender and run id. */
struct flow {
    bool used;
    struct sockaddr_storage from;
    uint32_t run;
    uint64_t received, out_of_order, next_seq, last_used;
};

struct server {
    struct server_config c;
    int epfd;
    struct endpoint listeners[SERVICES];    /* by service, fd -1 if not served */
    struct endpoint udp[CHECK];             /* echo and discard only */
    struct conn *conns;
    struct flow flows[FLOWS];
    uint64_t flow_clock;
    struct server_counts n;
    unsigned char dgram[65536];
};

static int watch(int epfd, int op, struct endpoint *ep, uint32_t events)
{
    return epoll_watch(epfd, op, ep->fd, events, ep);
}

/* ---- the sockets ---------------------------------------------------------- */

/* A socket on [::]:port that takes IPv4 too (IPV6_V6ONLY off); a stream
 * socket listens, with congestion control cc (NULL: the default). */
static int open_dual_stack(int type, uint16_t port, int backlog, const char *cc)
{
    struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT,
                                .sin6_port = htons(port) };
    const char *what = type == SOCK_STREAM ? "tcp" : "udp";
    int fd = shunt_socket(AF_INET6, type | SOCK_NONBLOCK, 0);

    if (fd < 0) {
        fprintf(stderr, "%s: %s socket: %s\n", app_name, what, strerror(errno));
        return -1;
    }
    if (set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0) != 0 ||
        set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1) != 0) {
        fprintf(stderr, "%s: %s setsockopt: %s\n", app_name, what, strerror(errno));
        goto fail;
    }
    if (type == SOCK_STREAM && set_congestion(fd, cc) != 0)
        goto fail;
    if (shunt_bind(fd, (struct sockaddr *)&any, sizeof(any)) != 0) {
        fprintf(stderr, "%s: %s bind [::]:%u: %s\n", app_name, what, port, strerror(errno));
        goto fail;
    }
    if (type == SOCK_STREAM && shunt_listen(fd, backlog) != 0) {
        fprintf(stderr, "%s: listen: %s\n", app_name, strerror(errno));
        goto fail;
    }
    return fd;
fail:
    shunt_close(fd);
    return -1;
}

/* GROUP[,IFADDR]: IP_ADD_MEMBERSHIP on the UDP socket.  IFADDR picks the
 * interface; the kernel needs it when its route to GROUP is elsewhere. */
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
        fprintf(stderr, "%s: --join %s: expected an IPv4 multicast group, optionally ',' and "
                        "an interface address, e.g. 239.1.2.3,10.9.0.2\n", app_name, spec);
        return -1;
    }
    if (shunt_setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) != 0) {
        fprintf(stderr, "%s: IP_ADD_MEMBERSHIP %s: %s\n", app_name, spec, strerror(errno));
        return -1;
    }
    return 0;
}

/* The listener of one service's port, and its UDP socket for echo and
 * discard. */
static int open_port(struct server *srv, enum service s)
{
    uint16_t port = (uint16_t)(srv->c.port + s);

    srv->listeners[s] = (struct endpoint){ LISTENER, s,
                                           open_dual_stack(SOCK_STREAM, port, srv->c.backlog,
                                                           srv->c.congestion) };
    if (srv->listeners[s].fd < 0)
        return -1;
    /* no_accept leaves connections in the listen queue, to overflow it. */
    if (!srv->c.no_accept && watch(srv->epfd, EPOLL_CTL_ADD, &srv->listeners[s], EPOLLIN) != 0)
        return -1;
    if (s >= CHECK)
        return 0;
    srv->udp[s] = (struct endpoint){ DATAGRAMS, s, open_dual_stack(SOCK_DGRAM, port, 0, NULL) };
    if (srv->udp[s].fd < 0 || (s == ECHO && srv->c.join && join_group(srv->udp[s].fd, srv->c.join) != 0))
        return -1;
    return watch(srv->epfd, EPOLL_CTL_ADD, &srv->udp[s], EPOLLIN);
}

struct server *server_open(const struct server_config *c)
{
    struct server *srv = calloc(1, sizeof(*srv));

    if (srv == NULL) {
        fprintf(stderr, "%s: out of memory\n", app_name);
        return NULL;
    }
    srv->c = *c;
    for (int s = 0; s < SERVICES; s++)
        srv->listeners[s].fd = -1;
    srv->udp[ECHO].fd = srv->udp[DISCARD].fd = -1;
    srv->epfd = shunt_epoll_create1(0);
    if (srv->epfd < 0) {
        fprintf(stderr, "%s: epoll_create1: %s\n", app_name, strerror(errno));
        goto fail;
    }
    if (open_port(srv, ECHO) != 0 || (c->discard && open_port(srv, DISCARD) != 0) ||
        (c->one_way && (open_port(srv, CHECK) != 0 || open_port(srv, SOURCE) != 0)))
        goto fail;
    return srv;
fail:
    server_close(srv);
    return NULL;
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
    srv->n.closed++;
}

void server_close(struct server *srv)
{
    if (srv == NULL)
        return;
    while (srv->conns)
        conn_close(srv, srv->conns);
    for (int s = 0; s < SERVICES; s++) {
        if (srv->listeners[s].fd >= 0)
            shunt_close(srv->listeners[s].fd);
        if (s < CHECK && srv->udp[s].fd >= 0)
            shunt_close(srv->udp[s].fd);
    }
    if (srv->epfd >= 0)
        shunt_close(srv->epfd);
    free(srv);
}

const struct server_counts *server_counts(const struct server *srv)
{
    return &srv->n;
}

/* ---- connections ---------------------------------------------------------------- */

/* An error ends this connection only: the server goes on with the others. */
static void conn_fail(struct server *srv, struct conn *c, int err)
{
    bool reset = err == ECONNRESET || err == EPIPE;

    if (reset)
        srv->n.resets++;
    else
        srv->n.failures++;
    if (!reset || !srv->c.quiet_resets) {
        char peer[ADDR_STR_MAX];
        fprintf(stderr, "%s: tcp %s: %s\n", app_name, addr_str(&c->peer, peer, sizeof(peer)),
                strerror(err));
    }
    conn_close(srv, c);
}

static size_t conn_pending(const struct conn *c)
{
    return c->tail - c->head;
}

/* Read what fits into the buffer.  0, or -1 if the connection died. */
static int conn_read(struct server *srv, struct conn *c)
{
    if (c->head == c->tail) {
        c->head = c->tail = 0;
    } else if (c->tail == SERVER_ECHO_BUF && c->head > 0) {
        memmove(c->buf, c->buf + c->head, conn_pending(c));
        c->tail -= c->head;
        c->head = 0;
    }
    ssize_t n = shunt_read(c->ep.fd, c->buf + c->tail, SERVER_ECHO_BUF - c->tail);
    if (n > 0) {
        c->tail += (size_t)n;
    } else if (n == 0) {
        c->eof = true;
    } else if (errno != EAGAIN && errno != EINTR) {
        conn_fail(srv, c, errno);
        return -1;
    }
    return 0;
}

/* Send what is pending until the socket takes no more, counting it in
 * *sent. */
static int conn_flush(struct server *srv, struct conn *c, unsigned long long *sent)
{
    while (conn_pending(c) > 0) {
        ssize_t n = shunt_write(c->ep.fd, c->buf + c->head, conn_pending(c));
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            conn_fail(srv, c, errno);
            return -1;
        }
        c->head += (size_t)n;
        *sent += (size_t)n;
    }
    return 0;
}

/* Watch for input while there is room for it, for output while there is
 * something to send. */
static int conn_rewatch(struct server *srv, struct conn *c)
{
    uint32_t want = 0;

    if (!c->eof && conn_pending(c) < SERVER_ECHO_BUF)
        want |= EPOLLIN;
    if (conn_pending(c) > 0)
        want |= EPOLLOUT;
    if (want == c->events)
        return 0;
    c->events = want;
    return watch(srv->epfd, EPOLL_CTL_MOD, &c->ep, want);
}

static void echo_conn(struct server *srv, struct conn *c, uint32_t events)
{
    if (events & EPOLLERR) {
        conn_fail(srv, c, socket_error(c->ep.fd));
        return;
    }
    /* EPOLLHUP without EPOLLIN: a read says why (0 or the error). */
    if ((c->events & EPOLLIN) && (events & (EPOLLIN | EPOLLHUP)) && conn_read(srv, c) != 0)
        return;
    if (conn_flush(srv, c, &srv->n.echoed_bytes) != 0)
        return;
    if (c->eof && conn_pending(c) == 0) {
        /* The peer is done and has all its echo: close sends our FIN (the
         * descriptor is the server's alone, and nothing is left unread). */
        conn_close(srv, c);
        return;
    }
    if (conn_rewatch(srv, c) != 0)
        conn_close(srv, c);
}

/* A connection that only reads (discard, check): what it does with each
 * piece read (0, or -1 once it has closed the connection), and at the FIN. */
struct sink {
    int (*take)(struct server *srv, struct conn *c, const unsigned char *got, size_t n);
    void (*end)(struct server *srv, struct conn *c);
};

/* Read what there is (16 reads at most: the others get their turn), each
 * piece into srv->dgram and on to the sink. */
static void sink_conn(struct server *srv, struct conn *c, uint32_t events, const struct sink *sink)
{
    if (events & EPOLLERR) {
        conn_fail(srv, c, socket_error(c->ep.fd));
        return;
    }
    for (int i = 0; i < 16; i++) {
        ssize_t n = shunt_read(c->ep.fd, srv->dgram, sizeof(srv->dgram));
        if (n > 0) {
            if (sink->take(srv, c, srv->dgram, (size_t)n) != 0)
                return;
            continue;
        }
        if (n == 0)
            sink->end(srv, c);
        else if (errno != EAGAIN && errno != EINTR)
            conn_fail(srv, c, errno);
        return;
    }
}

static int discard_bytes(struct server *srv, struct conn *c, const unsigned char *got, size_t n)
{
    (void)c, (void)got;
    srv->n.discarded_bytes += n;
    return 0;
}

/* Read and forget; the peer's FIN is answered by ours (close). */
static void discard_conn(struct server *srv, struct conn *c, uint32_t events)
{
    static const struct sink discard = { discard_bytes, conn_close };

    sink_conn(srv, c, events, &discard);
}

/* ---- the pattern: check and source ------------------------------------------ */

/* The connection cannot go on as the client asked: say why, count it,
 * close it (the client sees no answer). */
static void conn_refuse(struct server *srv, struct conn *c, const char *why, unsigned long long a,
                        unsigned long long b)
{
    char peer[ADDR_STR_MAX];

    fprintf(stderr, "%s: tcp %s: ", app_name, addr_str(&c->peer, peer, sizeof(peer)));
    fprintf(stderr, why, a, b);
    fputc('\n', stderr);
    srv->n.failures++;
    conn_close(srv, c);
}

static bool has_request(const struct conn *c)
{
    return c->req_got == sizeof(c->req);
}

/* Take what is missing of the pattern_request from got[0, n): how many
 * bytes it took.  Once it is whole, the pattern starts from its seed. */
static size_t take_request(struct conn *c, const unsigned char *got, size_t n)
{
    size_t want = sizeof(c->req) - c->req_got, take = n < want ? n : want;

    memcpy((unsigned char *)&c->req + c->req_got, got, take);
    c->req_got += take;
    if (has_request(c)) {
        c->req.seed = be64toh(c->req.seed);
        c->req.bytes = be64toh(c->req.bytes);
        pattern_init(&c->pattern, c->req.seed);
    }
    return take;
}

/* Check got[0, n), after the request, against the pattern.  0, or -1
 * (the connection is refused). */
static int check_bytes(struct server *srv, struct conn *c, const unsigned char *got, size_t n)
{
    size_t used = has_request(c) ? 0 : take_request(c, got, n), len = n - used;

    if (len == 0)
        return 0;
    if (c->pattern_bytes + len > c->req.bytes) {
        conn_refuse(srv, c, "%llu bytes of pattern, %llu announced", c->pattern_bytes + len,
                    c->req.bytes);
        return -1;
    }
    size_t same = pattern_check(&c->pattern, got + used, len, c->buf);
    if (same < len) {
        conn_refuse(srv, c, "the pattern differs at offset %llu (of %llu)", c->pattern_bytes + same,
                    c->req.bytes);
        return -1;
    }
    c->pattern_bytes += len;
    srv->n.checked_bytes += len;
    return 0;
}

/* The client's FIN: all it announced came, so answer with the count. */
static void check_end(struct server *srv, struct conn *c)
{
    uint64_t answer = htobe64(c->pattern_bytes);

    if (!has_request(c) || c->pattern_bytes != c->req.bytes) {
        conn_refuse(srv, c, "the pattern ended after %llu of %llu bytes", c->pattern_bytes,
                    has_request(c) ? c->req.bytes : 0);
        return;
    }
    /* Nothing else was sent on this connection: its send buffer has room. */
    if (shunt_write(c->ep.fd, &answer, sizeof(answer)) != sizeof(answer)) {
        conn_fail(srv, c, errno);
        return;
    }
    conn_close(srv, c);
}

/* Read the pattern and check it; answer at the end. */
static void check_conn(struct server *srv, struct conn *c, uint32_t events)
{
    static const struct sink check = { check_bytes, check_end };

    sink_conn(srv, c, events, &check);
}

/* Send the pattern asked for, a buffer at a time, then close (our FIN
 * follows the last byte). */
static void source_send(struct server *srv, struct conn *c)
{
    for (;;) {
        if (conn_pending(c) == 0) {
            uint64_t left = c->req.bytes - c->pattern_bytes;
            if (left == 0) {
                conn_close(srv, c);
                return;
            }
            c->head = 0;
            c->tail = left < SERVER_ECHO_BUF ? (size_t)left : SERVER_ECHO_BUF;
            pattern_fill(&c->pattern, c->buf, c->tail);
            c->pattern_bytes += c->tail;
        }
        if (conn_flush(srv, c, &srv->n.sourced_bytes) != 0 || conn_pending(c) > 0)
            return;
    }
}

/* Read the request (no more than it), then send. */
static void source_conn(struct server *srv, struct conn *c, uint32_t events)
{
    if (events & EPOLLERR) {
        conn_fail(srv, c, socket_error(c->ep.fd));
        return;
    }
    if (!has_request(c)) {
        ssize_t n = shunt_read(c->ep.fd, c->buf, sizeof(c->req) - c->req_got);
        if (n == 0) {
            conn_refuse(srv, c, "closed after %llu of the %llu bytes of a request", c->req_got,
                        sizeof(c->req));
            return;
        }
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                conn_fail(srv, c, errno);
            return;
        }
        take_request(c, c->buf, (size_t)n);
        if (!has_request(c))
            return;
        c->events = EPOLLOUT;
        if (watch(srv->epfd, EPOLL_CTL_MOD, &c->ep, c->events) != 0) {
            conn_close(srv, c);
            return;
        }
    }
    source_send(srv, c);
}

/* A new connection to service s, watched for input.  0, or -1 (it is
 * closed). */
static int conn_add(struct server *srv, int fd, enum service s, const struct sockaddr_storage *peer)
{
    bool echo = s == ECHO;

    /* Echoes leave at once; a discarding connection sends nothing. */
    if (echo && srv->c.nodelay && set_int_opt(fd, IPPROTO_TCP, TCP_NODELAY, 1) != 0) {
        fprintf(stderr, "%s: TCP_NODELAY: %s\n", app_name, strerror(errno));
        shunt_close(fd);
        return -1;
    }
    struct conn *c = malloc(sizeof(*c) + (s != DISCARD ? SERVER_ECHO_BUF : 0));
    if (c == NULL) {
        fprintf(stderr, "%s: out of memory for a connection\n", app_name);
        shunt_close(fd);
        return -1;
    }
    *c = (struct conn){ .ep = { CONNECTION, s, fd }, .peer = *peer,
                        .events = EPOLLIN, .next = srv->conns };
    if (watch(srv->epfd, EPOLL_CTL_ADD, &c->ep, c->events) != 0) {
        shunt_close(fd);
        free(c);
        return -1;
    }
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->n.accepted++;
    return 0;
}

static void accept_connections(struct server *srv, struct endpoint *listener)
{
    for (int i = 0; i < BATCH; i++) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof(peer);
        int fd = shunt_accept4(listener->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK);

        if (fd < 0) {
            if (errno == ECONNABORTED)     /* reset while queued: next */
                continue;
            if (errno != EAGAIN && errno != EINTR)
                fprintf(stderr, "%s: accept: %s\n", app_name, strerror(errno));
            return;
        }
        conn_add(srv, fd, listener->service, &peer);
    }
}

/* ---- datagrams ------------------------------------------------------------------ */

/* The next waiting datagram, into srv->dgram: its length, or -1 when
 * there is none (or after saying why not). */
static ssize_t next_datagram(struct server *srv, int fd, struct sockaddr_storage *from,
                             socklen_t *len)
{
    *len = sizeof(*from);
    ssize_t n = shunt_recvfrom(fd, srv->dgram, sizeof(srv->dgram), 0, (struct sockaddr *)from, len);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
        fprintf(stderr, "%s: udp recvfrom: %s\n", app_name, strerror(errno));
    return n;
}

/* Echo each waiting datagram to where it came from. */
static void echo_datagrams(struct server *srv, int fd)
{
    struct sockaddr_storage from;
    socklen_t len;
    ssize_t n;

    for (int i = 0; i < BATCH && (n = next_datagram(srv, fd, &from, &len)) >= 0; i++) {
        if (shunt_sendto(fd, srv->dgram, (size_t)n, 0, (struct sockaddr *)&from, len) == n) {
            srv->n.echoed_dgrams++;
            srv->n.echoed_dgram_bytes += (size_t)n;
            continue;
        }
        /* UDP may drop; say why unless it is just a full queue. */
        srv->n.not_echoed++;
        if (errno != EAGAIN && errno != ENOBUFS) {
            char who[ADDR_STR_MAX];
            fprintf(stderr, "%s: udp sendto %s: %s\n", app_name, addr_str(&from, who, sizeof(who)),
                    strerror(errno));
        }
    }
}

/* The flow a datagram belongs to; a new one takes the least recently used
 * slot.  create false: NULL if there is none. */
static struct flow *find_flow(struct server *srv, const struct sockaddr_storage *from,
                              uint32_t run, bool create)
{
    struct flow *oldest = &srv->flows[0];

    for (int i = 0; i < FLOWS; i++) {
        struct flow *f = &srv->flows[i];
        if (f->used && f->run == run && same_addr(&f->from, from)) {
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
        fprintf(stderr, "%s: udp report: %s\n", app_name, strerror(errno));
}

/* Count and forget each waiting datagram; answer a stream's REPORT. */
static void discard_datagrams(struct server *srv, int fd)
{
    struct sockaddr_storage from;
    socklen_t len;
    ssize_t n;

    for (int i = 0; i < BATCH && (n = next_datagram(srv, fd, &from, &len)) >= 0; i++) {
        srv->n.discarded_dgrams++;
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

/* ---- the loop ------------------------------------------------------------------- */

static void server_event(struct server *srv, struct endpoint *ep, uint32_t events)
{
    static void (*const serve_conn[SERVICES])(struct server *, struct conn *, uint32_t) = {
        [ECHO] = echo_conn, [DISCARD] = discard_conn, [CHECK] = check_conn, [SOURCE] = source_conn,
    };

    switch (ep->kind) {
    case LISTENER:
        accept_connections(srv, ep);
        break;
    case DATAGRAMS:
        if (ep->service == ECHO)
            echo_datagrams(srv, ep->fd);
        else
            discard_datagrams(srv, ep->fd);
        break;
    case CONNECTION:
        serve_conn[ep->service](srv, (struct conn *)ep, events);
        break;
    }
}

int server_run(struct server *srv)
{
    struct epoll_event events[EPOLL_BATCH];
    int timeout = srv->c.busy ? 0 : TICK_MS;

    profile_on_signal();
    while (!stop) {
        profile_poll();
        int n = shunt_epoll_wait(srv->epfd, events, EPOLL_BATCH, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "%s: epoll_wait: %s\n", app_name, strerror(errno));
            return -1;
        }
        for (int i = 0; i < n; i++)
            server_event(srv, events[i].data.ptr, events[i].events);
    }
    return 0;
}
