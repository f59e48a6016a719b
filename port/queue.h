/*
 * queue.h - one DPDK port queue as the device at the bottom of the pipeline
 * (port/phy.h): receive a burst, send a burst.
 *
 * Frames cross the wire here, so this is where they are counted: packets
 * and bytes received and sent.  It knows nothing of lwIP.
 */
#ifndef SHUNT_QUEUE_H
#define SHUNT_QUEUE_H

#include <stdint.h>

#include "counters.h"
#include "phy.h"

struct shunt_queue {
    struct shunt_phy phy;               /* must come first */
    uint16_t port_id;
    uint16_t queue_id;
    struct shunt_counters *counters;
};

void shunt_queue_init(struct shunt_queue *q, uint16_t port_id, uint16_t queue_id,
                      struct shunt_counters *counters);

#endif /* SHUNT_QUEUE_H */
