/*
 * test-scenarios.c - the TCP conformance suite: each file of
 * tests/pkt/scenarios/ (*.pkt, in the format scenario.h describes) run
 * against a real stack instance on net_ring, with the test's clock, as a
 * test case of its own named after the file.
 *
 * The runner plays the peer, 10.0.0.1 (ring.h): it sends the "<" segments,
 * makes the socket calls, lets time pass in steps of 1 ms, and takes every
 * TCP segment Shunt sends as the next ">" line, or fails: with the file,
 * the line, what it expected and what came, in the script's own notation.
 * It learns Shunt's ISN, its port and its last TS val on the way, as
 * packetdrill does.  One case alone: CK_RUN_CASE=NAME (the file's name
 * without .pkt); SCENARIO_TRACE=1 prints each line as it happens, with the
 * time and, for a ">" line, what came.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#undef TCP_MSS           /* glibc's historical one; lwIP's own follows */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_arp.h>
#include <rte_tcp.h>

#include "shunt/socket.h"

#include "frames.h"
#include "pcb.h"
#include "ring.h"
#include "scenario.h"
#include "suite.h"

#ifndef SCENARIO_DIR
#error "SCENARIO_DIR: where the scenario files are (Makefile.am defines it)"
#endif

#define PEER_PORT   40000       /* the peer's, until a script says another */
#define SHUNT_PORT  8080        /* Shunt's, until bind() says another */
#define MAX_CONNS   32
#define MAX_SOCKS   32
#define MAX_IO      (256 * 1024)

/* One connection the script plays the peer of, by the peer's port. */
struct conn {
    uint16_t peer_port, shunt_port;     /* shunt_port 0: not known yet */
    bool shunt_isn_known, peer_isn_known;
    bool reopened;                      /* the peer's SYN began a new incarnation */
    uint32_t shunt_isn, peer_isn;
    uint32_t shunt_tsval;               /* the last TS val Shunt sent */
};

/* A descriptor by the label the script gives it, with the bytes written
 * and read so far (the pattern's place). */
struct sock {
    int label, fd;
    struct conn *c;
    uint32_t written, read;
};

static struct {
    const char *path;
    const struct scn_event *e;          /* the line at hand */
    uint64_t now_ms;                    /* since the script began */
    uint64_t last_ms;                   /* when the previous event happened */
    uint16_t local_port;                /* Shunt's, for connections not yet seen */
    struct conn conns[MAX_CONNS];
    unsigned nconns;
    struct conn *cur;
    struct sock socks[MAX_SOCKS];
    unsigned nsocks;
} r;

static uint8_t frame[FRAME_MAX], io[MAX_IO];

/* A failure on the line at hand, with the time it happened at. */
#define FAIL(fmt, ...)                                                                    \
    ck_abort_msg("%s:%d: `%s` at %llu.%03llu s: " fmt, r.path, r.e->line, r.e->text,      \
                 (unsigned long long)(r.now_ms / 1000), (unsigned long long)(r.now_ms % 1000), \
                 ##__VA_ARGS__)

/* ---- connections and sockets ------------------------------------------ */

static struct conn *conn_of(uint16_t peer_port)
{
    for (unsigned i = 0; i < r.nconns; i++)
        if (r.conns[i].peer_port == peer_port)
            return &r.conns[i];
    if (r.nconns == MAX_CONNS)
        FAIL("more than %d connections", MAX_CONNS);
    struct conn *c = &r.conns[r.nconns++];
    memset(c, 0, sizeof(*c));
    c->peer_port = peer_port;
    return c;
}

static uint16_t shunt_port(const struct conn *c)
{
    return c->shunt_port != 0 ? c->shunt_port : r.local_port;
}

static struct sock *sock_of(const char *label)
{
    int l = atoi(label);

    for (unsigned i = 0; i < r.nsocks; i++)
        if (r.socks[i].label == l)
            return &r.socks[i];
    FAIL("no socket is labelled '%s'", label);
}

static void add_sock(int label, int fd, struct conn *c)
{
    if (r.nsocks == MAX_SOCKS)
        FAIL("more than %d sockets", MAX_SOCKS);
    r.socks[r.nsocks++] = (struct sock){ .label = label, .fd = fd, .c = c };
}

/* ---- what Shunt sends -------------------------------------------------- */

/* Shunt asks for the peer's MAC: it gets it. */
static void answer_arp(const uint8_t *f, size_t n)
{
    const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(f + sizeof(struct rte_ether_hdr));

    if (n < sizeof(struct rte_ether_hdr) + sizeof(*a) || f[12] != 0x08 || f[13] != 0x06 ||
        a->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) ||
        a->arp_data.arp_tip != rte_cpu_to_be_32(PEER_IP4))
        return;
    uint8_t reply[64];
    ring_send(reply, frame_arp(reply, RTE_ARP_OP_REPLY, &shunt_mac, &peer_mac, PEER_IP4,
                               &shunt_mac, SHUNT_IP4));
}

/* The next TCP segment Shunt sent (ARP answered, other frames passed
 * over); false when there is none now. */
static bool next_tcp(struct frame_seg *f)
{
    size_t n;

    while ((n = ring_recv(frame, sizeof(frame))) > 0) {
        if (frame_tcp4_parse(frame, n, f))
            return true;
        answer_arp(frame, n);
    }
    return false;
}

/* f as the script would write it, for its connection. */
static void seen(const struct frame_seg *f, const struct conn *c, struct scn_seg *g)
{
    memset(g, 0, sizeof(*g));
    g->flags = f->flags;
    g->seq.v = f->seq - (c->shunt_isn_known ? c->shunt_isn : 0);
    g->len.v = (uint32_t)f->len;
    g->has_ack = (f->flags & RTE_TCP_ACK_FLAG) != 0;
    g->ack.v = f->ack;
    g->has_win = true;
    g->win.v = f->window;
    if (!scn_opts_parse(f->opt, f->optlen, g))
        FAIL("Shunt sent options that do not parse");
}

static void learn_tsval(struct conn *c, const struct scn_seg *g)
{
    for (unsigned i = 0; i < g->nopts; i++)
        if (g->opts[i].kind == 8)
            c->shunt_tsval = g->opts[i].v[0].v;
}

/* Nothing is waiting that Shunt sent. */
static void expect_nothing(void)
{
    struct frame_seg f;
    struct scn_seg g;
    char text[SCN_LINE];

    if (!next_tcp(&f))
        return;
    seen(&f, conn_of(f.dport), &g);
    scn_format(&g, text, sizeof(text));
    FAIL("Shunt sent `> %s` (to port %u), which the script does not expect by then", text,
         f.dport);
}

/* Let time pass to t: nothing may leave on the way, nor be waiting at t. */
static void quiet_until(uint64_t t)
{
    if (t < r.now_ms)
        FAIL("this line's time is before the last one's");
    for (;;) {
        expect_nothing();
        if (r.now_ms >= t)
            return;
        ring_advance_ms(1);
        r.now_ms++;
    }
}

static uint64_t due(const struct scn_event *e, uint64_t ms)
{
    return e->absolute ? ms : r.last_ms + ms;
}

/* SCENARIO_TRACE=1: each event as it happened, for whoever writes a
 * script (a ">" line with what came). */
static void trace(const char *got)
{
    if (getenv("SCENARIO_TRACE") == NULL || r.e->kind == SCN_PORT)
        return;
    fprintf(stderr, "%s:%d: %6llu.%03llu  %s%s%s\n", r.path, r.e->line,
            (unsigned long long)(r.now_ms / 1000), (unsigned long long)(r.now_ms % 1000),
            r.e->text, got != NULL ? "   came: > " : "", got != NULL ? got : "");
}

/* Its data is the pattern of its own sequence numbers. */
static void check_data(const struct frame_seg *f, const struct conn *c)
{
    if (!c->shunt_isn_known)
        return;
    for (size_t i = 0; i < f->len; i++)
        if (f->data[i] != scn_pattern(f->seq - c->shunt_isn + (uint32_t)i))
            FAIL("byte %zu of the data is not what was written there", i);
}

/* A ">" line: the next segment Shunt sends, within its time. */
static void expect_segment(const struct scn_event *e)
{
    const struct scn_seg *want = &e->u.seg;
    uint64_t lo = due(e, e->at_ms), hi = due(e, e->until_ms);
    struct conn *c = r.cur;
    struct frame_seg f;
    struct scn_seg got;
    char text[SCN_LINE], why[64];

    if (lo < r.now_ms)
        FAIL("this line's time is before the last one's");
    while (!next_tcp(&f)) {
        if (r.now_ms >= hi)
            FAIL("nothing was sent by then");
        ring_advance_ms(1);
        r.now_ms++;
    }
    if (f.dport != c->peer_port)
        FAIL("Shunt sent to the peer's port %u, not %u", f.dport, c->peer_port);
    if (c->shunt_port == 0)
        c->shunt_port = f.sport;
    if (f.sport != c->shunt_port)
        FAIL("Shunt sent from port %u, not %u", f.sport, c->shunt_port);
    if ((f.flags & RTE_TCP_SYN_FLAG) && (!c->shunt_isn_known || c->reopened)) {
        c->shunt_isn = f.seq - (want->seq.any ? 0 : want->seq.v);
        c->shunt_isn_known = true;
    }
    c->reopened = false;
    seen(&f, c, &got);
    scn_format(&got, text, sizeof(text));
    if (r.now_ms < lo)
        FAIL("`> %s` came %llu ms early", text, (unsigned long long)(lo - r.now_ms));
    if (!scn_match(want, &got, why, sizeof(why)))
        FAIL("%s: Shunt sent `> %s`", why, text);
    check_data(&f, c);
    learn_tsval(c, &got);
    trace(text);
}

/* ---- what the peer sends ----------------------------------------------- */

/* A "<" line onto the wire: its ack and SACK blocks made absolute, "ecr *"
 * filled in, its data the pattern. */
static void send_segment(const struct scn_seg *want)
{
    struct conn *c = r.cur;
    struct scn_seg g = *want;
    uint32_t base = c->shunt_isn_known ? c->shunt_isn : 0;
    uint8_t opt[40];

    for (unsigned i = 0; i < g.nopts; i++) {
        struct scn_opt *o = &g.opts[i];
        if (o->kind == 8 && o->v[1].any)
            o->v[1].v = c->shunt_tsval;
        for (unsigned k = 0; o->kind == 5 && k < o->n; k++)
            o->v[k].v += base;
    }
    if (g.flags & RTE_TCP_SYN_FLAG) {
        /* A SYN with a new ISN on a port already used: if Shunt answers
         * with a SYN, its numbers start again too (a reopened TIME-WAIT). */
        c->reopened = c->peer_isn_known && c->peer_isn != g.seq.v &&
                      !(g.flags & RTE_TCP_ACK_FLAG);
        c->peer_isn = g.seq.v;
        c->peer_isn_known = true;
    }
    if (g.len.v > FRAME_MAX - 14 - 20 - 60)
        FAIL("%u bytes do not fit a frame", g.len.v);
    uint32_t first = g.seq.v - (c->peer_isn_known ? c->peer_isn : 0);
    for (uint32_t i = 0; i < g.len.v; i++)
        io[i] = scn_pattern(first + i);
    if (c->shunt_port == 0)
        c->shunt_port = r.local_port;
    size_t olen = scn_opts_build(&g, opt);
    uint8_t in[FRAME_MAX];
    ring_send(in, frame_tcp4_opts(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, c->peer_port,
                                  shunt_port(c), g.flags, g.seq.v,
                                  g.has_ack ? g.ack.v + base : 0,
                                  g.has_win ? (uint16_t)g.win.v : 65535, opt, olen, io,
                                  g.len.v));
}

/* ---- socket calls ------------------------------------------------------ */

static long arg_num(const struct scn_call *k, unsigned i)
{
    char *end;
    long v = strtol(k->args[i], &end, 10);

    if (end == k->args[i] || *end != '\0')
        FAIL("argument %u, '%s', is not a number", i + 1, k->args[i]);
    return v;
}

static void read_data(struct sock *s, long n)
{
    for (long i = 0; i < n; i++)
        if (io[i] != scn_pattern(s->read + 1 + (uint32_t)i))
            FAIL("byte %ld read is not what the peer sent there", i);
    s->read += (uint32_t)n;
}

static const struct {
    const char *name;
    int level, opt;
} options[] = {
    { "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF },       { "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF },
    { "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE }, { "SO_LINGER", SOL_SOCKET, SO_LINGER },
    { "SO_ERROR", SOL_SOCKET, SO_ERROR },         { "TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY },
    { "TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE }, { "TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL },
    { "TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT },   { "TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG },
    { "TCP_INFO", IPPROTO_TCP, TCP_INFO },
};

static unsigned option_of(const char *name)
{
    for (unsigned i = 0; i < sizeof(options) / sizeof(options[0]); i++)
        if (strcmp(options[i].name, name) == 0)
            return i;
    FAIL("'%s' is no option the scenarios know", name);
}

static long do_setsockopt(const struct scn_call *k)
{
    unsigned o = option_of(k->args[1]);
    int v = (int)arg_num(k, 2);
    struct linger l = { .l_onoff = 1, .l_linger = v };

    if (options[o].opt == SO_LINGER && options[o].level == SOL_SOCKET)
        return shunt_setsockopt(sock_of(k->args[0])->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    return shunt_setsockopt(sock_of(k->args[0])->fd, options[o].level, options[o].opt, &v,
                            sizeof(v));
}

/* One field of TCP_INFO by its name without tcpi_. */
static bool info_field(const struct tcp_info *ti, const char *name, uint64_t *v)
{
#define FIELD(f)                     \
    if (strcmp(name, #f) == 0) {    \
        *v = ti->tcpi_##f;          \
        return true;                \
    }
    FIELD(rto) FIELD(backoff) FIELD(retransmits) FIELD(probes) FIELD(unacked)
    FIELD(snd_cwnd) FIELD(snd_ssthresh) FIELD(snd_mss) FIELD(rcv_mss)
    FIELD(snd_wscale) FIELD(rcv_wscale) FIELD(options)
#undef FIELD
    return false;
}

/* "[snd_mss 1460, rcv_wscale 3]": each field as the list says. */
static void check_info(const struct tcp_info *ti, const char *list)
{
    char name[32];
    unsigned long long want;
    int used;

    if (*list++ != '[')
        FAIL("TCP_INFO's fields go in brackets: [snd_mss 1460, ...]");
    while (sscanf(list, " %31[a-z_] %llu%n", name, &want, &used) == 2) {
        uint64_t got;
        if (!info_field(ti, name, &got))
            FAIL("TCP_INFO has no field '%s' the scenarios know", name);
        if (got != want)
            FAIL("tcpi_%s is %llu, not %llu", name, (unsigned long long)got, want);
        list += used;
        while (*list == ' ' || *list == ',')
            list++;
    }
    if (strcmp(list, "]") != 0)
        FAIL("'%s': expected 'field value' pairs, then ']'", list);
}

static long do_getsockopt(const struct scn_call *k)
{
    unsigned o = option_of(k->args[1]);
    int fd = sock_of(k->args[0])->fd;

    if (k->nargs != 3)
        FAIL("getsockopt(fd, OPTION, [what it holds])");
    if (options[o].opt == TCP_INFO && options[o].level == IPPROTO_TCP) {
        struct tcp_info ti;
        socklen_t len = sizeof(ti);
        long ret = shunt_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
        if (ret == 0)
            check_info(&ti, k->args[2]);
        return ret;
    }
    int v;
    socklen_t len = sizeof(v);
    char want[32];
    long ret = shunt_getsockopt(fd, options[o].level, options[o].opt, &v, &len);
    if (sscanf(k->args[2], "[%31[A-Z0-9]]", want) != 1)
        FAIL("'%s': expected [VALUE]", k->args[2]);
    int w = scn_errno(want) != 0 ? scn_errno(want) : atoi(want);
    if (ret == 0 && v != w)
        FAIL("%s is %d (%s), not %s", k->args[1], v, scn_errno_name(v), want);
    return ret;
}

static int shut_how(const char *how)
{
    if (strcmp(how, "SHUT_RD") == 0)
        return SHUT_RD;
    if (strcmp(how, "SHUT_WR") == 0)
        return SHUT_WR;
    if (strcmp(how, "SHUT_RDWR") != 0)
        FAIL("'%s': SHUT_RD, SHUT_WR or SHUT_RDWR", how);
    return SHUT_RDWR;
}

static struct sockaddr_in peer_addr(uint16_t port)
{
    return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port),
                                 .sin_addr.s_addr = htonl(PEER_IP4) };
}

/* The call; its result; *fd_result when it returns a descriptor. */
static long do_call(const struct scn_call *k, bool *fd_result)
{
    const char *n = k->name;
    static const struct {
        const char *name;
        unsigned nargs;
    } calls[] = {
        { "socket", 0 }, { "bind", 2 }, { "listen", 2 }, { "accept", 1 }, { "connect", 2 },
        { "write", 2 }, { "read", 2 }, { "shutdown", 2 }, { "close", 1 },
        { "setsockopt", 3 }, { "getsockopt", 3 },
    };
    unsigned i = 0;

    while (i < sizeof(calls) / sizeof(calls[0]) && strcmp(calls[i].name, n) != 0)
        i++;
    if (i == sizeof(calls) / sizeof(calls[0]))
        FAIL("'%s' is no call the scenarios know", n);
    if (k->nargs != calls[i].nargs)
        FAIL("%s takes %u arguments", n, calls[i].nargs);
    *fd_result = strcmp(n, "socket") == 0 || strcmp(n, "accept") == 0;

    if (strcmp(n, "socket") == 0)
        return shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sock *s = sock_of(k->args[0]);
    if (strcmp(n, "bind") == 0) {
        r.local_port = (uint16_t)arg_num(k, 1);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(r.local_port) };
        return shunt_bind(s->fd, (struct sockaddr *)&a, sizeof(a));
    }
    if (strcmp(n, "listen") == 0)
        return shunt_listen(s->fd, (int)arg_num(k, 1));
    if (strcmp(n, "accept") == 0) {
        struct sockaddr_in a;
        socklen_t len = sizeof(a);
        int fd = shunt_accept4(s->fd, (struct sockaddr *)&a, &len, SOCK_NONBLOCK);
        if (fd >= 0)
            add_sock((int)k->ret, fd, conn_of(ntohs(a.sin_port)));
        return fd;
    }
    if (strcmp(n, "connect") == 0) {
        struct sockaddr_in a = peer_addr((uint16_t)arg_num(k, 1));
        r.cur = s->c = conn_of((uint16_t)arg_num(k, 1));
        return shunt_connect(s->fd, (struct sockaddr *)&a, sizeof(a));
    }
    if (strcmp(n, "write") == 0 || strcmp(n, "read") == 0) {
        long len = arg_num(k, 1);
        if (len < 0 || len > MAX_IO)
            FAIL("at most %d bytes at a time", MAX_IO);
        if (n[0] == 'r') {
            long got = shunt_read(s->fd, io, (size_t)len);
            if (got > 0)
                read_data(s, got);
            return got;
        }
        for (long b = 0; b < len; b++)
            io[b] = scn_pattern(s->written + 1 + (uint32_t)b);
        long put = shunt_write(s->fd, io, (size_t)len);
        s->written += put > 0 ? (uint32_t)put : 0;
        return put;
    }
    if (strcmp(n, "shutdown") == 0)
        return shunt_shutdown(s->fd, shut_how(k->args[1]));
    if (strcmp(n, "close") == 0)
        return shunt_close(s->fd);
    if (strcmp(n, "setsockopt") == 0)
        return do_setsockopt(k);
    return do_getsockopt(k);
}

static void run_call(const struct scn_call *k)
{
    bool fd_result;

    errno = 0;
    long ret = do_call(k, &fd_result);
    int err = errno;

    if (fd_result && ret >= 0 && k->ret >= 0) {
        if (strcmp(k->name, "socket") == 0)
            add_sock((int)k->ret, (int)ret, NULL);
        return;
    }
    if (ret != k->ret)
        FAIL("returned %ld%s%s", ret, ret == -1 ? " " : "", ret == -1 ? scn_errno_name(err) : "");
    if (ret == -1 && err != k->err)
        FAIL("failed with %s, not %s", scn_errno_name(err), scn_errno_name(k->err));
}

/* ---- a script ---------------------------------------------------------- */

static void run_event(const struct scn_event *e)
{
    r.e = e;
    switch (e->kind) {
    case SCN_PORT:
        r.cur = conn_of(e->u.port);
        return;
    case SCN_OUT:
        expect_segment(e);
        break;
    case SCN_IN:
        quiet_until(due(e, e->at_ms));
        send_segment(&e->u.seg);
        break;
    case SCN_CALL:
        quiet_until(due(e, e->at_ms));
        run_call(&e->u.call);
        break;
    case SCN_STATE: {
        quiet_until(due(e, e->at_ms));
        const char *st = pcb_state(shunt_port(r.cur), r.cur->peer_port);
        if (strcmp(st, e->u.state) != 0)
            FAIL("the connection is in %s", st);
        break;
    }
    case SCN_WAIT:
        quiet_until(due(e, e->at_ms));
        break;
    }
    if (e->kind != SCN_OUT)
        trace(NULL);
    r.last_ms = r.now_ms;
}

static char **paths;

START_TEST(scenario)
{
    struct scn_script s;
    char err[512];
    uint8_t arp[64];

    ck_assert_msg(scn_read(paths[_i], &s, err, sizeof(err)), "%s", err);
    ring_stack_up_with(s.config);
    memset(&r, 0, sizeof(r));
    r.path = strrchr(paths[_i], '/') + 1;
    r.local_port = SHUNT_PORT;
    r.cur = conn_of(PEER_PORT);
    ring_send(arp, frame_arp(arp, RTE_ARP_OP_REPLY, &shunt_mac, &peer_mac, PEER_IP4,
                             &shunt_mac, SHUNT_IP4));
    for (unsigned i = 0; i < s.n; i++)
        run_event(&s.ev[i]);
    if (s.n > 0)
        expect_nothing();               /* nothing left over at the end */
    scn_free(&s);
    ring_stack_down_balanced();         /* every frame accounted for */
}
END_TEST

static int is_scenario(const struct dirent *d)
{
    size_t n = strlen(d->d_name);

    return n > 4 && strcmp(d->d_name + n - 4, ".pkt") == 0;
}

int main(void)
{
    struct dirent **files;
    int n = scandir(SCENARIO_DIR, &files, is_scenario, alphasort);
    Suite *s = suite_create("scenarios");

    if (n <= 0) {
        fprintf(stderr, "test-scenarios: no scenarios (*.pkt) in %s\n", SCENARIO_DIR);
        return EXIT_FAILURE;
    }
    /* Each file's path, and its name without .pkt for its test case. */
    paths = calloc((size_t)n, sizeof(*paths));
    char **names = calloc((size_t)n, sizeof(*names));
    for (int i = 0; i < n; i++) {
        size_t len = strlen(SCENARIO_DIR) + strlen(files[i]->d_name) + 2;
        paths[i] = malloc(len);
        snprintf(paths[i], len, "%s/%s", SCENARIO_DIR, files[i]->d_name);
        names[i] = strndup(files[i]->d_name, strlen(files[i]->d_name) - 4);
        TCase *tc = tcase_create(names[i]);
        tcase_add_loop_test(tc, scenario, i, i + 1);
        tcase_set_timeout(tc, 60);
        suite_add_tcase(s, tc);
        free(files[i]);
    }
    free(files);
    int status = run_suite(s);
    for (int i = 0; i < n; i++) {
        free(paths[i]);
        free(names[i]);
    }
    free(paths);
    free(names);
    return status;
}
