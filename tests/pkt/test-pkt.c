/*
 * test-pkt.c - Shunt on the wire, frame by frame: crafted frames go in over a
 * net_ring port, and the exact frames that come back are checked byte for
 * byte - or that nothing came back, and the drop was counted.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "frames.h"
#include "ring.h"

static uint8_t in[FRAME_MAX], out[FRAME_MAX], want[FRAME_MAX];
static const struct rte_ether_addr zero_mac = { { 0 } };
static const struct rte_ether_addr other_mac = { { 0x02, 0, 0, 0, 0, 0x99 } };
static const struct rte_ether_addr peer_mac2 = { { 0x02, 0, 0, 0, 0, 0x11 } };

#define assert_frame(got, want_len) do {                                         \
        ck_assert_uint_eq((got), (want_len));                                    \
        ck_assert_msg(memcmp(out, want, (want_len)) == 0, "frame differs");      \
    } while (0)

#define assert_nothing_sent() ck_assert_uint_eq(ring_recv(out, sizeof(out)), 0)

/* Send a frame, and check the exact frame that answers it. */
static void exchange(size_t in_len, size_t want_len)
{
    ring_send(in, in_len);
    assert_frame(ring_recv(out, sizeof(out)), want_len);
    assert_nothing_sent();
}

/* The peer asks who has 10.0.0.2, and Shunt answers (so it knows the peer). */
static void arp_exchange(void)
{
    size_t n = frame_arp(in, RTE_ARP_OP_REQUEST, &broadcast_mac, &peer_mac, PEER_IP4,
                         &zero_mac, SHUNT_IP4);
    size_t w = frame_arp(want, RTE_ARP_OP_REPLY, &peer_mac, &shunt_mac, SHUNT_IP4,
                         &peer_mac, PEER_IP4);
    exchange(n, w);
}

static size_t echo4(uint8_t *b, const struct rte_ether_addr *dst, const struct rte_ether_addr *src,
                    uint32_t ip_src, uint32_t ip_dst, uint8_t type, uint16_t seq, size_t len)
{
    uint8_t msg[FRAME_MAX], data[FRAME_MAX];

    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i ^ seq);
    size_t m = icmp4_echo(msg, type, 0x1234, seq, data, len);
    return frame_ipv4(b, dst, src, ip_src, ip_dst, IPPROTO_ICMP, 0x4242, 0, msg, m);
}

static uint64_t drops(enum shunt_drop_cause cause)
{
    return ring_counters().drops[cause];
}

/* ---- coming up ------------------------------------------------------------ */

START_TEST(announces_itself_with_gratuitous_arp)
{
    size_t w = frame_arp(want, RTE_ARP_OP_REQUEST, &broadcast_mac, &shunt_mac, SHUNT_IP4,
                         &zero_mac, SHUNT_IP4);
    size_t n = 0;
    for (unsigned i = 0; (n = ring_startup_frame(i, out, sizeof(out))) > 0; i++)
        if (n == w && memcmp(out, want, w) == 0)
            return;
    ck_abort_msg("no gratuitous ARP for 10.0.0.2 at start");
}
END_TEST

/* ---- ARP ------------------------------------------------------------------ */

START_TEST(arp_request_answered)
{
    arp_exchange();
    struct shunt_counters c = ring_counters();
    ck_assert_uint_eq(c.rx_packets, 1);
    ck_assert_uint_eq(c.rx_bytes, 42);
}
END_TEST

START_TEST(arp_for_another_address_ignored)
{
    size_t n = frame_arp(in, RTE_ARP_OP_REQUEST, &broadcast_mac, &peer_mac, PEER_IP4,
                         &zero_mac, RTE_IPV4(10, 0, 0, 77));
    ring_send(in, n);
    assert_nothing_sent();
}
END_TEST

START_TEST(gratuitous_arp_moves_the_peer)
{
    arp_exchange();
    /* The peer's address moves to another MAC and says so. */
    size_t n = frame_arp(in, RTE_ARP_OP_REQUEST, &broadcast_mac, &peer_mac2, PEER_IP4,
                         &zero_mac, PEER_IP4);
    ring_send(in, n);
    assert_nothing_sent();

    n = echo4(in, &shunt_mac, &peer_mac2, PEER_IP4, SHUNT_IP4, RTE_IP_ICMP_ECHO_REQUEST, 1, 56);
    size_t w = echo4(want, &peer_mac2, &shunt_mac, SHUNT_IP4, PEER_IP4, RTE_IP_ICMP_ECHO_REPLY, 1, 56);
    exchange(n, w);
}
END_TEST

START_TEST(reply_waits_for_arp)
{
    /* A ping from a peer Shunt has no ARP entry for. */
    size_t n = echo4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, RTE_IP_ICMP_ECHO_REQUEST, 7, 100);
    ring_send(in, n);
    size_t w = frame_arp(want, RTE_ARP_OP_REQUEST, &broadcast_mac, &shunt_mac, SHUNT_IP4,
                         &zero_mac, PEER_IP4);
    assert_frame(ring_recv(out, sizeof(out)), w);
    assert_nothing_sent();

    /* The answer releases the queued reply. */
    n = frame_arp(in, RTE_ARP_OP_REPLY, &shunt_mac, &peer_mac, PEER_IP4, &shunt_mac, SHUNT_IP4);
    w = echo4(want, &peer_mac, &shunt_mac, SHUNT_IP4, PEER_IP4, RTE_IP_ICMP_ECHO_REPLY, 7, 100);
    exchange(n, w);
}
END_TEST

/* ---- ICMP ----------------------------------------------------------------- */

START_TEST(ping_answered)
{
    arp_exchange();
    for (uint16_t seq = 1; seq <= 3; seq++) {
        size_t n = echo4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4,
                         RTE_IP_ICMP_ECHO_REQUEST, seq, 56 * seq);
        size_t w = echo4(want, &peer_mac, &shunt_mac, SHUNT_IP4, PEER_IP4,
                         RTE_IP_ICMP_ECHO_REPLY, seq, 56 * seq);
        exchange(n, w);
    }
}
END_TEST

START_TEST(ping_in_a_chained_mbuf_answered)
{
    arp_exchange();
    size_t n = echo4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, RTE_IP_ICMP_ECHO_REQUEST, 9, 1000);
    size_t w = echo4(want, &peer_mac, &shunt_mac, SHUNT_IP4, PEER_IP4, RTE_IP_ICMP_ECHO_REPLY, 9, 1000);

    /* The frame split over three segments, as a scattering NIC would. */
    struct rte_mbuf *m = rte_pktmbuf_alloc(ring_pool()), *tail = m;
    const size_t cuts[] = { 0, 142, 600, n };
    for (int i = 0; i < 3; i++) {
        struct rte_mbuf *seg = i == 0 ? m : rte_pktmbuf_alloc(ring_pool());
        memcpy(rte_pktmbuf_append(seg, (uint16_t)(cuts[i + 1] - cuts[i])), in + cuts[i],
               cuts[i + 1] - cuts[i]);
        if (i > 0)
            ck_assert_int_eq(rte_pktmbuf_chain(m, seg), 0);
        tail = seg;
    }
    (void)tail;
    ring_send_mbuf(m);
    assert_frame(ring_recv(out, sizeof(out)), w);
}
END_TEST

START_TEST(broadcast_ping_ignored)
{
    arp_exchange();
    size_t n = echo4(in, &broadcast_mac, &peer_mac, PEER_IP4, RTE_IPV4(10, 0, 0, 255),
                     RTE_IP_ICMP_ECHO_REQUEST, 1, 56);
    ring_send(in, n);
    assert_nothing_sent();
}
END_TEST

START_TEST(bad_icmp_checksum_dropped)
{
    arp_exchange();
    size_t n = echo4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, RTE_IP_ICMP_ECHO_REQUEST, 1, 56);
    in[14 + 20 + 2] ^= 0x55;
    uint64_t before = drops(SHUNT_DROP_LWIP);
    ring_send(in, n);
    assert_nothing_sent();
    ck_assert_uint_eq(drops(SHUNT_DROP_LWIP), before + 1);
}
END_TEST

/* Fragments of an echo request carrying len bytes, each at most mtu. */
static void send_fragmented_echo(uint16_t seq, size_t len, size_t mtu)
{
    uint8_t msg[FRAME_MAX], data[FRAME_MAX];

    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 13 + seq);
    size_t m = icmp4_echo(msg, RTE_IP_ICMP_ECHO_REQUEST, 0x1234, seq, data, len);
    size_t chunk = (mtu - 20) & ~(size_t)7;
    for (size_t off = 0; off < m; off += chunk) {
        size_t part = m - off < chunk ? m - off : chunk;
        uint16_t frag = (uint16_t)(off / 8) | (off + part < m ? RTE_IPV4_HDR_MF_FLAG : 0);
        size_t n = frame_ipv4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, IPPROTO_ICMP,
                              0x777, frag, msg + off, part);
        ring_send(in, n);
    }
}

START_TEST(fragmented_ping_answered_in_fragments)
{
    arp_exchange();
    unsigned free_before = ring_mbufs_free();
    send_fragmented_echo(5, 8000, 1500);

    /* The reply: fragments of at most 1500 bytes of IP that add up to an
     * echo reply with the same data. */
    uint8_t msg[FRAME_MAX], data[FRAME_MAX], got[FRAME_MAX];
    for (size_t i = 0; i < 8000; i++)
        data[i] = (uint8_t)(i * 13 + 5);
    size_t m = icmp4_echo(msg, RTE_IP_ICMP_ECHO_REPLY, 0x1234, 5, data, 8000);
    size_t have = 0, n;
    int frags = 0;
    bool last = false;
    while ((n = ring_recv(out, sizeof(out))) > 0) {
        struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(out + 14);
        uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
        ck_assert(!last);
        ck_assert_uint_le(n - 14, 1500);
        ck_assert_uint_eq(ip->src_addr, rte_cpu_to_be_32(SHUNT_IP4));
        ck_assert_uint_eq(ip->dst_addr, rte_cpu_to_be_32(PEER_IP4));
        ck_assert_uint_eq(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
        ck_assert_uint_eq((size_t)(frag & RTE_IPV4_HDR_OFFSET_MASK) * 8, have);
        memcpy(got + have, ip + 1, n - 14 - 20);
        have += n - 14 - 20;
        last = !(frag & RTE_IPV4_HDR_MF_FLAG);
        frags++;
    }
    ck_assert(last);
    ck_assert_int_eq(frags, 6);
    ck_assert_uint_eq(have, m);
    ck_assert_int_eq(memcmp(got, msg, m), 0);
    /* Reassembly held the request's mbufs, and gave every one back. */
    ck_assert_uint_eq(ring_mbufs_free(), free_before);
}
END_TEST

START_TEST(incomplete_datagram_expires)
{
    arp_exchange();
    unsigned free_before = ring_mbufs_free();
    uint8_t msg[1480] = { 0 };
    size_t n = frame_ipv4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, IPPROTO_ICMP,
                          0x999, RTE_IPV4_HDR_MF_FLAG, msg, sizeof(msg));
    ring_send(in, n);
    ck_assert_uint_eq(ring_mbufs_free(), free_before - 1);     /* held for reassembly */

    /* lwIP gives up on it after IP_REASS_MAXAGE seconds, and sends the
     * first fragment back in an ICMP time-exceeded message. */
    ring_advance_ms(20000);
    bool told = false;
    while ((n = ring_recv(out, sizeof(out))) > 0)
        told |= n > 14 + 20 + 8 && out[14 + 9] == IPPROTO_ICMP &&
                out[14 + 20] == 11 && out[14 + 20 + 1] == 1;    /* reassembly time exceeded */
    ck_assert_msg(told, "no ICMP time exceeded");
    ck_assert_uint_eq(ring_mbufs_free(), free_before);
}
END_TEST

/* ---- IPv6 ----------------------------------------------------------------- */

static void nd_exchange(const uint8_t target[16])
{
    uint8_t msg[64], snm[16];
    struct rte_ether_addr snm_mac;

    ip6_solicited_node(target, snm);
    ip6_multicast_mac(snm, &snm_mac);
    size_t m = icmp6_neighbor_solicit(msg, target, &peer_mac);
    size_t n = frame_icmp6(in, &snm_mac, &peer_mac, peer_ip6, snm, 255, msg, m);
    m = icmp6_neighbor_advert(msg, 0x60000000, target, &shunt_mac);    /* solicited, override */
    size_t w = frame_icmp6(want, &peer_mac, &shunt_mac, target, peer_ip6, 255, msg, m);
    exchange(n, w);
}

START_TEST(neighbor_solicitation_answered)
{
    nd_exchange(shunt_ip6);
}
END_TEST

START_TEST(link_local_address_answers)
{
    /* fe80:: + the modified EUI-64 of 02:00:00:00:00:02. */
    const uint8_t ll[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 0x02 };
    nd_exchange(ll);
}
END_TEST

START_TEST(ping6_answered)
{
    uint8_t msg[2048], data[1200];

    nd_exchange(shunt_ip6);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 3);
    size_t m = icmp6_echo(msg, 128, 0x4321, 1, data, sizeof(data));
    size_t n = frame_icmp6(in, &shunt_mac, &peer_mac, peer_ip6, shunt_ip6, 64, msg, m);
    m = icmp6_echo(msg, 129, 0x4321, 1, data, sizeof(data));
    size_t w = frame_icmp6(want, &peer_mac, &shunt_mac, shunt_ip6, peer_ip6, 255, msg, m);
    exchange(n, w);
}
END_TEST

START_TEST(ping6_for_another_address_dropped)
{
    uint8_t msg[64], other[16];

    nd_exchange(shunt_ip6);
    memcpy(other, shunt_ip6, 16);
    other[15] = 0x77;
    size_t m = icmp6_echo(msg, 128, 1, 1, "x", 1);
    size_t n = frame_icmp6(in, &shunt_mac, &peer_mac, peer_ip6, other, 64, msg, m);
    ring_send(in, n);
    assert_nothing_sent();
    ck_assert_uint_eq(drops(SHUNT_DROP_NOT_FOR_US), 1);
}
END_TEST

/* Fragments of an ICMPv6 echo request of len bytes, chunk bytes each. */
static void send_fragmented_echo6(size_t len, size_t chunk, uint16_t first_off)
{
    static uint8_t msg[70000];
    uint8_t data[70000];

    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 5);
    size_t m = icmp6_echo(msg, 128, 0x6666, 1, data, len);
    uint16_t sum = icmp6_checksum(peer_ip6, shunt_ip6, msg, m);
    memcpy(msg + 2, &sum, 2);
    for (size_t off = 0; off < m; off += chunk) {
        size_t part = m - off < chunk ? m - off : chunk;
        size_t n = frame_ipv6_fragment(in, &shunt_mac, &peer_mac, peer_ip6, shunt_ip6, 58,
                                       0xabc, (uint16_t)(first_off + off), off + part < m,
                                       msg + off, part);
        ring_send(in, n);
    }
}

START_TEST(fragmented_ping6_answered)
{
    nd_exchange(shunt_ip6);
    unsigned free_before = ring_mbufs_free();
    send_fragmented_echo6(3000, 1448, 0);
    /* The reply comes back in fragments too; all mbufs come home. */
    int frags = 0;
    size_t n;
    while ((n = ring_recv(out, sizeof(out))) > 0)
        frags += n > 14 + 40 && out[14 + 6] == 44;
    ck_assert_int_ge(frags, 3);
    ck_assert_uint_eq(ring_mbufs_free(), free_before);
}
END_TEST

START_TEST(ipv6_datagram_too_big_for_lwip_dropped)
{
    nd_exchange(shunt_ip6);
    unsigned free_before = ring_mbufs_free();
    /* The last fragment of a datagram that would be 65,535 bytes of IPv6
     * payload: legal IPv6, more than lwIP can hold with the header. */
    uint8_t data[1400] = { 0 };
    size_t n = frame_ipv6_fragment(in, &shunt_mac, &peer_mac, peer_ip6, shunt_ip6, 58, 0xdef,
                                   65528 - 1400, false, data, sizeof(data));
    ring_send(in, n);
    assert_nothing_sent();
    ck_assert_uint_eq(drops(SHUNT_DROP_TOO_BIG), 1);
    ck_assert_uint_eq(ring_mbufs_free(), free_before);
    /* A whole datagram of that size, fragment by fragment: every piece
     * that reaches past the limit is refused, the stack survives, and the
     * pieces it held are given back when reassembly times out. */
    send_fragmented_echo6(65527 - 8, 1448, 0);
    ck_assert_uint_gt(drops(SHUNT_DROP_TOO_BIG), 1);
    ring_advance_ms(70000);
    while (ring_recv(out, sizeof(out)) > 0)
        ;
    ck_assert_uint_eq(ring_mbufs_free(), free_before);
    /* And it still answers. */
    send_fragmented_echo6(3000, 1448, 0);
    ck_assert_uint_gt(ring_recv(out, sizeof(out)), 0);
}
END_TEST

/* ---- what is dropped, and counted ------------------------------------------ */

START_TEST(truncated_frame_dropped)
{
    unsigned free_before = ring_mbufs_free();
    memset(in, 0xab, 10);
    ring_send(in, 10);
    assert_nothing_sent();
    ck_assert_uint_eq(drops(SHUNT_DROP_BAD_FRAME), 1);
    ck_assert_uint_eq(ring_mbufs_free(), free_before);
}
END_TEST

START_TEST(truncated_arp_dropped)
{
    size_t n = frame_arp(in, RTE_ARP_OP_REQUEST, &broadcast_mac, &peer_mac, PEER_IP4,
                         &zero_mac, SHUNT_IP4);
    ring_send(in, n - 1);
    assert_nothing_sent();
    ck_assert_uint_eq(drops(SHUNT_DROP_BAD_FRAME), 1);
}
END_TEST

START_TEST(frame_for_another_mac_dropped)
{
    arp_exchange();
    size_t n = echo4(in, &other_mac, &peer_mac, PEER_IP4, SHUNT_IP4, RTE_IP_ICMP_ECHO_REQUEST, 1, 56);
    ring_send(in, n);
    assert_nothing_sent();
    ck_assert_uint_eq(drops(SHUNT_DROP_NOT_FOR_US), 1);
    ck_assert_uint_eq(drops(SHUNT_DROP_LWIP), 0);
}
END_TEST

START_TEST(packet_for_another_ip_dropped)
{
    arp_exchange();
    size_t n = echo4(in, &shunt_mac, &peer_mac, PEER_IP4, RTE_IPV4(10, 0, 0, 99),
                     RTE_IP_ICMP_ECHO_REQUEST, 1, 56);
    ring_send(in, n);
    assert_nothing_sent();
    ck_assert_uint_eq(drops(SHUNT_DROP_NOT_FOR_US), 1);
    ck_assert_uint_eq(drops(SHUNT_DROP_LWIP), 0);
}
END_TEST

/* Each malformed variant of a good ping is dropped, counted, and costs
 * no mbuf. */
START_TEST(malformed_packets_dropped)
{
    arp_exchange();
    unsigned free_before = ring_mbufs_free();
    size_t good = echo4(want, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4,
                        RTE_IP_ICMP_ECHO_REQUEST, 1, 56);
    struct { const char *what; size_t offset; uint8_t value; size_t len; } bad[] = {
        { "IP header checksum", 14 + 10, 0x00, good },
        { "IP version 5", 14, 0x55, good },
        { "IP header length 4 bytes", 14, 0x41, good },
        { "IP total length beyond the frame", 14 + 2, 0x7f, good },
        { "IP header cut short", 14, 0x45, 14 + 12 },
        { "unknown ethertype", 12, 0x88, good },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(in, want, good);
        in[bad[i].offset] = bad[i].value;
        if (bad[i].offset == 12)
            in[13] = 0xb5;
        uint64_t before = drops(SHUNT_DROP_LWIP);
        ring_send(in, bad[i].len);
        ck_assert_msg(ring_recv(out, sizeof(out)) == 0, "%s: answered", bad[i].what);
        ck_assert_msg(drops(SHUNT_DROP_LWIP) == before + 1, "%s: not counted", bad[i].what);
    }
    ck_assert_uint_eq(ring_mbufs_free(), free_before);
    /* And the stack still answers a good one. */
    size_t w = echo4(out, &peer_mac, &shunt_mac, SHUNT_IP4, PEER_IP4, RTE_IP_ICMP_ECHO_REPLY, 1, 56);
    memcpy(in, want, good);
    memcpy(want, out, w);
    exchange(good, w);
}
END_TEST

START_TEST(counters_add_up)
{
    arp_exchange();
    size_t n = echo4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, RTE_IP_ICMP_ECHO_REQUEST, 1, 56);
    for (int i = 0; i < 10; i++) {
        ring_send(in, n);
        ck_assert_uint_eq(ring_recv(out, sizeof(out)), n);
    }
    ring_send(in, 8);
    struct shunt_counters c = ring_counters();
    ck_assert_uint_eq(c.rx_packets, 1 + 10 + 1);
    ck_assert_uint_eq(c.rx_bytes, 42 + 10 * n + 8);
    ck_assert_uint_ge(c.tx_packets, 1 + 10);
    ck_assert_uint_eq(c.drops[SHUNT_DROP_BAD_FRAME], 1);
    ck_assert_uint_eq(c.drops[SHUNT_DROP_TX_RING_FULL], 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("packets");
    const struct { const char *name; const TTest *tests[12]; } cases[] = {
        { "startup", { announces_itself_with_gratuitous_arp } },
        { "arp", { arp_request_answered, arp_for_another_address_ignored,
                   gratuitous_arp_moves_the_peer, reply_waits_for_arp } },
        { "icmp", { ping_answered, ping_in_a_chained_mbuf_answered, broadcast_ping_ignored,
                    bad_icmp_checksum_dropped, fragmented_ping_answered_in_fragments,
                    incomplete_datagram_expires } },
        { "ipv6", { neighbor_solicitation_answered, link_local_address_answers,
                    ping6_answered, ping6_for_another_address_dropped,
                    fragmented_ping6_answered, ipv6_datagram_too_big_for_lwip_dropped } },
        { "drops", { truncated_frame_dropped, truncated_arp_dropped,
                     frame_for_another_mac_dropped,
                     packet_for_another_ip_dropped, malformed_packets_dropped,
                     counters_add_up } },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_unchecked_fixture(tc, ring_eal_up, NULL);
        tcase_add_checked_fixture(tc, ring_stack_up, ring_stack_down);
        for (int j = 0; cases[i].tests[j] != NULL; j++)
            _tcase_add_test(tc, cases[i].tests[j], 0, 0, 0, 1);
        suite_add_tcase(s, tc);
    }

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
