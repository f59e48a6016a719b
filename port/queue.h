/*
 * queue.h - one DPDK port queue as Shunt's device: receive a burst, send
 * frames through a small buffer that goes out in bursts.
 *
 * This is the only place frames meet the port, so it is also where they are
 * counted and, when a capture is open, captured (port/capture.c).  It
 * knows nothing of lwIP.
 */
#ifndef SHUNT_QUEUE_H
#define SHUNT_QUEUE_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "capture.h"
#include "stats.h"

/* The largest RX burst, and how many frames the TX buffer holds. */
#define SHUNT_MAX_BURST     64
#define SHUNT_TX_BUFFER     (2 * SHUNT_MAX_BURST)

struct shunt_queue {
    uint16_t port_id;
    uint16_t queue_id;
    uint16_t burst;                     /* frames per RX burst and TX flush */
    uint16_t tx_count;                  /* frames waiting in tx_buf */
    struct shunt_counters *counters;
    struct shunt_capture *capture;      /* NULL: not capturing */
    struct rte_mbuf *tx_buf[SHUNT_TX_BUFFER];
    uint32_t tx_len[SHUNT_TX_BUFFER];   /* their lengths, for the counters */
};

void shunt_queue_init(struct shunt_queue *q, uint16_t port_id, uint16_t queue_id,
                      uint16_t burst, struct shunt_counters *counters);

/* Receive up to q->burst frames into pkts.  Returns how many. */
uint16_t shunt_queue_rx(struct shunt_queue *q, struct rte_mbuf **pkts);

/*
 * Queue m for sending; a full burst is sent at once.  Returns 0, or -1 when
 * the port's queue and the buffer are both full: m is not taken, and the
 * frame is counted as a tx_ring_full drop.
 */
int shunt_queue_tx(struct shunt_queue *q, struct rte_mbuf *m);

/* Hand buffered frames to the port; what it refuses stays for next time. */
void shunt_queue_flush(struct shunt_queue *q);

/* Free what is still buffered. */
void shunt_queue_drain(struct shunt_queue *q);

#endif /* SHUNT_QUEUE_H */
