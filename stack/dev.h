/*
 * dev.h - the DPDK port a stack instance runs on: chosen, configured with
 * the checksum offloads it offers, given one RX and one TX queue and an mbuf
 * pool, and started.
 *
 * If the eal line asks for net_af_xdp and AF_XDP cannot start on that
 * interface (old kernel, no XDP support, busy queue), the same interface is
 * opened with net_af_packet instead, and the log says so.
 */
#ifndef SHUNT_DEV_H
#define SHUNT_DEV_H

#include <stdint.h>

#include <rte_ethdev.h>

#include "config.h"

struct shunt_dev {
    uint16_t port_id;
    char name[RTE_ETH_NAME_MAX_LEN];
    struct rte_mempool *pool;
    struct rte_ether_addr mac;
    uint16_t mtu;
    uint64_t rx_offloads;       /* RTE_ETH_RX_OFFLOAD_*_CKSUM in use */
    uint64_t tx_offloads;       /* RTE_ETH_TX_OFFLOAD_*_CKSUM in use */
};

/*
 * Open and start the port the configuration names (after shunt_eal_init).
 * On failure, logs one line saying what is wrong and how to fix it, and
 * returns -1 with errno set.
 */
int shunt_dev_open(struct shunt_dev *d, const struct shunt_config *c);

/* Stop and close the port, and free its pool. */
void shunt_dev_close(struct shunt_dev *d);

#endif /* SHUNT_DEV_H */
