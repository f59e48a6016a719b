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

#include "app.h"
#include "cycles.h"
#include "opts.h"
#include "report.h"
#include "run.h"

#define PROG        "shunt-floor"
#define HEADERS     (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))
#define MAX_SIZE    1472        /* what an IPv4 UDP datagram carries in one frame */
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

_Static_assert(MAX_SIZE == RTE_ETHER_MTU - sizeof(struct rte_ipv4_hdr) - sizeof(struct rte_udp_hdr),
               "MAX_SIZE fills a frame");

const char app_name[] = PROG;

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
    struct run run;
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
 * earlier round trips, back after their time, count as received but out
 * of order. */
static int await_frame(struct pinger *pg, uint64_t seq, uint64_t deadline)
{
    struct rte_mbuf *pkts[BURST];
    int got = 0;

    while (!got && !stop) {
        uint16_t n = rte_eth_rx_burst(pg->p->id, 0, pkts, BURST);
        for (uint16_t i = 0; i < n; i++) {
            const uint8_t *payload = rte_pktmbuf_mtod_offset(pkts[i], const uint8_t *, HEADERS);
            if (pkts[i]->data_len >= pg->frame_len && stamped(payload, pg->o->size, seq)) {
                got = 1;
            } else if (pg->run.measuring) {
                pg->run.received++;
                pg->run.out_of_order++;
            }
        }
        rte_pktmbuf_free_bulk(pkts, n);
        if (n == 0 && tsc_now() >= deadline)
            return 0;
    }
    return got;
}

static int ping_pong_loop(struct pinger *pg)
{
    const struct options *o = pg->o;
    uint64_t timeout = tsc_from_s(o->timeout_ms / 1e3), seq = 0;
    struct run *r = &pg->run;
    struct pacer pace;

    pacer_init(&pace, o->mps);
    while (run_on(r)) {
        uint64_t send_at = pacer_next(&pace);
        while (tsc_now() < send_at && !stop)
            ;
        seq++;
        uint64_t t0 = tsc_now();
        if (send_frame(pg, seq) != 0)
            return -1;
        int got = await_frame(pg, seq, t0 + timeout);
        run_round_trip(r, got, t0, tsc_now());
    }
    return stop ? -1 : 0;
}

static int ping_pong(const struct options *o, const struct port *p)
{
    struct pinger *pg = calloc(1, sizeof(*pg));
    int rc = 1;

    if (pg == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    pg->o = o;
    pg->p = p;
    pg->run = (struct run){ .ops_name = "round trips", .seconds = o->seconds, .count = o->count,
                            .quiet = o->quiet };
    if (run_open(&pg->run) != 0) {
        fprintf(stderr, PROG ": out of memory\n");
        goto out;
    }
    build_frame(pg);
    if (wait_for_link(p) != 0)
        goto out;
    if (!o->quiet)
        fprintf(stderr, PROG ": ping-pong, %zu-byte payloads in %zu-byte frames, port %u: "
                        "%.1f s warm-up, then %.1f s\n", o->size, pg->frame_len, p->id, o->warmup,
                o->seconds);
    run_begin(&pg->run, o->warmup);
    if (ping_pong_loop(pg) != 0) {
        if (stop)
            fprintf(stderr, PROG ": interrupted\n");
        goto out;
    }
    struct result r = {
        .tool = PROG, .path = "dpdk", .label = o->label, .test = "ping-pong", .proto = "eth",
        .poll = "rx_burst", .size = o->size, .frame = pg->frame_len, .conns = 1, .mps = o->mps,
        .warmup = o->warmup, .udp = true,
    };
    run_result(&pg->run, tsc_now(), &r);
    report_table(stdout, &r);
    fflush(stdout);
    rc = 0;
    if (o->json && report_json(o->json, &r) != 0)
        rc = 1;
    if (o->csv && report_csv(o->csv, &r) != 0)
        rc = 1;
out:
    run_close(&pg->run);
    free(pg);
    return rc;
}

/* ---- command line ----------------------------------------------------------------- */

/* Options given, for the checks below. */
enum { GAVE_TIME = 1 << 0, GAVE_COUNT = 1 << 1, GAVE_PING_PONG = 1 << 2 };

#define STR(x) #x
#define XSTR(x) STR(x)
#define AT(field) OPT_AT(struct options, field)

static const struct opt table[] = {
    { 'm', NULL, OPT_UINT, "SIZE", AT(size), .min = 1, .max = MAX_SIZE, .gave = GAVE_PING_PONG,
      .help = "payload bytes after the UDP header's place, 1.." XSTR(MAX_SIZE) " (default 64)" },
    { 't', NULL, OPT_REAL, "SECONDS", AT(seconds), .real_min = 0.001, .real_max = 86400 * 365,
      .gave = GAVE_TIME | GAVE_PING_PONG, .help = "how long to measure (default 10)" },
    { 'n', NULL, OPT_UINT, "COUNT", AT(count), .min = 1, .max = 1000000000000000ull,
      .gave = GAVE_COUNT | GAVE_PING_PONG, .help = "measure this many round trips instead" },
    { 0, "warmup", OPT_REAL, "SECONDS", AT(warmup), .real_min = 0, .real_max = 86400,
      .gave = GAVE_PING_PONG, .help = "run this long first, not measured (default 1)" },
    { 0, "mps", OPT_REAL, "RATE", AT(mps), .real_min = 0.001, .real_max = 1e9, .gave = GAVE_PING_PONG,
      .help = "send this many frames a second (default: as fast as they return)" },
    { 0, "timeout", OPT_UINT, "MS", AT(timeout_ms), .min = 1, .max = 60000, .gave = GAVE_PING_PONG,
      .help = "a frame not back in this long is lost (default 100)" },
    { 0, "json", OPT_STRING, "FILE", AT(json), .gave = GAVE_PING_PONG, .help = "write the results as JSON" },
    { 0, "csv", OPT_STRING, "FILE", AT(csv), .gave = GAVE_PING_PONG,
      .help = "write the results as CSV (a header and one row)" },
    { 0, "label", OPT_STRING, "TEXT", AT(label), .gave = GAVE_PING_PONG,
      .help = "a name for this run in the results" },
    { 'q', "quiet", OPT_SET, NULL, AT(quiet), .help = "no progress on stderr" },
    { 'h', "help", OPT_HELP, .help = "this help" },
};

static const struct opts_spec spec = {
    table, sizeof(table) / sizeof(table[0]),
    "usage: shunt-floor EAL-ARGS -- server [-q]\n"
    "       shunt-floor EAL-ARGS -- ping-pong [-m SIZE] [-t SECONDS | -n COUNT]\n"
    "                   [--warmup SECONDS] [--mps RATE] [--timeout MS]\n"
    "                   [--json FILE] [--csv FILE] [--label TEXT] [-q]\n"
    "\n"
    "  EAL-ARGS       DPDK's, e.g. -l 1 --file-prefix=f-cli --no-pci\n"
    "                 --vdev=net_memif0,role=client,socket=/run/floor.sock\n"
    "  server         send every frame back with its MAC addresses swapped\n"
    "  ping-pong      one frame out, back, again; time each round trip\n",
    17, 0, "see shunt-floor -- --help",
};

/* The arguments after "--": the mode and its options. */
static int parse_options(int argc, char **argv, struct options *o)
{
    unsigned gave = 0;

    *o = (struct options){ .size = 64, .seconds = 10, .warmup = 1, .timeout_ms = 100 };
    if (argc < 1) {
        fprintf(stderr, PROG ": after the EAL arguments and --, say server or ping-pong\n");
        return -1;
    }
    if (strcmp(argv[0], "server") == 0) {
        o->server = true;
    } else if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
        opts_usage(&spec, stdout);
        exit(0);
    } else if (strcmp(argv[0], "ping-pong") != 0) {
        fprintf(stderr, PROG ": unknown mode '%s': server or ping-pong\n", argv[0]);
        return -1;
    }
    if (opts_parse(&spec, argc, argv, o, &gave) < 0)
        return -1;
    if (o->server && (gave & GAVE_PING_PONG)) {
        fprintf(stderr, PROG " server: it takes only -q; the options are ping-pong's\n");
        return -1;
    }
    if ((gave & GAVE_TIME) && (gave & GAVE_COUNT)) {
        fprintf(stderr, PROG ": -t and -n exclude each other: measure for a time or a count\n");
        return -1;
    }
    return 0;
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
    stop_on_signals();

    int rc = 1;
    if (port_open(&p) == 0) {
        rc = o.server ? serve(&o, &p) : ping_pong(&o, &p);
        port_close(&p);
    }
    rte_eal_cleanup();
    return rc;
}
