/*
 * netif.h - the lwIP network interface over one DPDK port queue.
 *
 * Receive: each frame of an RX burst from the device pipeline (port/phy.h)
 * is judged by the classifier (port/classify.h), counted under its verdict,
 * and - still in its mbuf - handed to lwIP (port/mbuf.c wraps it, no copy),
 * or dropped and counted; with the exception path on, the frames that are
 * not Shunt's go to the kernel instead (port/exception.h).
 *
 * Transmit: lwIP's linkoutput copies each frame into an mbuf, fills in the
 * checksum-offload fields the port supports, and keeps it in a small TX
 * buffer that goes down the pipeline in bursts; the loop flushes it once a
 * turn.
 *
 * Checksums: for every checksum the port computes or verifies in hardware,
 * lwIP's software checksum is switched off on this netif - for transmit once
 * at set-up, for receive frame by frame, from what the NIC reported.  The
 * IPv4 header checksum is the classifier's to check, never lwIP's.
 *
 * The netif knows nothing of sockets: the layer above registers what it
 * wants to hear (struct shunt_netif_upcalls).
 */
#ifndef SHUNT_NETIF_H
#define SHUNT_NETIF_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "lwip/igmp.h"
#include "lwip/mld6.h"
#include "lwip/netif.h"

#include "classify.h"
#include "counters.h"
#include "demux.h"
#include "exception.h"
#include "mcast.h"
#include "mcreport.h"
#include "phy.h"
#include "queue.h"

struct tcp_hdr;
struct tcp_pcb;

/* Frames the TX buffer holds; a burst's worth goes at once. */
#define SHUNT_TX_BUFFER     (2 * SHUNT_MAX_BURST)

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
    const char *demux_name;             /* the connection hash's DPDK name */
    unsigned connections;               /* and how many it holds */
    const char *mcast_name;             /* the multicast groups' DPDK name */
    unsigned mcast_groups;              /* and how many it holds */
    unsigned force_igmp_version;        /* 0: the querier's; 1-3 (port/mcreport.h) */
    unsigned force_mld_version;         /* 0: the querier's; 1-2 */
};

/*
 * What the layer above wants to hear of, each optional.  lwIP calls the TCP
 * ones for every segment in (once it found the pcb) and out.
 */
struct shunt_netif_upcalls {
    /* A port unreachable about a datagram sent from local:lport to
     * remote:rport: true if a socket took it (it is then not lwIP's). */
    bool (*unreachable)(void *arg, const ip_addr_t *local, uint16_t lport,
                        const ip_addr_t *remote, uint16_t rport);
    /* A segment for pcb (a connection's or a listener's): ERR_OK to go on. */
    err_t (*tcp_input)(void *arg, struct tcp_pcb *pcb, const struct tcp_hdr *hdr);
    /* A segment leaving pcb (NULL: a reset without one); may edit options. */
    void (*tcp_output)(void *arg, const struct tcp_pcb *pcb, struct tcp_hdr *hdr);
    /* A segment of pcb's, [seq, seq + len), leaves for the first time. */
    void (*tcp_segment_out)(void *arg, const struct tcp_pcb *pcb, uint32_t seq, uint32_t len);
    void *arg;
};

struct shunt_netif {
    struct netif netif;                 /* lwIP's side; must come first */
    struct shunt_netif_conf conf;
    struct shunt_counters counters;
    struct shunt_queue queue;           /* the port, at the pipeline's bottom */
    struct shunt_pipeline pipeline;
    struct shunt_demux demux;
    struct shunt_mcast mcast;           /* groups joined, the port's filter */
    struct shunt_mcreport report;       /* IGMP and MLD for them */
    struct igmp_group lent4;            /* lwIP's group list, lent to one packet */
    struct mld_group lent6;
    struct shunt_classifier classifier;
    struct shunt_netif_upcalls upcalls;
    struct shunt_exception *exception;  /* the kernel's share of the frames; NULL: none */
    u16_t checksums;                    /* lwIP's NETIF_CHECKSUM_* flags, as set up */
    bool looping;                       /* lwIP's loopback is handing packets in */
    unsigned low_asked;                 /* shunt_netif_mbufs_low: calls, and */
    bool low;                           /* what it found when it last looked */
    uint16_t tx_count;                  /* frames waiting in tx_buf */
    struct rte_mbuf *tx_buf[SHUNT_TX_BUFFER];
};

/*
 * Add sn to lwIP as its only netif, up, with the given addresses and an
 * IPv6 link-local address made from the MAC; its pipeline is the port's
 * queue alone.  lwip_init() must have run.  Returns 0, -ENOMEM (no memory
 * for the connection or group hash) or -ENODEV (lwIP refused).  The groups
 * every host is in - all-systems, all-nodes, each address's solicited-node
 * group - are joined in the group table, owned by the netif.
 */
int shunt_netif_add(struct shunt_netif *sn, const struct shunt_netif_conf *conf);

/* Remove the netif from lwIP and free the frames it has not sent. */
void shunt_netif_remove(struct shunt_netif *sn);

void shunt_netif_set_upcalls(struct shunt_netif *sn, const struct shunt_netif_upcalls *up);

/* Send the frames that are not Shunt's to ex (NULL: drop them, as without
 * the exception path), and put ex in the pipeline. */
void shunt_netif_set_exception(struct shunt_netif *sn, struct shunt_exception *ex);

/* One RX burst from the pipeline, every frame judged and through lwIP.
 * Returns the number received. */
unsigned shunt_netif_rx(struct shunt_netif *sn);

/* Frames received some other way (a stage handing back what it held). */
void shunt_netif_input(struct shunt_netif *sn, struct rte_mbuf **pkts, unsigned n);

/* Hand lwIP what the stack sent to its own addresses (lwIP's loopback). */
void shunt_netif_loop_input(struct shunt_netif *sn);

/* Send what this turn produced. */
void shunt_netif_flush(struct shunt_netif *sn);

/*
 * Whether the mbuf pool runs low (below 1/8 of it, and never above 1,024
 * free): the layer above then moves received data out of its mbufs, so
 * slow readers cannot starve the port of buffers to receive into.
 */
bool shunt_netif_mbufs_low(struct shunt_netif *sn);

#endif /* SHUNT_NETIF_H */
