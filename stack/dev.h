/*
 * dev.h - the DPDK port a stack instance runs on: chosen, configured with
 * the checksum offloads it offers, given its RX and TX queues (queue 0 up to
 * the instance's own, the configuration's `queue`) and an mbuf pool, and
 * started.
 *
 * Under a port of DPDK's AF_XDP or AF_PACKET driver, the kernel drops what
 * arrives while the socket's ring is full, and DPDK 22.11 does not count it:
 * those sockets are found once, as the port opens, and asked for their
 * counts when a snapshot of the counters is taken.
 *
 * If the eal line asks for net_af_xdp and AF_XDP cannot start on that
 * interface (old kernel, no XDP support, busy queue), the same interface is
 * opened with net_af_packet instead, and the log says so - unless the
 * instance is one of a group (af_packet sees every queue's frames).
 *
 * A shared group's port (config.h) is configured by its primary, instance
 * 0: N queues, queue i filling from instance i's pool, which the primary
 * makes.  A secondary neither configures, starts nor stops the port: it
 * finds its pool by name and polls its queue.
 */
#ifndef SHUNT_DEV_H
#define SHUNT_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>

#include "config.h"

/* The kernel sockets behind an AF_XDP or AF_PACKET port, one per queue. */
#define SHUNT_DEV_MAX_SOCKETS 16

struct shunt_dev {
    uint16_t port_id;
    uint16_t queue_id;                  /* the instance's */
    char name[RTE_ETH_NAME_MAX_LEN];
    struct rte_mempool *pool;
    bool owns_pool;             /* false: the port's, shared (the exception path's tap) */
    bool secondary;             /* the port is a shared group's primary's */
    struct rte_ether_addr mac;
    uint16_t mtu;
    uint64_t rx_offloads;       /* RTE_ETH_RX_OFFLOAD_*_CKSUM in use */
    uint64_t tx_offloads;       /* RTE_ETH_TX_OFFLOAD_*_CKSUM in use */
    bool hw_timestamps;         /* RTE_ETH_RX_OFFLOAD_TIMESTAMP on */
    enum { RING_NONE, RING_XDP, RING_PACKET } ring_kind;
    int ring_fds[SHUNT_DEV_MAX_SOCKETS];
    unsigned nring_fds;
    uint64_t packet_drops;      /* PACKET_STATISTICS restarts from 0 once read */
};

/* The name of the mbuf pool instance id's queue fills from. */
void shunt_dev_pool_name(unsigned id, char *name, size_t len);

/*
 * Open and start the port the configuration names (after shunt_eal_init),
 * its mbuf pool a DPDK object called pool_name.  On failure, logs one line
 * saying what is wrong and how to fix it, and returns -1 with errno set.
 */
int shunt_dev_open(struct shunt_dev *d, const struct shunt_config *c, const char *pool_name);

/*
 * Open and start the exception path's tap (stack/kernelif.h) the same way,
 * after port: one queue, port's MAC, MTU and pool; then give the kernel's
 * interface the configuration's addresses.  On failure, as shunt_dev_open.
 */
int shunt_dev_open_kernel(struct shunt_dev *k, const struct shunt_dev *port,
                          const struct shunt_config *c);

/* Frames the kernel dropped at the port's full socket rings, so far (a few
 * system calls: for snapshots, not the fast path). */
uint64_t shunt_dev_ring_drops(struct shunt_dev *d);

/* Stop and close the port, and free its pool if it is its own. */
void shunt_dev_close(struct shunt_dev *d);

#endif /* SHUNT_DEV_H */
