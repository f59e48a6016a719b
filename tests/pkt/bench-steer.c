/*
 * bench-steer.c - what a steered frame costs (port/steer.h), in TSC cycles.
 *
 *   bench-steer [--frames N] [--json]
 *
 * Two instances' stages, each over a device that hands up frames made
 * beforehand (their making and freeing are outside the timing).  For each
 * transport and frame size it times, per frame:
 *   no stage the device alone, for the floor under the others
 *   kept     the frame is the receiving instance's own: the stage reads
 *            its headers, looks in the group's table, hands it up
 *   steered  the frame is the other's: out of A's stage into the ring, and
 *            out of the ring through B's stage
 * and steered - kept is the cost of steering.  "same core" runs both
 * instances in one process, one after the other on one core (hot caches:
 * the least it costs); "two cores" (COPY only) puts B in a process of its
 * own on another core, as independent primaries run, and times each side
 * while they run at once: the ring's lines then cross between the cores.
 * The EAL runs without hugepages (--no-huge): the TLB misses of ordinary
 * pages are in the numbers.
 */
#define _GNU_SOURCE                     /* sched_setaffinity */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "steer.h"

#include "feed.h"
#include "frames.h"

#define BURST   32
#define PORT    7001

static const struct rte_ether_addr mac_a = { { 0x02, 0, 0, 0, 0, 0x02 } };
static const struct rte_ether_addr mac_p = { { 0x02, 0, 0, 0, 0, 0x01 } };

static char path[64];
/* The frames' pool, and B's when B is a forked process: one without a
 * per-lcore cache, as B is on lcore 0 too (the EAL's memory without
 * hugepages is shared with it), and the pool's ring is safe between
 * processes. */
static struct rte_mempool *pool, *pool_b;

static void die(const char *what)
{
    fprintf(stderr, "bench-steer: %s\n", what);
    exit(1);
}

static void up(struct feed_inst *in, unsigned index, enum shunt_steer_transport t,
               struct rte_mempool *mine)
{
    char err[256], name[16];

    snprintf(name, sizeof(name), "bs%d", (int)getpid() % 100000);
    struct shunt_steer_conf c = {
        .path = path, .name = name, .instances = 2, .index = index, .transport = t,
        .ring_size = 1024, .slot_size = 1518, .table_size = 16384,
        .port_lo = 49152, .port_hi = 65535, .pool = mine,
    };
    if (feed_inst_up(in, &c, err, sizeof(err)) != 0)
        die(err);
}

/* A burst of UDP frames of size bytes to port onto in's wire. */
static void load(struct feed_inst *in, unsigned size, uint16_t port)
{
    static uint8_t frame[FRAME_MAX], data[FRAME_MAX];
    size_t len = frame_udp4(frame, &mac_a, &mac_p, RTE_IPV4(10, 0, 0, 1), RTE_IPV4(10, 0, 0, 2),
                            40000, port, data, size - 42);

    if (rte_pktmbuf_alloc_bulk(pool, in->feed.q, BURST) != 0)
        die("no mbufs");
    for (unsigned i = 0; i < BURST; i++)
        memcpy(rte_pktmbuf_append(in->feed.q[i], (uint16_t)len), frame, len);
    in->feed.head = 0;
    in->feed.n = BURST;
}

static int by_value(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

    return a < b ? -1 : a > b;
}

/* The median of n samples, per frame of a burst: the machine is shared,
 * and a burst the scheduler interrupted says nothing of the stage. */
static double median_per_frame(uint64_t *samples, unsigned n)
{
    qsort(samples, n, sizeof(*samples), by_value);
    return (double)samples[n / 2] / BURST;
}

/* Cycles per frame of rounds bursts: A's stage (or its device alone:
 * bare), then (steered) B's. */
static double run(struct feed_inst *a, struct feed_inst *b, unsigned size, bool steered, bool bare,
                  unsigned rounds)
{
    struct rte_mbuf *got[SHUNT_MAX_BURST];
    uint64_t *samples = calloc(rounds, sizeof(*samples));
    struct shunt_phy *top = bare ? &a->feed.phy : a->pl.top;

    for (unsigned r = 0; r < rounds; r++) {
        load(a, size, steered ? PORT : 9);
        uint64_t t0 = rte_rdtsc_precise();
        unsigned n = shunt_phy_rx(top, got, SHUNT_MAX_BURST);
        unsigned m = steered ? shunt_phy_rx(b->pl.top, got + n, SHUNT_MAX_BURST) : 0;
        samples[r] = rte_rdtsc_precise() - t0;
        if (n + m != BURST)
            die("frames went missing");
        rte_pktmbuf_free_bulk(got, n + m);
    }
    double per = median_per_frame(samples, rounds);
    free(samples);
    return per;
}

struct result {
    const char *transport, *where;
    unsigned size;
    double bare, kept, steered, a_side, b_side;
};

static void same_core(enum shunt_steer_transport t, unsigned size, unsigned rounds,
                      struct result *out)
{
    struct feed_inst a, b;

    up(&a, 0, t, pool);
    up(&b, 1, t, pool);
    if (shunt_steer_own_udp(&b.s, PORT) != 0)
        die("own");
    run(&a, &b, size, true, false, rounds / 10);       /* warm up */
    out->bare = run(&a, &b, size, false, true, rounds);
    out->kept = run(&a, &b, size, false, false, rounds);
    out->steered = run(&a, &b, size, true, false, rounds);
    out->a_side = out->b_side = 0;
    feed_inst_down(&a);
    feed_inst_down(&b);
}

/* COPY across two processes on two cores: B in a child, receiving until it
 * has every frame; each side's own cycles per frame. */
static void two_cores(unsigned size, unsigned rounds, struct result *out)
{
    int result[2];
    struct feed_inst a;

    if (pipe(result) != 0)
        die("pipe");
    up(&a, 0, SHUNT_STEER_COPY, pool);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        struct feed_inst b;
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(1, &set);
        sched_setaffinity(0, sizeof(set), &set);
        up(&b, 1, SHUNT_STEER_COPY, pool_b);
        if (shunt_steer_own_udp(&b.s, PORT) != 0)
            _exit(1);
        struct rte_mbuf *got[SHUNT_MAX_BURST];
        uint64_t want = (uint64_t)rounds * BURST, have = 0;
        uint64_t *samples = calloc(rounds * 2 + 1, sizeof(*samples));
        unsigned ns = 0;
        while (have < want) {
            uint64_t t0 = rte_rdtsc_precise();
            unsigned n = shunt_phy_rx(b.pl.top, got, SHUNT_MAX_BURST);
            uint64_t t = rte_rdtsc_precise() - t0;
            if (n > 0) {
                rte_pktmbuf_free_bulk(got, n);
                if (n == BURST && ns < rounds * 2)
                    samples[ns++] = t;      /* whole bursts only, as A sends them */
                have += n;
            }
        }
        double per = ns > 0 ? median_per_frame(samples, ns) : 0;
        if (write(result[1], &per, sizeof(per)) != sizeof(per))
            _exit(1);
        feed_inst_down(&b);
        _exit(0);
    }
    while (!shunt_steer_peer_alive(&a.s, 1) || shunt_steer_table_count(&a.s) == 0)
        usleep(1000);
    struct rte_mbuf *got[SHUNT_MAX_BURST];
    uint64_t *samples = calloc(rounds, sizeof(*samples));
    for (unsigned r = 0; r < rounds; r++) {
        load(&a, size, PORT);
        /* The ring holds 1,023: let B keep up, outside the timing. */
        while (rte_ring_count(a.s.out[1]) > 1024 - 2 * BURST)
            rte_pause();
        uint64_t t0 = rte_rdtsc_precise();
        unsigned n = shunt_phy_rx(a.pl.top, got, SHUNT_MAX_BURST);
        samples[r] = rte_rdtsc_precise() - t0;
        if (n != 0)
            die("a frame stayed");
    }
    double per;
    if (read(result[0], &per, sizeof(per)) != sizeof(per))
        die("the receiver failed");
    waitpid(pid, NULL, 0);
    out->a_side = median_per_frame(samples, rounds);
    free(samples);
    out->b_side = per;
    out->bare = out->kept = 0;
    out->steered = out->a_side + out->b_side;
    if (a.s.stats.ring_full != 0)
        die("ring full");
    feed_inst_down(&a);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "frames", required_argument, NULL, 'n' }, { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 }
    };
    unsigned frames = 320000;
    bool json = false;
    int o;

    while ((o = getopt_long(argc, argv, "n:j", opts, NULL)) != -1) {
        if (o == 'n')
            frames = (unsigned)strtoul(optarg, NULL, 10);
        else if (o == 'j')
            json = true;
        else
            die("usage: bench-steer [--frames N] [--json]");
    }
    char *eal[] = { argv[0], "-l", "0", "--no-huge", "-m", "256", "--no-shconf", "--no-pci",
                    "--no-telemetry", "--log-level=lib.eal:error" };
    if (rte_eal_init((int)RTE_DIM(eal), eal) < 0)
        die("EAL");
    pool = rte_pktmbuf_pool_create("bench-steer", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   SOCKET_ID_ANY);
    pool_b = rte_pktmbuf_pool_create("bench-steer-b", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                     SOCKET_ID_ANY);
    if (pool == NULL || pool_b == NULL)
        die("pool");
    snprintf(path, sizeof(path), "/dev/shm/shunt-bench-steer-%d", (int)getpid());
    unsigned rounds = frames / BURST > 0 ? frames / BURST : 1, sizes[] = { 64, 1514 };
    struct result r[8];
    unsigned nr = 0;
    for (unsigned t = 0; t < 2; t++) {
        for (unsigned k = 0; k < 2; k++) {
            unlink(path);
            r[nr] = (struct result){ t == 0 ? "mbuf" : "copy", "same core", sizes[k], 0, 0, 0, 0, 0 };
            same_core(t == 0 ? SHUNT_STEER_MBUF : SHUNT_STEER_COPY, sizes[k], rounds, &r[nr++]);
        }
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    for (unsigned k = 0; k < 2 && cpus > 1; k++) {
        unlink(path);
        r[nr] = (struct result){ "copy", "two cores", sizes[k], 0, 0, 0, 0, 0 };
        two_cores(sizes[k], rounds, &r[nr++]);
    }
    unlink(path);
    if (json) {
        printf("[");
        for (unsigned i = 0; i < nr; i++)
            printf("%s{\"transport\": \"%s\", \"where\": \"%s\", \"size\": %u, "
                   "\"no_stage\": %.1f, \"kept\": %.1f, "
                   "\"steered\": %.1f, \"sender\": %.1f, \"receiver\": %.1f}",
                   i ? ", " : "", r[i].transport, r[i].where, r[i].size, r[i].bare, r[i].kept,
                   r[i].steered, r[i].a_side, r[i].b_side);
        printf("]\n");
        return 0;
    }
    printf("cycles per frame (TSC %.2f GHz), %u frames each, bursts of %d\n",
           (double)rte_get_tsc_hz() / 1e9, rounds * BURST, BURST);
    printf("%-9s %-10s %6s %8s %8s %9s %9s %9s\n", "transport", "where", "bytes", "no stage",
           "kept", "steered", "sender", "receiver");
    for (unsigned i = 0; i < nr; i++) {
        if (r[i].kept > 0)
            printf("%-9s %-10s %6u %8.1f %8.1f %9.1f %9s %9s\n", r[i].transport, r[i].where,
                   r[i].size, r[i].bare, r[i].kept, r[i].steered, "-", "-");
        else
            printf("%-9s %-10s %6u %8s %8s %9.1f %9.1f %9.1f\n", r[i].transport, r[i].where,
                   r[i].size, "-", "-", r[i].steered, r[i].a_side, r[i].b_side);
    }
    rte_mempool_free(pool);
    rte_mempool_free(pool_b);
    rte_eal_cleanup();
    return 0;
}
