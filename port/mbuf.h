/*
 * mbuf.h - how a packet crosses between DPDK and lwIP.
 *
 * Receive is zero-copy: a received mbuf becomes an lwIP custom pbuf whose
 * payload is the mbuf's data, and whose pbuf header lives in the mbuf's
 * private area (so wrapping allocates nothing).  Freeing the pbuf frees the
 * mbuf.  A chained (multi-segment) mbuf becomes a pbuf chain, one custom
 * pbuf per segment.
 *
 * Transmit sends the mbuf lwIP built the frame in when it built it in one
 * pbuf of its heap (port/heap.h: lwIP's heap is carved out of mbufs).  A
 * frame whose data is a zero-copy buffer (the headers in one pbuf before
 * it, <shunt/zc.h>) is not copied either: its headers go into the room
 * before the data, and that mbuf is the frame.  Any other frame - a pbuf
 * chain, or one whose mbuf the wire still holds - is copied into a fresh
 * mbuf (chained when it exceeds one mbuf's data room).  When asked, the
 * checksum-offload fields the NIC needs are filled in.
 */
#ifndef SHUNT_MBUF_H
#define SHUNT_MBUF_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "lwip/pbuf.h"

/* The private area every mbuf pool given to Shunt must have (priv_size). */
#define SHUNT_MBUF_PRIV_SIZE \
    RTE_ALIGN(sizeof(struct pbuf_custom), RTE_MBUF_PRIV_ALIGN)

/*
 * Wrap a received mbuf (all its segments) as a pbuf chain; the pbuf owns the
 * mbuf from now on.  The mbuf's pool must have SHUNT_MBUF_PRIV_SIZE of
 * private area.  Cannot fail.
 */
struct pbuf *shunt_pbuf_from_mbuf(struct rte_mbuf *m);

/*
 * Count in *counter every wrapped frame lwIP frees (its first segment's
 * pbuf going stands for the frame), wherever that happens: in lwIP, in a
 * socket, in a timer.  NULL: count nothing.
 */
void shunt_mbuf_count_frees(uint64_t *counter);

/*
 * A zero-copy transmit buffer: the data_len bytes of m as a pbuf (PBUF_REF,
 * its header in m's private area) that owns m, as a received one does.
 * When lwIP sends it after one pbuf of headers, the frame leaves in m
 * itself (shunt_mbuf_from_pbuf).
 */
struct pbuf *shunt_mbuf_zc_pbuf(struct rte_mbuf *m);

/*
 * The frame of a pbuf chain as an mbuf of mp: for a frame lwIP built in one
 * pbuf inside an mbuf of mp that the wire does not hold, that mbuf; for a
 * zero-copy buffer (above) not yet on the wire, that buffer's mbuf with the
 * headers put before its data (each with a reference more, for the wire);
 * otherwise a copy in a new mbuf.  Copies longer than one mbuf's data room
 * become a chained mbuf.  Returns NULL when mp is empty.
 */
struct rte_mbuf *shunt_mbuf_from_pbuf(const struct pbuf *p, struct rte_mempool *mp);

/*
 * The checksums lwIP must still compute itself (NETIF_CHECKSUM_* flags for
 * NETIF_SET_CHECKSUM_CTRL) on a port with these TX offloads in use.
 */
uint16_t shunt_mbuf_sw_checksums(uint64_t tx_offloads);

/*
 * Ask the NIC to compute the checksums that lwIP left out.  offloads is the
 * subset of RTE_ETH_TX_OFFLOAD_IPV4_CKSUM / _TCP_CKSUM / _UDP_CKSUM in use on
 * this port: lwIP wrote zero in those fields, and this sets the mbuf's
 * ol_flags, l2_len and l3_len and seeds each L4 checksum with the pseudo
 * header, as DPDK requires.  Frames it does not recognise, and IP fragments,
 * are left alone.
 */
void shunt_mbuf_tx_offload(struct rte_mbuf *m, uint64_t offloads);

/*
 * Compute, in software, the checksums m's offload fields ask the NIC for,
 * and clear those fields: for a frame about to be changed on purpose (the
 * fault stage's corruption), whose checksums must be those of the frame
 * as it was.
 */
void shunt_mbuf_tx_checksums(struct rte_mbuf *m);

#endif /* SHUNT_MBUF_H */
