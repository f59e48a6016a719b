/*
 * stack.c - the process's stack instance: bring-up, the public lifecycle
 * calls, tear-down.
 */
#include "stack.h"
#include "telemetry.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_pdump.h>

#include "lwip/init.h"
#include "lwip/ip_addr.h"

#include "clock.h"
#include "demux.h"
#include "dev.h"
#include "eal.h"
#include "log.h"
#include "loop.h"

static struct {
    enum { STACK_DOWN, STACK_EAL, STACK_UP, STACK_OVER } state;
    struct shunt_config config;
    struct shunt_dev dev;
    struct shunt_netif netif;
} stack;

int shunt_stack_start_eal(const struct shunt_config *c)
{
    /* Shunt's messages and the EAL's go to stderr, leaving stdout to the
     * application. */
    rte_openlog_stream(stderr);
    rte_log_set_level(shunt_logtype, c->log_level);
    if (stack.state != STACK_DOWN) {
        SHUNT_LOG(ERR, "this process has already started its stack instance: one per process");
        errno = EALREADY;
        return -1;
    }
    stack.config = *c;
    if (shunt_eal_init(c) != 0)
        return -1;
    stack.state = STACK_EAL;
    return 0;
}

static void netif_conf(const struct shunt_config *c, const struct shunt_dev *d,
                       struct shunt_netif_conf *nc)
{
    memset(nc, 0, sizeof(*nc));
    nc->port_id = d->port_id;
    nc->queue_id = 0;
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
}

/* One line saying what came up, for the operator. */
static void log_up(const struct shunt_dev *d, const struct netif *n)
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
    SHUNT_LOG(INFO, "up on port %s: mac %s, mtu %u, checksum offload rx %s tx %s, "
              "ipv4 %s/%d gateway %s, ipv6%s", d->name, mac, d->mtu,
              d->rx_offloads ? "yes" : "no", d->tx_offloads ? "yes" : "no",
              ip4, __builtin_popcount(ip4_addr_get_u32(netif_ip4_netmask(n))), gw, ip6);
}

int shunt_stack_start(void)
{
    const struct shunt_config *c = &stack.config;
    struct shunt_netif_conf nc;

    if (stack.state != STACK_EAL) {
        SHUNT_LOG(ERR, "the stack starts once, after its EAL");
        errno = EALREADY;
        return -1;
    }
    if (shunt_dev_open(&stack.dev, c) != 0)
        return -1;

    shunt_clock_init();
    lwip_init();
    if (shunt_demux_init(MEMP_NUM_TCP_PCB) != 0) {
        SHUNT_LOG(ERR, "no memory for the connection hash: reserve more hugepages");
        shunt_dev_close(&stack.dev);
        errno = ENOMEM;
        return -1;
    }
    netif_conf(c, &stack.dev, &nc);
    if (shunt_netif_add(&stack.netif, &nc) != 0) {
        SHUNT_LOG(ERR, "lwIP refused the interface on port %s", stack.dev.name);
        shunt_demux_free();
        shunt_dev_close(&stack.dev);
        errno = ENODEV;
        return -1;
    }
    stack.state = STACK_UP;
    log_up(&stack.dev, &stack.netif.netif);

    if (c->capture[0] != '\0') {
        char err[512];
        if (shunt_stack_capture_start(c->capture, c->capture_filter, err, sizeof(err)) != 0) {
            SHUNT_LOG(ERR, "%s: %s (see capture in %s)", c->source, err, c->source);
            shunt_stack_exit();
            errno = EINVAL;
            return -1;
        }
    }
    /* dpdk-dumpcap can attach to a primary process that offers pdump. */
    if (rte_pdump_init() != 0)
        SHUNT_LOG(DEBUG, "no pdump for dpdk-dumpcap (a process without shared memory)");
    shunt_telemetry_init();
    return 0;
}

int shunt_stack_capture_start(const char *path, const char *filter, char *err, size_t errlen)
{
    struct shunt_capture_conf conf = {
        .snaplen = stack.config.capture_snaplen,
        .rotate_bytes = (uint64_t)stack.config.capture_rotate_mib << 20,
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
    stack.netif.queue.capture = c;
    SHUNT_LOG(INFO, "capturing to %s%s%s", conf.path, conf.filter[0] ? ", filter " : "",
              conf.filter);
    return 0;
}

void shunt_stack_capture_stop(void)
{
    if (stack.netif.queue.capture == NULL)
        return;
    shunt_capture_close(stack.netif.queue.capture);
    stack.netif.queue.capture = NULL;
    SHUNT_LOG(INFO, "capture stopped");
}

struct shunt_netif *shunt_stack_netif(void)
{
    return stack.state == STACK_UP ? &stack.netif : NULL;
}

void shunt_stack_counters(struct shunt_counters *out)
{
    shunt_stats_snapshot(&stack.netif.counters,
                         stack.state == STACK_UP ? stack.dev.port_id : UINT16_MAX, out);
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
    return stack.state == STACK_UP;
}

unsigned shunt_stack_poll(void)
{
    return shunt_loop_turn(&stack.netif);
}

void shunt_stack_exit(void)
{
    if (stack.state == STACK_UP) {
        shunt_netif_flush(&stack.netif);
        shunt_stack_capture_stop();
        rte_pdump_uninit();
        if (stack.config.stats) {
            struct shunt_counters counters;
            shunt_stack_counters(&counters);
            shunt_stats_print(stderr, &counters);
        }
        shunt_netif_remove(&stack.netif);
        shunt_demux_free();
        shunt_dev_close(&stack.dev);
    }
    if (stack.state == STACK_EAL || stack.state == STACK_UP)
        rte_eal_cleanup();
    stack.state = STACK_OVER;
}
