/*
 * stats.c - snapshots and summaries of a stack instance's counters.
 */
#include "stats.h"

#include <inttypes.h>
#include <string.h>

#include <rte_ethdev.h>

#include "lwip/memp.h"
#include "lwip/stats.h"

#include "exception.h"
#include "held.h"
#include "recovery.h"
#include "steer.h"

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
                          const struct shunt_faults *faults, struct shunt_counters *out)
{
    struct rte_eth_stats port;

    *out = *live;
    causes_from_lwip(out);
    if (faults != NULL) {
        out->drops[SHUNT_DROP_FAULT] = faults->way[SHUNT_DIR_RX].dropped;
        out->drops[SHUNT_DROP_TX_FAULT] = faults->way[SHUNT_DIR_TX].dropped;
    }
    /* Frames the port had no buffer or descriptor for.  (Its rx_nombuf counts
     * failed allocations, often one per poll of an empty pool, not frames.) */
    if (dev != NULL && rte_eth_stats_get(dev->port_id, &port) == 0)
        out->drops[SHUNT_DROP_RX_NOMBUF] = port.imissed + shunt_dev_ring_drops(dev);
}

/* ---- the frame balance ---------------------------------------------------------- */

static void balance_in(const struct shunt_counters *c, const struct shunt_netif *sn,
                       const struct shunt_faults *faults, const struct shunt_steer_stats *steer,
                       struct shunt_balance *b)
{
    struct shunt_held h = shunt_held_in_lwip();
    uint64_t verdicts = 0, fault_drops = c->drops[SHUNT_DROP_FAULT];
    uint64_t kernel_drops = c->drops[SHUNT_DROP_KERNEL_FULL] + c->drops[SHUNT_DROP_KERNEL_DOWN] +
                            c->drops[SHUNT_DROP_KERNEL_NOMBUF];
    /* The netif drops a malformed frame, or another host's the kernel does
     * not take, under one cause each. */
    uint64_t dropped_before_lwip = c->netif_dropped;

    for (int i = 0; i < SHUNT_VERDICTS; i++)
        verdicts += c->verdicts[i];
    for (int i = 0; i < SHUNT_DROP_CAUSES; i++)
        if (shunt_drop_is_rx(i) && i != SHUNT_DROP_RX_NOMBUF)
            b->rx_drops += c->drops[i];
    b->rx_packets = c->rx_packets;
    b->looped = c->looped;
    b->held_tcp = h.tcp;
    b->held_reassembly = h.reassembly;
    b->kernel_copies = c->kernel_copies;
    b->to_kernel = c->to_kernel;
    b->held_kernel = sn->exception != NULL ? sn->exception->count : 0;
    if (faults != NULL) {
        b->rx_copies = faults->way[SHUNT_DIR_RX].copies;
        b->held_faults_rx = shunt_faults_holding(faults, SHUNT_DIR_RX);
    }
    if (steer != NULL) {
        /* The steering stage sits under the rest of the pipeline: what it
         * passed on (or lost for want of room) left, what it took in came. */
        b->steered_in = steer->steered_in;
        b->steered_away = steer->steered_out + steer->ring_full + steer->too_big;
    }

    /* Drops counted for frames (or looped packets) lwIP had: theirs, the
     * socket layer's, RFC 5961's, ARP about other hosts. */
    uint64_t others = dropped_before_lwip + fault_drops + kernel_drops;
    uint64_t in_lwip = b->rx_drops - others;
    uint64_t lwip_held = b->held_tcp + b->held_reassembly;
    bool pipeline = b->rx_packets + b->steered_in + b->rx_copies ==
                    verdicts + fault_drops + b->held_faults_rx + b->steered_away;
    bool netif = verdicts == dropped_before_lwip + c->taken + c->lwip_in + c->kernel_routed;
    bool kernel = c->kernel_routed + c->kernel_copies == c->to_kernel + kernel_drops + b->held_kernel;
    bool custody = c->lwip_in >= c->lwip_freed + lwip_held;
    bool counted = b->rx_drops >= others && c->lwip_freed + c->looped >= in_lwip;
    b->rx_holds = pipeline && netif && kernel && custody && counted;
    if (!b->rx_holds)
        return;                         /* no term below can be trusted */
    b->in_sockets = c->lwip_in - c->lwip_freed - lwip_held;
    b->consumed = c->taken + c->lwip_freed + c->looped - in_lwip + b->in_sockets;
}

static void balance_out(const struct shunt_counters *c, const struct shunt_netif *sn,
                        const struct shunt_faults *faults, struct shunt_balance *b)
{
    for (int i = 0; i < SHUNT_DROP_CAUSES; i++)
        if (shunt_drop_is_tx(i) && i != SHUNT_DROP_ARP_QUEUE)
            b->tx_drops += c->drops[i];
    b->tx_produced = c->tx_produced;
    b->from_kernel = c->from_kernel;
    b->tx_packets = c->tx_packets;
    b->held_tx_buffer = sn->tx_count;
    if (faults != NULL) {
        b->tx_copies = faults->way[SHUNT_DIR_TX].copies;
        b->held_faults_tx = shunt_faults_holding(faults, SHUNT_DIR_TX);
    }
    b->arp_waiting = (uint64_t)lwip_stats.memp[MEMP_ARP_QUEUE]->used +
                     lwip_stats.memp[MEMP_ND6_QUEUE]->used;
    b->tx_holds = b->tx_produced + b->tx_copies + b->from_kernel ==
                  b->tx_packets + b->tx_drops + shunt_balance_tx_held(b);
}

void shunt_stats_balance(const struct shunt_counters *c, const struct shunt_netif *sn,
                         const struct shunt_faults *faults, const struct shunt_steer_stats *steer,
                         struct shunt_balance *b)
{
    memset(b, 0, sizeof(*b));
    balance_in(c, sn, faults, steer, b);
    balance_out(c, sn, faults, b);
}

static const char *holds(bool yes)
{
    return yes ? "holds" : "DOES NOT HOLD";
}

static void print_balance(FILE *f, const struct shunt_balance *b)
{
    fprintf(f, "shunt: frames in  %s: rx %" PRIu64 " + steered in %" PRIu64 " + copies %" PRIu64
               " + looped %" PRIu64 " + kernel copies %" PRIu64 " = steered away %" PRIu64
               " + consumed %" PRIu64 " (in sockets %" PRIu64
               ") + to kernel %" PRIu64 " + held %" PRIu64 " (tcp %" PRIu64 " reassembly %" PRIu64
               " faults %" PRIu64 " kernel %" PRIu64 ") + drops %" PRIu64 "\n",
            holds(b->rx_holds), b->rx_packets, b->steered_in, b->rx_copies, b->looped,
            b->kernel_copies, b->steered_away, b->consumed, b->in_sockets, b->to_kernel,
            shunt_balance_rx_held(b), b->held_tcp, b->held_reassembly, b->held_faults_rx,
            b->held_kernel, b->rx_drops);
    fprintf(f, "shunt: frames out %s: produced %" PRIu64 " + copies %" PRIu64 " + from kernel %"
               PRIu64 " = tx %" PRIu64 " + drops %" PRIu64 " + held %" PRIu64 " (buffer %" PRIu64
               " faults %" PRIu64 "); waiting for ARP/ND %" PRIu64 "\n",
            holds(b->tx_holds), b->tx_produced, b->tx_copies, b->from_kernel, b->tx_packets,
            b->tx_drops, shunt_balance_tx_held(b), b->held_tx_buffer, b->held_faults_tx,
            b->arp_waiting);
}

void shunt_stats_print(FILE *f, const struct shunt_counters *c, const struct shunt_balance *b)
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
    if (b != NULL)
        print_balance(f, b);

    struct shunt_recovery_stats r = shunt_recovery_stats();
    fprintf(f, "shunt: tcp loss recovery rtos=%" PRIu64 " (spurious %" PRIu64 ") probes=%" PRIu64
               " lost=%" PRIu64 " recoveries=%" PRIu64 " undos=%" PRIu64 " dsacks=%" PRIu64
               " sack_bad=%" PRIu64 "\n",
            r.rtos, r.spurious_rtos, r.probes, r.lost, r.recoveries, r.undos, r.dsacks, r.sack_bad);
}
