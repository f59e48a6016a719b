/*
 * test-mbuf.c - mbuf <-> pbuf: receive wraps without copying, transmit copies
 * byte for byte, every mbuf goes back to its pool, and the checksum-offload
 * fields are what DPDK asks for; lwIP's heap in mbufs (port/heap.h): a
 * frame built there leaves in its own mbuf, except while the wire holds it.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"

#include "heap.h"
#include "mbuf.h"
#include "suite.h"

#define POOL_SIZE 63
#define DATA_ROOM (RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM)

static struct rte_mempool *pool;

/* In each test's own process: with --no-huge the EAL's memory is a shared
 * memfd, which an EAL started in the parent would share with every test. */
static void start_eal_and_lwip(void)
{
    if (pool != NULL)
        return;
    char *argv[] = { "test-mbuf", "-l", "0", "--no-huge", "-m", "64", "--no-shconf",
                     "--no-pci", "--no-telemetry", "--log-level=lib.eal:error", NULL };

    ck_assert_int_ge(rte_eal_init(10, argv), 0);
    lwip_init();
    pool = rte_pktmbuf_pool_create("test", POOL_SIZE, 0, SHUNT_MBUF_PRIV_SIZE,
                                   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    ck_assert_ptr_nonnull(pool);
}

static void fill(void *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        ((uint8_t *)buf)[i] = (uint8_t)(seed + i * 7);
}

/* An mbuf chain of the given segment lengths, filled from seed. */
static struct rte_mbuf *mbuf_chain(const uint16_t *lens, int n, unsigned seed)
{
    struct rte_mbuf *head = NULL, *tail = NULL;
    unsigned off = 0;

    for (int i = 0; i < n; i++) {
        struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
        ck_assert_ptr_nonnull(m);
        fill(rte_pktmbuf_append(m, lens[i]), lens[i], seed + off);
        off += lens[i];
        if (head == NULL) {
            head = m;
        } else {
            tail->next = m;
            head->nb_segs++;
            head->pkt_len += lens[i];
        }
        tail = m;
    }
    return head;
}

/* The bytes of an mbuf chain equal those of a pbuf chain. */
static void assert_same_bytes(const struct rte_mbuf *m, const struct pbuf *p)
{
    uint8_t *a = malloc(p->tot_len), *b = malloc(p->tot_len);

    ck_assert_uint_eq(m->pkt_len, p->tot_len);
    ck_assert_uint_eq(pbuf_copy_partial(p, a, p->tot_len, 0), p->tot_len);
    const void *bytes = rte_pktmbuf_read(m, 0, m->pkt_len, b);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_int_eq(memcmp(a, bytes, p->tot_len), 0);
    free(a);
    free(b);
}

START_TEST(rx_single_segment_is_not_copied)
{
    unsigned baseline = rte_mempool_avail_count(pool);
    uint16_t len = 1514;
    struct rte_mbuf *m = mbuf_chain(&len, 1, 1);
    void *data = rte_pktmbuf_mtod(m, void *);

    struct pbuf *p = shunt_pbuf_from_mbuf(m);
    ck_assert_ptr_eq(p->payload, data);
    ck_assert_uint_eq(p->len, 1514);
    ck_assert_uint_eq(p->tot_len, 1514);
    ck_assert_ptr_null(p->next);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline - 1);

    pbuf_free(p);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline);
}
END_TEST

START_TEST(rx_chain_becomes_pbuf_chain)
{
    unsigned baseline = rte_mempool_avail_count(pool);
    const uint16_t lens[] = { 2048, 2048, 904 };
    struct rte_mbuf *m = mbuf_chain(lens, 3, 5);
    void *payloads[3] = { rte_pktmbuf_mtod(m, void *), rte_pktmbuf_mtod(m->next, void *),
                          rte_pktmbuf_mtod(m->next->next, void *) };

    struct pbuf *p = shunt_pbuf_from_mbuf(m);
    const uint16_t tot[] = { 5000, 2952, 904 };
    int i = 0;
    for (struct pbuf *q = p; q != NULL; q = q->next, i++) {
        ck_assert_int_lt(i, 3);
        ck_assert_ptr_eq(q->payload, payloads[i]);
        ck_assert_uint_eq(q->len, lens[i]);
        ck_assert_uint_eq(q->tot_len, tot[i]);
    }
    ck_assert_int_eq(i, 3);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline - 3);

    pbuf_free(p);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline);
}
END_TEST

START_TEST(rx_mbuf_lives_while_lwip_holds_a_reference)
{
    unsigned baseline = rte_mempool_avail_count(pool);
    uint16_t len = 60;
    struct pbuf *p = shunt_pbuf_from_mbuf(mbuf_chain(&len, 1, 9));

    pbuf_ref(p);                        /* as TCP's out-of-order queue would */
    pbuf_free(p);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline - 1);
    pbuf_remove_header(p, 14);          /* lwIP moves along the headers */
    pbuf_free(p);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline);
}
END_TEST

START_TEST(rx_chain_freed_in_pieces)
{
    unsigned baseline = rte_mempool_avail_count(pool);
    const uint16_t lens[] = { 1000, 1000 };
    struct pbuf *p = shunt_pbuf_from_mbuf(mbuf_chain(lens, 2, 3));
    struct pbuf *second = p->next;

    /* IP reassembly and TCP split chains and free their parts apart. */
    pbuf_ref(second);
    pbuf_free(p);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline - 1);
    pbuf_free(second);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline);
}
END_TEST

START_TEST(tx_copies_a_pbuf_chain_into_one_mbuf)
{
    unsigned baseline = rte_mempool_avail_count(pool);
    struct pbuf *p = pbuf_alloc(PBUF_RAW, 14, PBUF_RAM);
    pbuf_cat(p, pbuf_alloc(PBUF_RAW, 20, PBUF_RAM));
    pbuf_cat(p, pbuf_alloc(PBUF_RAW, 1200, PBUF_RAM));
    for (struct pbuf *q = p; q != NULL; q = q->next)
        fill(q->payload, q->len, q->len);

    struct rte_mbuf *m = shunt_mbuf_from_pbuf(p, pool);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->nb_segs, 1);
    ck_assert_uint_eq(m->data_len, 1234);
    ck_assert_uint_eq(m->ol_flags, 0);
    assert_same_bytes(m, p);

    pbuf_free(p);
    rte_pktmbuf_free(m);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline);
}
END_TEST

START_TEST(tx_jumbo_frame_becomes_mbuf_chain)
{
    unsigned baseline = rte_mempool_avail_count(pool);
    struct pbuf *p = pbuf_alloc(PBUF_RAW, 9014, PBUF_RAM);
    ck_assert_ptr_nonnull(p);
    fill(p->payload, p->len, 77);

    struct rte_mbuf *m = shunt_mbuf_from_pbuf(p, pool);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->pkt_len, 9014);
    ck_assert_uint_eq(m->nb_segs, (9014 + DATA_ROOM - 1) / DATA_ROOM);
    uint32_t sum = 0;
    for (struct rte_mbuf *s = m; s != NULL; s = s->next) {
        ck_assert_uint_le(s->data_len, DATA_ROOM);
        sum += s->data_len;
    }
    ck_assert_uint_eq(sum, 9014);
    assert_same_bytes(m, p);

    pbuf_free(p);
    rte_pktmbuf_free(m);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline);
}
END_TEST

START_TEST(tx_empty_pool_fails_cleanly)
{
    struct rte_mbuf *hoard[POOL_SIZE];
    unsigned n = 0;

    /* Leave two mbufs: a 9014-byte frame needs five. */
    while (rte_mempool_avail_count(pool) > 2)
        hoard[n++] = rte_pktmbuf_alloc(pool);
    struct pbuf *p = pbuf_alloc(PBUF_RAW, 9014, PBUF_RAM);
    ck_assert_ptr_null(shunt_mbuf_from_pbuf(p, pool));
    ck_assert_uint_eq(rte_mempool_avail_count(pool), 2);

    /* A small frame still fits, and a freed pool works again. */
    struct pbuf *small = pbuf_alloc(PBUF_RAW, 60, PBUF_RAM);
    struct rte_mbuf *m = shunt_mbuf_from_pbuf(small, pool);
    ck_assert_ptr_nonnull(m);
    rte_pktmbuf_free(m);
    rte_pktmbuf_free_bulk(hoard, n);
    m = shunt_mbuf_from_pbuf(p, pool);
    ck_assert_ptr_nonnull(m);
    rte_pktmbuf_free(m);
    pbuf_free(p);
    pbuf_free(small);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), POOL_SIZE);
}
END_TEST

/* ---- lwIP's heap in mbufs ------------------------------------------------- */

static bool pool_low;

static bool low(void *arg)
{
    (void)arg;
    return pool_low;
}

static void start_heap(void)
{
    start_eal_and_lwip();
    shunt_heap_use(pool, low, NULL);
}

/* A frame as lwIP builds one: the data in PBUF_RAM, then its headers. */
static struct pbuf *heap_frame(uint16_t len, unsigned seed)
{
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, len, PBUF_RAM);
    ck_assert_ptr_nonnull(p);
    fill(p->payload, len, seed);
    ck_assert_int_eq(pbuf_add_header(p, 14 + 20 + 20), 0);
    fill(p->payload, 54, seed + 1);
    return p;
}

START_TEST(heap_frame_leaves_in_its_own_mbuf)
{
    unsigned baseline = rte_mempool_avail_count(pool);
    struct pbuf *p = heap_frame(1460, 5);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline - 1);

    struct rte_mbuf *m = shunt_mbuf_from_pbuf(p, pool);
    ck_assert_ptr_eq(m, shunt_heap_mbuf(p));
    ck_assert_ptr_eq(rte_pktmbuf_mtod(m, void *), p->payload);
    ck_assert_uint_eq(m->data_len, 1514);
    ck_assert_uint_eq(m->pkt_len, 1514);
    ck_assert_uint_eq(m->nb_segs, 1);
    ck_assert_uint_eq(rte_mbuf_refcnt_read(m), 2);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline - 1);

    /* Acknowledged (lwIP frees it) before the wire is done: the wire's
     * reference keeps it, and its going frees the mbuf. */
    pbuf_free(p);
    ck_assert_uint_eq(rte_mbuf_refcnt_read(m), 1);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline - 1);
    rte_pktmbuf_free(m);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline);
}
END_TEST

START_TEST(heap_frame_the_wire_holds_goes_as_a_copy)
{
    unsigned baseline = rte_mempool_avail_count(pool);
    struct pbuf *p = heap_frame(200, 9);
    struct rte_mbuf *first = shunt_mbuf_from_pbuf(p, pool);

    /* Sent again (a retransmission) while the first is still queued. */
    struct rte_mbuf *again = shunt_mbuf_from_pbuf(p, pool);
    ck_assert_ptr_nonnull(again);
    ck_assert_ptr_ne(again, first);
    ck_assert_uint_eq(rte_mbuf_refcnt_read(first), 2);
    ck_assert_ptr_eq(rte_pktmbuf_mtod(first, void *), p->payload);
    ck_assert_uint_eq(first->data_len, 254);
    assert_same_bytes(again, p);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline - 2);
    rte_pktmbuf_free(again);

    /* Once the wire let go, the mbuf is the frame again. */
    rte_pktmbuf_free(first);
    ck_assert_ptr_eq(shunt_mbuf_from_pbuf(p, pool), first);
    rte_pktmbuf_free(first);
    pbuf_free(p);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline);
}
END_TEST

START_TEST(heap_chain_and_large_frames_are_copied)
{
    unsigned baseline = rte_mempool_avail_count(pool);

    /* Larger than an mbuf: ordinary memory, copied into a chain. */
    struct pbuf *big = pbuf_alloc(PBUF_RAW, 9014, PBUF_RAM);
    ck_assert_ptr_null(shunt_heap_mbuf(big));
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline);
    fill(big->payload, big->len, 3);
    struct rte_mbuf *m = shunt_mbuf_from_pbuf(big, pool);
    ck_assert_uint_gt(m->nb_segs, 1);
    assert_same_bytes(m, big);
    rte_pktmbuf_free(m);
    pbuf_free(big);

    /* Two pbufs, each in its own mbuf: one frame, copied. */
    struct pbuf *p = heap_frame(100, 1);
    pbuf_cat(p, heap_frame(300, 2));
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline - 2);
    m = shunt_mbuf_from_pbuf(p, pool);
    ck_assert_ptr_ne(m, shunt_heap_mbuf(p));
    ck_assert_uint_eq(m->pkt_len, p->tot_len);
    assert_same_bytes(m, p);
    rte_pktmbuf_free(m);
    pbuf_free(p);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline);
}
END_TEST

START_TEST(heap_leaves_a_low_or_empty_pool_alone)
{
    unsigned baseline = rte_mempool_avail_count(pool);

    pool_low = true;
    struct pbuf *p = heap_frame(64, 4);
    ck_assert_ptr_null(shunt_heap_mbuf(p));
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline);
    pbuf_free(p);
    pool_low = false;

    /* Empty: lwIP still gets its buffer, and the frame waits for an mbuf
     * (the netif's ERR_MEM, which TCP retries) until one is back. */
    struct rte_mbuf *hoard[POOL_SIZE + 1];
    unsigned n = 0;
    while ((hoard[n] = rte_pktmbuf_alloc(pool)) != NULL)
        n++;
    p = heap_frame(64, 6);
    ck_assert_ptr_null(shunt_heap_mbuf(p));
    ck_assert_ptr_null(shunt_mbuf_from_pbuf(p, pool));
    rte_pktmbuf_free(hoard[--n]);
    struct rte_mbuf *m = shunt_mbuf_from_pbuf(p, pool);
    ck_assert_ptr_nonnull(m);
    assert_same_bytes(m, p);
    rte_pktmbuf_free(m);
    pbuf_free(p);
    rte_pktmbuf_free_bulk(hoard, n);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), baseline);
}
END_TEST

START_TEST(heap_ordinary_memory_is_bounded)
{
    enum { CHUNK = 60000 };
    static struct pbuf *held[MEM_SIZE / CHUNK + 1];
    unsigned n = 0;

    while (n < sizeof(held) / sizeof(held[0]) &&
           (held[n] = pbuf_alloc(PBUF_RAW, CHUNK, PBUF_RAM)) != NULL)
        n++;
    /* MEM_SIZE bytes and not one more chunk (with lwIP's pbuf header). */
    ck_assert_uint_le((size_t)n * CHUNK, MEM_SIZE);
    ck_assert_uint_gt((size_t)(n + 1) * (CHUNK + 64), MEM_SIZE);
    ck_assert_ptr_null(pbuf_alloc(PBUF_RAW, CHUNK, PBUF_RAM));
    pbuf_free(held[0]);
    held[0] = pbuf_alloc(PBUF_RAW, CHUNK, PBUF_RAM);
    ck_assert_ptr_nonnull(held[0]);
    while (n > 0)
        pbuf_free(held[--n]);
}
END_TEST

START_TEST(heap_lets_go_of_a_pool_that_goes)
{
    struct pbuf *in_pool = heap_frame(64, 8);
    ck_assert_ptr_nonnull(shunt_heap_mbuf(in_pool));
    unsigned avail = rte_mempool_avail_count(pool);

    shunt_heap_use(NULL, NULL, NULL);
    struct pbuf *p = heap_frame(64, 8);
    ck_assert_ptr_null(shunt_heap_mbuf(p));
    pbuf_free(p);
    /* Freed after the port went: the pool's memory is not touched. */
    pbuf_free(in_pool);
    ck_assert_uint_eq(rte_mempool_avail_count(pool), avail);
}
END_TEST

/* ---- checksum offload ---------------------------------------------------- */

/* An Ethernet + IPv4 (ihl words) + L4 frame with zeroed checksums. */
static struct rte_mbuf *ipv4_frame(uint8_t proto, uint8_t ihl, uint16_t frag)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
    uint16_t l3 = ihl * 4, len = 14 + l3 + 20 + 10;
    uint8_t *b = (uint8_t *)rte_pktmbuf_append(m, len);
    memset(b, 0, len);

    struct rte_ether_hdr *eth = (struct rte_ether_hdr *)b;
    eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(b + 14);
    ip->version_ihl = (uint8_t)(0x40 | ihl);
    ip->total_length = rte_cpu_to_be_16((uint16_t)(len - 14));
    ip->fragment_offset = rte_cpu_to_be_16(frag);
    ip->time_to_live = 64;
    ip->next_proto_id = proto;
    ip->src_addr = RTE_BE32(0x0a000001);
    ip->dst_addr = RTE_BE32(0x0a000002);
    return m;
}

static struct rte_mbuf *ipv6_frame(uint8_t proto)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
    uint16_t len = 14 + 40 + 20 + 10;
    uint8_t *b = (uint8_t *)rte_pktmbuf_append(m, len);
    memset(b, 0, len);

    ((struct rte_ether_hdr *)b)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
    struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(b + 14);
    ip->vtc_flow = RTE_BE32(0x60000000);
    ip->payload_len = RTE_BE16(30);
    ip->proto = proto;
    ip->hop_limits = 64;
    ip->src_addr[0] = 0xfd;
    ip->src_addr[15] = 1;
    ip->dst_addr[0] = 0xfd;
    ip->dst_addr[15] = 2;
    return m;
}

static uint16_t field16(struct rte_mbuf *m, unsigned off)
{
    return *rte_pktmbuf_mtod_offset(m, uint16_t *, off);
}

#define ALL_TX (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM | \
                RTE_ETH_TX_OFFLOAD_UDP_CKSUM)

START_TEST(offload_ipv4_tcp)
{
    struct rte_mbuf *m = ipv4_frame(IPPROTO_TCP, 5, 0);
    struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);

    shunt_mbuf_tx_offload(m, ALL_TX);
    ck_assert_uint_eq(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
                                   RTE_MBUF_F_TX_TCP_CKSUM);
    ck_assert_uint_eq(m->l2_len, 14);
    ck_assert_uint_eq(m->l3_len, 20);
    ck_assert_uint_eq(field16(m, 14 + 20 + 16), rte_ipv4_phdr_cksum(ip, m->ol_flags));
    ck_assert_uint_ne(field16(m, 14 + 20 + 16), 0);
    ck_assert_uint_eq(ip->hdr_checksum, 0);     /* the NIC's job */
    rte_pktmbuf_free(m);
}
END_TEST

START_TEST(offload_ipv4_options_and_udp)
{
    struct rte_mbuf *m = ipv4_frame(IPPROTO_UDP, 6, 0);
    struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);

    shunt_mbuf_tx_offload(m, ALL_TX);
    ck_assert_uint_eq(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
                                   RTE_MBUF_F_TX_UDP_CKSUM);
    ck_assert_uint_eq(m->l3_len, 24);
    ck_assert_uint_eq(field16(m, 14 + 24 + 6), rte_ipv4_phdr_cksum(ip, m->ol_flags));
    rte_pktmbuf_free(m);
}
END_TEST

START_TEST(offload_only_what_the_port_offers)
{
    struct rte_mbuf *m = ipv4_frame(IPPROTO_TCP, 5, 0);
    shunt_mbuf_tx_offload(m, RTE_ETH_TX_OFFLOAD_IPV4_CKSUM);
    ck_assert_uint_eq(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
    ck_assert_uint_eq(field16(m, 14 + 20 + 16), 0);
    rte_pktmbuf_free(m);

    m = ipv4_frame(IPPROTO_TCP, 5, 0);
    shunt_mbuf_tx_offload(m, RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
    ck_assert_uint_eq(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM);
    rte_pktmbuf_free(m);

    m = ipv4_frame(IPPROTO_UDP, 5, 0);
    shunt_mbuf_tx_offload(m, RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
    ck_assert_uint_eq(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
    ck_assert_uint_eq(field16(m, 14 + 20 + 6), 0);
    rte_pktmbuf_free(m);
}
END_TEST

START_TEST(offload_never_sums_a_fragment)
{
    /* First fragment (MF set) and a later one (offset 185 * 8). */
    const uint16_t frags[] = { RTE_IPV4_HDR_MF_FLAG, 185 };
    for (int i = 0; i < 2; i++) {
        struct rte_mbuf *m = ipv4_frame(IPPROTO_UDP, 5, frags[i]);
        shunt_mbuf_tx_offload(m, ALL_TX);
        ck_assert_uint_eq(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
        ck_assert_uint_eq(field16(m, 14 + 20 + 6), 0);
        rte_pktmbuf_free(m);
    }
}
END_TEST

START_TEST(offload_ipv6)
{
    struct rte_mbuf *m = ipv6_frame(IPPROTO_TCP);
    struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, 14);
    shunt_mbuf_tx_offload(m, ALL_TX);
    ck_assert_uint_eq(m->ol_flags, RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM);
    ck_assert_uint_eq(m->l2_len, 14);
    ck_assert_uint_eq(m->l3_len, 40);
    ck_assert_uint_eq(field16(m, 14 + 40 + 16), rte_ipv6_phdr_cksum(ip, m->ol_flags));
    rte_pktmbuf_free(m);

    /* A fragment header (44) hides the L4 header: left to software. */
    m = ipv6_frame(44);
    shunt_mbuf_tx_offload(m, ALL_TX);
    ck_assert_uint_eq(m->ol_flags, 0);
    rte_pktmbuf_free(m);
}
END_TEST

START_TEST(offload_leaves_other_frames_alone)
{
    struct rte_mbuf *m = ipv4_frame(IPPROTO_ICMP, 5, 0);
    shunt_mbuf_tx_offload(m, RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
    ck_assert_uint_eq(m->ol_flags, RTE_MBUF_F_TX_IPV4);    /* no checksum asked */
    rte_pktmbuf_free(m);

    m = rte_pktmbuf_alloc(pool);
    uint8_t *b = (uint8_t *)rte_pktmbuf_append(m, 42);
    memset(b, 0, 42);
    ((struct rte_ether_hdr *)b)->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
    shunt_mbuf_tx_offload(m, ALL_TX);
    ck_assert_uint_eq(m->ol_flags, 0);
    rte_pktmbuf_free(m);

    /* Too short to hold the headers it claims: untouched, no overrun. */
    m = rte_pktmbuf_alloc(pool);
    b = (uint8_t *)rte_pktmbuf_append(m, 20);
    memset(b, 0, 20);
    ((struct rte_ether_hdr *)b)->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    shunt_mbuf_tx_offload(m, ALL_TX);
    ck_assert_uint_eq(m->ol_flags, 0);
    rte_pktmbuf_free(m);
}
END_TEST

START_TEST(software_checksums_are_the_complement)
{
    ck_assert_uint_eq(shunt_mbuf_sw_checksums(0), NETIF_CHECKSUM_ENABLE_ALL);
    uint16_t f = shunt_mbuf_sw_checksums(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
                                         RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
    ck_assert_uint_eq(f & NETIF_CHECKSUM_GEN_IP, 0);
    ck_assert_uint_eq(f & NETIF_CHECKSUM_GEN_TCP, 0);
    ck_assert_uint_ne(f & NETIF_CHECKSUM_GEN_UDP, 0);
    ck_assert_uint_ne(f & NETIF_CHECKSUM_GEN_ICMP, 0);
    /* Receive checks are never switched off here. */
    ck_assert_uint_ne(f & NETIF_CHECKSUM_CHECK_IP, 0);
    ck_assert_uint_ne(f & NETIF_CHECKSUM_CHECK_TCP, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mbuf");
    TCase *rx = tcase_create("receive"), *tx = tcase_create("transmit");
    TCase *ol = tcase_create("offload"), *heap = tcase_create("heap");

    tcase_add_checked_fixture(rx, start_eal_and_lwip, NULL);
    tcase_add_checked_fixture(tx, start_eal_and_lwip, NULL);
    tcase_add_checked_fixture(ol, start_eal_and_lwip, NULL);
    tcase_add_checked_fixture(heap, start_heap, NULL);
    tcase_add_test(rx, rx_single_segment_is_not_copied);
    tcase_add_test(rx, rx_chain_becomes_pbuf_chain);
    tcase_add_test(rx, rx_mbuf_lives_while_lwip_holds_a_reference);
    tcase_add_test(rx, rx_chain_freed_in_pieces);
    tcase_add_test(tx, tx_copies_a_pbuf_chain_into_one_mbuf);
    tcase_add_test(tx, tx_jumbo_frame_becomes_mbuf_chain);
    tcase_add_test(tx, tx_empty_pool_fails_cleanly);
    tcase_add_test(heap, heap_frame_leaves_in_its_own_mbuf);
    tcase_add_test(heap, heap_frame_the_wire_holds_goes_as_a_copy);
    tcase_add_test(heap, heap_chain_and_large_frames_are_copied);
    tcase_add_test(heap, heap_leaves_a_low_or_empty_pool_alone);
    tcase_add_test(heap, heap_ordinary_memory_is_bounded);
    tcase_add_test(heap, heap_lets_go_of_a_pool_that_goes);
    tcase_add_test(ol, offload_ipv4_tcp);
    tcase_add_test(ol, offload_ipv4_options_and_udp);
    tcase_add_test(ol, offload_only_what_the_port_offers);
    tcase_add_test(ol, offload_never_sums_a_fragment);
    tcase_add_test(ol, offload_ipv6);
    tcase_add_test(ol, offload_leaves_other_frames_alone);
    tcase_add_test(ol, software_checksums_are_the_complement);
    suite_add_tcase(s, rx);
    suite_add_tcase(s, tx);
    suite_add_tcase(s, ol);
    suite_add_tcase(s, heap);

    return run_suite(s);
}
