/*
 * instance.c - a running instance, asked through its telemetry (the way
 * shunt-stat attaches): its core and its port's NUMA node, mbuf headroom,
 * how busy its loop is and which drops grow now (two snapshots apart), the
 * port's capabilities, and the sockets LD_PRELOAD left on the kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_version.h>

#include "doctor.h"
#include "read.h"

static double num(const json_t *o, const char *name)
{
    return json_number_value(json_object_get(o, name));
}

/* o["a"]["b"]. */
static const json_t *at(const json_t *o, const char *a)
{
    return json_object_get(o, a);
}

/* Ask command; the reply's value (the caller frees the reply), or NULL
 * with a skip finding. */
static json_t *ask(struct doctor *d, const char *command, json_t **reply)
{
    static char raw[ATTACH_REPLY_MAX];
    char err[512];

    *reply = attach_ask(&d->instance, command, raw, sizeof(raw), err, sizeof(err));
    if (*reply == NULL) {
        doctor_add(d, "instance", DOCTOR_FAIL, "a running instance answers between two turns "
                   "of its loop: one that does not is stuck", NULL, "%s", err);
        return NULL;
    }
    return attach_value(*reply);
}

int doctor_attach(struct doctor *d, const char *prefix, unsigned long pid, bool quiet)
{
    static const char why[] = "a running instance shows where it really runs and what it "
                              "drops now";
    char found[NAME_MAX + 1], err[512];
    json_t *reply;

    if (attach_find(prefix, pid, found, sizeof(found), err, sizeof(err)) != 0 ||
        attach_connect(&d->instance, found, err, sizeof(err)) != 0) {
        if (!quiet)
            doctor_add(d, "instance", DOCTOR_FAIL, why, "start it, or name the right one "
                       "with -p PREFIX or -P PID", "%s", err);
        return -1;
    }
    d->attached = true;
    json_t *stats = ask(d, "/shunt/stats", &reply);
    if (stats == NULL) {
        d->attached = false;
        return -1;
    }
    d->stats = json_incref(stats);
    json_decref(reply);
    doctor_add(d, "instance", DOCTOR_OK, why, NULL, "%s, pid %ld, %s", found, d->instance.pid,
               d->instance.version);
    if (d->has_eal)
        return 0;
    /* No config file: the instance's own EAL arguments name its cores and ports. */
    json_t *params = ask(d, "/eal/params", &reply);
    char eal[2048] = "";
    size_t used = 0, i;
    json_t *p;
    json_array_foreach(params, i, p)
        if (used < sizeof(eal))
            used += (size_t)snprintf(eal + used, sizeof(eal) - used, "%s ", json_string_value(p));
    json_decref(reply);
    doctor_parse_eal(d, eal);
    return 0;
}

/* ---- the checks --------------------------------------------------------------------- */

static void check_lcore(struct doctor *d, const json_t *loop)
{
    static const char why[] = "the loop's core must be isolated, or other tasks preempt it";
    char text[256] = "";
    bool isolated[DOCTOR_CPUS] = { false };
    int cpu = (int)num(loop, "cpu");

    if (rd_text(d->root, "/sys/devices/system/cpu/isolated", text, sizeof(text)) == 0)
        rd_cpulist(text, isolated, DOCTOR_CPUS);
    bool ok = cpu >= 0 && cpu < DOCTOR_CPUS && isolated[cpu];
    doctor_add(d, "instance.lcore", ok ? DOCTOR_OK : DOCTOR_WARN, why,
               "isolcpus=CPU nohz_full=CPU rcu_nocbs=CPU on the kernel command line, and -l CPU",
               "lcore %.0f on cpu %d; isolated: '%s'", num(loop, "lcore"), cpu, text);
}

static void check_numa(struct doctor *d, const json_t *loop, const json_t *dev)
{
    static const char why[] = "the port's NUMA node and the loop's: apart, every packet "
                              "crosses the interconnect";
    int port = (int)num(dev, "numa_node"), core = (int)num(loop, "numa_node");

    if (json_object_get(dev, "numa_node") == NULL)
        doctor_add(d, "instance.numa", DOCTOR_SKIP, why, NULL, "the instance does not say");
    else if (port < 0)
        doctor_add(d, "instance.numa", DOCTOR_OK, why, NULL,
                   "port without a NUMA node, loop on node %d", core);
    else
        doctor_add(d, "instance.numa", port == core ? DOCTOR_OK : DOCTOR_WARN, why,
                   "run the instance on a core of the port's node (-l)",
                   "port on node %d, loop on node %d", port, core);
}

static void check_mbufs(struct doctor *d, const json_t *m)
{
    static const char why[] = "an empty pool drops frames at the port (rx_nombuf): each loss "
                              "costs TCP a retransmission, 200 ms at worst";
    double size = num(m, "size"), avail = num(m, "free");

    enum doctor_level l = avail < size / 8 ? DOCTOR_FAIL : avail < size / 4 ? DOCTOR_WARN
                                                                            : DOCTOR_OK;
    doctor_add(d, "instance.mbufs", size > 0 ? l : DOCTOR_SKIP, why,
               "raise mbufs in the config file (and the hugepages it needs)",
               "%.0f free of %.0f (%.0f%%)", avail, size, size > 0 ? 100 * avail / size : 0);
}

static void check_busy(struct doctor *d, const json_t *before, const json_t *after)
{
    static const char why[] = "a loop busy nearly every turn has no slack: frames wait in the "
                              "ring behind the burst in hand";
    double turns = num(at(after, "loop"), "turns") - num(at(before, "loop"), "turns");
    double busy = num(at(after, "loop"), "busy_turns") - num(at(before, "loop"), "busy_turns");

    if (turns <= 0)
        doctor_add(d, "instance.busy", DOCTOR_WARN, why, "see what the program does (gdb -p PID)",
                   "the loop did not turn in %.1f s", d->interval);
    else
        doctor_add(d, "instance.busy", busy / turns >= 0.9 ? DOCTOR_WARN : DOCTOR_OK, why,
                   "spread the flows over more instances (queue = N, one per core)",
                   "%.1f%% of %.0f turns in %.1f s received or sent", 100 * busy / turns, turns,
                   d->interval);
}

static void check_drops(struct doctor *d, const json_t *before, const json_t *after)
{
    static const char why[] = "every drop is a loss the peer repairs by retransmission: a "
                              "counter growing now is a problem now";
    const json_t *old = at(before, "drops"), *v;
    const char *cause;
    char grown[400] = "";
    size_t len = 0;

    json_object_foreach((json_t *)at(after, "drops"), cause, v) {
        double delta = json_number_value(v) - num(old, cause);
        if (delta > 0 && len < sizeof(grown) - 40)
            len += (size_t)snprintf(grown + len, sizeof(grown) - len, "%s%s +%.0f",
                                    len ? ", " : "", cause, delta);
    }
    doctor_add(d, "instance.drops", len ? DOCTOR_WARN : DOCTOR_OK, why,
               "shunt-stat -p PREFIX shows each cause's rate; README, Diagnostics, says what "
               "each means", "over %.1f s: %s", d->interval, len ? grown : "none grew");
}

static void check_device(struct doctor *d, const json_t *dev)
{
    static const char why_cksum[] = "without checksum offload Shunt computes every checksum "
                                    "in software: ~280 instructions a round trip";
    static const char why_rss[] = "several instances on one port need RSS to give each its "
                                  "flows; without it a steering stage must hand them over";
    const uint64_t tx = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
                        RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
    uint64_t tx_capa = (uint64_t)num(dev, "tx_offload_capa");
    uint64_t rss = (uint64_t)num(dev, "rss_offloads");
    unsigned queue = (unsigned)num(dev, "queue"), maxq = (unsigned)num(dev, "max_rx_queues");
    const char *driver = json_string_value(json_object_get(dev, "driver"));

    doctor_add(d, "instance.offloads", (tx_capa & tx) == tx ? DOCTOR_OK : DOCTOR_WARN, why_cksum,
               "a port that offers IPv4/TCP/UDP checksum offload (a PCI NIC)",
               "driver %s: TX offloads offered 0x%llx, used 0x%llx; RX offered 0x%llx",
               driver ? driver : "?", (unsigned long long)tx_capa,
               (unsigned long long)num(dev, "tx_offloads"),
               (unsigned long long)num(dev, "rx_offload_capa"));
    doctor_add(d, "instance.rss", rss == 0 && queue > 0 ? DOCTOR_WARN : DOCTOR_OK, why_rss,
               "a port with RSS, or one instance per port",
               "RSS hash types 0x%llx, up to %u RX queues, this instance on queue %u%s",
               (unsigned long long)rss, maxq, queue, rss == 0 && queue == 0 ?
               " (one instance needs none)" : "");
}

/* Receive stamps: the port's own where it has them, else the RX burst's on
 * the TSC, on CLOCK_REALTIME through a line re-anchored once a second. */
static void check_timestamps(struct doctor *d, const json_t *dev, const json_t *ts)
{
    static const char why[] = "SO_TIMESTAMPING's stamps: the port's are taken on the wire, "
                              "software ones at the RX burst (after the port's queue)";
    const char *driver = json_string_value(json_object_get(dev, "driver"));
    double err = num(ts, "last_error_ns");

    if (num(ts, "hw_enabled") != 0)
        doctor_add(d, "instance.timestamps", DOCTOR_OK, why, "",
                   "hardware (RTE_ETH_RX_OFFLOAD_TIMESTAMP, driver %s): %.0f frames stamped; "
                   "the clock line's last error %.0f ns", driver ? driver : "?",
                   num(ts, "hw_frames"), err);
    else
        doctor_add(d, "instance.timestamps", err > 100000 || err < -100000 ? DOCTOR_WARN : DOCTOR_OK,
                   why, "a port whose PMD offers RTE_ETH_RX_OFFLOAD_TIMESTAMP (mlx5, ice, idpf, "
                   "cnxk) for wire stamps; a steady TSC (constant_tsc) for software ones",
                   "software (driver %s has no RTE_ETH_RX_OFFLOAD_TIMESTAMP): the TSC line's last "
                   "error %.0f ns, slew %.0f ppb, %.0f anchors, %.0f clock steps",
                   driver ? driver : "?", err, num(ts, "slew_ppb"), num(ts, "anchors"),
                   num(ts, "steps"));
}

static void check_version(struct doctor *d)
{
    static const char why[] = "the instance and this build of Shunt's tools should run the "
                              "same DPDK: telemetry and pdump speak the same version";

    doctor_add(d, "instance.dpdk", strcmp(d->instance.version, rte_version()) == 0 ? DOCTOR_OK
               : DOCTOR_WARN, why, "rebuild one against the other's DPDK",
               "instance runs %s, this tool %s", d->instance.version, rte_version());
}

static void check_kernel_sockets(struct doctor *d)
{
    static const char why[] = "a socket left on the kernel's path has the kernel's latency: "
                              "each is listed with the policy's reason";
    json_t *reply, *v;
    const char *fd;
    char list[400] = "";
    size_t len = 0, n = 0;

    json_t *socks = ask(d, "/shunt/kernel_sockets", &reply);
    if (socks == NULL)
        return;
    json_object_foreach(socks, fd, v) {
        n++;
        if (len < sizeof(list) - 60)
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%sfd %s: %s",
                                    len ? "; " : "", fd, json_string_value(v));
    }
    json_decref(reply);
    doctor_add(d, "instance.kernel_sockets", n ? DOCTOR_WARN : DOCTOR_OK, why,
               "bind or connect them to Shunt's addresses, or change accelerate/kernel in the "
               "config (README, shunt-run)", "%zu on the kernel%s%s", n, n ? ": " : "", list);
}

void doctor_check_instance(struct doctor *d)
{
    json_t *reply;

    if (!d->attached)
        return;
    const json_t *loop = at(d->stats, "loop"), *dev = at(d->stats, "device");
    check_lcore(d, loop);
    check_numa(d, loop, dev);
    check_mbufs(d, at(d->stats, "mbufs"));
    check_device(d, dev);
    check_timestamps(d, dev, at(d->stats, "timestamps"));
    check_version(d);
    check_kernel_sockets(d);
    struct timespec t = { (time_t)d->interval, (long)((d->interval - (time_t)d->interval) * 1e9) };
    nanosleep(&t, NULL);
    json_t *after = ask(d, "/shunt/stats", &reply);
    if (after == NULL)
        return;
    check_busy(d, d->stats, after);
    check_drops(d, d->stats, after);
    json_decref(reply);
}
