/*
 * netif.h - the lwIP network interface over one DPDK port queue.
 *
 * Receive: each frame of an RX burst, still in its mbuf, goes to lwIP's
 * ethernet_input (port/mbuf.c wraps it, no copy).  Frames too short to be
 * Ethernet, unicast to another MAC, or flagged by the NIC as bad are dropped
 * here and counted; so are IP packets for another host (through lwIP's input
 * hooks, port/hooks.h).
 *
 * Transmit: lwIP's linkoutput copies each frame into an mbuf, fills in the
 * checksum-offload fields the port supports, and queues it on the device
 * (port/queue.c), which sends in bursts; the loop flushes once per turn.
 *
 * Checksums: for every checksum the port computes or verifies in hardware,
 * lwIP's software checksum is switched off on this netif - for transmit once
 * at set-up, for receive frame by frame, from what the NIC reported.
 */
#ifndef SHUNT_NETIF_H
#define SHUNT_NETIF_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "lwip/netif.h"

#include "queue.h"
#include "stats.h"

/* What the netif is given: a started port queue and its addresses. */
struct shunt_netif_conf {
    uint16_t port_id;
    uint16_t queue_id;
    struct rte_mempool *pool;           /* for outgoing frames */
    uint16_t burst;                     /* RX burst size, <= SHUNT_MAX_BURST */
    struct rte_ether_addr mac;
    uint16_t mtu;
    uint64_t rx_offloads;               /* RTE_ETH_RX_OFFLOAD_*_CKSUM enabled */
    uint64_t tx_offloads;               /* RTE_ETH_TX_OFFLOAD_*_CKSUM enabled */
    ip4_addr_t ip4, netmask4, gateway4; /* ip4 0.0.0.0: no IPv4 address */
    bool has_ip6;                       /* ip6 is a global address to add */
    ip6_addr_t ip6;
};

struct shunt_netif {
    struct netif netif;                 /* lwIP's side; must come first */
    struct shunt_netif_conf conf;
    struct shunt_queue queue;
    struct shunt_counters counters;
};

/*
 * Add sn to lwIP as its only netif, up, with the given addresses and an
 * IPv6 link-local address made from the MAC.  lwip_init() must have run.
 * Returns 0, or -1 if lwIP refused.
 */
int shunt_netif_add(struct shunt_netif *sn, const struct shunt_netif_conf *conf);

/* Remove the netif from lwIP and free the frames it has not sent. */
void shunt_netif_remove(struct shunt_netif *sn);

/* One RX burst, every frame through lwIP.  Returns the number received. */
unsigned shunt_netif_rx(struct shunt_netif *sn);

/* Hand lwIP what the stack sent to its own addresses (lwIP's loopback). */
void shunt_netif_loop_input(struct shunt_netif *sn);

/* Send what this turn produced. */
void shunt_netif_flush(struct shunt_netif *sn);

#endif /* SHUNT_NETIF_H */
