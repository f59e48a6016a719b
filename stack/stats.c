/*
 * stats.c - snapshots and summaries of a stack instance's counters.
 */
#include "stats.h"

#include <inttypes.h>

#include <rte_ethdev.h>

#include "lwip/memp.h"
#include "lwip/stats.h"

#include "recovery.h"

/*
 * lwIP's counts, sorted into Shunt's causes.  Each packet lwIP drops on input
 * bumps one protocol's "drop" and one reason (chkerr, proterr, ...); a few
 * reasons come without a "drop" (ICMP and IGMP checksums, some lengths).
 */
static void causes_from_lwip(struct shunt_counters *out)
{
    const struct stats_ *s = &lwip_stats;
    uint64_t dropped = (uint64_t)s->link.drop + s->etharp.drop + s->ip_frag.drop + s->ip.drop +
                       s->icmp.drop + s->igmp.drop + s->udp.drop + s->tcp.drop + s->ip6.drop +
                       s->icmp6.drop + s->ip6_frag.drop + s->mld6.drop + s->nd6.drop;
    uint64_t checksums = (uint64_t)s->ip.chkerr + s->tcp.chkerr + s->udp.chkerr + s->icmp6.chkerr;
    uint64_t no_socket = (uint64_t)s->tcp.proterr + s->udp.proterr;
    uint64_t unpaired = (uint64_t)s->icmp.lenerr + s->igmp.lenerr + s->mld6.lenerr;

    out->drops[SHUNT_DROP_BAD_CHECKSUM] += checksums + s->icmp.chkerr + s->igmp.chkerr;
    /* Broadcast pings, declined as Linux does: lwIP counts them as ICMP
     * errors and nothing else (its other ICMP errors are allocations for
     * replies, which Shunt's mbufs never need: they have the headroom). */
    out->drops[SHUNT_DROP_NOT_FOR_US] += s->icmp.err;
    out->drops[SHUNT_DROP_NO_SOCKET] += no_socket;
    out->drops[SHUNT_DROP_LWIP] += dropped - checksums - no_socket + unpaired;

    /* Packets waiting for ARP/ND are refused when their pool is empty. */
    out->drops[SHUNT_DROP_ARP_QUEUE] += (uint64_t)s->memp[MEMP_ARP_QUEUE]->err +
                                        s->memp[MEMP_ND6_QUEUE]->err;
    uint64_t pools = s->mem.err;
    for (int i = 0; i < MEMP_MAX; i++)
        if (i != MEMP_ARP_QUEUE && i != MEMP_ND6_QUEUE)
            pools += s->memp[i]->err;
    out->drops[SHUNT_DROP_POOL_EMPTY] += pools;
}

void shunt_stats_snapshot(const struct shunt_counters *live, struct shunt_dev *dev,
                          struct shunt_counters *out)
{
    struct rte_eth_stats port;

    *out = *live;
    causes_from_lwip(out);
    /* Frames the port had no buffer or descriptor for.  (Its rx_nombuf counts
     * failed allocations, often one per poll of an empty pool, not frames.) */
    if (dev != NULL && rte_eth_stats_get(dev->port_id, &port) == 0)
        out->drops[SHUNT_DROP_RX_NOMBUF] = port.imissed + shunt_dev_ring_drops(dev);
}

void shunt_stats_print(FILE *f, const struct shunt_counters *c)
{
    uint64_t total = 0;

    fprintf(f, "shunt: rx %" PRIu64 " packets %" PRIu64 " bytes, "
               "tx %" PRIu64 " packets %" PRIu64 " bytes\n",
            c->rx_packets, c->rx_bytes, c->tx_packets, c->tx_bytes);
    if (c->to_kernel != 0 || c->from_kernel != 0)
        fprintf(f, "shunt: exception path: to_kernel %" PRIu64 " packets %" PRIu64 " bytes, "
                   "from_kernel %" PRIu64 " packets %" PRIu64 " bytes\n",
                c->to_kernel, c->to_kernel_bytes, c->from_kernel, c->from_kernel_bytes);
    fprintf(f, "shunt: drops");
    for (int i = 0; i < SHUNT_DROP_CAUSES; i++) {
        fprintf(f, " %s=%" PRIu64, shunt_drop_name(i), c->drops[i]);
        total += c->drops[i];
    }
    fprintf(f, " (total %" PRIu64 ")\n", total);

    struct shunt_recovery_stats r = shunt_recovery_stats();
    fprintf(f, "shunt: tcp loss recovery rtos=%" PRIu64 " (spurious %" PRIu64 ") probes=%" PRIu64
               " lost=%" PRIu64 " recoveries=%" PRIu64 " undos=%" PRIu64 " dsacks=%" PRIu64
               " sack_bad=%" PRIu64 "\n",
            r.rtos, r.spurious_rtos, r.probes, r.lost, r.recoveries, r.undos, r.dsacks, r.sack_bad);
}
