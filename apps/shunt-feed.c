/*
 * shunt-feed - a market-data feed over Shunt's sockets or the kernel's: a
 * publisher of sequenced multicast messages on one or two lines (A and B),
 * and a feed handler that joins both lines, takes each sequence from
 * whichever line brings it first, counts what each line lost, and measures
 * one-way latency publisher -> RX stamp -> read.
 *
 *     shunt-feed publish (-c FILE | --kernel) [LINES] [-m SIZE] [--mps RATE]
 *                        [--burst N] [--pcap FILE [--speed X]] [-t S | -n COUNT]
 *     shunt-feed handle  (-c FILE | --kernel) [LINES] [-t S] [--idle S]
 *                        [--stamp ns|timestamping|none] [--poll epoll|busy]
 *                        [--batch N] [--per-socket N] [--window N] [--mid-stream]
 *     LINES: [-g K] [--lines 1|2] [--group-a ADDR] [--group-b ADDR]
 *            [--if-a ADDR] [--if-b ADDR] [-p PORT]
 *     and [--json FILE] [--label TEXT]
 *
 * Written only against <shunt/socket.h>, the way any handler would use the
 * Linux socket API, so one binary runs either path (feed.h has the parts).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shunt/shunt.h"

#include "app.h"
#include "feed.h"
#include "opts.h"
#include "sock.h"
#include "wire.h"

const char app_name[] = PROG;

static const char *const mode_names[] = { "publish", "handle", NULL };
static const char *const stamp_names[] = { "ns", "timestamping", "none", NULL };
static const char *const poll_names[] = { "epoll", "busy", NULL };

uint64_t feed_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

FILE *feed_json_open(const struct options *o)
{
    FILE *f = strcmp(o->json, "-") == 0 ? stdout : fopen(o->json, "w");

    if (f == NULL)
        fprintf(stderr, PROG " %s: --json %s: %s\n", mode_names[o->mode], o->json, strerror(errno));
    return f;
}

int feed_json_close(const struct options *o, FILE *f)
{
    if (f == stdout ? fflush(f) == 0 : fclose(f) == 0)
        return 0;
    fprintf(stderr, PROG " %s: --json %s: %s\n", mode_names[o->mode], o->json, strerror(errno));
    return -1;
}

/* An IPv4 address, into a struct in_addr. */
static int parse_addr(const char *arg, void *field)
{
    return inet_pton(AF_INET, arg, field) == 1 ? 0 : -1;
}

/* Options given, to check each belongs to the mode. */
enum {
    GAVE_PUBLISH = 1 << 0, GAVE_HANDLE = 1 << 1, GAVE_TIME = 1 << 2, GAVE_COUNT = 1 << 3,
    GAVE_IF_B = 1 << 4, GAVE_PCAP = 1 << 5, GAVE_SIZE = 1 << 6, GAVE_RATE = 1 << 7,
};

#define STR(x) #x
#define XSTR(x) STR(x)
#define AT(field) OPT_AT(struct options, field)

static const struct opt table[] = {
    { 'c', NULL, OPT_STRING, "FILE", AT(config), .help = "stack configuration (default: $SHUNT_CONFIG)" },
    { 0, "kernel", OPT_SET, NULL, AT(kernel), .help = "the kernel's sockets instead of Shunt" },
    { 'g', "groups", OPT_UINT, "K", AT(groups), .min = 1, .max = 65535,
      .help = "groups a line (default 10)" },
    { 0, "lines", OPT_UINT, "N", AT(lines), .min = 1, .max = 2, .help = "1 or 2 (default 2: A and B)" },
    { 0, "group-a", OPT_CUSTOM, "ADDR", AT(group_base[0]), .parse = parse_addr,
      .help = "line A's first group (default 239.1.0.0)" },
    { 0, "group-b", OPT_CUSTOM, "ADDR", AT(group_base[1]), .parse = parse_addr,
      .help = "line B's first group (default 239.2.0.0)" },
    { 0, "if-a", OPT_CUSTOM, "ADDR", AT(iface[0]), .parse = parse_addr,
      .help = "line A's interface address (default any)" },
    { 0, "if-b", OPT_CUSTOM, "ADDR", AT(iface[1]), .parse = parse_addr, .gave = GAVE_IF_B,
      .help = "line B's (default: line A's)" },
    { 'p', NULL, OPT_UINT, "PORT", AT(port), .min = 1, .max = 65535,
      .help = "the groups' UDP port (default " XSTR(FEED_DEFAULT_PORT) ")" },
    { 't', NULL, OPT_REAL, "SECONDS", AT(seconds), .real_min = 0.001, .real_max = 86400 * 365,
      .gave = GAVE_TIME, .help = "publish this long (default 10); handle: stop after\nthis long (default: at a signal or --idle)" },
    { 0, "json", OPT_STRING, "FILE", AT(json), .help = "the results as JSON (- for stdout)" },
    { 0, "label", OPT_STRING, "TEXT", AT(label), .help = "a name for this run in the JSON" },
    { 'h', "help", OPT_HELP, .help = "this help" },
    { .kind = OPT_HEADING, .help = "publish:" },
    { 'm', NULL, OPT_UINT, "SIZE", AT(size), .min = FEED_HDR, .max = 9216, .gave = GAVE_PUBLISH | GAVE_SIZE,
      .help = "message bytes, " XSTR(FEED_HDR) "..9216 (default 64; --pcap: the most,\ndefault 1472)" },
    { 0, "mps", OPT_REAL, "RATE", AT(mps), .real_min = 1, .real_max = 1e8, .gave = GAVE_PUBLISH | GAVE_RATE,
      .help = "messages a second over all groups (default 100000);\neach goes on every line" },
    { 0, "burst", OPT_UINT, "N", AT(burst), .min = 1, .max = 1000000, .gave = GAVE_PUBLISH | GAVE_RATE,
      .help = "send N back to back, bursts at RATE/N a second (default 1)" },
    { 'n', NULL, OPT_UINT, "COUNT", AT(count), .min = 1, .max = UINT64_MAX / 2,
      .gave = GAVE_PUBLISH | GAVE_COUNT, .help = "stop after COUNT messages" },
    { 0, "pcap", OPT_STRING, "FILE", AT(pcap), .gave = GAVE_PUBLISH | GAVE_PCAP,
      .help = "replay the UDP datagrams of FILE: their timing, sizes,\none group per destination" },
    { 0, "speed", OPT_REAL, "X", AT(speed), .real_min = 0.001, .real_max = 1e6, .gave = GAVE_PUBLISH,
      .help = "--pcap X times faster (default 1)" },
    { 0, "ttl", OPT_UINT, "TTL", AT(ttl), .min = 0, .max = 255, .gave = GAVE_PUBLISH,
      .help = "IP_MULTICAST_TTL (default 1)" },
    { .kind = OPT_HEADING, .help = "handle:" },
    { 0, "idle", OPT_REAL, "SECONDS", AT(idle), .real_min = 0.001, .real_max = 86400, .gave = GAVE_HANDLE,
      .help = "stop once nothing came for this long (after the first)" },
    { 0, "stamp", OPT_CHOICE, "HOW", AT(stamp), .choices = stamp_names, .gave = GAVE_HANDLE,
      .help = "RX stamps: ns (SO_TIMESTAMPNS, default), timestamping\n(SO_TIMESTAMPING software), none" },
    { 0, "poll", OPT_CHOICE, "HOW", AT(poll), .choices = poll_names, .gave = GAVE_HANDLE,
      .help = "epoll: epoll_wait blocks (default); busy: timeout 0 in a loop" },
    { 0, "batch", OPT_UINT, "N", AT(batch), .min = 1, .max = 1024, .gave = GAVE_HANDLE,
      .help = "messages a recvmmsg (default 64)" },
    { 0, "per-socket", OPT_UINT, "N", AT(per_socket), .min = 1, .max = 100000, .gave = GAVE_HANDLE,
      .help = "groups joined on one socket at most (default: until\nthe stack says ENOBUFS; Linux's limit is 20)" },
    { 0, "window", OPT_UINT, "N", AT(window), .min = 2, .max = 1u << 24, .gave = GAVE_HANDLE,
      .help = "sequences tracked a group, a power of two (default 4096)" },
    { 0, "mid-stream", OPT_SET, NULL, AT(mid_stream), .gave = GAVE_HANDLE,
      .help = "a group starts at the first sequence seen (default: 1)" },
    { 0, "per-group", OPT_SET, NULL, AT(per_group), .gave = GAVE_HANDLE,
      .help = "a line of counts for each group" },
};

static const struct opts_spec spec = {
    table, sizeof(table) / sizeof(table[0]),
    "usage: shunt-feed publish (-c FILE | --kernel) [LINES] [-m SIZE] [--mps RATE] [--burst N]\n"
    "                          [--pcap FILE [--speed X]] [-t SECONDS | -n COUNT] [--ttl TTL]\n"
    "       shunt-feed handle  (-c FILE | --kernel) [LINES] [-t SECONDS] [--idle SECONDS]\n"
    "                          [--stamp ns|timestamping|none] [--poll epoll|busy] [--batch N]\n"
    "                          [--per-socket N] [--window N] [--mid-stream] [--per-group]\n"
    "LINES: [-g K] [--lines 1|2] [--group-a ADDR] [--group-b ADDR] [--if-a ADDR] [--if-b ADDR]\n"
    "       [-p PORT]; and [--json FILE] [--label TEXT]\n"
    "\n",
    18, 0, "see shunt-feed --help",
};

static int bad(const struct options *o, const char *what)
{
    return opts_mode_error(PROG, mode_names[o->mode], what);
}

static int check_options(struct options *o, unsigned gave)
{
    if (o->kernel && o->config)
        return bad(o, "-c and --kernel exclude each other");
    if (o->mode == PUBLISH && (gave & GAVE_HANDLE))
        return bad(o, "--idle, --stamp, --poll, --batch, --per-socket, --window, --mid-stream and "
                      "--per-group are handle's");
    if (o->mode == HANDLE && (gave & GAVE_PUBLISH))
        return bad(o, "-m, --mps, --burst, -n, --pcap, --speed and --ttl are publish's");
    if ((gave & GAVE_TIME) && (gave & GAVE_COUNT))
        return bad(o, "-t and -n exclude each other: publish for a time or a count");
    if ((gave & GAVE_PCAP) && (gave & GAVE_RATE))
        return bad(o, "--pcap sends with the capture's timing: --mps and --burst do not apply");
    if (o->window & (o->window - 1))
        return bad(o, "--window: a power of two, e.g. 4096");
    if (o->lines == 2 && ntohl(o->group_base[0].s_addr) < ntohl(o->group_base[1].s_addr) + o->groups &&
        ntohl(o->group_base[1].s_addr) < ntohl(o->group_base[0].s_addr) + o->groups)
        return bad(o, "lines A and B share groups: --group-a and --group-b K or more apart");
    for (unsigned l = 0; l < o->lines; l++) {
        uint32_t first = ntohl(o->group_base[l].s_addr), last = first + o->groups - 1;
        if ((first >> 28) != 0xe || (last >> 28) != 0xe || last < first)
            return bad(o, "a line's K groups must all be IPv4 multicast (224.0.0.0/4): "
                          "change --group-a, --group-b or -g");
    }
    if (!(gave & GAVE_IF_B))
        o->iface[1] = o->iface[0];
    if (o->mode == PUBLISH && o->pcap && !(gave & GAVE_SIZE))
        o->size = 1472;
    if (o->mode == HANDLE && !(gave & GAVE_TIME))
        o->seconds = 0;
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    unsigned gave = 0;

    *o = (struct options){ .port = FEED_DEFAULT_PORT, .groups = 10, .lines = 2, .seconds = 10,
                           .size = 64, .mps = 100000, .burst = 1, .speed = 1, .ttl = 1,
                           .window = 4096, .batch = 64 };
    inet_pton(AF_INET, "239.1.0.0", &o->group_base[0]);
    inet_pton(AF_INET, "239.2.0.0", &o->group_base[1]);
    int mode = opts_mode(&spec, mode_names, argc, argv);
    if (mode < 0)
        return -1;
    o->mode = (enum feed_mode)mode;
    if (opts_parse(&spec, argc - 1, argv + 1, o, &gave) < 0)
        return -1;
    return check_options(o, gave);
}

int main(int argc, char **argv)
{
    struct options o;

    if (parse_options(argc, argv, &o) != 0)
        return 2;
    if (start_sockets(o.kernel, o.config, NULL) != 0)
        return 1;
    int rc = o.mode == PUBLISH ? feed_publish(&o) : feed_handle(&o);
    shunt_exit();
    return rc;
}
