/*
 * publish.c - shunt-feed publish: sequenced messages (wire.h) to K groups,
 * each message on every line (the same group index and sequence on A and
 * B, as redundant feeds are), with sendmmsg in batches.
 *
 * When: at --mps messages a second in bursts of --burst back to back
 * (round-robin over the groups), or at the original offsets of a pcap's
 * datagrams (--pcap, --speed), each to the group of its destination.  The
 * publisher sleeps when the next message is more than PACE_SLEEP_NS away
 * (it shares the machine's cores with the handler) and otherwise sends what
 * is due: behind schedule, it catches up in batches rather than lowering
 * the rate, and says what rate it reached.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include "shunt/socket.h"

#include "app.h"
#include "feed.h"
#include "replay.h"
#include "report.h"
#include "sock.h"
#include "wire.h"

#define PUB_BATCH       64              /* messages a sendmmsg, per line */
#define PACE_SLEEP_NS   20000           /* sleep when the next one is further away */

struct publisher {
    const struct options *o;
    int fd[2];
    struct sockaddr_in *dst[2];         /* K groups per line */
    uint64_t *seq;                      /* the last sequence of each group */
    unsigned char *buf[2];              /* PUB_BATCH messages of o->size bytes */
    struct mmsghdr msgs[2][PUB_BATCH];
    struct iovec iov[2][PUB_BATCH];
    uint64_t messages, unsent[2];
    int error;                          /* the first send error's errno */
};

static int open_line(struct publisher *p, unsigned line)
{
    const struct options *o = p->o;
    int fd = shunt_socket(AF_INET, SOCK_DGRAM, 0);

    if (fd < 0) {
        fprintf(stderr, PROG " publish: socket: %s\n", strerror(errno));
        return -1;
    }
    p->fd[line] = fd;
    if (shunt_setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &o->iface[line], sizeof(o->iface[line])) != 0 ||
        set_int_opt(fd, IPPROTO_IP, IP_MULTICAST_TTL, (int)o->ttl) != 0) {
        char ifa[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &o->iface[line], ifa, sizeof(ifa));
        fprintf(stderr, PROG " publish: line %c: IP_MULTICAST_IF %s or IP_MULTICAST_TTL: %s\n",
                'A' + line, ifa, strerror(errno));
        return -1;
    }
    p->dst[line] = calloc(o->groups, sizeof(struct sockaddr_in));
    p->buf[line] = calloc(PUB_BATCH, o->size);
    if (p->dst[line] == NULL || p->buf[line] == NULL) {
        fprintf(stderr, PROG " publish: out of memory\n");
        return -1;
    }
    for (unsigned g = 0; g < o->groups; g++)
        p->dst[line][g] = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(o->port),
                                                .sin_addr = feed_group(o, line, g) };
    for (unsigned i = 0; i < PUB_BATCH; i++) {
        p->iov[line][i].iov_base = p->buf[line] + (size_t)i * o->size;
        p->msgs[line][i].msg_hdr = (struct msghdr){ .msg_iov = &p->iov[line][i], .msg_iovlen = 1,
                                                    .msg_namelen = sizeof(struct sockaddr_in) };
    }
    return 0;
}

/* Message i of the batch: the next sequence of group, len bytes, on every line. */
static void add(struct publisher *p, unsigned i, unsigned group, size_t len)
{
    uint64_t seq = ++p->seq[group];

    for (unsigned line = 0; line < p->o->lines; line++) {
        struct feed_hdr h = { .line = (uint8_t)line, .group = (uint16_t)group, .seq = seq };
        feed_put(p->buf[line] + (size_t)i * p->o->size, &h);
        p->iov[line][i].iov_len = len;
        p->msgs[line][i].msg_hdr.msg_name = &p->dst[line][group];
    }
}

/* Send the n messages of the batch on each line, stamped now. */
static void flush(struct publisher *p, unsigned n)
{
    for (unsigned line = 0; line < p->o->lines; line++) {
        uint64_t sent = htobe64(feed_now_ns());
        for (unsigned i = 0; i < n; i++)
            memcpy(p->buf[line] + (size_t)i * p->o->size + 16, &sent, 8);
        unsigned done = 0;
        while (done < n) {
            int rc = shunt_sendmmsg(p->fd[line], p->msgs[line] + done, n - done, 0);
            if (rc > 0) {
                done += (unsigned)rc;
            } else if (rc < 0 && errno == EINTR && !stop) {
                continue;
            } else {
                /* The message that failed is lost on this line (a gap the
                 * handler may see), counted: the feed goes on. */
                if (p->error == 0)
                    p->error = errno;
                p->unsent[line]++;
                done++;
            }
        }
    }
    p->messages += n;
}

/* Sleep until about when (CLOCK_MONOTONIC ns), if that is far enough away. */
static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void wait_until(uint64_t when)
{
    uint64_t now = mono_ns();

    if (when > now + PACE_SLEEP_NS) {
        uint64_t until = when - PACE_SLEEP_NS / 2;
        struct timespec ts = { (time_t)(until / 1000000000u), (long)(until % 1000000000u) };
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
    while (mono_ns() < when && !stop)
        ;
}

static bool more(const struct publisher *p, uint64_t start)
{
    const struct options *o = p->o;

    if (stop)
        return false;
    if (o->count)
        return p->messages < o->count;
    return mono_ns() - start < (uint64_t)(o->seconds * 1e9);
}

/* --mps in bursts of --burst, round-robin over the groups. */
static void run_rate(struct publisher *p, uint64_t start)
{
    const struct options *o = p->o;
    double burst_ns = 1e9 * o->burst / o->mps;
    uint64_t bursts = 0;
    unsigned group = 0;

    while (more(p, start)) {
        wait_until(start + (uint64_t)(bursts * burst_ns));
        /* Everything due by now, a burst at a time. */
        uint64_t now = mono_ns();
        uint64_t due = ((uint64_t)((now - start) / burst_ns) + 1) * o->burst;
        uint64_t want = due - p->messages;
        if (o->count && p->messages + want > o->count)
            want = o->count - p->messages;
        while (want > 0 && more(p, start)) {
            unsigned n = want < PUB_BATCH ? (unsigned)want : PUB_BATCH;
            for (unsigned i = 0; i < n; i++) {
                add(p, i, group, o->size);
                group = group + 1 == o->groups ? 0 : group + 1;
            }
            flush(p, n);
            want -= n;
        }
        bursts = p->messages / o->burst;
    }
}

/* --pcap: each datagram at its offset (divided by --speed). */
static int run_pcap(struct publisher *p, uint64_t start, uint64_t *skipped)
{
    const struct options *o = p->o;
    struct replay *r = replay_open(o->pcap, o->groups);
    struct replay_packet pkt;
    int rc = 0;
    unsigned n = 0;

    if (r == NULL)
        return -1;
    while (more(p, start) && (rc = replay_next(r, &pkt)) == 1) {
        uint64_t when = start + (uint64_t)(pkt.offset_ns / o->speed);
        if (n > 0 && (mono_ns() < when || n == PUB_BATCH)) {
            flush(p, n);
            n = 0;
        }
        wait_until(when);
        size_t len = pkt.length < FEED_HDR ? FEED_HDR : pkt.length > o->size ? o->size : pkt.length;
        add(p, n++, pkt.group, len);
        if (o->count && p->messages + n == o->count)
            break;
    }
    if (n > 0)
        flush(p, n);
    *skipped = replay_skipped(r);
    replay_close(r);
    return rc < 0 ? -1 : 0;
}

static int report(const struct publisher *p, double secs, uint64_t skipped)
{
    const struct options *o = p->o;
    double rate = secs > 0 ? p->messages / secs : 0;
    char asked[64];

    if (o->pcap)
        snprintf(asked, sizeof(asked), "the pcap's timing x%g", o->speed);
    else
        snprintf(asked, sizeof(asked), "asked %.0f in bursts of %u", o->mps, o->burst);
    printf(PROG " publish: sent %llu messages of %zu bytes to %u groups on %u line%s in %.3f s: "
           "%.0f msg/s (%s); not sent: A %llu, B %llu%s%s\n",
           (unsigned long long)p->messages, o->size, o->groups, o->lines, o->lines == 1 ? "" : "s",
           secs, rate, asked, (unsigned long long)p->unsent[0], (unsigned long long)p->unsent[1],
           p->error ? ", first error: " : "", p->error ? strerror(p->error) : "");
    if (o->pcap)
        printf(PROG " publish: pcap %s: %llu packets skipped (not UDP)\n", o->pcap,
               (unsigned long long)skipped);
    if (o->json == NULL)
        return 0;
    FILE *f = feed_json_open(o);
    if (f == NULL)
        return -1;
    fprintf(f, "{\"tool\": \"" PROG "\", \"mode\": \"publish\", \"path\": \"%s\", \"label\": ",
            feed_path(o));
    report_json_str(f, o->label);
    fprintf(f, ", \"pcap\": ");
    report_json_str(f, o->pcap);
    fprintf(f, ", \"groups\": %u, \"lines\": %u, \"size\": %zu, \"mps\": %g, \"burst\": %u, "
               "\"seconds\": %.6f, \"messages\": %llu, \"rate\": %.1f, "
               "\"unsent\": [%llu, %llu], \"skipped\": %llu, \"last_seq\": [",
            o->groups, o->lines, o->size, o->pcap ? 0 : o->mps, o->burst, secs,
            (unsigned long long)p->messages, rate, (unsigned long long)p->unsent[0],
            (unsigned long long)p->unsent[1], (unsigned long long)skipped);
    for (unsigned g = 0; g < o->groups; g++)
        fprintf(f, "%s%llu", g ? ", " : "", (unsigned long long)p->seq[g]);
    fputs("]}\n", f);
    return feed_json_close(o, f);
}

int feed_publish(const struct options *o)
{
    struct publisher p = { .o = o, .fd = { -1, -1 } };
    uint64_t skipped = 0;
    int rc = 1;

    /* Sleeps of tens of microseconds, not the default 50 us of slack. */
    prctl(PR_SET_TIMERSLACK, 1UL);
    p.seq = calloc(o->groups, sizeof(*p.seq));
    if (p.seq == NULL) {
        fprintf(stderr, PROG " publish: out of memory\n");
        return 1;
    }
    for (unsigned line = 0; line < o->lines; line++)
        if (open_line(&p, line) != 0)
            goto out;
    char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN] = "";
    inet_ntop(AF_INET, &o->group_base[0], a, sizeof(a));
    if (o->lines == 2)
        inet_ntop(AF_INET, &o->group_base[1], b, sizeof(b));
    printf(PROG ": running: publishing to %u groups a line from %s%s%s, port %u, on the %s path\n",
           o->groups, a, o->lines == 2 ? " (A) and " : "", o->lines == 2 ? b : "", o->port, feed_path(o));
    uint64_t start = mono_ns();
    if (o->pcap) {
        if (run_pcap(&p, start, &skipped) != 0)
            goto out;
    } else {
        run_rate(&p, start);
    }
    rc = report(&p, (mono_ns() - start) / 1e9, skipped) == 0 ? 0 : 1;
out:
    for (unsigned line = 0; line < 2; line++) {
        if (p.fd[line] >= 0)
            shunt_close(p.fd[line]);
        free(p.dst[line]);
        free(p.buf[line]);
    }
    free(p.seq);
    return rc;
}
