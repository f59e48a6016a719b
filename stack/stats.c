/*
 * stats.c - snapshots and summaries of a stack instance's counters.
 */
#include "stats.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>

#include <rte_ethdev.h>

#include "lwip/memp.h"
#include "lwip/stats.h"

static const char *const drop_names[SHUNT_DROP_CAUSES] = {
    [SHUNT_DROP_RX_NOMBUF] = "rx_nombuf",
    [SHUNT_DROP_BAD_FRAME] = "bad_frame",
    [SHUNT_DROP_NOT_FOR_US] = "not_for_us",
    [SHUNT_DROP_BAD_CHECKSUM] = "bad_checksum",
    [SHUNT_DROP_TOO_BIG] = "too_big",
    [SHUNT_DROP_REASSEMBLY] = "reassembly",
    [SHUNT_DROP_NO_SOCKET] = "no_socket",
    [SHUNT_DROP_SOCKET_FULL] = "socket_full",
    [SHUNT_DROP_BACKLOG_FULL] = "backlog_full",
    [SHUNT_DROP_ARP_QUEUE] = "arp_queue",
    [SHUNT_DROP_POOL_EMPTY] = "pool_empty",
    [SHUNT_DROP_LWIP] = "lwip",
    [SHUNT_DROP_TX_NOMBUF] = "tx_nombuf",
    [SHUNT_DROP_TX_RING_FULL] = "tx_ring_full",
};

const char *shunt_drop_name(enum shunt_drop_cause cause)
{
    return cause < SHUNT_DROP_CAUSES ? drop_names[cause] : "unknown";
}

/*
 * lwIP's counts, sorted into Shunt's causes.  Each packet lwIP drops on input
 * bumps one protocol's "drop" and one reason (chkerr, proterr, ...); a few
 * reasons come without a "drop" (ICMP and IGMP checksums, some lengths).
 */
static void lwip_causes(struct shunt_counters *out)
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

/*
 * Frames the kernel dropped on the way to the port's sockets, which the PMDs
 * of DPDK 22.11 do not count: an AF_XDP socket's RX ring full (its PMD counts
 * only a fill ring without buffers, as imissed; which ring runs out first
 * depends on their sizes), an AF_PACKET socket's ring full (its PMD counts
 * nothing).  Either way the loop did not come round in time.  The kernel
 * keeps the counts per socket: ask each of the process's descriptors (all
 * but the right sockets refuse).  A process has one port, so every such
 * socket in it is that port's.
 */
static uint64_t kernel_ring_drops(uint16_t port_id)
{
    /* PACKET_STATISTICS restarts from 0 once read.  (Snapshots are taken
     * on the instance's thread only: telemetry asks it for them.) */
    static uint64_t packet_drops;
    struct rte_eth_dev_info info;
    uint64_t xdp_drops = 0;

    if (rte_eth_dev_info_get(port_id, &info) != 0)
        return 0;
    bool xdp = strcmp(info.driver_name, "net_af_xdp") == 0;
    if (!xdp && strcmp(info.driver_name, "net_af_packet") != 0)
        return 0;
    DIR *fds = opendir("/proc/self/fd");
    if (fds == NULL)
        return 0;
    for (struct dirent *e; (e = readdir(fds)) != NULL;) {
        int fd = atoi(e->d_name);
        struct xdp_statistics x;
        struct tpacket_stats p;
        socklen_t len = xdp ? sizeof(x) : sizeof(p);

        if (e->d_name[0] == '.')
            continue;
        if (xdp && getsockopt(fd, SOL_XDP, XDP_STATISTICS, &x, &len) == 0 && len == sizeof(x))
            xdp_drops += x.rx_ring_full;
        if (!xdp && getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &p, &len) == 0)
            packet_drops += p.tp_drops;
    }
    closedir(fds);
    return xdp ? xdp_drops : packet_drops;
}

void shunt_stats_snapshot(const struct shunt_counters *live, uint16_t port_id,
                          struct shunt_counters *out)
{
    struct rte_eth_stats port;

    *out = *live;
    lwip_causes(out);
    /* Frames the port had no buffer or descriptor for.  (Its rx_nombuf counts
     * failed allocations, often one per poll of an empty pool, not frames.) */
    if (port_id != UINT16_MAX && rte_eth_stats_get(port_id, &port) == 0)
        out->drops[SHUNT_DROP_RX_NOMBUF] = port.imissed + kernel_ring_drops(port_id);
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
