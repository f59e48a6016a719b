/*
 * queue.c - RX and TX bursts on one DPDK port queue, counted.
 */
#include "queue.h"

#include <string.h>

#include <rte_ethdev.h>

static uint16_t queue_rx(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n)
{
    struct shunt_queue *q = (struct shunt_queue *)phy;
    uint16_t got = rte_eth_rx_burst(q->port_id, q->queue_id, pkts, n);

    q->counters->rx_packets += got;
    for (uint16_t i = 0; i < got; i++)
        q->counters->rx_bytes += pkts[i]->pkt_len;
    return got;
}

static uint16_t queue_tx(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n)
{
    struct shunt_queue *q = (struct shunt_queue *)phy;
    uint32_t len[SHUNT_MAX_BURST * 2];

    /* The PMD may free a frame as soon as it has it: note the lengths first. */
    n = RTE_MIN(n, (uint16_t)RTE_DIM(len));
    for (uint16_t i = 0; i < n; i++)
        len[i] = pkts[i]->pkt_len;
    uint16_t sent = rte_eth_tx_burst(q->port_id, q->queue_id, pkts, n);
    q->counters->tx_packets += sent;
    for (uint16_t i = 0; i < sent; i++)
        q->counters->tx_bytes += len[i];
    return sent;
}

static const struct shunt_phy_ops queue_ops = { queue_rx, queue_tx };

void shunt_queue_init(struct shunt_queue *q, uint16_t port_id, uint16_t queue_id,
                      struct shunt_counters *counters)
{
    memset(q, 0, sizeof(*q));
    q->phy.ops = &queue_ops;
    q->port_id = port_id;
    q->queue_id = queue_id;
    q->counters = counters;
}
