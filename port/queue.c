/*
 * queue.c - RX bursts and buffered TX bursts on one DPDK port queue.
 */
#include "queue.h"

#include <string.h>

#include <rte_ethdev.h>

void shunt_queue_init(struct shunt_queue *q, uint16_t port_id, uint16_t queue_id,
                      uint16_t burst, struct shunt_counters *counters)
{
    memset(q, 0, sizeof(*q));
    q->port_id = port_id;
    q->queue_id = queue_id;
    q->burst = RTE_MIN(burst, (uint16_t)SHUNT_MAX_BURST);
    q->counters = counters;
}

uint16_t shunt_queue_rx(struct shunt_queue *q, struct rte_mbuf **pkts)
{
    uint16_t n = rte_eth_rx_burst(q->port_id, q->queue_id, pkts, q->burst);

    q->counters->rx_packets += n;
    for (uint16_t i = 0; i < n; i++)
        q->counters->rx_bytes += pkts[i]->pkt_len;
    if (unlikely(q->capture != NULL) && n > 0)
        shunt_capture_frames(q->capture, pkts, n);
    return n;
}

void shunt_queue_flush(struct shunt_queue *q)
{
    if (q->tx_count == 0)
        return;

    /* The PMD may free a frame as soon as it has it: count from tx_len. */
    uint16_t sent = rte_eth_tx_burst(q->port_id, q->queue_id, q->tx_buf, q->tx_count);
    q->counters->tx_packets += sent;
    for (uint16_t i = 0; i < sent; i++)
        q->counters->tx_bytes += q->tx_len[i];

    /* Whatever the port refused goes first next time. */
    q->tx_count -= sent;
    memmove(q->tx_buf, q->tx_buf + sent, q->tx_count * sizeof(q->tx_buf[0]));
    memmove(q->tx_len, q->tx_len + sent, q->tx_count * sizeof(q->tx_len[0]));
}

int shunt_queue_tx(struct shunt_queue *q, struct rte_mbuf *m)
{
    if (q->tx_count == SHUNT_TX_BUFFER)
        shunt_queue_flush(q);
    if (q->tx_count == SHUNT_TX_BUFFER) {
        q->counters->drops[SHUNT_DROP_TX_RING_FULL]++;
        return -1;
    }
    if (unlikely(q->capture != NULL))
        shunt_capture_frames(q->capture, &m, 1);
    q->tx_buf[q->tx_count] = m;
    q->tx_len[q->tx_count] = m->pkt_len;
    /* A burst's worth is worth sending now rather than at the turn's end. */
    if (++q->tx_count >= q->burst)
        shunt_queue_flush(q);
    return 0;
}

void shunt_queue_drain(struct shunt_queue *q)
{
    rte_pktmbuf_free_bulk(q->tx_buf, q->tx_count);
    q->tx_count = 0;
}
