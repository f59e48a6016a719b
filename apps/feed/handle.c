/*
 * handle.c - shunt-feed handle: join the K groups of each line, read what
 * comes in batches (recvmmsg), arbitrate A/B (arbiter.h), and time each
 * delivered message: the publisher's stamp -> the RX stamp (the stack's,
 * SO_TIMESTAMPNS or SO_TIMESTAMPING) -> the application's read (the clock
 * when recvmmsg returned).  All three clocks are CLOCK_REALTIME, so on one
 * machine they compare directly.  Each group has publisher -> read too, in
 * a histogram small enough for thousands (grouplat.h).
 *
 * What the stack does not offer is said, never hidden: no RX stamp (the
 * option refused, or no control message came) leaves only publisher ->
 * read, with "rx_stamp: none" and why; no recvmmsg falls back to recvmsg
 * one message at a time, and says so.
 *
 * Joins: a socket takes groups until the stack says ENOBUFS (Linux at 20,
 * net.ipv4.igmp_max_memberships; Shunt at its own limit) or --per-socket,
 * then another socket on the same port does; IP_MULTICAST_ALL off keeps
 * each socket to its own groups (Linux's default would give every socket on
 * the port every group).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "shunt/socket.h"

#include "app.h"
#include "arbiter.h"
#include "feed.h"
#include "grouplat.h"
#include "histogram.h"
#include "report.h"
#include "sock.h"
#include "wire.h"

#define MSG_MAX         9216            /* the largest message read (a jumbo frame) */
#define RCVBUF          (8 << 20)       /* bursts wait in the socket, not dropped */

enum { LAT_WIRE, LAT_QUEUE, LAT_TOTAL, LAT_KINDS };
static const char *const lat_names[LAT_KINDS] = { "publisher->rx", "rx->read", "publisher->read" };
static const char *const lat_keys[LAT_KINDS] = { "publisher_rx", "rx_read", "publisher_read" };

struct handler {
    const struct options *o;
    int *fds;
    int nsock;
    int epfd;
    struct arbiter arb;
    struct histogram lat[LAT_KINDS];
    struct grouplat *glat;              /* publisher -> read, per group */

    struct mmsghdr *msgs;
    struct iovec *iov;
    unsigned char *bufs, *ctl;
    size_t ctl_len;

    bool mmsg;                          /* recvmmsg works; else recvmsg one at a time */
    char read_why[160];
    bool stamp_on;                      /* the option was taken */
    char stamp_why[160];
    char mcast_all_why[160];            /* IP_MULTICAST_ALL refused: why */
    uint64_t calls, read_msgs, foreign, stamped, unstamped;
    uint64_t first_ns, last_ns;         /* CLOCK_REALTIME of the first and last message read */
};

static const char *stamp_name(enum stamp_kind k)
{
    return k == STAMP_NS ? "SO_TIMESTAMPNS" : k == STAMP_TIMESTAMPING ? "SO_TIMESTAMPING" : "none";
}

/* The RX stamp the stack asked for, on a new socket; what it says if not. */
static void stamp_socket(struct handler *h, int fd)
{
    const struct options *o = h->o;
    int rc;

    if (o->stamp == STAMP_NONE) {
        snprintf(h->stamp_why, sizeof(h->stamp_why), "--stamp none");
        return;
    }
    if (o->stamp == STAMP_NS) {
        rc = set_int_opt(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
    } else {
        int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
        rc = set_int_opt(fd, SOL_SOCKET, SO_TIMESTAMPING, flags);
    }
    if (rc != 0) {
        snprintf(h->stamp_why, sizeof(h->stamp_why), "setsockopt %s: %s", stamp_name(o->stamp),
                 strerror(errno));
        h->stamp_on = false;
    }
}

static int open_socket(struct handler *h)
{
    const struct options *o = h->o;
    struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(o->port) };
    int fd = shunt_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

    if (fd < 0) {
        fprintf(stderr, PROG " handle: socket: %s\n", strerror(errno));
        return -1;
    }
    h->fds[h->nsock++] = fd;
    set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (set_int_opt(fd, SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF) != 0)
        set_int_opt(fd, SOL_SOCKET, SO_RCVBUF, RCVBUF);
    if (set_int_opt(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0) != 0 && h->mcast_all_why[0] == '\0')
        snprintf(h->mcast_all_why, sizeof(h->mcast_all_why), "%s", strerror(errno));
    stamp_socket(h, fd);
    if (shunt_bind(fd, (const struct sockaddr *)&any, sizeof(any)) != 0) {
        fprintf(stderr, PROG " handle: bind to port %u: %s\n", o->port, strerror(errno));
        return -1;
    }
    /* epoll's data is the socket's descriptor */
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
    if (shunt_epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        fprintf(stderr, PROG " handle: epoll_ctl: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* Every group of every line: as many a socket as the stack takes (ENOBUFS
 * says it is full), or --per-socket, then a new socket. */
static int join_all(struct handler *h)
{
    const struct options *o = h->o;
    unsigned on_socket = 0, joined = 0, want = o->groups * o->lines;

    if (open_socket(h) != 0)
        return -1;
    for (unsigned line = 0; line < o->lines; line++) {
        for (unsigned g = 0; g < o->groups; g++) {
            struct ip_mreq mreq = { .imr_multiaddr = feed_group(o, line, g), .imr_interface = o->iface[line] };
            if (o->per_socket && on_socket == o->per_socket) {
                if (open_socket(h) != 0)
                    return -1;
                on_socket = 0;
            }
            int fd = h->fds[h->nsock - 1];
            if (shunt_setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) != 0) {
                int err = errno;
                if (err == ENOBUFS && on_socket > 0) {
                    /* This socket is full: the next one. */
                    if (open_socket(h) != 0)
                        return -1;
                    on_socket = 0;
                    g--;
                    continue;
                }
                char group[INET_ADDRSTRLEN], iface[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &mreq.imr_multiaddr, group, sizeof(group));
                inet_ntop(AF_INET, &mreq.imr_interface, iface, sizeof(iface));
                fprintf(stderr, PROG " handle: joining %s on line %c (interface %s): %s; joined %u of "
                                "%u groups on %d sockets: the %s path holds no more (fewer -g, or "
                                "--lines 1)\n", group, 'A' + line, iface, strerror(err), joined, want,
                        h->nsock, feed_path(o));
                return -1;
            }
            on_socket++;
            joined++;
        }
    }
    return 0;
}

static int setup_buffers(struct handler *h)
{
    unsigned n = h->o->batch;

    h->ctl_len = CMSG_SPACE(sizeof(struct scm_timestamping)) + CMSG_SPACE(sizeof(struct timespec));
    h->msgs = calloc(n, sizeof(*h->msgs));
    h->iov = calloc(n, sizeof(*h->iov));
    h->bufs = malloc((size_t)n * MSG_MAX);
    h->ctl = calloc(n, h->ctl_len);
    if (h->msgs == NULL || h->iov == NULL || h->bufs == NULL || h->ctl == NULL)
        return -1;
    for (unsigned i = 0; i < n; i++)
        h->iov[i] = (struct iovec){ h->bufs + (size_t)i * MSG_MAX, MSG_MAX };
    for (int k = 0; k < LAT_KINDS; k++)
        if (hist_init(&h->lat[k]) != 0)
            return -1;
    return 0;
}

/* The RX stamp of a message in ns, or 0 when none came. */
static uint64_t rx_stamp(const struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
        if (c->cmsg_level != SOL_SOCKET)
            continue;
        struct timespec ts;
        if (c->cmsg_type == SCM_TIMESTAMPNS) {
            memcpy(&ts, CMSG_DATA(c), sizeof(ts));
        } else if (c->cmsg_type == SCM_TIMESTAMPING) {
            struct scm_timestamping st;
            memcpy(&st, CMSG_DATA(c), sizeof(st));
            ts = st.ts[0];              /* the software stamp */
        } else {
            continue;
        }
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    }
    return 0;
}

static uint64_t since(uint64_t from, uint64_t to)
{
    return to > from ? to - from : 0;
}

/* One message read at read_ns. */
static void take(struct handler *h, const struct msghdr *m, size_t len, uint64_t read_ns)
{
    struct feed_hdr hdr;

    if (!feed_get(m->msg_iov->iov_base, len, &hdr) || hdr.group >= h->o->groups ||
        hdr.line >= h->o->lines) {
        h->foreign++;
        return;
    }
    if (!arb_delivered(arb_offer(&h->arb, hdr.group, hdr.seq, hdr.line)))
        return;
    uint64_t rx = rx_stamp(m);
    if (rx != 0) {
        h->stamped++;
        hist_record(&h->lat[LAT_WIRE], since(hdr.sent_ns, rx));
        hist_record(&h->lat[LAT_QUEUE], since(rx, read_ns));
    } else {
        h->unstamped++;
    }
    uint64_t total = since(hdr.sent_ns, read_ns);
    hist_record(&h->lat[LAT_TOTAL], total);
    gl_record(&h->glat[hdr.group], total);
}

/* Read fd until it is empty: the number of messages, or -1. */
static int drain(struct handler *h, int fd)
{
    unsigned batch = h->o->batch;
    int total = 0;

    for (;;) {
        for (unsigned i = 0; i < batch; i++) {
            struct msghdr *m = &h->msgs[i].msg_hdr;
            *m = (struct msghdr){ .msg_iov = &h->iov[i], .msg_iovlen = 1,
                                  .msg_control = h->ctl + i * h->ctl_len, .msg_controllen = h->ctl_len };
        }
        int n;
        if (h->mmsg) {
            n = shunt_recvmmsg(fd, h->msgs, batch, MSG_DONTWAIT, NULL);
            if (n < 0 && (errno == ENOSYS || errno == EOPNOTSUPP)) {
                snprintf(h->read_why, sizeof(h->read_why), "recvmmsg: %s", strerror(errno));
                h->mmsg = false;
                continue;
            }
        } else {
            ssize_t got = shunt_recvmsg(fd, &h->msgs[0].msg_hdr, MSG_DONTWAIT);
            n = got < 0 ? -1 : 1;
            if (got >= 0)
                h->msgs[0].msg_len = (unsigned)got;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return total;
            fprintf(stderr, PROG " handle: %s: %s\n", h->mmsg ? "recvmmsg" : "recvmsg", strerror(errno));
            return -1;
        }
        uint64_t now = feed_now_ns();
        if (h->first_ns == 0)
            h->first_ns = now;
        h->last_ns = now;
        h->calls++;
        h->read_msgs += (uint64_t)n;
        for (int i = 0; i < n; i++)
            take(h, &h->msgs[i].msg_hdr, h->msgs[i].msg_len, now);
        total += n;
        if (h->mmsg && (unsigned)n < batch)     /* recvmsg: until EAGAIN */
            return total;
    }
}

static bool over(const struct handler *h, uint64_t start)
{
    const struct options *o = h->o;
    uint64_t now = feed_now_ns();

    if (stop)
        return true;
    if (o->seconds > 0 && now - start >= (uint64_t)(o->seconds * 1e9))
        return true;
    return o->idle > 0 && h->last_ns != 0 && now - h->last_ns >= (uint64_t)(o->idle * 1e9);
}

static int run(struct handler *h)
{
    struct epoll_event ev[EPOLL_BATCH];
    int timeout = h->o->poll == FEED_POLL_BUSY ? 0 : TICK_MS;
    uint64_t start = feed_now_ns();

    while (!over(h, start)) {
        int n = shunt_epoll_wait(h->epfd, ev, EPOLL_BATCH, timeout);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, PROG " handle: epoll_wait: %s\n", strerror(errno));
            return -1;
        }
        for (int i = 0; i < n; i++)
            if (drain(h, ev[i].data.fd) < 0)
                return -1;
    }
    return 0;
}

/* ---- the report --------------------------------------------------------------- */

static double us(const struct histogram *hg, double p)
{
    return hg->n ? hist_percentile(hg, p) / 1e3 : 0;
}

/* What rx_stamp says: the option, and how many delivered messages had one. */
static const char *stamp_state(const struct handler *h, char *out, size_t len)
{
    if (!h->stamp_on)
        snprintf(out, len, "none (%s): publisher->read only, read at recvmmsg's return", h->stamp_why);
    else if (h->stamped == 0)
        snprintf(out, len, "none (%s taken, but no stamp came): publisher->read only",
                 stamp_name(h->o->stamp));
    else if (h->unstamped > 0)
        snprintf(out, len, "partial (%s on %llu of %llu delivered)", stamp_name(h->o->stamp),
                 (unsigned long long)h->stamped, (unsigned long long)(h->stamped + h->unstamped));
    else
        snprintf(out, len, "%s", stamp_name(h->o->stamp));
    return out;
}

static void print_counts(const char *who, const struct arb_counts *c, unsigned lines)
{
    printf(PROG " handle: %s: delivered %llu, gaps %llu, late %llu, duplicates %llu, reordered %llu, "
           "stale %llu; copies A %llu", who, (unsigned long long)c->delivered,
           (unsigned long long)c->gaps, (unsigned long long)c->late,
           (unsigned long long)c->duplicates, (unsigned long long)c->reordered,
           (unsigned long long)c->stale, (unsigned long long)c->received[0]);
    if (lines == 2)
        printf(", B %llu; recovered by A %llu, by B %llu; first A %llu, B %llu",
               (unsigned long long)c->received[1], (unsigned long long)c->recovered_by[0],
               (unsigned long long)c->recovered_by[1], (unsigned long long)c->first_by[0],
               (unsigned long long)c->first_by[1]);
    printf("\n");
}

static void json_counts(FILE *f, const struct arb_counts *c)
{
    fprintf(f, "\"delivered\": %llu, \"gaps\": %llu, \"late\": %llu, \"duplicates\": %llu, "
               "\"reordered\": %llu, \"stale\": %llu, \"redundant\": %llu, \"received\": [%llu, %llu], "
               "\"recovered_by\": [%llu, %llu], \"first_by\": [%llu, %llu]",
            (unsigned long long)c->delivered, (unsigned long long)c->gaps, (unsigned long long)c->late,
            (unsigned long long)c->duplicates, (unsigned long long)c->reordered,
            (unsigned long long)c->stale, (unsigned long long)c->redundant,
            (unsigned long long)c->received[0], (unsigned long long)c->received[1],
            (unsigned long long)c->recovered_by[0], (unsigned long long)c->recovered_by[1],
            (unsigned long long)c->first_by[0], (unsigned long long)c->first_by[1]);
}

static int write_json(const struct handler *h, const struct arb_counts *t, double secs)
{
    const struct options *o = h->o;
    FILE *f = feed_json_open(o);
    char stamp[256];

    if (f == NULL)
        return -1;
    fprintf(f, "{\"tool\": \"" PROG "\", \"mode\": \"handle\", \"path\": \"%s\", \"label\": ", feed_path(o));
    report_json_str(f, o->label);
    fprintf(f, ", \"groups\": %u, \"lines\": %u, \"port\": %u, \"sockets\": %d, \"seconds\": %.6f, "
               "\"rx_stamp\": ", o->groups, o->lines, o->port, h->nsock, secs);
    report_json_str(f, h->stamp_on && h->stamped > 0 ? stamp_name(o->stamp) : "none");
    fputs(", \"rx_stamp_detail\": ", f);
    report_json_str(f, stamp_state(h, stamp, sizeof(stamp)));
    fprintf(f, ", \"read\": \"%s\", \"read_why\": ", h->mmsg ? "recvmmsg" : "recvmsg");
    report_json_str(f, h->read_why[0] ? h->read_why : NULL);
    fputs(", \"multicast_all_off\": ", f);
    report_json_str(f, h->mcast_all_why[0] ? h->mcast_all_why : "yes");
    fprintf(f, ", \"calls\": %llu, \"messages_read\": %llu, \"foreign\": %llu, \"total\": {",
            (unsigned long long)h->calls, (unsigned long long)h->read_msgs, (unsigned long long)h->foreign);
    json_counts(f, t);
    fputs("}, \"latency_us\": {", f);
    for (int k = 0; k < LAT_KINDS; k++) {
        const struct histogram *hg = &h->lat[k];
        fprintf(f, "%s\"%s\": ", k ? ", " : "", lat_keys[k]);
        if (hg->n == 0) {
            fputs("null", f);
            continue;
        }
        fprintf(f, "{\"n\": %llu, \"min\": %.3f, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, "
                   "\"p99_9\": %.3f, \"max\": %.3f, \"mean\": %.3f}",
                (unsigned long long)hg->n, hg->min / 1e3, us(hg, 50), us(hg, 90), us(hg, 99),
                us(hg, 99.9), hg->max / 1e3, hist_mean(hg) / 1e3);
    }
    fputs("}, \"per_group\": [", f);
    for (unsigned g = 0; g < o->groups; g++) {
        const struct arb_group *ag = &h->arb.g[g];
        const struct grouplat *gl = &h->glat[g];
        fprintf(f, "%s{\"group\": %u, \"last\": %llu, ", g ? ", " : "", g,
                (unsigned long long)(ag->hi[0] > ag->hi[1] ? ag->hi[0] : ag->hi[1]));
        json_counts(f, &ag->c);
        if (gl->n)
            fprintf(f, ", \"publisher_read_us\": {\"n\": %llu, \"p50\": %.3f, \"p99\": %.3f, "
                       "\"p99_9\": %.3f}}", (unsigned long long)gl->n, gl_percentile(gl, 50) / 1e3,
                    gl_percentile(gl, 99) / 1e3, gl_percentile(gl, 99.9) / 1e3);
        else
            fputs(", \"publisher_read_us\": null}", f);
    }
    fputs("]}\n", f);
    return feed_json_close(o, f);
}

static int report(const struct handler *h)
{
    const struct options *o = h->o;
    struct arb_counts t;
    char stamp[256];
    double secs = h->last_ns > h->first_ns ? (h->last_ns - h->first_ns) / 1e9 : 0;

    arb_total(&h->arb, &t);
    printf(PROG " handle: %llu messages read in %.3f s (%llu calls), %llu foreign\n",
           (unsigned long long)h->read_msgs, secs, (unsigned long long)h->calls,
           (unsigned long long)h->foreign);
    print_counts("total", &t, o->lines);
    if (o->per_group)
        for (unsigned g = 0; g < o->groups; g++) {
            const struct grouplat *gl = &h->glat[g];
            char who[32];
            snprintf(who, sizeof(who), "group %u", g);
            print_counts(who, &h->arb.g[g].c, o->lines);
            if (gl->n)
                printf(PROG " handle: group %u: publisher->read us p50 %.1f, p99 %.1f, p99.9 %.1f "
                       "(within 12.5%%)\n", g, gl_percentile(gl, 50) / 1e3, gl_percentile(gl, 99) / 1e3,
                       gl_percentile(gl, 99.9) / 1e3);
        }
    printf(PROG " handle: latency (us)        p50       p99     p99.9       max         n\n");
    for (int k = 0; k < LAT_KINDS; k++) {
        const struct histogram *hg = &h->lat[k];
        if (hg->n == 0)
            printf(PROG " handle:   %-16s none\n", lat_names[k]);
        else
            printf(PROG " handle:   %-16s %9.1f %9.1f %9.1f %9.1f %9llu\n", lat_names[k], us(hg, 50),
                   us(hg, 99), us(hg, 99.9), hg->max / 1e3, (unsigned long long)hg->n);
    }
    printf(PROG " handle: rx_stamp: %s\n", stamp_state(h, stamp, sizeof(stamp)));
    if (h->mmsg)
        printf(PROG " handle: reads: recvmmsg, %.1f messages a call\n",
               h->calls ? (double)h->read_msgs / h->calls : 0);
    else
        printf(PROG " handle: reads: recvmsg one at a time (%s)\n", h->read_why);
    if (h->nsock > 1 && h->mcast_all_why[0])
        printf(PROG " handle: IP_MULTICAST_ALL off: %s: with %d sockets on one port a datagram may "
               "reach several (counted as duplicates)\n", h->mcast_all_why, h->nsock);
    return o->json ? write_json(h, &t, secs) : 0;
}

int feed_handle(const struct options *o)
{
    struct handler h = { .o = o, .epfd = -1, .mmsg = true, .stamp_on = o->stamp != STAMP_NONE };
    int rc = 1;

    h.fds = calloc((size_t)o->groups * o->lines + 1, sizeof(int));
    h.glat = calloc(o->groups, sizeof(*h.glat));
    if (h.fds == NULL || h.glat == NULL || setup_buffers(&h) != 0 ||
        arb_init(&h.arb, o->groups, o->lines, o->window, o->mid_stream) != 0) {
        fprintf(stderr, PROG " handle: out of memory\n");
        goto out;
    }
    h.epfd = shunt_epoll_create1(0);
    if (h.epfd < 0) {
        fprintf(stderr, PROG " handle: epoll_create1: %s\n", strerror(errno));
        goto out;
    }
    if (join_all(&h) != 0)
        goto out;
    char stamp[256];
    printf(PROG ": running: handling %u groups on %u line%s, port %u, %d socket%s, on the %s path; "
           "rx_stamp: %s\n", o->groups, o->lines, o->lines == 1 ? "" : "s", o->port, h.nsock,
           h.nsock == 1 ? "" : "s", feed_path(o),
           h.stamp_on ? stamp_name(o->stamp) : stamp_state(&h, stamp, sizeof(stamp)));
    if (run(&h) != 0)
        goto out;
    arb_flush(&h.arb);
    rc = report(&h) == 0 ? 0 : 1;
out:
    for (int i = 0; i < h.nsock; i++)
        shunt_close(h.fds[i]);
    if (h.epfd >= 0)
        shunt_close(h.epfd);
    for (int k = 0; k < LAT_KINDS; k++)
        hist_free(&h.lat[k]);
    arb_free(&h.arb);
    free(h.fds);
    free(h.glat);
    free(h.msgs);
    free(h.iov);
    free(h.bufs);
    free(h.ctl);
    return rc;
}
