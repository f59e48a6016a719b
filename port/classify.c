/*
 * classify.c - a received frame's headers, read once and checked as they
 * are read, and the verdict they lead to.
 */
#include "classify.h"

#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>

#include "lwip/priv/tcp_priv.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/icmp6.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/ip6.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "arch/cc.h"
#include "mcreport.h"

#define ETH_LEN     14
#define IP4_MIN     20
#define IP6_LEN     40
#define TCP_MIN     20
#define UDP_LEN     8
#define ICMP_ERROR  8               /* an ICMP error's own header, before the quote */

/* What the IP layer found, for the transport's turn. */
struct packet {
    const uint8_t *l4;              /* the transport header */
    uint32_t l4_room;               /* bytes of it in the first segment */
    bool v6;
    bool to_group;                  /* multicast or broadcast: no connection takes it */
    const uint8_t *src;             /* addresses as they lie in the frame */
    const uint8_t *dst;
};

static enum shunt_verdict verdict(struct shunt_class *out, enum shunt_verdict v)
{
    out->verdict = v;
    return v;
}

static enum shunt_verdict drop(struct shunt_class *out, enum shunt_verdict v,
                               enum shunt_drop_cause cause)
{
    out->cause = cause;
    return verdict(out, v);
}

static enum shunt_verdict malformed(struct shunt_class *out, enum shunt_drop_cause cause)
{
    return drop(out, SHUNT_VERDICT_MALFORMED, cause);
}

static enum shunt_verdict not_ours(struct shunt_class *out)
{
    return drop(out, SHUNT_VERDICT_NOT_OURS, SHUNT_DROP_NOT_FOR_US);
}

/* A group joined, but no member wants this source. */
static enum shunt_verdict source_filtered(struct shunt_class *out)
{
    return drop(out, SHUNT_VERDICT_NOT_OURS, SHUNT_DROP_SOURCE_FILTERED);
}

static uint16_t be16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}

/* The frame's address as lwIP keeps one.  (One netif: lwIP keeps no
 * IPv6 zones, LWIP_IPV6_SCOPES is off.) */
static void addr_as_lwip(bool v6, const uint8_t *b, ip_addr_t *ip)
{
    if (!v6) {
        uint32_t a;
        memcpy(&a, b, 4);
        ip_addr_set_ip4_u32_val(*ip, a);
        return;
    }
    ip_addr_copy_from_ip6_packed(*ip, *(const ip6_addr_p_t *)(const void *)b);
}

/* Two Internet-checksum sums (shunt_chksum's, not complemented) as one. */
static uint16_t sum_both(uint16_t a, uint16_t b)
{
    uint32_t sum = (uint32_t)a + b;

    return (uint16_t)((sum & 0xffff) + (sum >> 16));
}

/* ---- TCP and UDP: whose port ------------------------------------------------ */

/* lwIP's test of a listener's or an unconnected socket's local address:
 * a dual-stack wildcard takes both families, else the same family and the
 * wildcard or the very address. */
static bool local_match(const ip_addr_t *local, const ip_addr_t *dst)
{
    if (IP_IS_ANY_TYPE_VAL(*local))
        return true;
    return IP_GET_TYPE(local) == IP_GET_TYPE(dst) && (ip_addr_isany(local) || ip_addr_cmp(local, dst));
}

static bool has_listener(uint16_t port, const ip_addr_t *dst)
{
    for (const struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l != NULL; l = l->next)
        if (l->local_port == port && local_match(&l->local_ip, dst))
            return true;
    return false;
}

/* The hot path of every TCP segment: inlined, for a call fewer each. */
static inline __attribute__((always_inline)) enum shunt_verdict judge_tcp(const struct shunt_classifier *c, const struct packet *pk,
                                      struct shunt_class *out)
{
    if (pk->l4_room < TCP_MIN || (pk->l4[12] >> 4) * 4u < TCP_MIN ||
        (pk->l4[12] >> 4) * 4u > pk->l4_room)
        return malformed(out, SHUNT_DROP_BAD_FRAME);
    out->dport = be16(pk->l4 + 2);
    if (pk->to_group)
        return verdict(out, SHUNT_VERDICT_NO_SOCKET);   /* lwIP drops it, unanswered */

    struct shunt_tuple t = { pk->v6, be16(pk->l4 + 2), be16(pk->l4), pk->dst, pk->src };
    out->pcb = shunt_demux_find(c->demux, &t);
    out->certain = true;
    if (out->pcb != NULL)
        return verdict(out, SHUNT_VERDICT_TCP);
    ip_addr_t dst;
    addr_as_lwip(pk->v6, pk->dst, &dst);
    return verdict(out, has_listener(t.lport, &dst) ? SHUNT_VERDICT_TCP_LISTEN
                                                    : SHUNT_VERDICT_NO_SOCKET);
}

/* lwIP's udp_input, as a question: would a socket take this datagram?
 * (SO_REUSE_RXTOALL: one that matches is enough, whichever it is.) */
/* A broadcast reaches a socket bound to the wildcard or to an address of
 * the subnet (Shunt does not ask for SO_BROADCAST). */
static bool broadcast_match(const ip_addr_t *local, const ip_addr_t *dst, struct netif *netif)
{
    if (IP_IS_ANY_TYPE_VAL(*local))
        return true;
    return IP_IS_V4_VAL(*local) &&
           (ip4_addr_isany(ip_2_ip4(local)) || ip4_addr_get_u32(ip_2_ip4(dst)) == IPADDR_BROADCAST ||
            ip4_addr_netcmp(ip_2_ip4(local), ip_2_ip4(dst), netif_ip4_netmask(netif)));
}

static bool has_udp_socket(const struct shunt_classifier *c, const struct packet *pk,
                           uint16_t sport, uint16_t dport)
{
    ip_addr_t dst;

    addr_as_lwip(pk->v6, pk->dst, &dst);
    bool broadcast = pk->to_group && !pk->v6 && !ip_addr_ismulticast(&dst);
    for (const struct udp_pcb *pcb = udp_pcbs; pcb != NULL; pcb = pcb->next) {
        if (pcb->local_port != dport ||
            !(broadcast ? broadcast_match(&pcb->local_ip, &dst, c->netif)
                        : local_match(&pcb->local_ip, &dst)))
            continue;
        if (!(pcb->flags & UDP_FLAGS_CONNECTED))
            return true;
        if (pcb->remote_port != sport)
            continue;
        if (ip_addr_isany_val(pcb->remote_ip) ||
            shunt_tuple_addr_is(&pcb->remote_ip, pk->v6, pk->src))
            return true;
    }
    return false;
}

static enum shunt_verdict judge_udp(const struct shunt_classifier *c, const struct packet *pk,
                                       struct shunt_class *out)
{
    if (pk->l4_room < UDP_LEN)
        return malformed(out, SHUNT_DROP_BAD_FRAME);
    out->dport = be16(pk->l4 + 2);
    if (pk->to_group) {
        addr_as_lwip(pk->v6, pk->dst, &out->group);
        out->to_group = ip_addr_ismulticast(&out->group);
    }
    return verdict(out, has_udp_socket(c, pk, be16(pk->l4), be16(pk->l4 + 2))
                            ? SHUNT_VERDICT_UDP : SHUNT_VERDICT_NO_SOCKET);
}

/* ---- ICMP: a port unreachable about a datagram this host sent -------------- */

/* The quoted datagram's addresses and ports, as this host sent it. */
static void quoted_udp(bool v6, const uint8_t *src, const uint8_t *dst, const uint8_t *udp,
                       struct shunt_class *out)
{
    addr_as_lwip(v6, src, &out->local);
    addr_as_lwip(v6, dst, &out->remote);
    out->lport = be16(udp);
    out->rport = be16(udp + 2);
}

/*
 * An ICMP message whose IPv4 header has been checked: a port unreachable
 * quoting a UDP datagram whole enough to name its ports is believed once
 * the message's checksum holds.  Others are lwIP's (which drops errors).
 */
static enum shunt_verdict icmp4(const uint8_t *icmp,
                                uint32_t len, uint32_t room, struct shunt_class *out)
{
    if (len < ICMP_ERROR + IP4_MIN + 4 || len > room || icmp[0] != ICMP_DUR ||
        icmp[1] != ICMP_DUR_PORT)
        return verdict(out, SHUNT_VERDICT_ICMP);
    if (shunt_chksum(icmp, (int)len) != 0xffff)
        return malformed(out, SHUNT_DROP_BAD_CHECKSUM);
    const uint8_t *q = icmp + ICMP_ERROR;         /* the quoted datagram */
    uint32_t qhl = (q[0] & 0x0fu) * 4;
    if ((q[0] >> 4) != 4 || qhl < IP4_MIN || q[9] != IP_PROTO_UDP ||
        len < ICMP_ERROR + qhl + 4)
        return verdict(out, SHUNT_VERDICT_ICMP);
    quoted_udp(false, q + 12, q + 16, q + qhl, out);
    return verdict(out, SHUNT_VERDICT_UNREACHABLE);
}

/* The same for ICMPv6 right after the IPv6 header (ip6). */
static enum shunt_verdict icmp6(const uint8_t *ip6,
                                uint32_t len, uint32_t room, struct shunt_class *out)
{
    const uint8_t *icmp = ip6 + IP6_LEN;

    if (len < ICMP_ERROR + IP6_LEN + 4 || len > room || icmp[0] != ICMP6_TYPE_DUR ||
        icmp[1] != ICMP6_DUR_PORT)
        return verdict(out, SHUNT_VERDICT_ICMP);
    /* The sum covers a pseudo header: the addresses, the length, ICMPv6. */
    uint8_t pseudo[40] = { 0 };
    memcpy(pseudo, ip6 + 8, 32);
    pseudo[34] = (uint8_t)(len >> 8);
    pseudo[35] = (uint8_t)len;
    pseudo[39] = IP6_NEXTH_ICMP6;
    if (sum_both(shunt_chksum(pseudo, sizeof(pseudo)), shunt_chksum(icmp, (int)len)) != 0xffff)
        return malformed(out, SHUNT_DROP_BAD_CHECKSUM);
    const uint8_t *q = icmp + ICMP_ERROR;
    if ((q[0] >> 4) != 6 || q[6] != IP6_NEXTH_UDP)
        return verdict(out, SHUNT_VERDICT_ICMP);
    quoted_udp(true, q + 8, q + 24, q + IP6_LEN, out);
    return verdict(out, SHUNT_VERDICT_UNREACHABLE);
}

/* ---- IPv4 ---------------------------------------------------------------------- */

/* Whether an IPv4 header's checksum holds.  Its 5 to 15 32-bit words,
 * summed in 64 bits, cannot carry out: one fold at the end, as RFC 1071
 * allows summing in any width. */
static inline uint64_t word32(const uint8_t *b)
{
    uint32_t w;

    memcpy(&w, b, 4);
    return w;
}

static inline bool ipv4_sum_ok(const uint8_t *ip, uint32_t hl)
{
    uint64_t sum = word32(ip) + word32(ip + 4) + word32(ip + 8) + word32(ip + 12) +
                   word32(ip + 16);

    for (uint32_t i = IP4_MIN; i < hl; i += 4)         /* options */
        sum += word32(ip + i);
    sum = (sum & 0xffffffffu) + (sum >> 32);    /* at most 33 bits, then 32 */
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);        /* at most 17 bits, then 16 */
    sum = (sum & 0xffffu) + (sum >> 16);
    return sum == 0xffff;
}

/* A multicast destination: a group joined, with a member that wants the
 * source; else counted as not for us, or as filtered by source. */
static bool group_for_us(const struct shunt_classifier *c, bool v6, const uint8_t *dst,
                         const uint8_t *src, bool *filtered)
{
    bool joined;
    bool wanted = shunt_mcast_accepts(c->mcast, v6, dst, src, &joined);

    *filtered = joined && !wanted;
    return wanted;
}

/* The destination is this host: its address, a broadcast, or a joined group. */
static bool ipv4_for_us(const struct shunt_classifier *c, const uint8_t *dst,
                        const uint8_t *src, bool *to_group, bool *filtered)
{
    const ip4_addr_t *ours = netif_ip4_addr(c->netif);
    ip4_addr_t d;

    memcpy(&d.addr, dst, 4);
    *to_group = false;
    if (ip4_addr_cmp(&d, ours) && !ip4_addr_isany_val(*ours))
        return true;                    /* the usual case first */
    if (ip4_addr_ismulticast(&d)) {
        *to_group = true;
        return group_for_us(c, false, dst, src, filtered);
    }
    *to_group = ip4_addr_isbroadcast(&d, c->netif);
    return *to_group;
}

/*
 * An IPv4 packet: room bytes of it at ip, of whole bytes in all (beyond
 * room, in later segments); its header checksum still to check unless
 * sum_checked.
 */
static inline __attribute__((always_inline)) enum shunt_verdict ipv4(const struct shunt_classifier *c, const uint8_t *ip, uint32_t room,
                               uint32_t whole, bool sum_checked, struct shunt_class *out)
{
    if (room < IP4_MIN || (ip[0] >> 4) != 4)
        return malformed(out, SHUNT_DROP_BAD_FRAME);
    uint32_t hl = (ip[0] & 0x0fu) * 4, total = be16(ip + 2);
    if (hl < IP4_MIN || hl > room || total < hl || total > whole)
        return malformed(out, SHUNT_DROP_BAD_FRAME);
    /* lwIP is told not to check it again (port/netif.c). */
    if (!sum_checked && !ipv4_sum_ok(ip, hl))
        return malformed(out, SHUNT_DROP_BAD_CHECKSUM);

    struct packet pk = { ip + hl, RTE_MIN(room, total) - hl, false, false, ip + 12, ip + 16 };
    bool filtered = false;
    /* Source filters are for datagrams: a router's query to the group passes. */
    if (!ipv4_for_us(c, pk.dst, pk.src, &pk.to_group, &filtered) &&
        !(filtered && shunt_mcreport_takes(ip[9], 0)))
        return filtered ? source_filtered(out) : not_ours(out);
    if ((be16(ip + 6) & (IP_MF | IP_OFFMASK)) != 0)
        return verdict(out, SHUNT_VERDICT_FRAGMENT);
    out->proto = ip[9];
    out->icmp_type = pk.l4_room > 0 ? pk.l4[0] : 0;
    switch (ip[9]) {
    case IP_PROTO_TCP:
        return judge_tcp(c, &pk, out);
    case IP_PROTO_UDP:
        return judge_udp(c, &pk, out);
    case IP_PROTO_ICMP:
        return icmp4(pk.l4, total - hl, pk.l4_room, out);
    case IP_PROTO_IGMP:
        return verdict(out, SHUNT_VERDICT_ICMP);
    default:
        return verdict(out, SHUNT_VERDICT_NO_SOCKET);   /* lwIP: protocol unreachable */
    }
}

/* ---- IPv6 ---------------------------------------------------------------------- */

static bool ipv6_for_us(const struct shunt_classifier *c, const uint8_t *dst,
                        const uint8_t *src, bool *to_group, bool *filtered)
{
    ip6_addr_t d;

    ip6_addr_copy_from_packed(d, *(const ip6_addr_p_t *)(const void *)dst);
    *to_group = ip6_addr_ismulticast(&d);
    if (*to_group)
        return ip6_addr_isallnodes_iflocal(&d) || group_for_us(c, true, dst, src, filtered);
    return netif_get_ip6_addr_match(c->netif, &d) >= 0;
}

/*
 * Whether a fragment would reassemble, IPv6 header included, to more than
 * the 65,535 bytes an lwIP pbuf chain can count (lwIP would abort on an
 * assertion).  frag is its fragment header, at offset off of the packet.
 */
static bool fragment_too_big(const uint8_t *ip, const uint8_t *frag, uint32_t off)
{
    uint32_t start = be16(frag + 2) & IP6_FRAG_OFFSET_MASK;
    uint32_t data = (uint32_t)IP6_LEN + be16(ip + 4) - off - IP6_FRAG_HLEN;

    return off + start + data > 0xffff;
}

/* An IPv6 packet: room bytes of it at ip, of whole in all. */
static enum shunt_verdict ipv6(const struct shunt_classifier *c, const uint8_t *ip, uint32_t room,
                               uint32_t whole, struct shunt_class *out)
{
    if (room < IP6_LEN || (ip[0] >> 4) != 6)
        return malformed(out, SHUNT_DROP_BAD_FRAME);
    uint32_t total = IP6_LEN + be16(ip + 4);
    if (total > whole)
        return malformed(out, SHUNT_DROP_BAD_FRAME);
    room = RTE_MIN(room, total);

    struct packet pk = { NULL, 0, true, false, ip + 8, ip + 24 };
    bool filtered = false;
    bool ours = ipv6_for_us(c, pk.dst, pk.src, &pk.to_group, &filtered);
    if (!ours && !filtered)
        return not_ours(out);
    /* Past the extension headers that come before the transport's. */
    uint8_t next = ip[6];
    uint32_t off = IP6_LEN;
    while (next == IP6_NEXTH_HOPBYHOP || next == IP6_NEXTH_ROUTING || next == IP6_NEXTH_DESTOPTS) {
        if (off + 2 > room)
            return malformed(out, SHUNT_DROP_BAD_FRAME);
        next = ip[off];
        off += 8u * (1u + ip[off + 1]);
    }
    if (off > room)
        return malformed(out, SHUNT_DROP_BAD_FRAME);
    pk.l4 = ip + off;
    pk.l4_room = room - off;
    out->proto = next;
    out->icmp_type = pk.l4_room > 0 ? pk.l4[0] : 0;
    /* Source filters are for datagrams: a router's query to the group passes. */
    if (!ours && !shunt_mcreport_takes(next, out->icmp_type))
        return source_filtered(out);
    switch (next) {
    case IP6_NEXTH_FRAGMENT:
        if (pk.l4_room < IP6_FRAG_HLEN)
            return malformed(out, SHUNT_DROP_BAD_FRAME);
        if (fragment_too_big(ip, pk.l4, off))
            return malformed(out, SHUNT_DROP_TOO_BIG);
        return verdict(out, SHUNT_VERDICT_FRAGMENT);
    case IP6_NEXTH_TCP:
        return judge_tcp(c, &pk, out);
    case IP6_NEXTH_UDP:
        return judge_udp(c, &pk, out);
    case IP6_NEXTH_ICMP6:
        if (off != IP6_LEN)
            return verdict(out, SHUNT_VERDICT_ICMP);
        return icmp6(ip, total - IP6_LEN, pk.l4_room, out);
    default:
        return verdict(out, SHUNT_VERDICT_NO_SOCKET);
    }
}

/* ---- ARP, and the frame ------------------------------------------------------------ */

static enum shunt_verdict arp(const struct shunt_classifier *c, const uint8_t *b, uint32_t room,
                              struct shunt_class *out)
{
    const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(const void *)b;

    if (room < sizeof(*a))
        return malformed(out, SHUNT_DROP_BAD_FRAME);
    /* About another host's address (not an announcement of the sender's
     * own): lwIP ignores it but for refreshing an entry it already has, as
     * Linux does, so it goes on, counted as not for us. */
    if (a->arp_data.arp_tip != a->arp_data.arp_sip &&
        a->arp_data.arp_tip != ip4_addr_get_u32(netif_ip4_addr(c->netif)))
        return drop(out, SHUNT_VERDICT_ARP_OTHER, SHUNT_DROP_NOT_FOR_US);
    out->arp_request = a->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST) &&
                       a->arp_data.arp_tip != a->arp_data.arp_sip;
    return verdict(out, SHUNT_VERDICT_ARP);
}

/* What the NIC says of the frame's checksums: false if one is bad. */
static bool nic_checksums_ok(const struct rte_mbuf *m, struct shunt_class *out)
{
    uint64_t ip = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
    uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

    out->l4_checked = l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    return ip != RTE_MBUF_F_RX_IP_CKSUM_BAD && l4 != RTE_MBUF_F_RX_L4_CKSUM_BAD;
}

/* What every verdict leaves defined (pcb only the TCP ones, with certain). */
static void start(struct shunt_class *out)
{
    out->certain = false;
    out->l4_checked = false;
    out->to_group = false;
}

enum shunt_verdict shunt_classify(const struct shunt_classifier *c, const struct rte_mbuf *m,
                                  struct shunt_class *out)
{
    const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
    const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)(const void *)b;
    uint32_t room = m->data_len;        /* headers must sit in the first segment */

    start(out);
    if (room < ETH_LEN)
        return malformed(out, SHUNT_DROP_BAD_FRAME);
    /* Broadcast, multicast (groups are checked at the IP layer), or ours. */
    if (!rte_is_multicast_ether_addr(&eth->dst_addr) &&
        memcmp(eth->dst_addr.addr_bytes, c->netif->hwaddr, RTE_ETHER_ADDR_LEN) != 0)
        return not_ours(out);
    if (c->nic_checksums && !nic_checksums_ok(m, out))
        return malformed(out, SHUNT_DROP_BAD_CHECKSUM);
    uint32_t whole = m->pkt_len - ETH_LEN;
    switch (eth->ether_type) {
    case RTE_BE16(RTE_ETHER_TYPE_IPV4):
        return ipv4(c, b + ETH_LEN, room - ETH_LEN, whole,
                    (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD, out);
    case RTE_BE16(RTE_ETHER_TYPE_IPV6):
        return ipv6(c, b + ETH_LEN, room - ETH_LEN, whole, out);
    case RTE_BE16(RTE_ETHER_TYPE_ARP):
        return arp(c, b + ETH_LEN, room - ETH_LEN, out);
    default:
        return not_ours(out);
    }
}

enum shunt_verdict shunt_classify_own(const struct shunt_classifier *c, const void *packet,
                                      uint32_t len, struct shunt_class *out)
{
    const uint8_t *ip = packet;

    start(out);
    if (len < 1)
        return malformed(out, SHUNT_DROP_BAD_FRAME);
    /* The stack's own: its IPv4 checksum may be left to a NIC it never met. */
    return (ip[0] >> 4) == 6 ? ipv6(c, ip, len, len, out) : ipv4(c, ip, len, len, true, out);
}
