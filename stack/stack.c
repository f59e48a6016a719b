/*
 * stack.c - the process's stack instance: bring-up, the public lifecycle
 * calls, the stages switched on and off at run time, tear-down.
 */
#include "stack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_jhash.h>
#include <rte_pdump.h>

#include "lwip/init.h"
#include "lwip/ip_addr.h"

#include "cc.h"
#include "eal.h"
#include "kernelif.h"
#include "log.h"
#include "challenge.h"
#include "recovery.h"
#include "stats.h"
#include "sys_time.h"
#include "text.h"
#include "tstamp.h"

static struct shunt_instance instance;

struct shunt_instance *shunt_instance(void)
{
    return &instance;
}

int shunt_stack_start_eal(const struct shunt_config *c)
{
    /* Shunt's messages and the EAL's go to stderr, leaving stdout to the
     * application. */
    rte_openlog_stream(stderr);
    rte_log_set_level(shunt_logtype, c->log_level);
    if (instance.state != STACK_DOWN) {
        SHUNT_LOG(ERR, "this process has already started its stack instance: one per process");
        errno = EALREADY;
        return -1;
    }
    if (c->instance == SHUNT_INSTANCE_NONE) {
        struct shunt_config copy = *c;
        char err[256];
        shunt_config_select(&copy, NULL, err, sizeof(err));     /* says what to do */
        SHUNT_LOG(ERR, "%s", err);
        errno = EINVAL;
        return -1;
    }
    instance.config = *c;
    /* A group's instances each open DPDK's queue 0 of their own queue of
     * the interface: they go by their index. */
    instance.id = c->instances > 1 ? c->instance : c->queue;
    if (shunt_eal_init(c) != 0)
        return -1;
    instance.state = STACK_EAL;
    return 0;
}

static void conf_for_netif(const struct shunt_config *c, const struct shunt_dev *d,
                       const char *demux_name, const char *mcast_name,
                       struct shunt_netif_conf *nc)
{
    memset(nc, 0, sizeof(*nc));
    nc->port_id = d->port_id;
    nc->queue_id = d->queue_id;
    nc->pool = d->pool;
    nc->burst = (uint16_t)c->burst;
    nc->mac = d->mac;
    nc->mtu = d->mtu;
    nc->rx_offloads = d->rx_offloads;
    nc->tx_offloads = d->tx_offloads;
    if (c->has_ip4) {
        ip4_addr_set_u32(&nc->ip4, c->ip4.s_addr);
        ip4_addr_set_u32(&nc->netmask4, htonl(~0u << (32 - c->ip4_prefix)));
    }
    if (c->has_gateway4)
        ip4_addr_set_u32(&nc->gateway4, c->gateway4.s_addr);
    if (c->has_ip6) {
        nc->has_ip6 = true;
        memcpy(nc->ip6.addr, &c->ip6, sizeof(nc->ip6.addr));
    }
    nc->demux_name = demux_name;
    nc->connections = MEMP_NUM_TCP_PCB;
    nc->mcast_name = mcast_name;
    nc->mcast_groups = c->mcast_groups;
    nc->force_igmp_version = c->force_igmp_version;
    nc->force_mld_version = c->force_mld_version;
}

/* One line saying what came up, for the operator. */
static void log_up(const struct shunt_config *c, const struct shunt_dev *d, const struct netif *n)
{
    char mac[RTE_ETHER_ADDR_FMT_SIZE], ip4[IP4ADDR_STRLEN_MAX], gw[IP4ADDR_STRLEN_MAX];
    char ip6[3 * IP6ADDR_STRLEN_MAX] = "";

    rte_ether_format_addr(mac, sizeof(mac), &d->mac);
    ip4addr_ntoa_r(netif_ip4_addr(n), ip4, sizeof(ip4));
    ip4addr_ntoa_r(netif_ip4_gw(n), gw, sizeof(gw));
    for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++)
        if (ip6_addr_isvalid(netif_ip6_addr_state(n, i)))
            snprintf(ip6 + strlen(ip6), sizeof(ip6) - strlen(ip6), " %s",
                     ip6addr_ntoa(netif_ip6_addr(n, i)));
    char group[48] = "";
    if (c->instances > 1)
        snprintf(group, sizeof(group), "instance %u of %u (core %u) ", c->instance, c->instances,
                 c->cores[c->instance]);
    SHUNT_LOG(INFO, "%sup on port %s queue %u: mac %s, mtu %u, checksum offload rx %s tx %s, "
              "ipv4 %s/%d gateway %s, ipv6%s", group, d->name, d->queue_id, mac, d->mtu,
              d->rx_offloads ? "yes" : "no", d->tx_offloads ? "yes" : "no",
              ip4, __builtin_popcount(ip4_addr_get_u32(netif_ip4_netmask(n))), gw, ip6);
}

/* What wakes the loop's sleeps on the port (stack/idle.h). */
static void watch_port(struct shunt_idle *i, const struct shunt_config *c,
                       const struct shunt_dev *d)
{
    static const char *const how[] = {
        [SHUNT_WAKE_SOCKET] = "its sockets becoming readable",
        [SHUNT_WAKE_INTR] = "its RX interrupt",
        [SHUNT_WAKE_BOUNDED] = "nothing: sleeps last " RTE_STR(SHUNT_IDLE_BOUND_US) " us at most",
    };

    shunt_idle_set_mode(i, c->poll, c->spin_us);
    if (c->poll != SHUNT_POLL_SLEEP)
        return;
    enum shunt_wake w = shunt_idle_add_port(i, d->port_id, d->queue_id, d->ring_fds,
                                            d->nring_fds);
    SHUNT_LOG(INFO, "poll = spin-then-sleep, spin_us = %u: port %s wakes the loop by %s",
              c->spin_us, d->name, how[w]);
}

/* Frames that are not Shunt's to the tap shunt_dev_open_kernel opened. */
static void start_exception(struct shunt_instance *in)
{
    const struct shunt_config *c = &in->config;
    char name[IF_NAMESIZE], err[256];

    shunt_exception_init(&in->exception, in->kernel.port_id, 0, (uint16_t)c->burst,
                         in->dev.pool, &in->netif.counters, &in->dev.mac);
    /* The configuration checked the list. */
    shunt_exception_ports_parse(c->exception_ports, &in->exception.ports, err, sizeof(err));
    shunt_netif_set_exception(&in->netif, &in->exception);
    shunt_kernelif_name(c, name);
    SHUNT_LOG(INFO, "exception path: what is not Shunt's goes to the kernel on %s (port %s)%s%s",
              name, in->kernel.name, c->exception_ports[0] ? ", and ports " : "",
              c->exception_ports);
}

/* A group's instance steers what lands here for the others' flows, over
 * the group's file in /dev/shm (port/steer.h).  AF_XDP's instances are
 * independent primaries: the frames' bytes cross (COPY); a shared port's
 * primary and secondaries share DPDK's memory: the mbuf crosses (MBUF). */
#define STEER_RING      1024
#define STEER_PORT_LO   0xc000      /* lwIP's own ephemeral range */
#define STEER_PORT_HI   0xffff
#define STEER_TABLE     16384       /* owned flows the group holds, about half of it */

static int start_steering(struct shunt_instance *in)
{
    const struct shunt_config *c = &in->config;
    char path[128], err[256], name[16];
    /* MBUF's rings are named from the prefix, in fewer than 16 characters:
     * a longer prefix goes by its hash. */
    if (strlen(c->prefix) < sizeof(name))
        snprintf(name, sizeof(name), "%s", c->prefix);
    else
        snprintf(name, sizeof(name), "g%08x", rte_jhash(c->prefix, strlen(c->prefix), 0));
    struct shunt_steer_conf sc = {
        .path = path,
        .name = name,
        .instances = c->instances,
        .index = c->instance,
        .transport = c->shared ? SHUNT_STEER_MBUF : SHUNT_STEER_COPY,
        .ring_size = STEER_RING,
        .slot_size = (unsigned)in->dev.mtu + RTE_ETHER_HDR_LEN + 4,
        .table_size = STEER_TABLE,
        .port_lo = STEER_PORT_LO,
        .port_hi = STEER_PORT_HI,
        .pool = in->dev.pool,
    };

    if (c->instances == 1)
        return 0;
    snprintf(path, sizeof(path), "/dev/shm/shunt-steer-%s", c->prefix);
    if (shunt_steer_attach(&in->steer, &sc, err, sizeof(err)) != 0) {
        SHUNT_LOG(ERR, "%s: steering: %s", c->source, err);
        return -1;
    }
    in->steering = true;
    shunt_pipeline_set(&in->netif.pipeline, SHUNT_STAGE_STEER, shunt_steer_stage(&in->steer));
    SHUNT_LOG(INFO, "instance %u of %u: frames for the others' flows go to them through %s",
              c->instance, c->instances, path);
    return 0;
}

static void stop_steering(struct shunt_instance *in)
{
    if (!in->steering)
        return;
    shunt_pipeline_set(&in->netif.pipeline, SHUNT_STAGE_STEER, NULL);
    shunt_steer_detach(&in->steer);
    in->steering = false;
}

/* The stages the configuration asks for from the start. */
static int start_stages(const struct shunt_config *c)
{
    char err[512];

    if (c->capture[0] != '\0' &&
        shunt_stack_capture_start(c->capture, c->capture_filter, err, sizeof(err)) != 0) {
        SHUNT_LOG(ERR, "%s: %s (see capture in %s)", c->source, err, c->source);
        return -1;
    }
    if (c->faults[0] != '\0' && shunt_stack_faults(c->faults, err, sizeof(err)) != 0) {
        SHUNT_LOG(ERR, "%s: faults: %s", c->source, err);
        return -1;
    }
    return 0;
}

int shunt_stack_start(void)
{
    struct shunt_instance *in = &instance;
    const struct shunt_config *c = &in->config;
    char pool_name[32], demux_name[32], mcast_name[32];
    struct shunt_netif_conf nc;
    int rc;

    if (in->state != STACK_EAL) {
        SHUNT_LOG(ERR, "the stack starts once, after its EAL");
        errno = EALREADY;
        return -1;
    }
    shunt_dev_pool_name(in->id, pool_name, sizeof(pool_name));
    snprintf(demux_name, sizeof(demux_name), "shunt%u_demux", in->id);
    snprintf(mcast_name, sizeof(mcast_name), "shunt%u_mcast", in->id);
    int lock = c->instances > 1 ? shunt_eal_group_lock(c) : -1;
    rc = shunt_dev_open(&in->dev, c, pool_name);
    if (lock >= 0)
        close(lock);
    if (rc != 0)
        return -1;
    shunt_eal_port_up(c, true);
    if (c->exception && shunt_dev_open_kernel(&in->kernel, &in->dev, c) != 0) {
        shunt_dev_close(&in->dev);
        return -1;
    }

    /* lwIP's timers start in lwip_init(): the clock first. */
    shunt_clock_init(&in->clock);
    shunt_sys_set_clock(&in->clock);
    if (shunt_tstamp_init(&in->clock) != 0)
        SHUNT_LOG(WARNING, "no room for the mbuf's timestamp field: sockets get no receive stamps");
    shunt_tstamp_hw_port(in->dev.hw_timestamps, in->dev.hw_timestamps, in->dev.port_id);
    shunt_recovery_init(&in->clock, c->tcp_rto_min_us, c->tcp_rto_max_us);
    shunt_cc_init(&in->clock, shunt_cc_find(c->tcp_congestion));    /* the config checked it */
    shunt_chksum_use(c->checksum);                                  /* and this */
    shunt_challenge_init(&in->clock, c->tcp_invalid_ratelimit, c->tcp_challenge_ack_limit);
    lwip_init();
    conf_for_netif(c, &in->dev, demux_name, mcast_name, &nc);
    rc = shunt_netif_add(&in->netif, &nc);
    if (rc != 0) {
        if (rc == -ENOMEM)
            SHUNT_LOG(ERR, "no memory for the connection or group hash: reserve more "
                      "hugepages or lower mcast_groups in %s", c->source);
        else
            SHUNT_LOG(ERR, "lwIP refused the interface on port %s", in->dev.name);
        shunt_dev_close(&in->kernel);
        shunt_dev_close(&in->dev);
        errno = -rc;
        return -1;
    }
    if (c->exception)
        start_exception(in);
    shunt_faults_init(&in->faults, &in->clock);
    shunt_loop_init(&in->loop, &in->netif, &in->clock, &in->telemetry);
    watch_port(&in->loop.idle, c, &in->dev);
    if (c->exception)                           /* the kernel's frames wake it too */
        watch_port(&in->loop.idle, c, &in->kernel);
    in->state = STACK_UP;
    log_up(c, &in->dev, &in->netif.netif);

    if (start_steering(in) != 0 || start_stages(c) != 0) {
        shunt_stack_exit();
        errno = EINVAL;
        return -1;
    }
    /* dpdk-dumpcap can attach to a primary process that offers pdump. */
    if (rte_eal_process_type() == RTE_PROC_PRIMARY && rte_pdump_init() != 0)
        SHUNT_LOG(DEBUG, "no pdump for dpdk-dumpcap (a process without shared memory)");
    shunt_telemetry_init(&in->telemetry);
    if (shunt_eal_shared_join(c) != 0)
        SHUNT_LOG(WARNING, "instance %u has no telemetry socket of its own: shunt-stat "
                  "-p %s-%u cannot reach it", c->instance, c->prefix, c->instance);
    return 0;
}

/* ---- stages switched on and off ------------------------------------------------ */

int shunt_stack_capture_start(const char *path, const char *filter, char *err, size_t errlen)
{
    struct shunt_capture_conf conf = {
        .snaplen = instance.config.capture_snaplen,
        .rotate_bytes = (uint64_t)instance.config.capture_rotate_mib << 20,
    };

    if (snprintf(conf.path, sizeof(conf.path), "%s", path) >= (int)sizeof(conf.path) ||
        snprintf(conf.filter, sizeof(conf.filter), "%s", filter ? filter : "") >=
            (int)sizeof(conf.filter)) {
        snprintf(err, errlen, "capture file name or filter too long");
        return -1;
    }
    /* The capture under way ends first: the new one may write the same file. */
    shunt_stack_capture_stop();
    struct shunt_capture *c = shunt_capture_open(&conf, err, errlen);
    if (c == NULL)
        return -1;
    instance.capture = c;
    shunt_pipeline_set(&instance.netif.pipeline, SHUNT_STAGE_CAPTURE, shunt_capture_stage(c));
    SHUNT_LOG(INFO, "capturing to %s%s%s", conf.path, conf.filter[0] ? ", filter " : "",
              conf.filter);
    return 0;
}

void shunt_stack_capture_stop(void)
{
    if (instance.capture == NULL)
        return;
    shunt_pipeline_set(&instance.netif.pipeline, SHUNT_STAGE_CAPTURE, NULL);
    shunt_capture_close(instance.capture);
    instance.capture = NULL;
    SHUNT_LOG(INFO, "capture stopped");
}

/* Take the fault stage out, once what it holds has gone on: frames on
 * their way in are taken in now. */
static void faults_off(struct shunt_instance *in)
{
    unsigned n;

    if (!in->faults.on)
        return;
    /* One more place: a stage that holds nothing still hands over an array. */
    struct rte_mbuf **held = malloc((shunt_faults_holding(&in->faults, SHUNT_DIR_RX) + 1) *
                                    sizeof(*held));
    if (held == NULL) {
        SHUNT_LOG(ERR, "faults: no memory to take in the frames the stage held: faults stay on");
        return;
    }
    in->netif.counters.drops[SHUNT_DROP_TX_RING_FULL] += shunt_faults_stop(&in->faults, held, &n);
    shunt_pipeline_set(&in->netif.pipeline, SHUNT_STAGE_FAULTS, NULL);
    shunt_netif_input(&in->netif, held, n);
    free(held);
}

int shunt_stack_faults(const char *spec, char *err, size_t errlen)
{
    struct shunt_faults_conf conf;

    if (shunt_faults_parse(spec, &conf, err, errlen) != 0)
        return -1;
    if (!conf.has_seed)
        conf.seed = instance.config.faults_seed;
    faults_off(&instance);
    if (!shunt_faults_any(&conf)) {
        SHUNT_LOG(INFO, "faults off");
        return 0;
    }
    if (shunt_faults_start(&instance.faults, &conf) != 0)
        return shunt_fail(err, errlen, "no memory to hold %u + %u delayed frames: a smaller limit",
                          conf.limit[SHUNT_DIR_RX], conf.limit[SHUNT_DIR_TX]);
    shunt_pipeline_set(&instance.netif.pipeline, SHUNT_STAGE_FAULTS,
                       shunt_faults_stage(&instance.faults));
    char text[320];
    shunt_faults_format(&conf, text, sizeof(text));
    SHUNT_LOG(INFO, "faults on: %s", text);
    return 0;
}

/* ---- the running instance ------------------------------------------------------ */

struct shunt_steer *shunt_stack_steer(void)
{
    return instance.steering ? &instance.steer : NULL;
}

struct shunt_netif *shunt_stack_netif(void)
{
    return instance.state == STACK_UP ? &instance.netif : NULL;
}

void shunt_stack_counters(struct shunt_counters *out)
{
    shunt_stats_snapshot(&instance.netif.counters,
                         instance.state == STACK_UP ? &instance.dev : NULL, &instance.faults, out);
}

void shunt_stack_balance(struct shunt_counters *c, struct shunt_balance *b)
{
    shunt_stack_counters(c);
    /* A group's steering counts stay once it has left (the last print). */
    shunt_stats_balance(c, &instance.netif, &instance.faults,
                        instance.config.instances > 1 ? &instance.steer.stats : NULL, b);
}

int shunt_stack_init(const char *config_path)
{
    struct shunt_config c;
    char err[512];

    if (shunt_config_load(&c, config_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "shunt: %s\n", err);
        errno = EINVAL;
        return -1;
    }
    if (shunt_stack_start_eal(&c) != 0)
        return -1;
    return shunt_stack_start();
}

bool shunt_stack_is_up(void)
{
    return instance.state == STACK_UP;
}

int shunt_stack_poll(void)
{
    return shunt_loop_turn(&instance.loop);
}

/*
 * DPDK 22.11's af_xdp port, as it closes, takes the XDP program off the
 * interface - the one the group's instances share, each socket of theirs
 * in its map.  While others run, an instance leaves its port open (the
 * process's end closes its socket, which leaves the map) and skips the
 * EAL's cleanup, which would close it too; the last one takes it off.
 */
static bool leave_xdp_to_group(struct shunt_instance *in)
{
    unsigned alive;

    if (in->dev.ring_kind != RING_XDP || in->config.instances == 1 ||
        (alive = shunt_eal_group_leave(&in->config)) == 0)
        return false;
    rte_eth_dev_stop(in->dev.port_id);
    SHUNT_LOG(INFO, "instance %u leaves: the XDP program on its interface stays for the "
              "group's %u other%s", in->id, alive, alive == 1 ? "" : "s");
    return true;
}

/*
 * A shared group's primary ends last: its secondaries use its port and its
 * pools, and frames of theirs still land on its queue while they drain
 * (steered to them only while this loop turns).  So it turns until they
 * are gone, 30 s at most.
 */
#define OUTLIVE_S 30

static void outlive_secondaries(struct shunt_instance *in)
{
    const uint64_t hz = rte_get_timer_hz(), start = rte_get_timer_cycles();
    unsigned alive;

    for (bool said = false; (alive = shunt_eal_secondaries_alive(&in->config)) > 0;
         said = true) {
        if (!said)
            SHUNT_LOG(INFO, "instance 0 turns on until its %u secondar%s end%s: they use its "
                      "port and pools", alive, alive == 1 ? "y" : "ies", alive == 1 ? "s" : "");
        if (rte_get_timer_cycles() - start > OUTLIVE_S * hz) {
            SHUNT_LOG(WARNING, "%u secondar%s still run%s after %d s: instance 0 ends anyway",
                      alive, alive == 1 ? "y" : "ies", alive == 1 ? "s" : "", OUTLIVE_S);
            return;
        }
        for (uint64_t until = rte_get_timer_cycles() + hz / 100; rte_get_timer_cycles() < until;)
            shunt_loop_turn(&in->loop);
    }
}

void shunt_stack_exit(void)
{
    struct shunt_instance *in = &instance;

    if (in->state == STACK_UP) {
        outlive_secondaries(in);
        stop_steering(in);
        faults_off(in);
        shunt_netif_flush(&in->netif);
        shunt_stack_capture_stop();
        rte_pdump_uninit();
        if (in->config.stats) {
            struct shunt_counters counters;
            struct shunt_balance balance;
            shunt_stack_balance(&counters, &balance);
            shunt_stats_print(stderr, &counters, &balance);
        }
        shunt_exception_close(&in->exception);
        shunt_netif_remove(&in->netif);
        shunt_idle_close(&in->loop.idle);
        if (leave_xdp_to_group(in)) {
            in->state = STACK_OVER;
            return;
        }
        shunt_eal_port_up(&in->config, false);
        shunt_eal_shared_leave(&in->config);
        shunt_dev_close(&in->kernel);       /* first: the pool is the port's */
        shunt_dev_close(&in->dev);
    }
    if (in->state == STACK_EAL || in->state == STACK_UP)
        rte_eal_cleanup();
    in->state = STACK_OVER;
}
