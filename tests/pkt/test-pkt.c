/*
 * test-pkt.c - Shunt on the wire, frame by frame: crafted frames go in over a
 * net_ring port, and the exact frames that come back are checked byte for
 * byte - or that nothing came back, and the drop was counted.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#undef TCP_MSS           /* glibc's historical one; lwIP's own follows */

#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "lwip/memp.h"
#include "lwip/opt.h"
#include "lwip/stats.h"

#include <pcap/pcap.h>
#include <unistd.h>

#include "demux.h"
#include "mbuf.h"
#include "stack.h"

#include "queue.h"
#include "shunt/socket.h"

#include "frames.h"
#include "ring.h"
#include "suite.h"

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

/* Since the last call: cause moved by exactly n, and no other cause moved. */
static void assert_only(enum shunt_drop_cause cause, uint64_t n, const char *what)
{
    static struct shunt_counters last;
    struct shunt_counters now = ring_counters();

    for (int i = 0; i < SHUNT_DROP_CAUSES; i++) {
        uint64_t moved = now.drops[i] - last.drops[i];
        ck_assert_msg(moved == (i == (int)cause ? n : 0), "%s: %s moved by %lu, want %lu",
                      what, shunt_drop_name(i), (unsigned long)moved,
                      (unsigned long)(i == (int)cause ? n : 0));
    }
    last = now;
}

/* Start counting for assert_only (the counters since the stack came up). */
static void count_from_here(void)
{
    assert_only(SHUNT_DROP_CAUSES, 0, "before");
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
    count_from_here();
    size_t n = frame_arp(in, RTE_ARP_OP_REQUEST, &broadcast_mac, &peer_mac, PEER_IP4,
                         &zero_mac, RTE_IPV4(10, 0, 0, 77));
    ring_send(in, n);
    assert_nothing_sent();
    assert_only(SHUNT_DROP_NOT_FOR_US, 1, "ARP for another address");
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
    assert_only(SHUNT_DROP_CAUSES, 0, "an announcement is not a drop");
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
    count_from_here();
    size_t n = echo4(in, &broadcast_mac, &peer_mac, PEER_IP4, RTE_IPV4(10, 0, 0, 255),
                     RTE_IP_ICMP_ECHO_REQUEST, 1, 56);
    ring_send(in, n);
    assert_nothing_sent();
    assert_only(SHUNT_DROP_NOT_FOR_US, 1, "a broadcast ping");
}
END_TEST

START_TEST(bad_icmp_checksum_dropped)
{
    arp_exchange();
    size_t n = echo4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, RTE_IP_ICMP_ECHO_REQUEST, 1, 56);
    in[14 + 20 + 2] ^= 0x55;
    count_from_here();
    ring_send(in, n);
    assert_nothing_sent();
    assert_only(SHUNT_DROP_BAD_CHECKSUM, 1, "ICMP checksum");
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
    struct {
        const char *what;
        size_t offset;
        uint8_t value;
        size_t len;
        enum shunt_drop_cause cause;
    } bad[] = {
        { "IP header checksum", 14 + 10, 0x00, good, SHUNT_DROP_BAD_CHECKSUM },
        { "IP version 5", 14, 0x55, good, SHUNT_DROP_BAD_FRAME },
        { "IP header length 4 bytes", 14, 0x41, good, SHUNT_DROP_BAD_FRAME },
        { "IP total length beyond the frame", 14 + 2, 0x7f, good, SHUNT_DROP_BAD_FRAME },
        { "IP header cut short", 14, 0x45, 14 + 12, SHUNT_DROP_BAD_FRAME },
        { "unknown ethertype", 12, 0x88, good, SHUNT_DROP_NOT_FOR_US },
    };
    count_from_here();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(in, want, good);
        in[bad[i].offset] = bad[i].value;
        if (bad[i].offset == 12)
            in[13] = 0xb5;
        ring_send(in, bad[i].len);
        ck_assert_msg(ring_recv(out, sizeof(out)) == 0, "%s: answered", bad[i].what);
        assert_only(bad[i].cause, 1, bad[i].what);
    }
    ck_assert_uint_eq(ring_mbufs_free(), free_before);
    /* And the stack still answers a good one. */
    size_t w = echo4(out, &peer_mac, &shunt_mac, SHUNT_IP4, PEER_IP4, RTE_IP_ICMP_ECHO_REPLY, 1, 56);
    memcpy(in, want, good);
    memcpy(want, out, w);
    exchange(good, w);
}
END_TEST

/* A TCP segment from the peer's port sport, carrying len bytes of data. */
static size_t tcp_data(uint8_t *b, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
                       uint32_t ack, const void *data, size_t len)
{
    return frame_tcp4(b, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, sport, dport, flags, seq,
                      ack, 65535, 0, data, len);
}

/* A TCP segment with flags and no data. */
static size_t tcp_segment(uint8_t *b, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
                          uint32_t ack)
{
    return tcp_data(b, sport, dport, flags, seq, ack, "", 0);
}

/* The peer's SYN (sequence 1000) from sport to Shunt's dport: Shunt's ISN,
 * from the SYN-ACK it answers with. */
static uint32_t peer_syn(uint16_t sport, uint16_t dport)
{
    ring_send(in, tcp_segment(in, sport, dport, RTE_TCP_SYN_FLAG, 1000, 0));
    ck_assert_uint_ge(ring_recv(out, sizeof(out)), 14 + 20 + 20);
    return rte_be_to_cpu_32(((struct rte_tcp_hdr *)(out + 14 + 20))->sent_seq);
}

/* The handshake's last ACK, for Shunt's ISN isn. */
static void peer_ack(uint16_t sport, uint16_t dport, uint32_t isn)
{
    ring_send(in, tcp_segment(in, sport, dport, RTE_TCP_ACK_FLAG, 1001, isn + 1));
}

/* A UDP datagram from the peer to an address of Shunt's (or a broadcast). */
static size_t udp_datagram_to(uint8_t *b, const struct rte_ether_addr *mac, uint32_t dst,
                              uint16_t sport, uint16_t dport, const void *data, size_t len)
{
    return frame_udp4(b, mac, &peer_mac, PEER_IP4, dst, sport, dport, data, len);
}

static size_t udp_datagram(uint8_t *b, uint16_t sport, uint16_t dport, const void *data, size_t len)
{
    return udp_datagram_to(b, &shunt_mac, SHUNT_IP4, sport, dport, data, len);
}

START_TEST(cause_bad_tcp_and_udp_checksums)
{
    arp_exchange();
    count_from_here();
    size_t n = tcp_segment(in, 40000, 80, RTE_TCP_SYN_FLAG, 1, 0);
    in[n - 20 + 16] ^= 0xff;            /* the TCP checksum */
    ring_send(in, n);
    assert_nothing_sent();
    assert_only(SHUNT_DROP_BAD_CHECKSUM, 1, "TCP checksum");
    n = udp_datagram(in, 40000, 9, "x", 1);
    in[14 + 20 + 6] ^= 0xff;            /* the UDP checksum */
    ring_send(in, n);
    assert_nothing_sent();
    assert_only(SHUNT_DROP_BAD_CHECKSUM, 1, "UDP checksum");
}
END_TEST

START_TEST(cause_no_socket)
{
    arp_exchange();
    count_from_here();
    /* A SYN for a port nobody listens on is answered by a reset... */
    ring_send(in, tcp_segment(in, 40000, 81, RTE_TCP_SYN_FLAG, 1000, 0));
    size_t n = ring_recv(out, sizeof(out));
    ck_assert_uint_ge(n, 14 + 20 + 20);
    ck_assert_uint_eq(out[14 + 20 + 13] & RTE_TCP_RST_FLAG, RTE_TCP_RST_FLAG);
    assert_only(SHUNT_DROP_NO_SOCKET, 1, "TCP to a closed port");
    /* ...a datagram for a port nobody has, by ICMP port unreachable. */
    ring_send(in, udp_datagram(in, 40000, 82, "x", 1));
    n = ring_recv(out, sizeof(out));
    ck_assert_uint_ge(n, 14 + 20 + 8);
    ck_assert_uint_eq(out[14 + 20], 3);         /* destination unreachable */
    ck_assert_uint_eq(out[14 + 20 + 1], 3);     /* port unreachable */
    assert_only(SHUNT_DROP_NO_SOCKET, 1, "UDP to a closed port");
}
END_TEST

START_TEST(cause_reassembly_timeout)
{
    arp_exchange();
    uint8_t part[1480] = { 0 };
    count_from_here();
    for (uint16_t id = 1; id <= 3; id++) {
        size_t n = frame_ipv4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, IPPROTO_UDP, id,
                              RTE_IPV4_HDR_MF_FLAG, part, sizeof(part));
        ring_send(in, n);
    }
    assert_only(SHUNT_DROP_CAUSES, 0, "fragments waiting");
    ring_advance_ms(20000);
    while (ring_recv(out, sizeof(out)) > 0)
        ;
    assert_only(SHUNT_DROP_REASSEMBLY, 3, "reassembly timeout");
}
END_TEST

START_TEST(cause_socket_full)
{
    int fd = shunt_socket(AF_INET, SOCK_DGRAM, 0), small = 1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(5000) };

    ck_assert_int_ge(fd, 0);
    /* The smallest buffer there is (Linux's 2,304): one datagram. */
    ck_assert_int_eq(shunt_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
    ck_assert_int_eq(shunt_bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    arp_exchange();
    count_from_here();
    for (int i = 0; i < 5; i++)
        ring_send(in, udp_datagram(in, 40000, 5000, "datagram", 8));
    assert_only(SHUNT_DROP_SOCKET_FULL, 4, "UDP receive queue");
    char buf[16];
    ck_assert_int_eq(shunt_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 8);
    ring_send(in, udp_datagram(in, 40000, 5000, "datagram", 8));
    assert_only(SHUNT_DROP_CAUSES, 0, "room again");
    shunt_close(fd);
}
END_TEST

START_TEST(cause_backlog_full)
{
    int fd = shunt_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(6000) };

    ck_assert_int_eq(shunt_bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(shunt_listen(fd, 0), 0);   /* Linux keeps one connection */
    arp_exchange();
    count_from_here();
    /* One handshake completes and waits for accept()... */
    peer_ack(40001, 6000, peer_syn(40001, 6000));
    assert_only(SHUNT_DROP_CAUSES, 0, "the first connection");
    /* ...so the next SYN finds the queue full, and is dropped unanswered. */
    ring_send(in, tcp_segment(in, 40002, 6000, RTE_TCP_SYN_FLAG, 2000, 0));
    assert_nothing_sent();
    assert_only(SHUNT_DROP_BACKLOG_FULL, 1, "accept queue full");
    /* Taking the first makes room. */
    int c = shunt_accept4(fd, NULL, NULL, SOCK_NONBLOCK);
    ck_assert_int_ge(c, 0);
    ring_send(in, tcp_segment(in, 40002, 6000, RTE_TCP_SYN_FLAG, 2000, 0));
    ck_assert_uint_gt(ring_recv(out, sizeof(out)), 0);
    shunt_close(c);
    shunt_close(fd);
}
END_TEST

START_TEST(cause_arp_queue)
{
    int fd = shunt_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = RTE_BE16(9),
                              .sin_addr.s_addr = RTE_BE32(RTE_IPV4(10, 0, 0, 77)) };
    int refused = 0;

    /* Datagrams for a neighbour that never answers ARP wait in the queue
     * until its pool (MEMP_NUM_ARP_QUEUE) is full; then they are refused. */
    count_from_here();
    for (int i = 0; i < 600; i++)
        if (shunt_sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) < 0 && errno == ENOBUFS)
            refused++;
    ck_assert_int_eq(refused, 600 - MEMP_NUM_ARP_QUEUE);
    assert_only(SHUNT_DROP_ARP_QUEUE, (uint64_t)refused, "ARP queue");
    shunt_close(fd);
}
END_TEST

START_TEST(cause_pool_empty)
{
    arp_exchange();
    uint8_t part[64] = { 0 };
    count_from_here();
    /* One more datagram under reassembly than lwIP has slots for: the
     * allocation fails once, and lwIP gives up the oldest to make room. */
    for (uint16_t id = 1; id <= MEMP_NUM_REASSDATA + 1; id++)
        ring_send(in, frame_ipv4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, IPPROTO_UDP, id,
                                 RTE_IPV4_HDR_MF_FLAG, part, sizeof(part)));
    assert_only(SHUNT_DROP_POOL_EMPTY, 1, "reassembly slots");
}
END_TEST

START_TEST(cause_tx_ring_full)
{
    arp_exchange();
    count_from_here();
    /* Nobody takes Shunt's replies off the port: its ring (1,023 frames)
     * and then the TX buffer fill up. */
    size_t n = echo4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, RTE_IP_ICMP_ECHO_REQUEST, 1, 16);
    const int pings = 1023 + SHUNT_TX_BUFFER + 10;
    for (int i = 0; i < pings; i++)
        ring_send(in, n);
    assert_only(SHUNT_DROP_TX_RING_FULL, 10, "TX ring");
    /* Once the ring drains, replies flow again. */
    int got = 0;
    while (ring_recv(out, sizeof(out)) > 0)
        got++;
    ck_assert_int_eq(got, 1023 + SHUNT_TX_BUFFER);
    ring_send(in, n);
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), n);
}
END_TEST

START_TEST(cause_tx_nombuf)
{
    int fd = shunt_socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = RTE_BE16(9),
                              .sin_addr.s_addr = RTE_BE32(PEER_IP4) };

    arp_exchange();
    /* Every mbuf taken: a datagram has none to be sent in. */
    unsigned free_mbufs = ring_mbufs_free();
    struct rte_mbuf **hoard = calloc(free_mbufs, sizeof(*hoard));
    ck_assert_int_eq(rte_pktmbuf_alloc_bulk(ring_pool(), hoard, free_mbufs), 0);
    count_from_here();
    ck_assert_int_eq(shunt_sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), -1);
    ck_assert_int_eq(errno, ENOBUFS);
    assert_nothing_sent();
    assert_only(SHUNT_DROP_TX_NOMBUF, 1, "no mbuf to send in");
    /* Given back, they carry the next one. */
    rte_pktmbuf_free_bulk(hoard, free_mbufs);
    free(hoard);
    ck_assert_int_eq(shunt_sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
    ck_assert_uint_gt(ring_recv(out, sizeof(out)), 0);
    shunt_close(fd);
}
END_TEST

/* What the connection hash has found so far. */
static struct shunt_demux_stats demux_stats(void)
{
    return shunt_stack_netif()->demux.stats;
}

/* lwIP's connections (its TCP pcbs in use). */
static unsigned tcp_pcbs(void)
{
    return lwip_stats.memp[MEMP_TCP_PCB]->used;
}

/*
 * Many connections: segments find their pcb through the hash (port/demux.c),
 * and lwIP's active list stays whole while some connections are reset or
 * closed in the middle of it.
 */
START_TEST(many_connections_demuxed)
{
    enum { N = 40, PORT = 7000 };
    int l = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), fds[N];
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(PORT) };
    uint32_t isn[N];
    char buf[64];

    ck_assert_int_eq(shunt_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(shunt_listen(l, N), 0);
    arp_exchange();
    for (int i = 0; i < N; i++) {
        isn[i] = peer_syn((uint16_t)(30000 + i), PORT);
        peer_ack((uint16_t)(30000 + i), PORT, isn[i]);
        fds[i] = shunt_accept4(l, NULL, NULL, SOCK_NONBLOCK);
        ck_assert_int_ge(fds[i], 0);
    }
    ck_assert_uint_eq(shunt_demux_count(&shunt_stack_netif()->demux), N);
    ck_assert_uint_eq(tcp_pcbs(), N);

    /* Data for each, in an order lwIP's list would walk the longest way. */
    for (int i = 0; i < N; i++) {
        char msg[16];
        int len = snprintf(msg, sizeof(msg), "to %d", i);
        ring_send(in, tcp_data(in, (uint16_t)(30000 + i), PORT, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG,
                               1001, isn[i] + 1, msg, (size_t)len));
        ck_assert_int_eq(shunt_recv(fds[i], buf, sizeof(buf), 0), len);
        ck_assert_int_eq(memcmp(buf, msg, (size_t)len), 0);
    }

    /* Every third connection reset by the peer: lwIP frees its pcb while it
     * stands alone in the list, and the real list must lose just that one
     * (or segments for the others would be answered by resets below). */
    int gone = 0;
    for (int i = 0; i < N; i += 3, gone++)
        ring_send(in, tcp_segment(in, (uint16_t)(30000 + i), PORT, RTE_TCP_RST_FLAG,
                                  1001 + (uint32_t)strlen("to 0") + (i >= 10), 0));
    while (ring_recv(out, sizeof(out)) > 0)
        ;
    ck_assert_uint_eq(tcp_pcbs(), N - gone);
    ck_assert_uint_eq(shunt_demux_count(&shunt_stack_netif()->demux), N - gone);
    for (int i = 0; i < N; i += 3) {
        ck_assert_int_eq(shunt_recv(fds[i], buf, sizeof(buf), 0), -1);
        ck_assert_int_eq(errno, ECONNRESET);
    }
    /* The others still get their data. */
    for (int i = 1; i < N; i++) {
        if (i % 3 == 0)
            continue;
        uint32_t seq = 1001 + (uint32_t)snprintf(buf, sizeof(buf), "to %d", i);
        ring_send(in, tcp_data(in, (uint16_t)(30000 + i), PORT, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG,
                               seq, isn[i] + 1, "again", 5));
        ck_assert_int_eq(shunt_recv(fds[i], buf, sizeof(buf), 0), 5);
    }
    for (int i = 0; i < N; i++)
        shunt_close(fds[i]);
    shunt_close(l);
}
END_TEST

/*
 * A program that never waits and never calls shunt_poll() - one that only
 * tries its non-blocking sockets, as programs run under LD_PRELOAD do -
 * still gets its connections and data: a non-blocking call that finds
 * nothing turns the loop once before it says EAGAIN.
 */
/*
 * With many connections, segments the hash does not know skip lwIP's walk
 * of its active list: every connection is in the hash from its first SYN,
 * so what misses belongs to none of them.  New connections still come up
 * both ways, a repeated SYN finds its half-open connection, and a stray
 * ACK is answered by a reset.
 */
START_TEST(unknown_segments_skip_the_walk)
{
    enum { N = 30, PORT = 7200 };
    int l = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(PORT) };
    uint32_t isn;

    ck_assert_int_eq(shunt_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(shunt_listen(l, N + 1), 0);
    arp_exchange();
    for (int i = 0; i <= N; i++) {
        isn = peer_syn((uint16_t)(30000 + i), PORT);
        /* In the hash from its SYN-ACK on, before the handshake ends. */
        ck_assert_uint_eq(shunt_demux_count(&shunt_stack_netif()->demux), (unsigned)i + 1);
        if (i == N) {
            /* The SYN again: the same half-open connection answers. */
            ck_assert_uint_eq(peer_syn((uint16_t)(30000 + i), PORT), isn);
            ck_assert_uint_eq(tcp_pcbs(), (unsigned)N + 1);
        }
        peer_ack((uint16_t)(30000 + i), PORT, isn);
        ck_assert_int_ge(shunt_accept(l, NULL, NULL), 0);
    }

    /* A stray ACK, for no connection: a reset, and the hash said so
     * without a walk of lwIP's list. */
    struct shunt_demux_stats before = demux_stats();
    ring_send(in, tcp_segment(in, 39999, PORT, RTE_TCP_ACK_FLAG, 5000, 6000));
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), 14 + 20 + 20);
    ck_assert_uint_eq(out[14 + 20 + 13] & RTE_TCP_RST_FLAG, RTE_TCP_RST_FLAG);
    struct shunt_demux_stats after = demux_stats();
    ck_assert_uint_eq(after.misses - before.misses, 1);
    ck_assert_uint_eq(after.hits - before.hits, 0);
    ck_assert_uint_eq(after.walks - before.walks, 0);

    /* A connection out: hashed with its SYN, so the SYN-ACK finds it. */
    int c = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = RTE_BE16(8000),
                                .sin_addr.s_addr = RTE_BE32(PEER_IP4) };
    ck_assert_int_eq(shunt_connect(c, (struct sockaddr *)&peer, sizeof(peer)), -1);
    ck_assert_int_eq(errno, EINPROGRESS);
    ck_assert_uint_eq(shunt_demux_count(&shunt_stack_netif()->demux), (unsigned)N + 2);
    ck_assert_uint_gt(ring_recv(out, sizeof(out)), 0);
    const struct rte_tcp_hdr *syn = (const struct rte_tcp_hdr *)(out + 14 + 20);
    uint16_t cport = rte_be_to_cpu_16(syn->src_port);
    uint32_t cisn = rte_be_to_cpu_32(syn->sent_seq);
    before = demux_stats();
    ring_send(in, tcp_segment(in, 8000, cport, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 777, cisn + 1));
    after = demux_stats();
    ck_assert_uint_eq(after.hits - before.hits, 1);
    ck_assert_uint_eq(after.misses - before.misses, 0);
    ck_assert_uint_eq(after.walks - before.walks, 0);
    struct pollfd pfd = { .fd = c, .events = POLLOUT };
    ck_assert_int_eq(shunt_poll_fds(&pfd, 1, 0), 1);
    ck_assert_int_eq(shunt_send(c, "out", 3, 0), 3);
}
END_TEST

static struct tcp_info tcp_info_of(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);

    memset(&ti, 0xff, sizeof(ti));
    ck_assert_int_eq(shunt_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    ck_assert_uint_eq(len, sizeof(ti));
    return ti;
}

enum { INFO_PORT = 7100, INFO_PEER_PORT = 30000 };

/* The next TCP segment Shunt sent, passing over other frames (neighbour
 * discovery comes by as time passes); 0 if there is none. */
static size_t recv_tcp(void)
{
    size_t n;

    while ((n = ring_recv(out, sizeof(out))) > 0 &&
           !(out[12] == 0x08 && out[13] == 0x00 && out[14 + 9] == IPPROTO_TCP))
        ;
    return n;
}

/* A connection from the peer (port 30000, sequence numbers from 1001) to a
 * listener on 7100, accepted, with TCP_NODELAY; *isn is Shunt's ISN. */
static int accepted_connection(int *listener, uint32_t *isn)
{
    int l = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(INFO_PORT) };

    ck_assert_int_eq(shunt_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(shunt_listen(l, 1), 0);
    arp_exchange();
    *isn = peer_syn(INFO_PEER_PORT, INFO_PORT);
    peer_ack(INFO_PEER_PORT, INFO_PORT, *isn);
    int fd = shunt_accept(l, NULL, NULL);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(shunt_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
    *listener = l;
    return fd;
}

/* TCP_INFO follows the connection: established with a full window of
 * segments allowed; after a retransmission timeout, one retransmission
 * counted and the congestion window down to one segment. */
START_TEST(tcp_info_counts_a_retransmission)
{
    int l;
    uint32_t isn;
    int fd = accepted_connection(&l, &isn);

    struct tcp_info ti = tcp_info_of(fd);
    ck_assert_uint_eq(ti.tcpi_state, TCP_ESTABLISHED);
    ck_assert_uint_eq(ti.tcpi_retransmits, 0);
    ck_assert_uint_eq(ti.tcpi_snd_mss, 536);     /* the peer's SYN had no MSS option */
    ck_assert_uint_ge(ti.tcpi_snd_cwnd, 2);
    ck_assert_uint_gt(ti.tcpi_rto, 0);

    /* Data the peer never acknowledges: sent, then sent again. */
    ck_assert_int_eq(shunt_send(fd, "data", 4, 0), 4);
    size_t n = ring_recv(out, sizeof(out));
    ck_assert_uint_eq(n, 14 + 20 + 20 + 4);
    uint8_t first[128];
    memcpy(first, out, n);
    size_t again = 0;
    for (int ms = 0; ms < 10000 && again == 0; ms += 100) {
        ring_advance_ms(100);
        again = recv_tcp();
    }
    ck_assert_uint_eq(again, n);
    ck_assert_mem_eq(out + 14 + 20 + 4, first + 14 + 20 + 4, 4);   /* the same sequence number */
    ti = tcp_info_of(fd);
    ck_assert_uint_eq(ti.tcpi_retransmits, 1);
    ck_assert_uint_eq(ti.tcpi_snd_cwnd, 1);
    ck_assert_uint_eq(ti.tcpi_unacked, 1);
    shunt_close(fd);
    shunt_close(l);
}
END_TEST

/* The round-trip time, to the microsecond of the stack's clock, smoothed
 * as RFC 6298 says: 7 ms, then 3 ms. */
START_TEST(tcp_info_rtt_in_microseconds)
{
    int l;
    uint32_t isn, next = 1;
    int fd = accepted_connection(&l, &isn);

    ring_advance_ms(250);               /* lwIP times nothing at tick 0 */
    const uint32_t rtts[] = { 7, 3 };
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(shunt_send(fd, "ping", 4, 0), 4);
        ck_assert_uint_eq(recv_tcp(), 14 + 20 + 20 + 4);
        next += 4;
        ring_advance_ms(rtts[i]);
        ring_send(in, tcp_segment(in, INFO_PEER_PORT, INFO_PORT, RTE_TCP_ACK_FLAG, 1001,
                                  isn + next));
    }
    struct tcp_info ti = tcp_info_of(fd);
    ck_assert_uint_eq(ti.tcpi_rtt, 7000 - 7000 / 8 + 3000 / 8);        /* 6500 */
    ck_assert_uint_eq(ti.tcpi_rttvar, 3500 - 3500 / 4 + 4000 / 4);     /* 3625 */
    shunt_close(fd);
    shunt_close(l);
}
END_TEST

START_TEST(nonblocking_calls_turn_the_loop)
{
    enum { PORT = 7100, SPORT = 40000 };
    int l = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(PORT) };
    char buf[16];

    ck_assert_int_eq(shunt_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(shunt_listen(l, 4), 0);
    arp_exchange();
    uint32_t isn = peer_syn(SPORT, PORT);

    /* The handshake's last ACK waits on the wire: accept takes it in. */
    ring_put(in, tcp_segment(in, SPORT, PORT, RTE_TCP_ACK_FLAG, 1001, isn + 1));
    int fd = shunt_accept4(l, NULL, NULL, SOCK_NONBLOCK);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(shunt_recv(fd, buf, sizeof(buf), 0), -1);
    ck_assert_int_eq(errno, EAGAIN);

    /* So does recv its data, and MSG_DONTWAIT on a blocking socket. */
    ring_put(in, tcp_data(in, SPORT, PORT, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 1001, isn + 1,
                          "hello", 5));
    ck_assert_int_eq(shunt_recv(fd, buf, sizeof(buf), 0), 5);
    ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
    ck_assert_int_eq(shunt_fcntl(fd, F_SETFL, 0), 0);
    ring_put(in, tcp_data(in, SPORT, PORT, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 1006, isn + 1,
                          "again", 5));
    ck_assert_int_eq(shunt_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 5);
    ck_assert_int_eq(memcmp(buf, "again", 5), 0);
    ck_assert_int_eq(shunt_recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, EAGAIN);
    shunt_close(fd);
    shunt_close(l);
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

/* ---- UDP ------------------------------------------------------------------- */

/* As on Linux, SO_BROADCAST is for sending: a socket on the port receives
 * limited and directed broadcasts without it. */
START_TEST(broadcasts_received_without_so_broadcast)
{
    int s = shunt_socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(9) };
    char buf[16];

    ck_assert_int_eq(shunt_bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    ring_send(in, udp_datagram_to(in, &broadcast_mac, 0xffffffffu /* 255.255.255.255 */, 40000, 9,
                                  "limited", 7));
    ring_send(in, udp_datagram_to(in, &broadcast_mac, RTE_IPV4(10, 0, 0, 255), 40000, 9,
                                  "directed", 8));
    ck_assert_int_eq(shunt_recv(s, buf, sizeof(buf), MSG_DONTWAIT), 7);
    ck_assert_mem_eq(buf, "limited", 7);
    ck_assert_int_eq(shunt_recv(s, buf, sizeof(buf), MSG_DONTWAIT), 8);
    ck_assert_mem_eq(buf, "directed", 8);
    ck_assert_int_eq(shunt_close(s), 0);
}
END_TEST

/* The frame in out (n bytes) is an IGMPv3 report (RFC 3376 4.2) to the
 * routers, 224.0.0.22, of one group record: rtype for group, no sources. */
static void assert_igmp(size_t n, uint8_t rtype, uint32_t group)
{
    const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(out + 14);
    size_t hl = (ip->version_ihl & 0x0f) * 4u, len = rte_be_to_cpu_16(ip->total_length) - hl;
    const uint8_t *igmp = out + 14 + hl;
    uint32_t g;

    ck_assert_uint_ge(n, 14 + hl + 16);
    ck_assert_uint_eq(out[0], 0x01);            /* a multicast MAC: 01:00:5e + 23 bits */
    ck_assert_uint_eq(out[2], 0x5e);
    ck_assert_uint_eq(ip->next_proto_id, IPPROTO_IGMP);
    ck_assert_uint_eq(ip->time_to_live, 1);
    ck_assert_uint_eq(rte_be_to_cpu_32(ip->dst_addr), 0xe0000016u);
    ck_assert_uint_eq(len, 16);
    ck_assert_uint_eq(igmp[0], 0x22);
    ck_assert_uint_eq(igmp[7], 1);              /* one record */
    ck_assert_uint_eq(igmp[8], rtype);
    ck_assert_uint_eq(igmp[11], 0);             /* no sources */
    memcpy(&g, igmp + 12, 4);
    ck_assert_uint_eq(rte_be_to_cpu_32(g), group);
    ck_assert_uint_eq(rte_raw_cksum(igmp, len), 0xffff);
}

/* Joining a group says so to the routers (CHANGE_TO_EXCLUDE {}); leaving
 * it, when no socket is left in it, too (CHANGE_TO_INCLUDE {}).  Their
 * repeats, queries and the rest: tests/pkt/test-mcreport. */
START_TEST(igmp_reports_join_and_leave)
{
    const uint32_t group = 0xef010203u;     /* 239.1.2.3 (RTE_IPV4 overflows an int) */
    int a = shunt_socket(AF_INET, SOCK_DGRAM, 0), b = shunt_socket(AF_INET, SOCK_DGRAM, 0);
    struct ip_mreq mr = { .imr_multiaddr.s_addr = RTE_BE32(group),
                          .imr_interface.s_addr = RTE_BE32(SHUNT_IP4) };

    ck_assert_int_eq(shunt_setsockopt(a, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)), 0);
    assert_igmp(ring_recv(out, sizeof(out)), 4, group);
    assert_nothing_sent();
    /* A second socket in the group: the host is already a member. */
    ck_assert_int_eq(shunt_setsockopt(b, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)), 0);
    assert_nothing_sent();
    ck_assert_int_eq(shunt_setsockopt(a, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)), 0);
    assert_nothing_sent();
    ck_assert_int_eq(shunt_close(b), 0);        /* closing leaves the group too */
    assert_igmp(ring_recv(out, sizeof(out)), 3, group);
    assert_nothing_sent();
}
END_TEST

/* An ICMP port unreachable quoting the datagram Shunt just sent (in out). */
static size_t port_unreachable(uint8_t *b, size_t quote_len)
{
    uint8_t msg[8 + 28] = { 3, 3 };     /* destination unreachable, port */

    memcpy(msg + 8, out + 14, quote_len);
    uint16_t sum = (uint16_t)~rte_raw_cksum(msg, 8 + quote_len);
    memcpy(msg + 2, &sum, 2);
    return frame_ipv4(b, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, IPPROTO_ICMP, 3, 0, msg,
                      8 + quote_len);
}

/* A connected socket learns of a closed port as ECONNREFUSED, once the
 * message's checksum holds; the message was used, not dropped. */
START_TEST(port_unreachable_refuses_a_connected_socket)
{
    int s = shunt_socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = RTE_BE16(9000),
                              .sin_addr.s_addr = RTE_BE32(PEER_IP4) };
    char buf[16];

    arp_exchange();
    count_from_here();
    ck_assert_int_eq(shunt_connect(s, (struct sockaddr *)&to, sizeof(to)), 0);

    /* A corrupt message is not believed. */
    ck_assert_int_eq(shunt_send(s, "x", 1, 0), 1);
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), 14 + 28 + 1);
    size_t n = port_unreachable(in, 28);
    in[n - 1] ^= 0xff;
    ring_send(in, n);
    ck_assert_int_eq(shunt_recv(s, buf, sizeof(buf), MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, EAGAIN);
    assert_only(SHUNT_DROP_BAD_CHECKSUM, 1, "a corrupt port unreachable");

    ring_send(in, port_unreachable(in, 28));
    ck_assert_int_eq(shunt_recv(s, buf, sizeof(buf), MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, ECONNREFUSED);
    assert_only(SHUNT_DROP_CAUSES, 0, "a port unreachable a socket took");
    ck_assert_int_eq(shunt_close(s), 0);
}
END_TEST

/*
 * A port unreachable is acted on only once its own IPv4 header holds
 * together: its header length, its total length and its header checksum
 * are checked before the quoted datagram is read.  Each broken one is
 * dropped under its cause, and the socket hears nothing of it.
 */
START_TEST(port_unreachable_with_a_bad_ip_header_not_believed)
{
    int s = shunt_socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = RTE_BE16(9000),
                              .sin_addr.s_addr = RTE_BE32(PEER_IP4) };
    const struct {
        const char *what;
        size_t offset;
        uint8_t value;
        enum shunt_drop_cause cause;
    } bad[] = {
        { "IHL below 5", 14, 0x44, SHUNT_DROP_BAD_FRAME },
        { "IHL of 0", 14, 0x40, SHUNT_DROP_BAD_FRAME },
        { "total length beyond the frame", 14 + 2, 0x7f, SHUNT_DROP_BAD_FRAME },
        { "total length below the header", 14 + 3, 0x10, SHUNT_DROP_BAD_FRAME },
        { "header checksum", 14 + 10, 0x00, SHUNT_DROP_BAD_CHECKSUM },
    };
    char buf[16];

    arp_exchange();
    ck_assert_int_eq(shunt_connect(s, (struct sockaddr *)&to, sizeof(to)), 0);
    ck_assert_int_eq(shunt_send(s, "x", 1, 0), 1);
    ck_assert_uint_eq(ring_recv(out, sizeof(out)), 14 + 28 + 1);
    count_from_here();
    for (size_t i = 0; i < RTE_DIM(bad); i++) {
        size_t n = port_unreachable(in, 28);
        if (bad[i].offset == 14 + 3)
            in[14 + 2] = 0;             /* a total length of 16 */
        in[bad[i].offset] = bad[i].value;
        ring_send(in, n);
        ck_assert_msg(shunt_recv(s, buf, sizeof(buf), MSG_DONTWAIT) == -1 && errno == EAGAIN,
                      "%s: the socket heard of it", bad[i].what);
        assert_only(bad[i].cause, 1, bad[i].what);
    }
    ring_send(in, port_unreachable(in, 28));
    ck_assert_int_eq(shunt_recv(s, buf, sizeof(buf), MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, ECONNREFUSED);
    ck_assert_int_eq(shunt_close(s), 0);
}
END_TEST

/* ---- the classifier: a verdict for every frame ------------------------------ */

static struct shunt_counters verdicts_before;

static void count_verdicts_from_here(void)
{
    verdicts_before = ring_counters();
}

/* Since the last call: verdict v given exactly n more times. */
static void assert_verdict(enum shunt_verdict v, uint64_t n, const char *what)
{
    struct shunt_counters now = ring_counters();
    uint64_t moved = now.verdicts[v] - verdicts_before.verdicts[v];

    ck_assert_msg(moved == n, "%s: verdict %s given %lu times, want %lu", what,
                  shunt_verdict_name(v), (unsigned long)moved, (unsigned long)n);
    verdicts_before.verdicts[v] = now.verdicts[v];
}

START_TEST(every_frame_has_one_verdict)
{
    int l = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int u = shunt_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(7300) };
    struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = RTE_BE16(7301) };
    uint8_t part[64] = { 0 };

    ck_assert_int_eq(shunt_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(shunt_listen(l, 4), 0);
    ck_assert_int_eq(shunt_bind(u, (struct sockaddr *)&b, sizeof(b)), 0);
    struct shunt_counters start = ring_counters();
    count_verdicts_from_here();

    arp_exchange();
    assert_verdict(SHUNT_VERDICT_ARP, 1, "an ARP request for us");
    ring_send(in, frame_arp(in, RTE_ARP_OP_REQUEST, &broadcast_mac, &peer_mac, PEER_IP4,
                            &zero_mac, RTE_IPV4(10, 0, 0, 77)));
    assert_verdict(SHUNT_VERDICT_ARP_OTHER, 1, "an ARP request for another host");
    exchange(echo4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, RTE_IP_ICMP_ECHO_REQUEST, 1, 8),
             echo4(want, &peer_mac, &shunt_mac, SHUNT_IP4, PEER_IP4, RTE_IP_ICMP_ECHO_REPLY, 1, 8));
    assert_verdict(SHUNT_VERDICT_ICMP, 1, "a ping");
    uint32_t isn = peer_syn(40000, 7300);
    assert_verdict(SHUNT_VERDICT_TCP_LISTEN, 1, "a SYN for a listener");
    peer_ack(40000, 7300, isn);
    assert_verdict(SHUNT_VERDICT_TCP, 1, "the handshake's last ACK");
    ring_send(in, tcp_segment(in, 40001, 7399, RTE_TCP_SYN_FLAG, 1000, 0));
    assert_verdict(SHUNT_VERDICT_NO_SOCKET, 1, "a SYN for a closed port");
    ring_send(in, udp_datagram(in, 40000, 7301, "x", 1));
    assert_verdict(SHUNT_VERDICT_UDP, 1, "a datagram for a socket");
    ring_send(in, udp_datagram(in, 40000, 7302, "x", 1));
    assert_verdict(SHUNT_VERDICT_NO_SOCKET, 1, "a datagram for a closed port");
    ring_send(in, frame_ipv4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, IPPROTO_UDP, 9,
                             RTE_IPV4_HDR_MF_FLAG, part, sizeof(part)));
    assert_verdict(SHUNT_VERDICT_FRAGMENT, 1, "a fragment");
    ring_send(in, echo4(in, &other_mac, &peer_mac, PEER_IP4, SHUNT_IP4,
                        RTE_IP_ICMP_ECHO_REQUEST, 2, 8));
    assert_verdict(SHUNT_VERDICT_NOT_OURS, 1, "a frame for another MAC");
    size_t n = echo4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, RTE_IP_ICMP_ECHO_REQUEST, 3, 8);
    in[12] = 0x88;
    in[13] = 0xb5;
    ring_send(in, n);
    assert_verdict(SHUNT_VERDICT_NOT_OURS, 1, "a protocol nobody speaks here");
    ring_send(in, 10);
    assert_verdict(SHUNT_VERDICT_MALFORMED, 1, "a frame cut short");
    while (ring_recv(out, sizeof(out)) > 0)
        ;

    /* Every frame got one verdict: they add up to the frames received. */
    struct shunt_counters end = ring_counters();
    uint64_t judged = 0;
    for (int v = 0; v < SHUNT_VERDICTS; v++)
        judged += end.verdicts[v] - start.verdicts[v];
    ck_assert_uint_eq(judged, end.rx_packets - start.rx_packets);
    ck_assert_uint_eq(judged, 12);
    shunt_close(u);
    shunt_close(l);
}
END_TEST

/* ---- the loop ------------------------------------------------------------- */

/* What the poll hook saw, calling Shunt from inside the loop's turn. */
static struct {
    int fd;
    ssize_t got, blocked, dontwait;
    int blocked_errno, dontwait_errno, poll_rc, poll_errno, epoll_rc, epoll_zero, epoll_errno;
    int pollfds_rc, pollfds_errno;
    int ep;
    bool ran;
} in_hook;

static void calls_from_the_hook(void *arg)
{
    char buf[16];
    struct epoll_event ev;
    struct pollfd p = { .fd = in_hook.fd, .events = POLLIN };

    (void)arg;
    if (in_hook.ran)
        return;
    in_hook.ran = true;
    /* A blocking call that need not wait succeeds; one that would wait
     * cannot, inside a turn: EDEADLK, not a turn within the turn. */
    in_hook.got = shunt_recv(in_hook.fd, buf, sizeof(buf), 0);
    in_hook.blocked = shunt_recv(in_hook.fd, buf, sizeof(buf), 0);
    in_hook.blocked_errno = errno;
    in_hook.dontwait = shunt_recv(in_hook.fd, buf, sizeof(buf), MSG_DONTWAIT);
    in_hook.dontwait_errno = errno;
    in_hook.poll_rc = shunt_poll();
    in_hook.poll_errno = errno;
    in_hook.epoll_zero = shunt_epoll_wait(in_hook.ep, &ev, 1, 0);
    in_hook.epoll_rc = shunt_epoll_wait(in_hook.ep, &ev, 1, 10);
    in_hook.epoll_errno = errno;
    in_hook.pollfds_rc = shunt_poll_fds(&p, 1, 10);
    in_hook.pollfds_errno = errno;
}

START_TEST(waiting_from_inside_a_turn_fails_with_edeadlk)
{
    int u = shunt_socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = RTE_BE16(7400) };
    struct epoll_event ev = { .events = EPOLLIN };

    ck_assert_int_eq(shunt_bind(u, (struct sockaddr *)&b, sizeof(b)), 0);
    in_hook.fd = u;
    in_hook.ep = shunt_epoll_create1(0);
    ck_assert_int_eq(shunt_epoll_ctl(in_hook.ep, EPOLL_CTL_ADD, u, &ev), 0);
    arp_exchange();
    ring_put(in, udp_datagram(in, 40000, 7400, "hello", 5));
    shunt_set_poll_hook(calls_from_the_hook, NULL);
    ck_assert_int_ge(shunt_poll(), 1);
    shunt_set_poll_hook(NULL, NULL);

    ck_assert(in_hook.ran);
    ck_assert_int_eq(in_hook.got, 5);
    ck_assert_int_eq(in_hook.blocked, -1);
    ck_assert_int_eq(in_hook.blocked_errno, EDEADLK);
    ck_assert_int_eq(in_hook.dontwait, -1);
    ck_assert_int_eq(in_hook.dontwait_errno, EAGAIN);
    ck_assert_int_eq(in_hook.poll_rc, -1);
    ck_assert_int_eq(in_hook.poll_errno, EDEADLK);
    ck_assert_int_eq(in_hook.epoll_zero, 0);
    ck_assert_int_eq(in_hook.epoll_rc, -1);
    ck_assert_int_eq(in_hook.epoll_errno, EDEADLK);
    ck_assert_int_eq(in_hook.pollfds_rc, -1);
    ck_assert_int_eq(in_hook.pollfds_errno, EDEADLK);
    /* Outside the hook, the loop turns as ever. */
    ck_assert_int_ge(shunt_poll(), 0);
    shunt_close(in_hook.ep);
    shunt_close(u);
}
END_TEST

/* An instance owns the queue its configuration names: it answers what
 * comes on queue 1, leaves queue 0 to whoever owns it, and names its DPDK
 * objects after its queue. */
START_TEST(instance_owns_its_queue)
{
    ck_assert_ptr_nonnull(rte_mempool_lookup("shunt1_mbufs"));
    ck_assert_ptr_null(rte_mempool_lookup("shunt0_mbufs"));
    arp_exchange();
    size_t n = echo4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, RTE_IP_ICMP_ECHO_REQUEST, 1, 8);
    ring_put_on(0, in, n);
    for (int i = 0; i < 4; i++)
        shunt_poll();
    ck_assert_uint_eq(ring_waiting(0), 1);
    assert_nothing_sent();
    exchange(n, echo4(want, &peer_mac, &shunt_mac, SHUNT_IP4, PEER_IP4, RTE_IP_ICMP_ECHO_REPLY, 1, 8));
}
END_TEST

/* ---- loopback ------------------------------------------------------------- */

/* Turn the loop until fd has events (or give up after many turns: the test
 * clock stands still, so no timeout would ever pass). */
static short turn_until(int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };

    for (int i = 0; i < 1000; i++)
        if (shunt_poll_fds(&p, 1, 0) == 1)
            return p.revents;
    return 0;
}

/* On a port that fills in IP, UDP and TCP checksums as it transmits, lwIP
 * leaves them blank; what the stack sends its own address still arrives. */
START_TEST(own_address_reached_with_checksum_offload)
{
    struct shunt_netif *sn = shunt_stack_netif();
    sn->checksums = shunt_mbuf_sw_checksums(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
                                            RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
                                            RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
    NETIF_SET_CHECKSUM_CTRL(&sn->netif, sn->checksums);
    count_from_here();
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(7001),
                             .sin_addr.s_addr = RTE_BE32(SHUNT_IP4) };
    char buf[16];

    int u = shunt_socket(AF_INET, SOCK_DGRAM, 0), v = shunt_socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_eq(shunt_bind(u, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(shunt_sendto(v, "datagram", 8, 0, (struct sockaddr *)&a, sizeof(a)), 8);
    ck_assert_int_eq(turn_until(u, POLLIN), POLLIN);
    ck_assert_int_eq(shunt_recv(u, buf, sizeof(buf), 0), 8);

    int l = shunt_socket(AF_INET, SOCK_STREAM, 0);
    int c = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ck_assert_int_eq(shunt_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(shunt_listen(l, 1), 0);
    ck_assert_int_eq(shunt_connect(c, (struct sockaddr *)&a, sizeof(a)), -1);
    ck_assert_int_eq(errno, EINPROGRESS);
    ck_assert_int_eq(turn_until(l, POLLIN), POLLIN);
    int s = shunt_accept(l, NULL, NULL);
    ck_assert_int_ge(s, 0);
    ck_assert_int_eq(turn_until(c, POLLOUT), POLLOUT);
    ck_assert_int_eq(shunt_send(c, "stream", 6, 0), 6);
    ck_assert_int_eq(turn_until(s, POLLIN), POLLIN);
    ck_assert_int_eq(shunt_recv(s, buf, sizeof(buf), 0), 6);
    ck_assert_mem_eq(buf, "stream", 6);
    assert_only(SHUNT_DROP_CAUSES, 0, "to our own address");
}
END_TEST

/* ---- capture -------------------------------------------------------------- */

/* A new capture to the file of the one under way starts the file afresh:
 * the old capture's frames do not end up in (or over) the new one's. */
START_TEST(capture_restarts_on_the_same_file)
{
    char path[] = "/tmp/test-pkt-capture.XXXXXX", err[256];
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);

    arp_exchange();
    ck_assert_msg(shunt_stack_capture_start(path, "icmp", err, sizeof(err)) == 0, "%s", err);
    for (uint16_t seq = 1; seq <= 3; seq++) {
        size_t n = echo4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4,
                         RTE_IP_ICMP_ECHO_REQUEST, seq, 56);
        size_t w = echo4(want, &peer_mac, &shunt_mac, SHUNT_IP4, PEER_IP4,
                         RTE_IP_ICMP_ECHO_REPLY, seq, 56);
        exchange(n, w);
    }
    ck_assert_msg(shunt_stack_capture_start(path, "arp", err, sizeof(err)) == 0, "%s", err);
    arp_exchange();
    shunt_stack_capture_stop();

    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, perr);
    ck_assert_msg(p != NULL, "%s", perr);
    struct pcap_pkthdr *h;
    const u_char *data;
    int frames = 0, rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        ck_assert_uint_eq(h->caplen, 42);
        ck_assert_uint_eq(data[12] << 8 | data[13], RTE_ETHER_TYPE_ARP);
        frames++;
    }
    ck_assert_msg(rc == PCAP_ERROR_BREAK, "the file does not end after its frames: %s",
                  pcap_geterr(p));
    pcap_close(p);
    unlink(path);
    ck_assert_int_eq(frames, 2);
}
END_TEST

/* A case of tests, each on a fresh stack brought up by up(); whatever a
 * test sent, every frame ended somewhere (stack/stats.h). */
static TCase *ring_case(Suite *s, const char *name, void (*up)(void))
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, up, ring_stack_down_balanced);
    suite_add_tcase(s, tc);
    return tc;
}

int main(void)
{
    Suite *s = suite_create("packets");

    add_tests(ring_case(s, "startup", ring_stack_up), announces_itself_with_gratuitous_arp);
    add_tests(ring_case(s, "arp", ring_stack_up), arp_request_answered,
              arp_for_another_address_ignored, gratuitous_arp_moves_the_peer,
              reply_waits_for_arp);
    add_tests(ring_case(s, "icmp", ring_stack_up), ping_answered, ping_in_a_chained_mbuf_answered,
              broadcast_ping_ignored, bad_icmp_checksum_dropped,
              fragmented_ping_answered_in_fragments, incomplete_datagram_expires);
    add_tests(ring_case(s, "ipv6", ring_stack_up), neighbor_solicitation_answered,
              link_local_address_answers, ping6_answered, ping6_for_another_address_dropped,
              fragmented_ping6_answered, ipv6_datagram_too_big_for_lwip_dropped);
    add_tests(ring_case(s, "causes", ring_stack_up), cause_bad_tcp_and_udp_checksums,
              cause_no_socket, cause_reassembly_timeout, cause_socket_full, cause_backlog_full,
              cause_arp_queue, cause_pool_empty, cause_tx_ring_full, cause_tx_nombuf);
    add_tests(ring_case(s, "tcp", ring_stack_up), many_connections_demuxed,
              nonblocking_calls_turn_the_loop, tcp_info_counts_a_retransmission,
              tcp_info_rtt_in_microseconds, unknown_segments_skip_the_walk);
    add_tests(ring_case(s, "udp", ring_stack_up), broadcasts_received_without_so_broadcast,
              port_unreachable_refuses_a_connected_socket,
              port_unreachable_with_a_bad_ip_header_not_believed, igmp_reports_join_and_leave);
    add_tests(ring_case(s, "classifier", ring_stack_up), every_frame_has_one_verdict);
    add_tests(ring_case(s, "loop", ring_stack_up), waiting_from_inside_a_turn_fails_with_edeadlk);
    add_tests(ring_case(s, "queue", ring_stack_up_on_queue_1), instance_owns_its_queue);
    add_tests(ring_case(s, "loopback", ring_stack_up), own_address_reached_with_checksum_offload);
    add_tests(ring_case(s, "capture", ring_stack_up), capture_restarts_on_the_same_file);
    add_tests(ring_case(s, "drops", ring_stack_up), truncated_frame_dropped, truncated_arp_dropped,
              frame_for_another_mac_dropped, packet_for_another_ip_dropped,
              malformed_packets_dropped, counters_add_up);

    return run_suite(s);
}
