/*
 * shunt-floor - the floor under every Shunt number: a ping-pong of raw
 * frames over a DPDK port with no stack at all.  What Shunt adds to a round
 * trip is what it measures above this.
 *
 *     shunt-floor EAL-ARGS -- server [-q]
 *     shunt-floor EAL-ARGS -- ping-pong [-m SIZE] [-t SECONDS | -n COUNT]
 *                 [--warmup SECONDS] [--mps RATE] [--timeout MS]
 *                 [--json FILE] [--csv FILE] [--label TEXT] [-q]
 *
 * The initiator (ping-pong) sends one frame, stamps it with the TSC, spins
 * on rx_burst until it comes back, and records the round trip; the
 * responder (server) swaps each frame's MAC addresses and sends it back.
 * A frame is what a UDP datagram of SIZE bytes would be (Ethernet, IPv4
 * and UDP headers, then SIZE bytes), so sizes compare with shunt-perf's.
 * Results are shunt-perf's: the same histogram, table, JSON and CSV.
 *
 * Over memif, as scripts/bench runs it:
 *     shunt-floor -l 0 --file-prefix=f-srv --no-pci \
 *         --vdev=net_memif0,role=server,socket=/run/floor.sock -- server
 *     shunt-floor -l 1 --file-prefix=f-cli --no-pci \
 *         --vdev=net_memif0,role=client,socket=/run/floor.sock -- ping-pong -m 64
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "cycles.h"
#include "histogram.h"
#include "report.h"

#define PROG        "shunt-floor"
#define HEADERS     (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))
#define MAX_SIZE    (RTE_ETHER_MTU - sizeof(struct rte_ipv4_hdr) - sizeof(struct rte_udp_hdr))
#define MIN_FRAME   (RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN)    /* 60 */
#define BURST       32
#define RING        1024
#define MBUFS       4095
#define LINK_WAIT_S 10

struct options {
    bool server;
    size_t size;
    double seconds, warmup, mps;
    uint64_t count;
    int timeout_ms;
    const char *json, *csv, *label;
    bool quiet;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* ---- the port ------------------------------------------------------------- */

struct port {
    uint16_t id;
    struct rte_mempool *pool;
    struct rte_ether_addr mac;
};

/* The first port the EAL line made, with one queue each way, started. */
static int port_open(struct port *p)
{
    struct rte_eth_conf conf;
    int rc;

    memset(&conf, 0, sizeof(conf));
    if (rte_eth_dev_count_avail() == 0) {
        fprintf(stderr, PROG ": no DPDK port: the EAL arguments create none; add one, "
                        "e.g. --vdev=net_memif0,role=client,socket=/run/floor.sock\n");
        return -1;
    }
    RTE_ETH_FOREACH_DEV(p->id)
        break;
    p->pool = rte_pktmbuf_pool_create("floor", MBUFS, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                      (int)rte_socket_id());
    if (p->pool == NULL) {
        fprintf(stderr, PROG ": mbuf pool: %s (free hugepages? scripts/setup reserves them)\n",
                rte_strerror(rte_errno));
        return -1;
    }
    if ((rc = rte_eth_dev_configure(p->id, 1, 1, &conf)) != 0 ||
        (rc = rte_eth_rx_queue_setup(p->id, 0, RING, (unsigned)rte_eth_dev_socket_id(p->id),
                                     NULL, p->pool)) != 0 ||
        (rc = rte_eth_tx_queue_setup(p->id, 0, RING, (unsigned)rte_eth_dev_socket_id(p->id),
                                     NULL)) != 0 ||
        (rc = rte_eth_macaddr_get(p->id, &p->mac)) != 0 ||
        (rc = rte_eth_dev_start(p->id)) != 0) {
        fprintf(stderr, PROG ": port %u: %s\n", p->id, rte_strerror(-rc));
        return -1;
    }
    return 0;
}

static void port_close(struct port *p)
{
    rte_eth_dev_stop(p->id);
    rte_eth_dev_close(p->id);
}

/* memif's link is up once both ends have met. */
static int wait_for_link(const struct port *p)
{
    struct rte_eth_link link;
    uint64_t deadline = tsc_now() + tsc_from_s(LINK_WAIT_S);

    while (!stop && tsc_now() < deadline) {
        if (rte_eth_link_get_nowait(p->id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP)
            return 0;
        rte_delay_ms(10);
    }
    if (!stop)
        fprintf(stderr, PROG ": port %u: no link within %d s (is the other end running?)\n",
                p->id, LINK_WAIT_S);
    return -1;
}

/* ---- responder -------------------------------------------------------------- */

static int serve(const struct options *o, const struct port *p)
{
    struct rte_mbuf *pkts[BURST];
    unsigned long long echoed = 0, refused = 0;

    printf(PROG ": running: echoing frames on port %u; SIGINT or SIGTERM stops it\n", p->id);
    fflush(stdout);
    while (!stop) {
        uint16_t n = rte_eth_rx_burst(p->id, 0, pkts, BURST);
        if (n == 0)
            continue;
        for (uint16_t i = 0; i < n; i++) {
            struct rte_ether_hdr *eth = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
            struct rte_ether_addr tmp = eth->dst_addr;
            eth->dst_addr = eth->src_addr;
            eth->src_addr = tmp;
        }
        uint16_t sent = rte_eth_tx_burst(p->id, 0, pkts, n);
        echoed += sent;
        if (sent < n) {
            refused += n - sent;
            rte_pktmbuf_free_bulk(pkts + sent, n - sent);
        }
    }
    if (!o->quiet)
        printf(PROG ": server: %llu frames echoed, %llu refused by the port\n", echoed, refused);
    return 0;
}

/* ---- initiator ----------------------------------------------------------------- */

struct pinger {
    const struct options *o;
    const struct port *p;
    uint8_t frame[RTE_ETHER_MAX_LEN];
    size_t frame_len;
    bool measuring;
    uint64_t warm_end, start, end, next_progress;
    uint64_t ops, sent, received, late;
    struct histogram lat;
    struct cpu_meter cpu;
};

/* A UDP datagram's frame, from this port to a made-up peer (memif does not
 * look at addresses; the responder swaps them). */
static void build_frame(struct pinger *pg)
{
    struct rte_ether_hdr *eth = (struct rte_ether_hdr *)pg->frame;
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
    struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
    size_t size = pg->o->size;

    memset(pg->frame, 0, sizeof(pg->frame));
    eth->src_addr = pg->p->mac;
    eth->dst_addr = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, 0x01 } };
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*udp) + size));
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_UDP;
    ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(10, 10, 0, 2));
    ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(10, 10, 0, 1));
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    udp->src_port = udp->dst_port = rte_cpu_to_be_16(9);
    udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + size));
    pg->frame_len = HEADERS + size < MIN_FRAME ? MIN_FRAME : HEADERS + size;
}

/* The payload's first bytes (up to 8) carry the round trip's number. */
static void stamp(uint8_t *payload, size_t size, uint64_t seq)
{
    memcpy(payload, &seq, size < 8 ? size : 8);
}

static bool stamped(const uint8_t *payload, size_t size, uint64_t seq)
{
    return memcmp(payload, &seq, size < 8 ? size : 8) == 0;
}

static int send_frame(struct pinger *pg, uint64_t seq)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(pg->p->pool);
    char *data = m ? rte_pktmbuf_append(m, (uint16_t)pg->frame_len) : NULL;

    if (data == NULL) {
        fprintf(stderr, PROG ": out of mbufs\n");
        rte_pktmbuf_free(m);
        return -1;
    }
    memcpy(data, pg->frame, pg->frame_len);
    stamp((uint8_t *)data + HEADERS, pg->o->size, seq);
    while (rte_eth_tx_burst(pg->p->id, 0, &m, 1) == 0)
        if (stop) {
            rte_pktmbuf_free(m);
            return -1;
        }
    return 0;
}

/* Spin until frame seq is back: 1, or 0 past the deadline.  Frames of
 * earlier round trips, back after their time, count as late. */
static int await_frame(struct pinger *pg, uint64_t seq, uint64_t deadline)
{
    struct rte_mbuf *pkts[BURST];
    int got = 0;

    while (!got && !stop) {
        uint16_t n = rte_eth_rx_burst(pg->p->id, 0, pkts, BURST);
        for (uint16_t i = 0; i < n; i++) {
            const uint8_t *payload = rte_pktmbuf_mtod_offset(pkts[i], const uint8_t *, HEADERS);
            if (pkts[i]->data_len >= pg->frame_len && stamped(payload, pg->o->size, seq))
                got = 1;
            else if (pg->measuring)
                pg->late++;
        }
        rte_pktmbuf_free_bulk(pkts, n);
        if (n == 0 && tsc_now() >= deadline)
            return 0;
    }
    return got;
}

static void progress(struct pinger *pg, uint64_t now)
{
    double secs = tsc_to_s(now - pg->start);

    fprintf(stderr, PROG ": %.0f s: %llu round trips, %.0f/s, p50 %.3f us, p99 %.3f us\n", secs,
            (unsigned long long)pg->ops, secs > 0 ? (double)pg->ops / secs : 0.0,
            hist_percentile(&pg->lat, 50) / 1e3, hist_percentile(&pg->lat, 99) / 1e3);
}

/* Between round trips: start measuring after the warm-up, show progress;
 * false when the run is over. */
static bool run_on(struct pinger *pg)
{
    uint64_t now = tsc_now();

    if (stop)
        return false;
    if (!pg->measuring) {
        if (now >= pg->warm_end) {
            pg->measuring = true;
            pg->start = now;
            pg->end = now + tsc_from_s(pg->o->seconds);
            pg->next_progress = now + tsc_from_s(1.0);
            cpu_meter_start(&pg->cpu);
        }
        return true;
    }
    if (pg->o->count ? pg->ops >= pg->o->count : now >= pg->end)
        return false;
    if (now >= pg->next_progress) {
        if (!pg->o->quiet)
            progress(pg, now);
        pg->next_progress += tsc_from_s(1.0);
    }
    return true;
}

static int ping_pong_loop(struct pinger *pg)
{
    const struct options *o = pg->o;
    uint64_t interval = o->mps > 0 ? tsc_from_s(1.0 / o->mps) : 0, next_send = tsc_now();
    uint64_t timeout = tsc_from_s(o->timeout_ms / 1e3), seq = 0;

    while (run_on(pg)) {
        if (interval) {
            while (tsc_now() < next_send && !stop)
                ;
            next_send += interval;
            if (next_send < tsc_now())
                next_send = tsc_now();
        }
        seq++;
        uint64_t t0 = tsc_now();
        if (send_frame(pg, seq) != 0)
            return -1;
        int got = await_frame(pg, seq, t0 + timeout);
        uint64_t t1 = tsc_now();
        if (!pg->measuring)
            continue;
        pg->sent++;
        if (got) {
            pg->received++;
            pg->ops++;
            hist_record(&pg->lat, tsc_to_ns(t1 - t0));
        }
    }
    return stop ? -1 : 0;
}

static int ping_pong(const struct options *o, const struct port *p)
{
    struct pinger *pg = calloc(1, sizeof(*pg));
    int rc = 1;

    if (pg == NULL || hist_init(&pg->lat) != 0) {
        fprintf(stderr, PROG ": out of memory\n");
        free(pg);
        return 1;
    }
    pg->o = o;
    pg->p = p;
    build_frame(pg);
    cpu_meter_open(&pg->cpu);
    if (wait_for_link(p) != 0)
        goto out;
    if (!o->quiet)
        fprintf(stderr, PROG ": ping-pong, %zu-byte payloads in %zu-byte frames, port %u: "
                        "%.1f s warm-up, then %.1f s\n", o->size, pg->frame_len, p->id, o->warmup,
                o->seconds);
    pg->warm_end = tsc_now() + tsc_from_s(o->warmup);
    if (ping_pong_loop(pg) != 0) {
        if (stop)
            fprintf(stderr, PROG ": interrupted\n");
        goto out;
    }
    cpu_meter_stop(&pg->cpu);

    struct result r = {
        .tool = PROG, .path = "dpdk", .label = o->label, .test = "ping-pong", .proto = "eth",
        .poll = "rx_burst", .size = o->size, .frame = pg->frame_len, .conns = 1, .mps = o->mps,
        .warmup = o->warmup, .seconds = tsc_to_s(tsc_now() - pg->start), .ops = pg->ops,
        .ops_name = "round trips", .udp = true, .sent = pg->sent, .received = pg->received + pg->late,
        .lost = pg->sent > pg->received + pg->late ? pg->sent - pg->received - pg->late : 0,
        .out_of_order = pg->late, .latency = &pg->lat,
    };
    cpu_meter_cost(&pg->cpu, pg->ops, &r.cpu);
    report_table(stdout, &r);
    fflush(stdout);
    rc = 0;
    if (o->json && report_json(o->json, &r) != 0)
        rc = 1;
    if (o->csv && report_csv(o->csv, &r) != 0)
        rc = 1;
out:
    cpu_meter_close(&pg->cpu);
    hist_free(&pg->lat);
    free(pg);
    return rc;
}

/* ---- command line ----------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: shunt-floor EAL-ARGS -- server [-q]\n"
        "       shunt-floor EAL-ARGS -- ping-pong [-m SIZE] [-t SECONDS | -n COUNT]\n"
        "                   [--warmup SECONDS] [--mps RATE] [--timeout MS]\n"
        "                   [--json FILE] [--csv FILE] [--label TEXT] [-q]\n"
        "\n"
        "  EAL-ARGS       DPDK's, e.g. -l 1 --file-prefix=f-cli --no-pci\n"
        "                 --vdev=net_memif0,role=client,socket=/run/floor.sock\n"
        "  server         send every frame back with its MAC addresses swapped\n"
        "  ping-pong      one frame out, back, again; time each round trip\n"
        "  -m SIZE        payload bytes after the UDP header's place, 1..%zu (default 64)\n"
        "  -t SECONDS     how long to measure (default 10)\n"
        "  -n COUNT       measure this many round trips instead\n"
        "  --warmup SECONDS  run this long first, not measured (default 1)\n"
        "  --mps RATE     send this many frames a second (default: as fast as they return)\n"
        "  --timeout MS   a frame not back in this long is lost (default 100)\n"
        "  --json FILE, --csv FILE  write the results\n"
        "  --label TEXT   a name for this run in the results\n"
        "  -q             no progress on stderr\n", MAX_SIZE);
}

static bool parse_number(const char *s, double min, double max, double *out)
{
    char *end;

    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min || v > max)
        return false;
    *out = v;
    return true;
}

enum { OPT_WARMUP = 256, OPT_MPS, OPT_TIMEOUT, OPT_JSON, OPT_CSV, OPT_LABEL };

/* The arguments after "--": the mode and its options. */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "warmup", required_argument, NULL, OPT_WARMUP },
        { "mps", required_argument, NULL, OPT_MPS },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "json", required_argument, NULL, OPT_JSON },
        { "csv", required_argument, NULL, OPT_CSV },
        { "label", required_argument, NULL, OPT_LABEL },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool gave_time = false, gave_count = false, gave_client_opt = false;
    double v;
    int opt;

    *o = (struct options){ .size = 64, .seconds = 10, .warmup = 1, .timeout_ms = 100 };
    if (argc < 1) {
        fprintf(stderr, PROG ": after the EAL arguments and --, say server or ping-pong\n");
        return -1;
    }
    if (strcmp(argv[0], "server") == 0) {
        o->server = true;
    } else if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
        usage(stdout);
        exit(0);
    } else if (strcmp(argv[0], "ping-pong") != 0) {
        fprintf(stderr, PROG ": unknown mode '%s': server or ping-pong\n", argv[0]);
        return -1;
    }
    optind = 1;
    int longindex = -1;
    while ((opt = getopt_long(argc, argv, "m:t:n:qh", longopts, &longindex)) != -1) {
        gave_client_opt |= opt != 'q' && opt != 'h';
        switch (opt) {
        case 'm':
            if (!parse_number(optarg, 1, MAX_SIZE, &v) || v != floor(v))
                goto bad;
            o->size = (size_t)v;
            break;
        case 't':
            if (!parse_number(optarg, 0.001, 86400 * 365, &o->seconds))
                goto bad;
            gave_time = true;
            break;
        case 'n':
            if (!parse_number(optarg, 1, 1e15, &v) || v != floor(v))
                goto bad;
            o->count = (uint64_t)v;
            gave_count = true;
            break;
        case OPT_WARMUP:
            if (!parse_number(optarg, 0, 86400, &o->warmup))
                goto bad;
            break;
        case OPT_MPS:
            if (!parse_number(optarg, 0.001, 1e9, &o->mps))
                goto bad;
            break;
        case OPT_TIMEOUT:
            if (!parse_number(optarg, 1, 60000, &v) || v != floor(v))
                goto bad;
            o->timeout_ms = (int)v;
            break;
        case OPT_JSON: o->json = optarg; break;
        case OPT_CSV: o->csv = optarg; break;
        case OPT_LABEL: o->label = optarg; break;
        case 'q': o->quiet = true; break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            fprintf(stderr, PROG ": see shunt-floor -- --help\n");
            return -1;
        }
        longindex = -1;         /* for the next option */
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (o->server && gave_client_opt) {
        fprintf(stderr, PROG " server: it takes only -q; the options are ping-pong's\n");
        return -1;
    }
    if (gave_time && gave_count) {
        fprintf(stderr, PROG ": -t and -n exclude each other: measure for a time or a count\n");
        return -1;
    }
    return 0;
bad:
    /* The option by its name as given: getopt_long sets longindex only for
     * long ones. */
    if (longindex >= 0)
        fprintf(stderr, PROG ": bad value '%s' for --%s; see shunt-floor -- --help\n", optarg,
                longopts[longindex].name);
    else
        fprintf(stderr, PROG ": bad value '%s' for -%c; see shunt-floor -- --help\n", optarg, opt);
    return -1;
}

int main(int argc, char **argv)
{
    struct options o;
    struct port p;
    int split = 1;

    /* Ours after "--", the EAL's before: check ours before the EAL starts. */
    while (split < argc && strcmp(argv[split], "--") != 0)
        split++;
    if (split == argc) {
        fprintf(stderr, PROG ": give the EAL arguments, then -- and server or ping-pong; "
                        "see shunt-floor -- --help\n");
        return 2;
    }
    if (parse_options(argc - split - 1, argv + split + 1, &o) != 0)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    tsc_calibrate();
    if (rte_eal_init(split, argv) < 0) {
        fprintf(stderr, PROG ": EAL: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int rc = 1;
    if (port_open(&p) == 0) {
        rc = o.server ? serve(&o, &p) : ping_pong(&o, &p);
        port_close(&p);
    }
    rte_eal_cleanup();
    return rc;
}
