/*
 * netif.c - lwIP's network interface over one DPDK port queue.
 */
#include "netif.h"

#include <string.h>

#include <rte_arp.h>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/igmp.h"
#include "lwip/mld6.h"
#include "lwip/prot/ip4.h"
#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/icmp6.h"
#include "lwip/prot/ip6.h"
#include "netif/ethernet.h"

#include "hooks.h"

#include "demux.h"
#include "mbuf.h"

/* ---- Transmit ------------------------------------------------------------ */

/*
 * lwIP hands over one complete frame.  ERR_MEM tells it the frame did not
 * go: TCP keeps the segment queued and sends it again later, UDP reports
 * ENOBUFS.
 */
static err_t netif_linkoutput(struct netif *netif, struct pbuf *p)
{
    struct shunt_netif *sn = (struct shunt_netif *)netif;

    struct rte_mbuf *m = shunt_mbuf_from_pbuf(p, sn->conf.pool);
    if (m == NULL) {
        sn->counters.drops[SHUNT_DROP_TX_NOMBUF]++;
        return ERR_MEM;
    }
    if (sn->conf.tx_offloads != 0)
        shunt_mbuf_tx_offload(m, sn->conf.tx_offloads);
    if (shunt_queue_tx(&sn->queue, m) != 0) {
        rte_pktmbuf_free(m);
        return ERR_MEM;
    }
    return ERR_OK;
}

void shunt_netif_flush(struct shunt_netif *sn)
{
    shunt_queue_flush(&sn->queue);
}

/* ---- Receive ------------------------------------------------------------- */

/* Broadcast, multicast (lwIP filters groups), or our own address. */
static bool frame_is_for_us(const struct shunt_netif *sn, const struct rte_ether_hdr *eth)
{
    return rte_is_multicast_ether_addr(&eth->dst_addr) ||
           rte_is_same_ether_addr(&eth->dst_addr, &sn->conf.mac);
}

/*
 * What the NIC says of the frame's checksums: false if one is bad.  Those it
 * found good, lwIP need not check again for this frame.
 */
static bool rx_checksums_ok(struct shunt_netif *sn, const struct rte_mbuf *m)
{
    uint64_t ip = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
    uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
    u16_t flags = sn->netif.chksum_flags |
                  NETIF_CHECKSUM_CHECK_IP | NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP;

    if (ip == RTE_MBUF_F_RX_IP_CKSUM_BAD || l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD)
        return false;
    if (ip == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
        flags &= (u16_t)~NETIF_CHECKSUM_CHECK_IP;
    if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
        flags &= (u16_t)~(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP);
    NETIF_SET_CHECKSUM_CTRL(&sn->netif, flags);
    return true;
}

/*
 * An ARP message about another host's address (not an announcement of the
 * sender's own): lwIP ignores it but for refreshing an entry it already has,
 * as Linux does, so it is handed on yet counted as not for us.
 */
static bool arp_for_another(const struct shunt_netif *sn, const struct rte_mbuf *m)
{
    const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
    const struct rte_arp_hdr *arp = (const struct rte_arp_hdr *)(eth + 1);

    return eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP) &&
           arp->arp_data.arp_tip != arp->arp_data.arp_sip &&
           arp->arp_data.arp_tip != ip4_addr_get_u32(netif_ip4_addr(&sn->netif));
}

static void rx_drop(struct shunt_netif *sn, struct rte_mbuf *m, enum shunt_drop_cause cause)
{
    sn->counters.drops[cause]++;
    rte_pktmbuf_free(m);
}

/*
 * Long enough for what lwIP will read from the first segment without
 * checking: the Ethernet header, and an ARP message whole.
 */
static bool frame_is_whole(const struct rte_mbuf *m)
{
    const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

    if (m->data_len < sizeof(*eth))
        return false;
    return eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_ARP) ||
           m->data_len >= sizeof(*eth) + sizeof(struct rte_arp_hdr);
}

static void rx_one(struct shunt_netif *sn, struct rte_mbuf *m)
{
    if (unlikely(!frame_is_whole(m)))
        return rx_drop(sn, m, SHUNT_DROP_BAD_FRAME);
    if (unlikely(!frame_is_for_us(sn, rte_pktmbuf_mtod(m, struct rte_ether_hdr *))))
        return rx_drop(sn, m, SHUNT_DROP_NOT_FOR_US);
    if (sn->conf.rx_offloads != 0 && unlikely(!rx_checksums_ok(sn, m)))
        return rx_drop(sn, m, SHUNT_DROP_BAD_CHECKSUM);
    if (unlikely(arp_for_another(sn, m)))
        sn->counters.drops[SHUNT_DROP_NOT_FOR_US]++;

    /* From here the pbuf owns the mbuf: lwIP frees it, whatever happens. */
    struct pbuf *p = shunt_pbuf_from_mbuf(m);
    if (sn->netif.input(p, &sn->netif) != ERR_OK)
        pbuf_free(p);
}

unsigned shunt_netif_rx(struct shunt_netif *sn)
{
    struct rte_mbuf *pkts[SHUNT_MAX_BURST];
    uint16_t n = shunt_queue_rx(&sn->queue, pkts);

    for (uint16_t i = 0; i < n; i++) {
        /* The next frame's headers are read soon: start fetching them. */
        if (i + 1 < n)
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
        rx_one(sn, pkts[i]);
    }
    return n;
}

/*
 * Packets to the stack's own addresses never cross a wire, so lwIP need not
 * check their IP, UDP and TCP checksums, and must not: on a port that fills
 * those in as it transmits, lwIP left them blank.
 */
void shunt_netif_loop_input(struct shunt_netif *sn)
{
    u16_t flags = sn->netif.chksum_flags;
    u16_t offloadable = NETIF_CHECKSUM_CHECK_IP | NETIF_CHECKSUM_CHECK_UDP |
                        NETIF_CHECKSUM_CHECK_TCP;

    NETIF_SET_CHECKSUM_CTRL(&sn->netif, flags & (u16_t)~offloadable);
    netif_poll(&sn->netif);
    NETIF_SET_CHECKSUM_CTRL(&sn->netif, flags);
}

/* ---- lwIP hooks: IP packets lwIP should not see ------------------------------ */

static int eat(struct pbuf *p, struct netif *inp, enum shunt_drop_cause cause)
{
    ((struct shunt_netif *)inp)->counters.drops[cause]++;
    pbuf_free(p);
    return 1;
}

static int not_for_us(struct pbuf *p, struct netif *inp)
{
    return eat(p, inp, SHUNT_DROP_NOT_FOR_US);
}

/* A message Shunt used up: nothing for lwIP, and no drop. */
static int used(struct pbuf *p)
{
    pbuf_free(p);
    return 1;
}

/*
 * lwIP reads no ICMP errors; Linux hands "port unreachable" to the UDP
 * socket the datagram came from.  The message quotes that datagram's IP
 * header and its UDP header.  It is believed only once its checksum holds
 * (lwIP checks only those of echo requests).  One a socket took was used,
 * not dropped, so the hook eats it; others go on to lwIP, which drops ICMP
 * errors.  Returns what the hook returns.
 */
static int ip4_port_unreachable(struct pbuf *p, struct netif *inp)
{
    const u8_t *b = p->payload;
    u16_t hl = (u16_t)((b[0] & 0x0f) * 4), len = lwip_ntohs(IPH_LEN((const struct ip_hdr *)b));

    if (IPH_PROTO((const struct ip_hdr *)b) != IP_PROTO_ICMP || len > p->len ||
        len < hl + 8 + IP_HLEN || b[hl] != ICMP_DUR || b[hl + 1] != ICMP_DUR_PORT)
        return 0;
    if (inet_chksum(b + hl, (u16_t)(len - hl)) != 0)
        return eat(p, inp, SHUNT_DROP_BAD_CHECKSUM);
    const u8_t *q = b + hl + 8;         /* the quoted datagram */
    u16_t qhl = (u16_t)((q[0] & 0x0f) * 4);
    if (IPH_PROTO((const struct ip_hdr *)q) != IP_PROTO_UDP || len < hl + 8 + qhl + 4)
        return 0;
    const struct ip_hdr *qip = (const struct ip_hdr *)q;
    ip_addr_t local, remote;
    ip_addr_copy_from_ip4(local, qip->src);
    ip_addr_copy_from_ip4(remote, qip->dest);
    return shunt_udp_unreachable(&local, (u16_t)(q[qhl] << 8 | q[qhl + 1]), &remote,
                                 (u16_t)(q[qhl + 2] << 8 | q[qhl + 3])) ? used(p) : 0;
}

static int ip6_port_unreachable(struct pbuf *p, struct netif *inp)
{
    const u8_t *b = p->payload;
    const struct ip6_hdr *ip6 = p->payload;
    u16_t len = IP6H_PLEN(ip6);

    if (IP6H_NEXTH(ip6) != IP6_NEXTH_ICMP6 || IP6_HLEN + len > p->len ||
        len < 8 + IP6_HLEN + 4 || b[IP6_HLEN] != ICMP6_TYPE_DUR || b[IP6_HLEN + 1] != ICMP6_DUR_PORT)
        return 0;
    ip6_addr_t src, dest;
    ip6_addr_copy_from_packed(src, ip6->src);
    ip6_addr_copy_from_packed(dest, ip6->dest);
    pbuf_remove_header(p, IP6_HLEN);    /* the checksum covers the ICMPv6 message */
    u16_t sum = ip6_chksum_pseudo(p, IP6_NEXTH_ICMP6, len, &src, &dest);
    pbuf_add_header_force(p, IP6_HLEN);
    if (sum != 0)
        return eat(p, inp, SHUNT_DROP_BAD_CHECKSUM);
    const struct ip6_hdr *q = (const struct ip6_hdr *)(b + IP6_HLEN + 8);
    const u8_t *udp = (const u8_t *)q + IP6_HLEN;
    if (IP6H_NEXTH(q) != IP6_NEXTH_UDP)
        return 0;
    ip_addr_t local, remote;
    ip_addr_copy_from_ip6_packed(local, q->src);
    ip_addr_copy_from_ip6_packed(remote, q->dest);
    return shunt_udp_unreachable(&local, (u16_t)(udp[0] << 8 | udp[1]), &remote,
                                 (u16_t)(udp[2] << 8 | udp[3])) ? used(p) : 0;
}

/* The same test as lwIP's ip4_input, run before it so the drop is counted. */
int shunt_netif_ip4_input(struct pbuf *p, struct netif *inp)
{
    ip4_addr_t dest;

    if (p->len < IP_HLEN)
        return 0;       /* lwIP drops and counts the short header */
    ip4_addr_copy(dest, ((const struct ip_hdr *)p->payload)->dest);

    if (ip4_addr_ismulticast(&dest))
        return igmp_lookfor_group(inp, &dest) != NULL ? 0 : not_for_us(p, inp);
    if (ip4_addr_isbroadcast(&dest, inp))
        return 0;
    if (!ip4_addr_isany_val(*netif_ip4_addr(inp)) && ip4_addr_cmp(&dest, netif_ip4_addr(inp)))
        return ip4_port_unreachable(p, inp);
    return not_for_us(p, inp);
}

/*
 * Whether an IPv6 packet is a fragment of a datagram that would reassemble,
 * IPv6 header included, to more than the 65,535 bytes an lwIP pbuf chain
 * can count.
 */
static bool ip6_fragment_too_big(const struct pbuf *p)
{
    const u8_t *b = p->payload;
    const struct ip6_hdr *ip6 = p->payload;
    u8_t next = IP6H_NEXTH(ip6);
    u32_t off = IP6_HLEN;               /* the unfragmentable part so far */

    /* Extension headers that come before a fragment header. */
    while ((next == IP6_NEXTH_HOPBYHOP || next == IP6_NEXTH_ROUTING ||
            next == IP6_NEXTH_DESTOPTS) && off + 2 <= p->len) {
        next = b[off];
        off += 8u * (1u + b[off + 1]);
    }
    if (next != IP6_NEXTH_FRAGMENT || off + IP6_FRAG_HLEN > p->len)
        return false;
    const struct ip6_frag_hdr *frag = (const struct ip6_frag_hdr *)(b + off);
    u32_t start = lwip_ntohs(frag->_fragment_offset) & IP6_FRAG_OFFSET_MASK;
    u32_t data = (u32_t)IP6_HLEN + IP6H_PLEN(ip6) - off - IP6_FRAG_HLEN;
    return off + start + data > 0xffff;
}

/* The same test as lwIP's ip6_input, and the reassembly limit. */
int shunt_netif_ip6_input(struct pbuf *p, struct netif *inp)
{
    ip6_addr_t dest;

    if (p->len < IP6_HLEN)
        return 0;
    if (ip6_fragment_too_big(p))
        return eat(p, inp, SHUNT_DROP_TOO_BIG);
    ip6_addr_copy_from_packed(dest, ((const struct ip6_hdr *)p->payload)->dest);
    ip6_addr_assign_zone(&dest, IP6_UNKNOWN, inp);

    if (ip6_addr_ismulticast(&dest)) {
        if (ip6_addr_isallnodes_iflocal(&dest) || ip6_addr_isallnodes_linklocal(&dest) ||
            mld6_lookfor_group(inp, &dest) != NULL)
            return 0;
        return not_for_us(p, inp);
    }
    if (netif_get_ip6_addr_match(inp, &dest) < 0)
        return not_for_us(p, inp);
    return ip6_port_unreachable(p, inp);
}

/* ---- Set-up -------------------------------------------------------------- */

static err_t netif_setup(struct netif *netif)
{
    struct shunt_netif *sn = (struct shunt_netif *)netif;

    netif->name[0] = 'd';
    netif->name[1] = 'p';
    netif->output = etharp_output;
    netif->output_ip6 = ethip6_output;
    netif->linkoutput = netif_linkoutput;
    netif->mtu = sn->conf.mtu;
    netif->mtu6 = sn->conf.mtu;
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, sn->conf.mac.addr_bytes, ETH_HWADDR_LEN);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                   NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
    NETIF_SET_CHECKSUM_CTRL(netif, shunt_mbuf_sw_checksums(sn->conf.tx_offloads));
    return ERR_OK;
}

/* A configured address needs no duplicate-address detection: use it now. */
static void add_ip6(struct netif *netif, const ip6_addr_t *addr)
{
    s8_t idx;

    if (netif_add_ip6_address(netif, addr, &idx) == ERR_OK)
        netif_ip6_addr_set_state(netif, idx, IP6_ADDR_PREFERRED);
}

int shunt_netif_add(struct shunt_netif *sn, const struct shunt_netif_conf *conf)
{
    memset(sn, 0, sizeof(*sn));
    sn->conf = *conf;
    shunt_queue_init(&sn->queue, conf->port_id, conf->queue_id, conf->burst, &sn->counters);

    if (netif_add(&sn->netif, &conf->ip4, &conf->netmask4, &conf->gateway4, NULL,
                  netif_setup, shunt_demux_input) == NULL)
        return -1;
    netif_set_default(&sn->netif);

    /* Like Linux, every interface speaks IPv6 on its link-local address. */
    netif_create_ip6_linklocal_address(&sn->netif, 1);
    netif_ip6_addr_set_state(&sn->netif, 0, IP6_ADDR_PREFERRED);
    if (conf->has_ip6)
        add_ip6(&sn->netif, &conf->ip6);
    netif_set_link_up(&sn->netif);
    netif_set_up(&sn->netif);
    return 0;
}

void shunt_netif_remove(struct shunt_netif *sn)
{
    netif_remove(&sn->netif);
    shunt_queue_drain(&sn->queue);
}
