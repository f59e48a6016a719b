/*
 * frames.c - packet builders for the packet tests.
 */
#include "frames.h"

#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

/* memcpy of the caller's bytes, which may be none and NULL: memcpy's
 * arguments must not be NULL even for 0 bytes (UBSan under clang says so). */
static void copy(void *dst, const void *src, size_t n)
{
    if (n > 0)
        memcpy(dst, src, n);
}

static size_t eth(uint8_t *b, const struct rte_ether_addr *dst,
                  const struct rte_ether_addr *src, uint16_t type)
{
    struct rte_ether_hdr *h = (struct rte_ether_hdr *)b;

    h->dst_addr = *dst;
    h->src_addr = *src;
    h->ether_type = rte_cpu_to_be_16(type);
    return sizeof(*h);
}

size_t frame_arp(uint8_t *b, uint16_t op, const struct rte_ether_addr *eth_dst,
                 const struct rte_ether_addr *sha, uint32_t spa,
                 const struct rte_ether_addr *tha, uint32_t tpa)
{
    size_t n = eth(b, eth_dst, sha, RTE_ETHER_TYPE_ARP);
    struct rte_arp_hdr *a = (struct rte_arp_hdr *)(b + n);

    a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
    a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    a->arp_hlen = RTE_ETHER_ADDR_LEN;
    a->arp_plen = 4;
    a->arp_opcode = rte_cpu_to_be_16(op);
    a->arp_data.arp_sha = *sha;
    a->arp_data.arp_sip = rte_cpu_to_be_32(spa);
    a->arp_data.arp_tha = *tha;
    a->arp_data.arp_tip = rte_cpu_to_be_32(tpa);
    return n + sizeof(*a);
}

size_t frame_ipv4(uint8_t *b, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
                  uint32_t ip_src, uint32_t ip_dst, uint8_t proto, uint16_t id, uint16_t frag,
                  const void *payload, size_t len)
{
    size_t n = eth(b, dst, src, RTE_ETHER_TYPE_IPV4);
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(b + n);

    memset(ip, 0, sizeof(*ip));
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + len));
    ip->packet_id = rte_cpu_to_be_16(id);
    ip->fragment_offset = rte_cpu_to_be_16(frag);
    ip->time_to_live = 64;
    ip->next_proto_id = proto;
    ip->src_addr = rte_cpu_to_be_32(ip_src);
    ip->dst_addr = rte_cpu_to_be_32(ip_dst);
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    copy(ip + 1, payload, len);
    return n + sizeof(*ip) + len;
}

size_t frame_udp4(uint8_t *b, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
                  uint32_t ip_src, uint32_t ip_dst, uint16_t sport, uint16_t dport,
                  const void *data, size_t len)
{
    uint8_t d[FRAME_MAX];
    struct rte_udp_hdr *u = (struct rte_udp_hdr *)d;

    u->src_port = rte_cpu_to_be_16(sport);
    u->dst_port = rte_cpu_to_be_16(dport);
    u->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*u) + len));
    u->dgram_cksum = 0;
    copy(u + 1, data, len);
    size_t n = frame_ipv4(b, dst, src, ip_src, ip_dst, IPPROTO_UDP, 2, 0, d, sizeof(*u) + len);
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(b + 14);
    struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ip + 1);
    uh->dgram_cksum = rte_ipv4_udptcp_cksum(ip, uh);
    return n;
}

size_t frame_tcp4(uint8_t *b, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
                  uint32_t ip_src, uint32_t ip_dst, uint16_t sport, uint16_t dport,
                  uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window, uint16_t mss,
                  const void *data, size_t len)
{
    const uint8_t mss_opt[4] = { 2, 4, (uint8_t)(mss >> 8), (uint8_t)mss };

    return frame_tcp4_opts(b, dst, src, ip_src, ip_dst, sport, dport, flags, seq, ack, window,
                           mss_opt, mss != 0 ? sizeof(mss_opt) : 0, data, len);
}

size_t frame_tcp4_opts(uint8_t *b, const struct rte_ether_addr *dst,
                       const struct rte_ether_addr *src, uint32_t ip_src, uint32_t ip_dst,
                       uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
                       uint16_t window, const uint8_t *opt, size_t opts,
                       const void *data, size_t len)
{
    uint8_t seg[FRAME_MAX];
    struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)seg;

    memset(t, 0, sizeof(*t));
    t->src_port = rte_cpu_to_be_16(sport);
    t->dst_port = rte_cpu_to_be_16(dport);
    t->sent_seq = rte_cpu_to_be_32(seq);
    t->recv_ack = rte_cpu_to_be_32(ack);
    t->data_off = (uint8_t)((sizeof(*t) + opts) / 4 << 4);
    t->tcp_flags = flags;
    t->rx_win = rte_cpu_to_be_16(window);
    copy(seg + sizeof(*t), opt, opts);
    copy(seg + sizeof(*t) + opts, data, len);
    size_t n = frame_ipv4(b, dst, src, ip_src, ip_dst, IPPROTO_TCP, 1, 0, seg,
                          sizeof(*t) + opts + len);
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(b + sizeof(struct rte_ether_hdr));
    struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
    th->cksum = rte_ipv4_udptcp_cksum(ip, th);
    return n;
}

size_t icmp4_echo(uint8_t *m, uint8_t type, uint16_t id, uint16_t seq,
                  const void *data, size_t len)
{
    struct rte_icmp_hdr *h = (struct rte_icmp_hdr *)m;

    h->icmp_type = type;
    h->icmp_code = 0;
    h->icmp_cksum = 0;
    h->icmp_ident = rte_cpu_to_be_16(id);
    h->icmp_seq_nb = rte_cpu_to_be_16(seq);
    copy(h + 1, data, len);
    h->icmp_cksum = (uint16_t)~rte_raw_cksum(m, sizeof(*h) + len);
    return sizeof(*h) + len;
}

size_t frame_icmp6(uint8_t *b, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
                   const uint8_t ip_src[16], const uint8_t ip_dst[16], uint8_t hop_limit,
                   const void *msg, size_t len)
{
    size_t n = eth(b, dst, src, RTE_ETHER_TYPE_IPV6);
    struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(b + n);

    memset(ip, 0, sizeof(*ip));
    ip->vtc_flow = RTE_BE32(0x60000000);
    ip->payload_len = rte_cpu_to_be_16((uint16_t)len);
    ip->proto = IPPROTO_ICMPV6;
    ip->hop_limits = hop_limit;
    memcpy(ip->src_addr, ip_src, 16);
    memcpy(ip->dst_addr, ip_dst, 16);
    uint8_t *icmp = (uint8_t *)(ip + 1);
    copy(icmp, msg, len);
    icmp[2] = icmp[3] = 0;
    uint16_t sum = rte_ipv6_udptcp_cksum(ip, icmp);
    memcpy(icmp + 2, &sum, 2);
    return n + sizeof(*ip) + len;
}

size_t frame_ipv6_fragment(uint8_t *b, const struct rte_ether_addr *dst,
                           const struct rte_ether_addr *src, const uint8_t ip_src[16],
                           const uint8_t ip_dst[16], uint8_t next, uint32_t id, uint16_t off,
                           bool more, const void *data, size_t len)
{
    size_t n = eth(b, dst, src, RTE_ETHER_TYPE_IPV6);
    struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(b + n);
    uint8_t *frag = (uint8_t *)(ip + 1);

    memset(ip, 0, sizeof(*ip));
    ip->vtc_flow = RTE_BE32(0x60000000);
    ip->payload_len = rte_cpu_to_be_16((uint16_t)(8 + len));
    ip->proto = 44;
    ip->hop_limits = 64;
    memcpy(ip->src_addr, ip_src, 16);
    memcpy(ip->dst_addr, ip_dst, 16);
    frag[0] = next;
    frag[1] = 0;
    uint16_t offlg = rte_cpu_to_be_16((uint16_t)(off | (more ? 1 : 0)));
    memcpy(frag + 2, &offlg, 2);
    uint32_t be = rte_cpu_to_be_32(id);
    memcpy(frag + 4, &be, 4);
    copy(frag + 8, data, len);
    return n + sizeof(*ip) + 8 + len;
}

uint16_t icmp6_checksum(const uint8_t ip_src[16], const uint8_t ip_dst[16], const void *msg,
                        size_t len)
{
    struct rte_ipv6_hdr ip;

    memset(&ip, 0, sizeof(ip));
    ip.payload_len = rte_cpu_to_be_16((uint16_t)len);
    ip.proto = IPPROTO_ICMPV6;
    memcpy(ip.src_addr, ip_src, 16);
    memcpy(ip.dst_addr, ip_dst, 16);
    uint32_t sum = rte_ipv6_phdr_cksum(&ip, 0);
    sum += rte_raw_cksum(msg, len);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

size_t icmp6_neighbor_solicit(uint8_t *m, const uint8_t target[16],
                              const struct rte_ether_addr *source_lladdr)
{
    memset(m, 0, 32);
    m[0] = 135;
    memcpy(m + 8, target, 16);
    m[24] = 1;              /* option: source link-layer address */
    m[25] = 1;              /* 8 bytes */
    memcpy(m + 26, source_lladdr->addr_bytes, 6);
    return 32;
}

size_t icmp6_neighbor_advert(uint8_t *m, uint32_t flags, const uint8_t target[16],
                             const struct rte_ether_addr *target_lladdr)
{
    memset(m, 0, 32);
    m[0] = 136;
    uint32_t be = rte_cpu_to_be_32(flags);
    memcpy(m + 4, &be, 4);
    memcpy(m + 8, target, 16);
    m[24] = 2;              /* option: target link-layer address */
    m[25] = 1;
    memcpy(m + 26, target_lladdr->addr_bytes, 6);
    return 32;
}

size_t icmp6_echo(uint8_t *m, uint8_t type, uint16_t id, uint16_t seq,
                  const void *data, size_t len)
{
    m[0] = type;
    m[1] = 0;
    m[2] = m[3] = 0;
    uint16_t be = rte_cpu_to_be_16(id);
    memcpy(m + 4, &be, 2);
    be = rte_cpu_to_be_16(seq);
    memcpy(m + 6, &be, 2);
    copy(m + 8, data, len);
    return 8 + len;
}

void ip6_solicited_node(const uint8_t ip[16], uint8_t out[16])
{
    static const uint8_t prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff };

    memcpy(out, prefix, 13);
    memcpy(out + 13, ip + 13, 3);
}

void ip6_multicast_mac(const uint8_t ip[16], struct rte_ether_addr *out)
{
    out->addr_bytes[0] = 0x33;
    out->addr_bytes[1] = 0x33;
    memcpy(out->addr_bytes + 2, ip + 12, 4);
}

bool frame_tcp4_parse(const uint8_t *f, size_t n, struct frame_seg *s)
{
    if (n < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != IPPROTO_TCP)
        return false;
    const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(f + 14);
    const struct rte_tcp_hdr *t = (const struct rte_tcp_hdr *)(ip + 1);
    size_t hlen = (t->data_off >> 4) * 4u, total = rte_be_to_cpu_16(ip->total_length);
    if (hlen < sizeof(*t) || total < 20 + hlen || 14 + total > n)
        return false;
    s->sport = rte_be_to_cpu_16(t->src_port);
    s->dport = rte_be_to_cpu_16(t->dst_port);
    s->flags = t->tcp_flags;
    s->seq = rte_be_to_cpu_32(t->sent_seq);
    s->ack = rte_be_to_cpu_32(t->recv_ack);
    s->window = rte_be_to_cpu_16(t->rx_win);
    s->opt = (const uint8_t *)(t + 1);
    s->optlen = hlen - sizeof(*t);
    s->data = (const uint8_t *)t + hlen;
    s->len = total - 20 - hlen;
    return true;
}
