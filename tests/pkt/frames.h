/*
 * frames.h - build the exact Ethernet frames packet tests send to Shunt and
 * expect back: ARP, IPv4 + ICMP, IPv6 + ICMPv6 (neighbour discovery, echo).
 * Checksums are computed; addresses in host byte order for IPv4.
 * Each builder writes into b and returns the frame's length.
 */
#ifndef SHUNT_TEST_FRAMES_H
#define SHUNT_TEST_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

#define FRAME_MAX 9216

size_t frame_arp(uint8_t *b, uint16_t op, const struct rte_ether_addr *eth_dst,
                 const struct rte_ether_addr *sha, uint32_t spa,
                 const struct rte_ether_addr *tha, uint32_t tpa);

/* IPv4 with TTL 64, no options; frag is the flags/offset field. */
size_t frame_ipv4(uint8_t *b, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
                  uint32_t ip_src, uint32_t ip_dst, uint8_t proto, uint16_t id, uint16_t frag,
                  const void *payload, size_t len);

/* A UDP datagram over IPv4 (ports in host order); checksums filled in. */
size_t frame_udp4(uint8_t *b, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
                  uint32_t ip_src, uint32_t ip_dst, uint16_t sport, uint16_t dport,
                  const void *data, size_t len);

/* A TCP segment over IPv4 (ports in host order) with len bytes of data;
 * a SYN offers mss when it is not 0.  Checksums filled in. */
size_t frame_tcp4(uint8_t *b, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
                  uint32_t ip_src, uint32_t ip_dst, uint16_t sport, uint16_t dport,
                  uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window, uint16_t mss,
                  const void *data, size_t len);

/* The same with options of its own (opts bytes, a multiple of 4). */
size_t frame_tcp4_opts(uint8_t *b, const struct rte_ether_addr *dst,
                       const struct rte_ether_addr *src, uint32_t ip_src, uint32_t ip_dst,
                       uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
                       uint16_t window, const uint8_t *opt, size_t opts,
                       const void *data, size_t len);

/* What a TCP segment over IPv4 (no IP options) says, in host order. */
struct frame_seg {
    uint16_t sport, dport;
    uint8_t flags;
    uint32_t seq, ack;
    uint16_t window;            /* as on the wire, unscaled */
    const uint8_t *opt;         /* its options, within the frame */
    size_t optlen;
    const uint8_t *data;        /* its data, within the frame */
    size_t len;                 /* bytes of data */
};

/* Read frame f (n bytes) as one; false when it is something else, or when
 * its headers claim more than the frame holds. */
bool frame_tcp4_parse(const uint8_t *f, size_t n, struct frame_seg *s);

/* An ICMP echo message (type 8 request, 0 reply) with its checksum, into m. */
size_t icmp4_echo(uint8_t *m, uint8_t type, uint16_t id, uint16_t seq,
                  const void *data, size_t len);

/* IPv6 whose payload is an ICMPv6 message: its checksum is filled in. */
size_t frame_icmp6(uint8_t *b, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
                   const uint8_t ip_src[16], const uint8_t ip_dst[16], uint8_t hop_limit,
                   const void *msg, size_t len);

/* An IPv6 fragment (next header 44) carrying len bytes of a datagram whose
 * payload is of protocol next, at byte offset off (a multiple of 8). */
size_t frame_ipv6_fragment(uint8_t *b, const struct rte_ether_addr *dst,
                           const struct rte_ether_addr *src, const uint8_t ip_src[16],
                           const uint8_t ip_dst[16], uint8_t next, uint32_t id, uint16_t off,
                           bool more, const void *data, size_t len);

/* The ICMPv6 checksum of msg (len bytes) between two addresses. */
uint16_t icmp6_checksum(const uint8_t ip_src[16], const uint8_t ip_dst[16], const void *msg,
                        size_t len);

/* ICMPv6 messages, checksum left zero for frame_icmp6. */
size_t icmp6_neighbor_solicit(uint8_t *m, const uint8_t target[16],
                              const struct rte_ether_addr *source_lladdr);
size_t icmp6_neighbor_advert(uint8_t *m, uint32_t flags, const uint8_t target[16],
                             const struct rte_ether_addr *target_lladdr);
size_t icmp6_echo(uint8_t *m, uint8_t type, uint16_t id, uint16_t seq,
                  const void *data, size_t len);

/* The solicited-node multicast address of ip, and its Ethernet address. */
void ip6_solicited_node(const uint8_t ip[16], uint8_t out[16]);
void ip6_multicast_mac(const uint8_t ip[16], struct rte_ether_addr *out);

#endif /* SHUNT_TEST_FRAMES_H */
