/*
 * phy.h - the device under the netif: frames in, frames out, in bursts; and
 * the stages that wrap a device to watch or change what passes.
 *
 * A device is anything with these two calls.  The port's queue is one
 * (port/queue.c: rte_eth_rx_burst and rte_eth_tx_burst, counted).  A stage
 * is a device that wraps another one, its inner device: the capture
 * (port/capture.c) writes what passes to a pcap file, the fault injector
 * (port/faults.c) drops, duplicates, reorders, corrupts and delays it.
 * Stages stack, so the netif sees one device, the top of a pipeline:
 *
 *     netif -> [exception] -> [faults] -> [steer] -> [capture] -> queue -> the wire
 *                   |                        |
 *                   |                        +-- the other instances' rings (port/steer.h)
 *                   +-- the kernel's interface (port/exception.h)
 *
 * A stage that is off is not in the pipeline at all, so it costs nothing;
 * the pipeline (below) links the stages that are on, in that order, and
 * can relink between loop turns.  The order is fixed so that what a
 * capture shows is what crossed the wire, after the faults, the kernel's
 * frames among Shunt's.  The steering stage (several instances on one port)
 * sits right above the capture: the capture still shows this queue's wire,
 * each frame once, on the instance whose queue it crossed (a frame steered
 * away is in the capture of the instance that received it, not of its
 * owner); and the faults above act on what this instance handles, frames
 * steered in included, so a fault specification on one instance hurts its
 * own flows, and a steered frame is never hurt twice.
 *
 * Why not DPDK's own rx/tx callbacks (rte_eth_add_rx_callback)?  They run
 * inside rte_eth_rx_burst and can only filter or rewrite the frames of that
 * burst: a stage that holds frames (reorder, delay) must hand them up on a
 * later turn even when the port has nothing, and a stage that brings frames
 * from elsewhere (another instance's ring, the kernel's tap) has no port
 * burst to ride on.  They are also per port queue, not per instance, and
 * tests would have to go through a real ethdev to reach one.  A stage here
 * is two function pointers and an inner device.
 */
#ifndef SHUNT_PHY_H
#define SHUNT_PHY_H

#include <stdint.h>

#include <rte_mbuf.h>

/* The largest RX burst. */
#define SHUNT_MAX_BURST     64

struct shunt_phy;

struct shunt_phy_ops {
    /*
     * Up to n received frames into pkts; returns how many.  Called once a
     * loop turn whether or not frames wait, so a stage that holds frames
     * (in either direction) gets to release them.
     */
    uint16_t (*rx)(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n);
    /*
     * Offer n frames to send; returns how many the device took (sent, held
     * or freed: they are its own now).  The caller keeps the rest and offers
     * them again, first and in the same order, next time.
     */
    uint16_t (*tx)(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n);
};

struct shunt_phy {
    const struct shunt_phy_ops *ops;
    struct shunt_phy *inner;        /* the device a stage wraps; NULL for the port */
};

static inline uint16_t shunt_phy_rx(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n)
{
    return phy->ops->rx(phy, pkts, n);
}

static inline uint16_t shunt_phy_tx(struct shunt_phy *phy, struct rte_mbuf **pkts, uint16_t n)
{
    return phy->ops->tx(phy, pkts, n);
}

/* ---- the pipeline: the stages that are on, in their order ------------------ */

/* Where each stage sits, from the netif's side down to the port's. */
enum shunt_stage {
    SHUNT_STAGE_EXCEPTION,
    SHUNT_STAGE_FAULTS,
    SHUNT_STAGE_STEER,
    SHUNT_STAGE_CAPTURE,
    SHUNT_STAGES
};

struct shunt_pipeline {
    struct shunt_phy *stages[SHUNT_STAGES];     /* NULL: off */
    struct shunt_phy *port;                     /* the bottom: the port's queue */
    struct shunt_phy *top;                      /* what the netif talks to */
};

/* A pipeline of the port alone. */
void shunt_pipeline_init(struct shunt_pipeline *pl, struct shunt_phy *port);

/* Put stage (or NULL: nothing) in its slot and relink.  Only between loop
 * turns, on the instance's thread. */
void shunt_pipeline_set(struct shunt_pipeline *pl, enum shunt_stage slot,
                        struct shunt_phy *stage);

#endif /* SHUNT_PHY_H */
