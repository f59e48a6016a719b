/*
 * test-balance.c - frames that add up (stack/stats.h): each kind of frame
 * goes in over a net_ring port, and the test checks the one term of the
 * balance it moved - consumed, held where, or dropped under which cause -
 * and that the balance holds after it, both ways.
 */
#include <check.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "shunt/socket.h"
#include "stack.h"

#include "frames.h"
#include "ring.h"
#include "suite.h"

static uint8_t in[FRAME_MAX], out[FRAME_MAX];
static const struct rte_ether_addr zero_mac = { { 0 } };
static const struct rte_ether_addr other_mac = { { 0x02, 0, 0, 0, 0, 0x99 } };

enum { LISTEN_PORT = 7500, UDP_PORT = 7501, PEER_PORT = 31000, PEER_ISN = 1000 };

/* ---- what moved ------------------------------------------------------------- */

/* The balance's terms, as they stood at the last check. */
static struct shunt_balance last;
static struct shunt_counters last_counters;

struct moved {
    int64_t consumed, in_sockets, held_tcp, held_reassembly, held_faults, copies;
    enum shunt_drop_cause cause;        /* SHUNT_DROP_CAUSES: none */
    uint64_t dropped;
};

static void drain_sent(void)
{
    while (ring_recv(out, sizeof(out)) > 0)
        ;
}

/* What the frames since the last check did: exactly what m says, and the
 * balance holds. */
static void expect(const char *what, struct moved m)
{
    drain_sent();
    ring_assert_balance();
    struct shunt_balance now = ring_balance();
    struct shunt_counters c = ring_counters();

#define MOVED(field, want) \
    ck_assert_msg((int64_t)(now.field - last.field) == (want), "%s: " #field " moved by %ld, " \
                  "want %ld", what, (long)(now.field - last.field), (long)(want))
    MOVED(consumed, m.consumed);
    MOVED(in_sockets, m.in_sockets);
    MOVED(held_tcp, m.held_tcp);
    MOVED(held_reassembly, m.held_reassembly);
    MOVED(held_faults_rx, m.held_faults);
    MOVED(rx_copies, m.copies);
#undef MOVED
    for (int i = 0; i < SHUNT_DROP_CAUSES; i++) {
        if (!shunt_drop_is_rx(i))
            continue;
        uint64_t want = i == (int)m.cause ? m.dropped : 0;
        ck_assert_msg(c.drops[i] - last_counters.drops[i] == want, "%s: %s moved by %lu, want %lu",
                      what, shunt_drop_name(i), (unsigned long)(c.drops[i] - last_counters.drops[i]),
                      (unsigned long)want);
    }
    last = now;
    last_counters = c;
}

#define NO_DROP .cause = SHUNT_DROP_CAUSES

static void from_here(void)
{
    drain_sent();
    last = ring_balance();
    last_counters = ring_counters();
}

/* ---- frames ---------------------------------------------------------------------- */

static size_t tcp_to(uint8_t *b, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
                     const void *data, size_t len)
{
    return frame_tcp4(b, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, PEER_PORT, dport, flags,
                      seq, ack, 65535, 0, data, len);
}

static void arp_request(void)
{
    ring_send(in, frame_arp(in, RTE_ARP_OP_REQUEST, &broadcast_mac, &peer_mac, PEER_IP4,
                            &zero_mac, SHUNT_IP4));
}

static size_t ping(uint8_t *b, const struct rte_ether_addr *dst, uint16_t seq)
{
    uint8_t msg[64];
    size_t m = icmp4_echo(msg, RTE_IP_ICMP_ECHO_REQUEST, 0x77, seq, "abcdefgh", 8);

    return frame_ipv4(b, dst, &peer_mac, PEER_IP4, SHUNT_IP4, IPPROTO_ICMP, seq, 0, msg, m);
}

/* A connection from the peer to a listener, accepted: Shunt's ISN in *isn. */
static int connection(uint32_t *isn)
{
    int l = shunt_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(LISTEN_PORT) };

    ck_assert_int_eq(shunt_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(shunt_listen(l, 4), 0);
    ring_send(in, tcp_to(in, LISTEN_PORT, RTE_TCP_SYN_FLAG, PEER_ISN, 0, "", 0));
    ck_assert_uint_ge(ring_recv(out, sizeof(out)), 14 + 20 + 20);
    *isn = rte_be_to_cpu_32(((struct rte_tcp_hdr *)(out + 14 + 20))->sent_seq);
    expect("a SYN for a listener", (struct moved){ .consumed = 1, NO_DROP });
    ring_send(in, tcp_to(in, LISTEN_PORT, RTE_TCP_ACK_FLAG, PEER_ISN + 1, *isn + 1, "", 0));
    int fd = shunt_accept(l, NULL, NULL);
    ck_assert_int_ge(fd, 0);
    expect("the handshake's ACK", (struct moved){ .consumed = 1, NO_DROP });
    return fd;
}

/* A UDP datagram of len bytes to Shunt, cut into IPv4 fragments of chunk
 * bytes (a multiple of 8); only the fragments of mask (bit i: fragment i)
 * are sent.  Returns how many were. */
static unsigned udp_in_fragments(uint16_t id, size_t len, size_t chunk, unsigned mask)
{
    static uint8_t whole[FRAME_MAX], data[FRAME_MAX];
    memset(data, 'f', len);
    size_t n = frame_udp4(whole, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, PEER_PORT, UDP_PORT,
                          data, len);
    const uint8_t *ip_payload = whole + 14 + 20;
    size_t total = n - 14 - 20;
    unsigned sent = 0;

    for (size_t off = 0, i = 0; off < total; off += chunk, i++) {
        size_t part = total - off < chunk ? total - off : chunk;
        uint16_t frag = (uint16_t)(off / 8) | (off + part < total ? RTE_IPV4_HDR_MF_FLAG : 0);
        if (!(mask & (1u << i)))
            continue;
        ring_send(in, frame_ipv4(in, &shunt_mac, &peer_mac, PEER_IP4, SHUNT_IP4, IPPROTO_UDP, id,
                                 frag, ip_payload + off, part));
        sent++;
    }
    return sent;
}

/* ---- the tests -------------------------------------------------------------------- */

START_TEST(link_and_ip_exchanges_are_consumed)
{
    from_here();
    arp_request();
    expect("an ARP request, answered", (struct moved){ .consumed = 1, NO_DROP });
    ring_send(in, frame_arp(in, RTE_ARP_OP_REPLY, &shunt_mac, &peer_mac, PEER_IP4, &shunt_mac,
                            SHUNT_IP4));
    expect("an ARP reply", (struct moved){ .consumed = 1, NO_DROP });
    ring_send(in, ping(in, &shunt_mac, 1));
    ck_assert_uint_gt(ring_recv(out, sizeof(out)), 0);
    expect("a ping, answered", (struct moved){ .consumed = 1, NO_DROP });
    ring_send(in, frame_arp(in, RTE_ARP_OP_REQUEST, &broadcast_mac, &peer_mac, PEER_IP4,
                            &zero_mac, RTE_IPV4(10, 0, 0, 77)));
    expect("ARP about another host", (struct moved){ .cause = SHUNT_DROP_NOT_FOR_US, .dropped = 1 });
}
END_TEST

START_TEST(tcp_data_acks_and_out_of_order)
{
    uint32_t isn;
    char buf[64];

    arp_request();
    from_here();
    int fd = connection(&isn);
    uint32_t seq = PEER_ISN + 1, ack = isn + 1;

    ring_send(in, tcp_to(in, LISTEN_PORT, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, seq, ack, "0123", 4));
    expect("data, in order", (struct moved){ .consumed = 1, .in_sockets = 1, NO_DROP });
    ck_assert_int_eq(shunt_recv(fd, buf, sizeof(buf), 0), 4);
    expect("data, read", (struct moved){ .in_sockets = -1, NO_DROP });
    seq += 4;
    ring_send(in, tcp_to(in, LISTEN_PORT, RTE_TCP_ACK_FLAG, seq, ack, "", 0));
    expect("a pure ACK", (struct moved){ .consumed = 1, NO_DROP });

    /* Two segments past a hole are held; the one that fills it takes them out. */
    ring_send(in, tcp_to(in, LISTEN_PORT, RTE_TCP_ACK_FLAG, seq + 4, ack, "4567", 4));
    ring_send(in, tcp_to(in, LISTEN_PORT, RTE_TCP_ACK_FLAG, seq + 8, ack, "89ab", 4));
    expect("out of order", (struct moved){ .held_tcp = 2, NO_DROP });
    ring_send(in, tcp_to(in, LISTEN_PORT, RTE_TCP_ACK_FLAG, seq, ack, "wxyz", 4));
    expect("the hole filled", (struct moved){ .consumed = 3, .in_sockets = 3, .held_tcp = -2, NO_DROP });
    ck_assert_int_eq(shunt_recv(fd, buf, sizeof(buf), 0), 12);
    ck_assert_int_eq(memcmp(buf, "wxyz456789ab", 12), 0);
    expect("all of it read", (struct moved){ .in_sockets = -3, NO_DROP });
    seq += 12;

    /* An RST not at RCV.NXT is refused (RFC 5961), a challenge ACK sent. */
    ring_send(in, tcp_to(in, LISTEN_PORT, RTE_TCP_RST_FLAG, seq + 100, 0, "", 0));
    expect("a blind RST", (struct moved){ .cause = SHUNT_DROP_TCP_INVALID, .dropped = 1 });
    shunt_close(fd);
    ring_advance_ms(1000);
    expect("the close's exchange", (struct moved){ NO_DROP });
}
END_TEST

START_TEST(fragments_held_then_consumed_or_given_up)
{
    int u = shunt_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = RTE_BE16(UDP_PORT) };
    char buf[2048];

    ck_assert_int_eq(shunt_bind(u, (struct sockaddr *)&a, sizeof(a)), 0);
    arp_request();
    from_here();
    ck_assert_uint_eq(udp_in_fragments(1, 1000, 400, 0x3), 2);
    expect("two fragments of three", (struct moved){ .held_reassembly = 2, NO_DROP });
    ck_assert_uint_eq(udp_in_fragments(1, 1000, 400, 0x4), 1);
    expect("the datagram complete", (struct moved){ .consumed = 3, .in_sockets = 3,
                                                   .held_reassembly = -2, NO_DROP });
    ck_assert_int_eq(shunt_recv(u, buf, sizeof(buf), 0), 1000);
    expect("the datagram read", (struct moved){ .in_sockets = -3, NO_DROP });

    /* Out of order and never completed: held until the timer gives up. */
    ck_assert_uint_eq(udp_in_fragments(2, 1000, 400, 0x6), 2);
    expect("a datagram missing its start", (struct moved){ .held_reassembly = 2, NO_DROP });
    ring_advance_ms(20000);
    expect("the reassembly timeout", (struct moved){ .held_reassembly = -2,
                                                    .cause = SHUNT_DROP_REASSEMBLY, .dropped = 2 });
    shunt_close(u);
}
END_TEST

START_TEST(frames_dropped_under_one_cause)
{
    arp_request();
    from_here();
    ring_send(in, tcp_to(in, 7599, RTE_TCP_SYN_FLAG, 1, 0, "", 0));
    expect("a SYN to a closed port", (struct moved){ .cause = SHUNT_DROP_NO_SOCKET, .dropped = 1 });
    ring_send(in, ping(in, &other_mac, 2));
    expect("a frame for another MAC", (struct moved){ .cause = SHUNT_DROP_NOT_FOR_US, .dropped = 1 });
    size_t n = ping(in, &shunt_mac, 3);
    in[14 + 10] ^= 0x55;                /* the IP header checksum */
    ring_send(in, n);
    expect("a bad IP checksum", (struct moved){ .cause = SHUNT_DROP_BAD_CHECKSUM, .dropped = 1 });
    n = tcp_to(in, LISTEN_PORT, RTE_TCP_SYN_FLAG, 1, 0, "", 0);
    in[14 + 20 + 16] ^= 0x55;           /* the TCP checksum */
    ring_send(in, n);
    expect("a bad TCP checksum", (struct moved){ .cause = SHUNT_DROP_BAD_CHECKSUM, .dropped = 1 });
    n = ping(in, &shunt_mac, 4);
    in[14 + 20 + 2] ^= 0x55;            /* the ICMP checksum */
    ring_send(in, n);
    expect("a bad ICMP checksum", (struct moved){ .cause = SHUNT_DROP_BAD_CHECKSUM, .dropped = 1 });
    ring_send(in, 20);
    expect("a frame cut short", (struct moved){ .cause = SHUNT_DROP_BAD_FRAME, .dropped = 1 });
}
END_TEST

/* The fault stage's drops are a cause, its copies a source, what it holds
 * back a held term; on the way out the same. */
START_TEST(fault_stage_fits_the_balance)
{
    char err[256];

    arp_request();
    from_here();
    ck_assert_int_eq(shunt_stack_faults("rx:drop=1", err, sizeof(err)), 0);
    ring_send(in, ping(in, &shunt_mac, 1));
    expect("dropped on purpose", (struct moved){ .cause = SHUNT_DROP_FAULT, .dropped = 1 });
    ck_assert_int_eq(shunt_stack_faults("rx:dup=1;tx:dup=1", err, sizeof(err)), 0);
    ring_send(in, ping(in, &shunt_mac, 2));
    struct shunt_balance b = ring_balance();
    ck_assert_uint_eq(b.tx_copies - last.tx_copies, 2);     /* both replies, copied */
    expect("copied: two pings answered", (struct moved){ .consumed = 2, .copies = 1, NO_DROP });
    ck_assert_int_eq(shunt_stack_faults("rx:delay=1,delay_us=1000000", err, sizeof(err)), 0);
    ring_put(in, ping(in, &shunt_mac, 3));
    ring_advance_ms(1);
    expect("held back", (struct moved){ .held_faults = 1, NO_DROP });
    ring_advance_ms(1000);
    expect("let go", (struct moved){ .consumed = 1, .held_faults = -1, NO_DROP });
    ck_assert_int_eq(shunt_stack_faults("off", err, sizeof(err)), 0);
    expect("faults off", (struct moved){ NO_DROP });
}
END_TEST

int main(void)
{
    Suite *s = suite_create("balance");
    TCase *tc = tcase_create("balance");

    tcase_add_checked_fixture(tc, ring_stack_up, ring_stack_down);
    add_tests(tc, link_and_ip_exchanges_are_consumed, tcp_data_acks_and_out_of_order,
              fragments_held_then_consumed_or_given_up, frames_dropped_under_one_cause,
              fault_stage_fits_the_balance);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
