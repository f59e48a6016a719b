/*
 * stats.c - snapshots and summaries of a stack instance's counters.
 */
#include "stats.h"

#include <inttypes.h>

#include <rte_ethdev.h>

#include "lwip/stats.h"

static const char *const drop_names[SHUNT_DROP_CAUSES] = {
    [SHUNT_DROP_RX_NOMBUF] = "rx_nombuf",
    [SHUNT_DROP_BAD_FRAME] = "bad_frame",
    [SHUNT_DROP_NOT_FOR_US] = "not_for_us",
    [SHUNT_DROP_BAD_CHECKSUM] = "bad_checksum",
    [SHUNT_DROP_TOO_BIG] = "too_big",
    [SHUNT_DROP_LWIP] = "lwip",
    [SHUNT_DROP_SOCKET_FULL] = "socket_full",
    [SHUNT_DROP_BACKLOG_FULL] = "backlog_full",
    [SHUNT_DROP_TX_NOMBUF] = "tx_nombuf",
    [SHUNT_DROP_TX_RING_FULL] = "tx_ring_full",
};

const char *shunt_drop_name(enum shunt_drop_cause cause)
{
    return cause < SHUNT_DROP_CAUSES ? drop_names[cause] : "unknown";
}

uint64_t shunt_stats_lwip_drops(void)
{
    const struct stats_ *s = &lwip_stats;

    /* Each protocol's drops, plus the receive errors lwIP counts without
     * also counting a drop (ICMP, IGMP and MLD checksum and length errors). */
    return (uint64_t)s->link.drop + s->etharp.drop + s->ip_frag.drop +
           s->ip.drop + s->icmp.drop + s->igmp.drop + s->udp.drop +
           s->tcp.drop + s->ip6.drop + s->icmp6.drop + s->ip6_frag.drop +
           s->mld6.drop + s->nd6.drop +
           s->icmp.chkerr + s->icmp.lenerr + s->igmp.chkerr + s->igmp.lenerr +
           s->mld6.lenerr;
}

void shunt_stats_snapshot(const struct shunt_counters *live, uint16_t port_id,
                          struct shunt_counters *out)
{
    struct rte_eth_stats port;

    *out = *live;
    out->drops[SHUNT_DROP_LWIP] = shunt_stats_lwip_drops();
    if (port_id != UINT16_MAX && rte_eth_stats_get(port_id, &port) == 0)
        out->drops[SHUNT_DROP_RX_NOMBUF] = port.rx_nombuf + port.imissed;
}

void shunt_stats_print(FILE *f, const struct shunt_counters *c)
{
    uint64_t total = 0;

    fprintf(f, "shunt: rx %" PRIu64 " packets %" PRIu64 " bytes, "
               "tx %" PRIu64 " packets %" PRIu64 " bytes\n",
            c->rx_packets, c->rx_bytes, c->tx_packets, c->tx_bytes);
    fprintf(f, "shunt: drops");
    for (int i = 0; i < SHUNT_DROP_CAUSES; i++) {
        fprintf(f, " %s=%" PRIu64, drop_names[i], c->drops[i]);
        total += c->drops[i];
    }
    fprintf(f, " (total %" PRIu64 ")\n", total);
}
