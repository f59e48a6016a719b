/*
 * mbuf.c - mbuf <-> pbuf: zero-copy receive, transmit from the mbuf lwIP
 * built the frame in (or <shunt/zc.h>'s buffer), a copy otherwise, and the
 * checksum-offload fields of a frame about to be sent.
 */
/* rte_ipv4/ipv6_udptcp_cksum_mbuf are experimental in DPDK 22.11 (the
 * release Shunt is built for), and the only sums over a chained mbuf. */
#define ALLOW_EXPERIMENTAL_API
#include "mbuf.h"

#include <stdbool.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "lwip/netif.h"

#include "heap.h"

/* ---- Receive: an mbuf seen as a pbuf ----------------------------------- */

static struct pbuf_custom *wrapper_of(struct rte_mbuf *m)
{
    return rte_mbuf_to_priv(m);
}

static struct rte_mbuf *wrapped_mbuf(struct pbuf *p)
{
    /* The pbuf_custom sits at the start of the private area, right after
     * the rte_mbuf header (rte_mbuf_to_priv). */
    return (struct rte_mbuf *)((char *)p - sizeof(struct rte_mbuf));
}

static uint64_t *frames_freed;     /* shunt_mbuf_count_frees */

void shunt_mbuf_count_frees(uint64_t *counter)
{
    frames_freed = counter;
}

/* lwIP calls this when the last reference to a wrapped segment goes. */
static void free_wrapped_mbuf(struct pbuf *p)
{
    rte_pktmbuf_free_seg(wrapped_mbuf(p));
}

/* The same for a frame's first segment, which stands for the frame. */
static void free_wrapped_frame(struct pbuf *p)
{
    if (frames_freed != NULL)
        (*frames_freed)++;
    free_wrapped_mbuf(p);
}

static struct pbuf *wrap_segment(struct rte_mbuf *seg, bool first)
{
    struct pbuf_custom *pc = wrapper_of(seg);

    pc->custom_free_function = first ? free_wrapped_frame : free_wrapped_mbuf;
    /* PBUF_REF: the payload is not ours to grow into, so lwIP copies rather
     * than prepending headers in the mbuf's headroom. */
    return pbuf_alloced_custom(PBUF_RAW, seg->data_len, PBUF_REF, pc,
                               rte_pktmbuf_mtod(seg, void *), seg->data_len);
}

struct pbuf *shunt_pbuf_from_mbuf(struct rte_mbuf *m)
{
    struct pbuf *head = wrap_segment(m, true);
    struct pbuf *tail = head;

    /* Each segment is freed on its own (rte_pktmbuf_free_seg unlinks it),
     * so lwIP may free the chain's pbufs in any order it likes. */
    for (struct rte_mbuf *seg = m->next; seg != NULL; seg = seg->next) {
        struct pbuf *q = wrap_segment(seg, false);
        tail->next = q;
        tail = q;
    }
    /* tot_len of each pbuf is the length of the rest of the chain. */
    uint32_t rest = m->pkt_len;
    for (struct pbuf *q = head; q != NULL; q = q->next) {
        q->tot_len = (u16_t)rest;
        rest -= q->len;
    }
    return head;
}

/* ---- Transmit: a zero-copy buffer's own mbuf ---------------------------- */

/* lwIP freed the pbuf of a zero-copy buffer: its reference to the mbuf goes
 * (the wire may still hold one). */
static void free_zc_buffer(struct pbuf *p)
{
    rte_pktmbuf_free_seg(wrapped_mbuf(p));
}

struct pbuf *shunt_mbuf_zc_pbuf(struct rte_mbuf *m)
{
    struct pbuf_custom *pc = wrapper_of(m);

    pc->custom_free_function = free_zc_buffer;
    return pbuf_alloced_custom(PBUF_RAW, m->data_len, PBUF_REF, pc,
                               rte_pktmbuf_mtod(m, void *), m->data_len);
}

/*
 * The mbuf of a frame that is headers (one pbuf) and then a zero-copy
 * buffer not yet sent (its data where it was put, at the start of the data
 * room's usual offset), with room for the headers before it: the headers go
 * there.  NULL for any other frame.
 */
static struct rte_mbuf *zc_frame(const struct pbuf *p)
{
    const struct pbuf *d = p->next;

    if (d == NULL || d->next != NULL || !(d->flags & PBUF_FLAG_IS_CUSTOM) ||
        ((const struct pbuf_custom *)d)->custom_free_function != free_zc_buffer)
        return NULL;
    struct rte_mbuf *m = wrapped_mbuf((struct pbuf *)d);
    if (m->data_off != RTE_PKTMBUF_HEADROOM || d->payload != rte_pktmbuf_mtod(m, void *) ||
        d->len != m->data_len || p->len > rte_pktmbuf_headroom(m))
        return NULL;
    memcpy(rte_pktmbuf_prepend(m, p->len), p->payload, p->len);
    rte_mbuf_refcnt_update(m, 1);       /* the wire's, beside the pbuf's */
    return m;
}

/* ---- Transmit: the mbuf lwIP built the frame in --------------------------- */

/*
 * The mbuf of mp whose buffer holds a frame lwIP built in one PBUF_RAM pbuf
 * (port/heap.h), described as that frame, with a reference more for the
 * wire; NULL for any other frame.
 */
static struct rte_mbuf *heap_frame(const struct pbuf *p, struct rte_mempool *mp)
{
    if (p->next != NULL || pbuf_get_allocsrc(p) != PBUF_TYPE_ALLOC_SRC_MASK_STD_HEAP)
        return NULL;
    struct rte_mbuf *m = shunt_heap_mbuf(p);
    if (m == NULL || m->pool != mp)
        return NULL;
    /*
     * A segment sent again while the wire still holds its last transmission
     * (a NIC's TX ring keeps an mbuf until the send completes; memif and
     * AF_XDP copy at tx_burst and free it at once; the netif's TX buffer and
     * the fault stage may keep it a while): that mbuf's description is the
     * wire's, so this transmission goes as a copy.  lwIP has rewritten the
     * headers in place by now, as it does in its own heap; they describe
     * the same bytes, so the frame the wire holds stays a valid segment.
     */
    if (rte_mbuf_refcnt_read(m) > 1)
        return NULL;
    rte_pktmbuf_reset(m);
    m->data_off = (uint16_t)((char *)p->payload - (char *)m->buf_addr);
    m->data_len = p->len;
    m->pkt_len = p->len;
    rte_mbuf_refcnt_update(m, 1);       /* the wire's, beside lwIP's */
    return m;
}

/* ---- Transmit: a pbuf chain copied into an mbuf ------------------------ */

struct rte_mbuf *shunt_mbuf_from_pbuf(const struct pbuf *p, struct rte_mempool *mp)
{
    struct rte_mbuf *m = heap_frame(p, mp);
    if (m != NULL)
        return m;
    m = zc_frame(p);
    if (m != NULL)
        return m;
    struct rte_mbuf *head = rte_pktmbuf_alloc(mp);
    if (head == NULL)
        return NULL;

    struct rte_mbuf *seg = head;
    uint16_t room = rte_pktmbuf_tailroom(seg);
    uint16_t done = 0;
    while (done < p->tot_len) {
        if (room == 0) {
            struct rte_mbuf *next = rte_pktmbuf_alloc(mp);
            if (next == NULL) {
                rte_pktmbuf_free(head);
                return NULL;
            }
            seg->next = next;
            head->nb_segs++;
            seg = next;
            room = rte_pktmbuf_tailroom(seg);
        }
        uint16_t n = RTE_MIN(room, (uint16_t)(p->tot_len - done));
        pbuf_copy_partial(p, rte_pktmbuf_mtod(seg, char *) + seg->data_len, n, done);
        seg->data_len += n;
        room -= n;
        done += n;
    }
    head->pkt_len = p->tot_len;
    return head;
}

/* ---- Transmit: checksum offload ------------------------------------------ */

uint16_t shunt_mbuf_sw_checksums(uint64_t tx_offloads)
{
    uint16_t flags = NETIF_CHECKSUM_ENABLE_ALL;

    if (tx_offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
        flags &= (uint16_t)~NETIF_CHECKSUM_GEN_IP;
    if (tx_offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM)
        flags &= (uint16_t)~NETIF_CHECKSUM_GEN_TCP;
    if (tx_offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM)
        flags &= (uint16_t)~NETIF_CHECKSUM_GEN_UDP;
    return flags;
}

/* True for any fragment of an IPv4 datagram, first and last included. */
static bool ipv4_is_fragment(const struct rte_ipv4_hdr *ip)
{
    return (ip->fragment_offset &
            RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0;
}

/* Where in its header the L4 checksum a TX flag asks for lies. */
static uint16_t l4_cksum_at(uint64_t l4_flag)
{
    return l4_flag == RTE_MBUF_F_TX_TCP_CKSUM ? offsetof(struct rte_tcp_hdr, cksum)
                                             : offsetof(struct rte_udp_hdr, dgram_cksum);
}

/*
 * Where the L4 checksum field is, for the protocols a NIC can checksum;
 * 0 for any other protocol.
 */
static uint16_t l4_cksum_offset(uint8_t proto, uint64_t offloads, uint64_t *flag)
{
    if (proto == IPPROTO_TCP && (offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM))
        *flag = RTE_MBUF_F_TX_TCP_CKSUM;
    else if (proto == IPPROTO_UDP && (offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM))
        *flag = RTE_MBUF_F_TX_UDP_CKSUM;
    else
        return 0;
    return l4_cksum_at(*flag);
}

/* The L4 checksum field of a frame whose offload fields are set. */
static rte_be16_t *l4_cksum_field(struct rte_mbuf *m, uint64_t l4_flag)
{
    return rte_pktmbuf_mtod_offset(m, rte_be16_t *, m->l2_len + m->l3_len + l4_cksum_at(l4_flag));
}

void shunt_mbuf_tx_offload(struct rte_mbuf *m, uint64_t offloads)
{
    const uint16_t l2 = sizeof(struct rte_ether_hdr);
    const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    uint64_t l4_flag = 0;
    uint16_t l3, l4_off;
    rte_be16_t *l4_cksum;

    /* Headers handed to the NIC must all sit in the first segment. */
    if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
        if (m->data_len < l2 + sizeof(struct rte_ipv4_hdr))
            return;
        struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l2);
        l3 = rte_ipv4_hdr_len(ip);
        m->l2_len = l2;
        m->l3_len = l3;
        m->ol_flags |= RTE_MBUF_F_TX_IPV4;
        if (offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
            m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
        /* A fragment carries only part of the datagram: no NIC can sum it. */
        if (ipv4_is_fragment(ip))
            return;
        l4_off = l4_cksum_offset(ip->next_proto_id, offloads, &l4_flag);
        if (l4_off == 0 || m->data_len < l2 + l3 + l4_off + 2)
            return;
        m->ol_flags |= l4_flag;
        l4_cksum = rte_pktmbuf_mtod_offset(m, rte_be16_t *, l2 + l3 + l4_off);
        *l4_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
    } else if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
        if (m->data_len < l2 + sizeof(struct rte_ipv6_hdr))
            return;
        struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, l2);
        l3 = sizeof(*ip);
        /* Extension headers (fragments among them) are not offloaded. */
        l4_off = l4_cksum_offset(ip->proto, offloads, &l4_flag);
        if (l4_off == 0 || m->data_len < l2 + l3 + l4_off + 2)
            return;
        m->l2_len = l2;
        m->l3_len = l3;
        m->ol_flags |= RTE_MBUF_F_TX_IPV6 | l4_flag;
        l4_cksum = rte_pktmbuf_mtod_offset(m, rte_be16_t *, l2 + l3 + l4_off);
        *l4_cksum = rte_ipv6_phdr_cksum(ip, m->ol_flags);
    }
}

/* ---- Transmit: checksums done here after all ---------------------------------- */

void shunt_mbuf_tx_checksums(struct rte_mbuf *m)
{
    uint64_t l4 = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;

    if (!(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) && l4 == 0)
        return;
    if (m->ol_flags & RTE_MBUF_F_TX_IPV4) {
        struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
        if (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) {
            ip->hdr_checksum = 0;
            ip->hdr_checksum = rte_ipv4_cksum(ip);
        }
        if (l4 != 0) {
            rte_be16_t *sum = l4_cksum_field(m, l4);
            *sum = 0;
            *sum = rte_ipv4_udptcp_cksum_mbuf(m, ip, (uint16_t)(m->l2_len + m->l3_len));
        }
    } else if (l4 != 0) {
        struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, m->l2_len);
        rte_be16_t *sum = l4_cksum_field(m, l4);
        *sum = 0;
        *sum = rte_ipv6_udptcp_cksum_mbuf(m, ip, (uint16_t)(m->l2_len + m->l3_len));
    }
    m->ol_flags &= ~(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK);
}
