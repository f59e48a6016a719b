/*
 * netif.c - lwIP's network interface over one DPDK port queue.
 */
#include "netif.h"

#include <errno.h>
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/igmp.h"
#include "lwip/mld6.h"
#include "lwip/ip.h"
#include "lwip/ethip6.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "netif/ethernet.h"

#include "challenge.h"
#include "heap.h"
#include "hooks.h"
#include "cc.h"
#include "mbuf.h"
#include "recovery.h"
#include "tstamp.h"

/* lwIP's checksums a port without offloads needs, and which the NIC may
 * take over on receive; the IPv4 header's the classifier checks. */
#define CHECK_L4 (NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP)

/* lwIP has one netif (LWIP_SINGLE_NETIF), and lwIP's hooks carry no
 * argument: the netif they are about is that one. */
static struct shunt_netif *the_netif(void)
{
    return (struct shunt_netif *)netif_default;
}

/* ---- Transmit ------------------------------------------------------------ */

void shunt_netif_flush(struct shunt_netif *sn)
{
    if (sn->tx_count == 0)
        return;
    uint16_t sent = shunt_phy_tx(sn->pipeline.top, sn->tx_buf, sn->tx_count);

    /* Whatever the pipeline refused goes first next time. */
    sn->tx_count = (uint16_t)(sn->tx_count - sent);
    memmove(sn->tx_buf, sn->tx_buf + sent, sn->tx_count * sizeof(sn->tx_buf[0]));
}

/*
 * lwIP hands over one complete frame.  ERR_MEM tells it the frame did not
 * go: TCP keeps the segment queued and sends it again later, UDP reports
 * ENOBUFS.
 */
static err_t port_linkoutput(struct netif *netif, struct pbuf *p)
{
    struct shunt_netif *sn = (struct shunt_netif *)netif;

    sn->counters.tx_produced++;
    struct rte_mbuf *m = shunt_mbuf_from_pbuf(p, sn->conf.pool);
    if (m == NULL) {
        sn->counters.drops[SHUNT_DROP_TX_NOMBUF]++;
        return ERR_MEM;
    }
    if (sn->conf.tx_offloads != 0)
        shunt_mbuf_tx_offload(m, sn->conf.tx_offloads);
    if (sn->tx_count == SHUNT_TX_BUFFER)
        shunt_netif_flush(sn);
    if (sn->tx_count == SHUNT_TX_BUFFER) {
        sn->counters.drops[SHUNT_DROP_TX_RING_FULL]++;
        rte_pktmbuf_free(m);
        return ERR_MEM;
    }
    sn->tx_buf[sn->tx_count++] = m;
    /* A burst's worth is worth sending now rather than at the turn's end. */
    if (sn->tx_count >= sn->conf.burst)
        shunt_netif_flush(sn);
    return ERR_OK;
}

/* The pool is low below 1/8 of its mbufs, and never above 1,024 free. */
#define LOW_MBUFS_FRACTION 8
#define LOW_MBUFS_MIN 1024

bool shunt_netif_mbufs_low(struct shunt_netif *sn)
{
    /* Counting free mbufs walks every core's cache: look every 64th time,
     * and every time while low, so the pool is seen back as soon as it is. */
    if (!sn->low && (sn->low_asked++ & 63) != 0)
        return false;
    unsigned free = rte_mempool_avail_count(sn->conf.pool);
    sn->low = free < LOW_MBUFS_MIN || free < sn->conf.pool->size / LOW_MBUFS_FRACTION;
    return sn->low;
}

/* lwIP's heap leaves the pool to receive while the pool is low. */
static bool heap_low(void *arg)
{
    return shunt_netif_mbufs_low(arg);
}

/* ---- Receive ------------------------------------------------------------- */

static void rx_drop(struct shunt_netif *sn, struct rte_mbuf *m, enum shunt_drop_cause cause)
{
    sn->counters.netif_dropped++;
    sn->counters.drops[cause]++;
    rte_pktmbuf_free(m);
}

/*
 * A datagram to a joined group.  lwIP's ip4_input and ip6_input ask whether
 * the group is joined by walking the netif's IGMP or MLD list, one entry a
 * group: 5 us a datagram at 1,000 groups (tests/pkt/test-mcast-pkt).  The
 * classifier has answered already, from the hash, so for this datagram's
 * way through lwIP the list is one entry, the group itself, and the real
 * list is put back after - the trick port/demux.c plays on TCP's list.
 * Nothing on the way (ip_input, udp_input, a socket's receive callback)
 * joins, leaves or reports.
 */
static u8_t list_slot(const ip_addr_t *group)
{
    return IP_IS_V6(group) ? LWIP_NETIF_CLIENT_DATA_INDEX_MLD6 : LWIP_NETIF_CLIENT_DATA_INDEX_IGMP;
}

/* Make lwIP's list of group's family the group alone; returns the list
 * that was there, for the caller to put back. */
static void *lend_group(struct shunt_netif *sn, const ip_addr_t *group)
{
    void *list = netif_get_client_data(&sn->netif, list_slot(group));

    if (IP_IS_V6(group)) {
        sn->lent6 = (struct mld_group){ .use = 1 };
        ip6_addr_copy(sn->lent6.group_address, *ip_2_ip6(group));
        netif_set_client_data(&sn->netif, list_slot(group), &sn->lent6);
    } else {
        sn->lent4 = (struct igmp_group){ .use = 1 };
        ip4_addr_copy(sn->lent4.group_address, *ip_2_ip4(group));
        netif_set_client_data(&sn->netif, list_slot(group), &sn->lent4);
    }
    return list;
}

static err_t group_input(struct shunt_netif *sn, struct pbuf *p, const ip_addr_t *group)
{
    void *list = lend_group(sn, group);
    err_t err = ip_input(p, &sn->netif);

    netif_set_client_data(&sn->netif, list_slot(group), list);
    return err;
}

/*
 * The frame is lwIP's: from here the pbuf owns the mbuf, and lwIP frees it,
 * whatever happens.  The classifier has read the link layer already, so an
 * IP packet goes straight to lwIP's IP input - what ethernet_input would do
 * after the same tests - and ARP goes through ethernet_input.
 */
static void to_lwip(struct shunt_netif *sn, struct rte_mbuf *m, enum shunt_verdict verdict,
                    const struct shunt_class *v)
{
    struct pbuf *p = shunt_pbuf_from_mbuf(m);
    err_t err;

    sn->counters.lwip_in++;
    if (verdict == SHUNT_VERDICT_ARP || verdict == SHUNT_VERDICT_ARP_OTHER) {
        err = ethernet_input(p, &sn->netif);
    } else {
        if (sn->classifier.nic_checksums)
            NETIF_SET_CHECKSUM_CTRL(&sn->netif, v->l4_checked ? sn->checksums & (u16_t)~CHECK_L4
                                                              : sn->checksums);
        p->if_idx = netif_get_index(&sn->netif);
        pbuf_remove_header(p, SIZEOF_ETH_HDR);
        /* The frame's stamp is the one sockets take while lwIP has it. */
        shunt_tstamp_set_current(m);
        err = v->certain    ? shunt_demux_input(p, &sn->netif, v->pcb)
            : v->to_group   ? group_input(sn, p, &v->group)
                            : ip_input(p, &sn->netif);
        shunt_tstamp_set_current(NULL);
    }
    if (err != ERR_OK)
        pbuf_free(p);
}

/* A port unreachable a socket took: nothing for lwIP, and no drop.
 * Otherwise lwIP drops it, as it drops every ICMP error. */
static bool taken_by_socket(const struct shunt_netif *sn, const struct shunt_class *v)
{
    const struct shunt_netif_upcalls *up = &sn->upcalls;

    return up->unreachable != NULL &&
           up->unreachable(up->arg, &v->local, v->lport, &v->remote, v->rport);
}

/* The exception path's share: the kernel's alone (gone), or a copy of it. */
static enum shunt_route route(struct shunt_netif *sn, struct rte_mbuf *m,
                              const struct shunt_class *v)
{
    if (sn->exception == NULL)
        return SHUNT_ROUTE_SHUNT;
    enum shunt_route r = shunt_exception_route(sn->exception, m, v);
    if (r == SHUNT_ROUTE_KERNEL)
        shunt_exception_to_kernel(sn->exception, m);
    else if (r == SHUNT_ROUTE_BOTH)
        shunt_exception_copy_to_kernel(sn->exception, m);
    return r;
}

/* IGMP and MLD are port/mcreport.c's, never lwIP's: read, and freed. */
static void report_input(struct shunt_netif *sn, struct rte_mbuf *m)
{
    uint8_t copy[2048];
    uint32_t len = RTE_MIN(rte_pktmbuf_pkt_len(m) - RTE_ETHER_HDR_LEN, (uint32_t)sizeof(copy));
    const uint8_t *ip = rte_pktmbuf_read(m, RTE_ETHER_HDR_LEN, len, copy);

    enum shunt_mcreport_verdict v = ip != NULL ? shunt_mcreport_input(&sn->report, ip, len)
                                               : SHUNT_MCREPORT_MALFORMED;
    if (v != SHUNT_MCREPORT_READ) {
        rx_drop(sn, m, v == SHUNT_MCREPORT_BAD_CHECKSUM ? SHUNT_DROP_BAD_CHECKSUM
                                                        : SHUNT_DROP_BAD_FRAME);
        return;
    }
    sn->counters.taken++;
    rte_pktmbuf_free(m);
}

static void input_one(struct shunt_netif *sn, struct rte_mbuf *m)
{
    struct shunt_class v;
    enum shunt_verdict verdict = shunt_classify(&sn->classifier, m, &v);

    sn->counters.verdicts[verdict]++;
    if (verdict == SHUNT_VERDICT_UNREACHABLE && taken_by_socket(sn, &v)) {
        sn->counters.taken++;
        rte_pktmbuf_free(m);
        return;
    }
    enum shunt_route r = route(sn, m, &v);
    if (r == SHUNT_ROUTE_KERNEL) {
        sn->counters.kernel_routed++;
        return;
    }
    if (verdict == SHUNT_VERDICT_ICMP && shunt_mcreport_takes(v.proto, v.icmp_type)) {
        report_input(sn, m);
        return;
    }
    switch (verdict) {
    case SHUNT_VERDICT_MALFORMED:
    case SHUNT_VERDICT_NOT_OURS:
        rx_drop(sn, m, v.cause);
        return;
    case SHUNT_VERDICT_ARP_OTHER:
        /* Counted, yet lwIP may learn from it; not a drop if the kernel has it. */
        if (r != SHUNT_ROUTE_BOTH)
            sn->counters.drops[v.cause]++;
        break;
    default:
        break;
    }
    to_lwip(sn, m, verdict, &v);
}

void shunt_netif_input(struct shunt_netif *sn, struct rte_mbuf **pkts, unsigned n)
{
    shunt_tstamp_burst(pkts, n);
    for (unsigned i = 0; i < n; i++) {
        /* The next frame's headers are read soon: start fetching them. */
        if (i + 1 < n)
            rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
        input_one(sn, pkts[i]);
    }
    if (sn->exception != NULL)
        shunt_exception_flush(sn->exception);
}

unsigned shunt_netif_rx(struct shunt_netif *sn)
{
    struct rte_mbuf *pkts[SHUNT_MAX_BURST];
    uint16_t n = shunt_phy_rx(sn->pipeline.top, pkts, sn->conf.burst);

    shunt_netif_input(sn, pkts, n);
    return n;
}

/*
 * Packets to the stack's own addresses never cross a wire, so lwIP need not
 * check their IP, UDP and TCP checksums, and must not: on a port that fills
 * those in as it transmits, lwIP left them blank.
 */
void shunt_netif_loop_input(struct shunt_netif *sn)
{
    NETIF_SET_CHECKSUM_CTRL(&sn->netif,
                            sn->checksums & (u16_t)~(NETIF_CHECKSUM_CHECK_IP | CHECK_L4));
    void *igmp = netif_get_client_data(&sn->netif, LWIP_NETIF_CLIENT_DATA_INDEX_IGMP);
    void *mld = netif_get_client_data(&sn->netif, LWIP_NETIF_CLIENT_DATA_INDEX_MLD6);

    sn->looping = true;
    netif_poll(&sn->netif);
    sn->looping = false;
    /* Lent to looped datagrams (loop_group): put back. */
    netif_set_client_data(&sn->netif, LWIP_NETIF_CLIENT_DATA_INDEX_IGMP, igmp);
    netif_set_client_data(&sn->netif, LWIP_NETIF_CLIENT_DATA_INDEX_MLD6, mld);
    NETIF_SET_CHECKSUM_CTRL(&sn->netif, sn->checksums);
}

/*
 * A datagram this host sent to a group it is in, that lwIP's loopback
 * brings back (IP_MULTICAST_LOOP): lwIP's list holds only the groups lwIP
 * joined itself (all-systems, solicited-node), so the group is lent as
 * group_input lends it, until shunt_netif_loop_input puts the list back.
 */
static void loop_group(struct shunt_netif *sn, const struct pbuf *p)
{
    const uint8_t *ip = p->payload;
    ip_addr_t dst;

    if (p->len >= 40 && ip[0] >> 4 == 6 && ip[24] == 0xff) {
        ip_addr_set_zero_ip6(&dst);
        memcpy(ip_2_ip6(&dst)->addr, ip + 24, 16);
    } else if (p->len >= 20 && ip[0] >> 4 == 4 && (ip[16] & 0xf0) == 0xe0) {
        uint32_t a;
        memcpy(&a, ip + 16, 4);
        ip_addr_set_ip4_u32_val(dst, a);
    } else {
        return;
    }
    if (shunt_mcast_members(&sn->mcast, &dst) > 0)
        lend_group(sn, &dst);
}

/* The IP input hook (port/hooks.h): the classifier has judged every packet
 * but those lwIP's loopback brings back. */
int shunt_hook_ip_input(struct pbuf *p, struct netif *inp)
{
    struct shunt_netif *sn = (struct shunt_netif *)inp;
    struct shunt_class v;

    if (sn->looping) {
        sn->counters.looped++;
        loop_group(sn, p);
    }
    if (!sn->looping || p->len != p->tot_len ||
        shunt_classify_own(&sn->classifier, p->payload, p->len, &v) != SHUNT_VERDICT_UNREACHABLE ||
        !taken_by_socket(sn, &v))
        return 0;
    pbuf_free(p);
    return 1;
}

/* ---- lwIP's TCP hooks (port/hooks.h), for the layer above ------------------ */

/* What the layer above registered; nothing once the netif is gone (a
 * socket closed after the instance stopped still sends its reset). */
static const struct shunt_netif_upcalls *upcalls(void)
{
    static const struct shunt_netif_upcalls none;
    struct shunt_netif *sn = the_netif();

    return sn != NULL ? &sn->upcalls : &none;
}

/* A segment RFC 5961 refuses (port/challenge.h) is counted and dropped. */
static err_t challenge_check(struct tcp_pcb *pcb, const struct tcp_hdr *hdr, u16_t datalen)
{
    enum shunt_challenge_verdict v = shunt_challenge_check(pcb, hdr, datalen);
    struct shunt_netif *sn = the_netif();

    if (v == SHUNT_CHALLENGE_PASS)
        return ERR_OK;
    if (sn != NULL)
        sn->counters.drops[v == SHUNT_CHALLENGE_THROTTLED ? SHUNT_DROP_TCP_THROTTLED
                                                          : SHUNT_DROP_TCP_INVALID]++;
    return ERR_ABRT;
}

err_t shunt_hook_tcp_input(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen,
                           u16_t opt1len, const u8_t *opt2, u16_t datalen)
{
    const struct shunt_netif_upcalls *up = upcalls();
    err_t err = up->tcp_input != NULL ? up->tcp_input(up->arg, pcb, hdr) : ERR_OK;

    if (err == ERR_OK)
        err = challenge_check(pcb, hdr, datalen);
    /* Only what lwIP goes on to read is recovery's to see. */
    if (err == ERR_OK)
        shunt_recovery_ack(pcb, hdr, optlen, opt1len, opt2);
    return err;
}

/* Outside recovery the algorithm grows the window, while the window is
 * what limits the sender; inside, recovery sets it (RFC 6675 5, RFC 6582
 * 3.2), and the algorithm waits. */
void shunt_hook_tcp_cong_avoid(struct tcp_pcb *pcb, u32_t acked)
{
    uint32_t var_us;

    if (shunt_cc_limited(pcb, acked) && !shunt_recovery_in_recovery(pcb))
        shunt_cc_ack(pcb, acked, shunt_recovery_rtt_us(pcb, &var_us),
                     shunt_recovery_min_rtt_us(pcb));
}

u32_t *shunt_hook_tcp_output(struct tcp_hdr *hdr, const struct tcp_pcb *pcb, u32_t *opts)
{
    const struct shunt_netif_upcalls *up = upcalls();

    if (up->tcp_output != NULL)
        up->tcp_output(up->arg, pcb, hdr);
    return opts;
}

void shunt_hook_tcp_seg_sent(struct tcp_pcb *pcb, struct tcp_seg *seg)
{
    const struct shunt_netif_upcalls *up = upcalls();
    u32_t seq = lwip_ntohl(seg->tcphdr->seqno);
    /* Before recovery marks it: a first transmission starts at snd_nxt or
     * after. */
    bool first = TCP_SEQ_GEQ(seq, pcb->snd_nxt);

    shunt_recovery_seg_sent(pcb, seg);
    if (first && seg->len > 0 && up->tcp_segment_out != NULL)
        up->tcp_segment_out(up->arg, pcb, seq, seg->len);
}

void shunt_netif_set_upcalls(struct shunt_netif *sn, const struct shunt_netif_upcalls *up)
{
    sn->upcalls = *up;
}

void shunt_netif_set_exception(struct shunt_netif *sn, struct shunt_exception *ex)
{
    sn->exception = ex;
    shunt_pipeline_set(&sn->pipeline, SHUNT_STAGE_EXCEPTION,
                       ex != NULL ? shunt_exception_stage(ex) : NULL);
}

/* ---- Set-up -------------------------------------------------------------- */

static err_t port_setup(struct netif *netif)
{
    struct shunt_netif *sn = (struct shunt_netif *)netif;

    netif->name[0] = 'd';
    netif->name[1] = 'p';
    netif->output = etharp_output;
    netif->output_ip6 = ethip6_output;
    netif->linkoutput = port_linkoutput;
    netif->mtu = sn->conf.mtu;
    netif->mtu6 = sn->conf.mtu;
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, sn->conf.mac.addr_bytes, ETH_HWADDR_LEN);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                   NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
    sn->checksums = shunt_mbuf_sw_checksums(sn->conf.tx_offloads) &
                    (u16_t)~NETIF_CHECKSUM_CHECK_IP;
    NETIF_SET_CHECKSUM_CTRL(netif, sn->checksums);
    return ERR_OK;
}

/* A configured address needs no duplicate-address detection: use it now. */
static void add_ip6(struct netif *netif, const ip6_addr_t *addr)
{
    s8_t idx;

    if (netif_add_ip6_address(netif, addr, &idx) == ERR_OK)
        netif_ip6_addr_set_state(netif, idx, IP6_ADDR_PREFERRED);
}

/* A group the host is in from the start, in the table, and reported as a
 * join (port/mcreport.c leaves out the ones never reported). */
static void join_host_group(struct shunt_netif *sn, const ip_addr_t *g)
{
    struct shunt_mcast_state before, after;

    shunt_mcast_state(&sn->mcast, g, &before);
    shunt_mcast_join(&sn->mcast, g, sn, SHUNT_MCAST_EXCLUDE);
    shunt_mcast_state(&sn->mcast, g, &after);
    shunt_mcreport_changed(&sn->report, g, &before, &after);
}

/*
 * The groups a host is always in (RFC 1112 4, RFC 4291 2.7.1): their
 * frames pass the classifier and the port's filter like any joined group's,
 * and port/mcreport.c reports the solicited-node ones, as Linux does when
 * an interface comes up.  lwIP keeps those in its MLD list too (its IPv6
 * input asks it), and reported them in MLDv1 as it joined them; its repeat
 * of that report is cancelled, as from here the reports are Shunt's.
 */
static void join_host_groups(struct shunt_netif *sn)
{
    ip_addr_t g;

    for (struct mld_group *m = netif_mld6_data(&sn->netif); m != NULL; m = m->next)
        m->timer = 0;

    ip_addr_set_ip4_u32_val(g, PP_HTONL(0xe0000001u));          /* 224.0.0.1 */
    join_host_group(sn, &g);
    ip_addr_set_zero_ip6(&g);
    ip6_addr_set_allnodes_linklocal(ip_2_ip6(&g));
    join_host_group(sn, &g);
    for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; i++) {
        if (!ip6_addr_isvalid(netif_ip6_addr_state(&sn->netif, i)))
            continue;
        ip_addr_set_zero_ip6(&g);
        ip6_addr_set_solicitednode(ip_2_ip6(&g),
                                   netif_ip6_addr(&sn->netif, i)->addr[3] & PP_HTONL(0x00ffffffUL));
        join_host_group(sn, &g);
    }
}

int shunt_netif_add(struct shunt_netif *sn, const struct shunt_netif_conf *conf)
{
    memset(sn, 0, sizeof(*sn));
    sn->conf = *conf;
    sn->conf.burst = RTE_MIN(conf->burst, (uint16_t)SHUNT_MAX_BURST);
    shunt_queue_init(&sn->queue, conf->port_id, conf->queue_id, &sn->counters);
    shunt_pipeline_init(&sn->pipeline, &sn->queue.phy);
    if (shunt_demux_init(&sn->demux, conf->demux_name, conf->connections) != 0)
        return -ENOMEM;
    if (shunt_mcast_init(&sn->mcast, conf->mcast_name, conf->mcast_groups, conf->port_id,
                         true) != 0) {
        shunt_demux_free(&sn->demux);
        return -ENOMEM;
    }

    if (netif_add(&sn->netif, &conf->ip4, &conf->netmask4, &conf->gateway4, NULL,
                  port_setup, ethernet_input) == NULL) {
        shunt_mcast_free(&sn->mcast);
        shunt_demux_free(&sn->demux);
        return -ENODEV;
    }
    netif_set_default(&sn->netif);
    shunt_mbuf_count_frees(&sn->counters.lwip_freed);
    shunt_heap_use(conf->pool, heap_low, sn);
    sn->classifier = (struct shunt_classifier){ &sn->netif, &sn->demux, &sn->mcast,
                                                conf->rx_offloads != 0 };

    /* Like Linux, every interface speaks IPv6 on its link-local address. */
    netif_create_ip6_linklocal_address(&sn->netif, 1);
    netif_ip6_addr_set_state(&sn->netif, 0, IP6_ADDR_PREFERRED);
    if (conf->has_ip6)
        add_ip6(&sn->netif, &conf->ip6);
    if (shunt_mcreport_init(&sn->report, &sn->netif, &sn->mcast, conf->force_igmp_version,
                            conf->force_mld_version, conf->mcast_groups) != 0) {
        shunt_netif_remove(sn);
        return -ENOMEM;
    }
    netif_set_link_up(&sn->netif);
    netif_set_up(&sn->netif);
    join_host_groups(sn);
    return 0;
}

void shunt_netif_remove(struct shunt_netif *sn)
{
    shunt_mbuf_count_frees(NULL);
    shunt_heap_use(NULL, NULL, NULL);
    netif_remove(&sn->netif);
    rte_pktmbuf_free_bulk(sn->tx_buf, sn->tx_count);
    sn->tx_count = 0;
    shunt_demux_free(&sn->demux);
    shunt_mcreport_free(&sn->report);
    shunt_mcast_free(&sn->mcast);
}
