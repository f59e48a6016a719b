/*
 * feed.h - shunt-feed's two modes and the settings they share.
 *
 *   publish (publish.c)  sequenced messages (wire.h) to K groups on one or
 *                        two lines: at a rate, in bursts, or with the timing
 *                        of a pcap (replay.h)
 *   handle (handle.c)    joins the groups of both lines, arbitrates A/B
 *                        (arbiter.h), measures one-way latency, reports
 *
 * A line is a set of K groups (group i of line A is --group-a + i, of line
 * B --group-b + i) sent from, or joined on, the interface address of that
 * line (--if-a, --if-b): two NICs, or one NIC with two group sets.
 */
#ifndef SHUNT_FEED_FEED_H
#define SHUNT_FEED_FEED_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PROG "shunt-feed"
#define FEED_DEFAULT_PORT 30001

enum feed_mode { PUBLISH, HANDLE };
enum stamp_kind { STAMP_NS, STAMP_TIMESTAMPING, STAMP_NONE };
enum feed_poll { FEED_POLL_EPOLL, FEED_POLL_BUSY };

struct options {
    enum feed_mode mode;
    const char *config;         /* -c FILE */
    bool kernel;                /* --kernel */
    uint16_t port;              /* -p */
    unsigned groups;            /* -g: K */
    unsigned lines;             /* --lines: 1 or 2 */
    struct in_addr group_base[2];       /* --group-a, --group-b */
    struct in_addr iface[2];            /* --if-a, --if-b */
    double seconds;             /* -t; handle: 0 runs until a signal (or --idle) */
    const char *json;           /* --json FILE ("-": stdout) */
    const char *label;          /* --label */

    /* publish */
    size_t size;                /* -m */
    double mps;                 /* --mps: messages a second, over all groups */
    unsigned burst;             /* --burst: messages back to back */
    uint64_t count;             /* -n: stop after this many messages; 0: by time */
    const char *pcap;           /* --pcap FILE */
    double speed;               /* --speed: the pcap's timing, this many times faster */
    unsigned ttl;               /* --ttl */

    /* handle */
    double idle;                /* --idle: stop this long after the last message */
    uint64_t window;            /* --window */
    bool mid_stream;            /* --mid-stream */
    enum stamp_kind stamp;      /* --stamp */
    enum feed_poll poll;        /* --poll */
    unsigned batch;             /* --batch: messages a recvmmsg */
    unsigned per_socket;        /* --per-socket: groups joined on one socket; 0: as many as it takes */
    bool per_group;             /* --per-group: a row per group in the table */
};

/* Group i of line l (network byte order). */
static inline struct in_addr feed_group(const struct options *o, unsigned line, unsigned i)
{
    struct in_addr a = { htonl(ntohl(o->group_base[line].s_addr) + i) };
    return a;
}

static inline const char *feed_path(const struct options *o)
{
    return o->kernel ? "kernel" : "shunt";
}

/* Each mode's run: 0, or 1 after saying why. */
int feed_publish(const struct options *o);
int feed_handle(const struct options *o);

/* --json's file (stdout for "-"), or NULL after saying why; closing it:
 * 0, or -1 after saying why. */
FILE *feed_json_open(const struct options *o);
int feed_json_close(const struct options *o, FILE *f);

/* CLOCK_REALTIME in ns: the clock of the publisher's stamp and of the
 * kernel's (and Shunt's) RX stamps. */
uint64_t feed_now_ns(void);

#endif /* SHUNT_FEED_FEED_H */
