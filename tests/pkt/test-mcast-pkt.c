/*
 * test-mcast-pkt.c - multicast datagrams from the peer the test plays, on a
 * net_ring port: a joined group is delivered and an unjoined one counted
 * as not for us; source filters drop at the host's filter (no member wants
 * the source) or at a member socket's own, each counted as
 * source_filtered; every socket on the port gets its copy; 300 sockets in
 * one group, one report and one leave; 1,000 groups on
 * one socket, each frame costing one hash lookup.  The last test prints
 * what a lookup costs at 10 and 1,000 groups, Shunt's hash against lwIP's
 * IGMP list (a measurement, not asserted).
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lwip/igmp.h"

#include "shunt/socket.h"
#include "netif.h"
#include "stack.h"

#include "frames.h"
#include "groups.h"
#include "ring.h"
#include "suite.h"

#define PORT 5000
#define OTHER_IP4 RTE_IPV4(10, 0, 0, 7)

static uint8_t in[FRAME_MAX];

static struct shunt_mcast *table(void)
{
    return &shunt_stack_netif()->mcast;
}

/* A datagram to group from src, on the group's MAC. */
static void send_to_group(uint32_t group, uint32_t src, const char *text)
{
    const struct rte_ether_addr mac = { { 0x01, 0x00, 0x5e, (uint8_t)(group >> 16 & 0x7f),
                                          (uint8_t)(group >> 8), (uint8_t)group } };

    ring_send(in, frame_udp4(in, &mac, &peer_mac, src, group, 40000, PORT, text, strlen(text)));
}

/* A socket on the port, with SO_REUSEADDR or SO_REUSEPORT (reuse) as a
 * feed handler's are. */
static int reusing_socket(int reuse)
{
    int fd = shunt_socket(AF_INET, SOCK_DGRAM, 0), one = 1;
    struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = RTE_BE16(PORT) };

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(shunt_setsockopt(fd, SOL_SOCKET, reuse, &one, sizeof(one)), 0);
    ck_assert_int_eq(shunt_bind(fd, (struct sockaddr *)&any, sizeof(any)), 0);
    return fd;
}

static int member_socket(void)
{
    return reusing_socket(SO_REUSEADDR);
}

/* What fd has waiting: the datagram's text, or "" if none. */
static const char *received(int fd)
{
    static char buf[64];
    ssize_t n = shunt_recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

    if (n < 0) {
        ck_assert_int_eq(errno, EAGAIN);
        n = 0;
    }
    buf[n] = '\0';
    return buf;
}

static uint64_t drops(enum shunt_drop_cause cause)
{
    return ring_counters().drops[cause];
}

START_TEST(joined_delivered_unjoined_counted)
{
    int fd = member_socket();

    group_join(fd, 0xef010101u);                                      /* 239.1.1.1 */
    send_to_group(0xef010101u, PEER_IP4, "in");
    ck_assert_str_eq(received(fd), "in");
    uint64_t before = drops(SHUNT_DROP_NOT_FOR_US);
    send_to_group(0xef010102u, PEER_IP4, "out");
    ck_assert_str_eq(received(fd), "");
    ck_assert_uint_eq(drops(SHUNT_DROP_NOT_FOR_US), before + 1);
    /* Left: no longer the host's. */
    struct ip_mreq mr = { .imr_multiaddr.s_addr = RTE_BE32(0xef010101u) };
    ck_assert_int_eq(shunt_setsockopt(fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr)), 0);
    send_to_group(0xef010101u, PEER_IP4, "gone");
    ck_assert_str_eq(received(fd), "");
    ck_assert_uint_eq(drops(SHUNT_DROP_NOT_FOR_US), before + 2);
    /* net_ring has no filter: the port receives all multicast. */
    ck_assert(!table()->filter.has_filter && table()->filter.allmulticast);
}
END_TEST

/* INCLUDE {other}: the peer's datagram is dropped before lwIP, counted. */
START_TEST(host_filter_drops_unwanted_source)
{
    int fd = member_socket();

    group_source(fd, IP_ADD_SOURCE_MEMBERSHIP, 0xef010101u, OTHER_IP4);
    uint64_t before = drops(SHUNT_DROP_SOURCE_FILTERED), lwip = ring_counters().lwip_in;
    send_to_group(0xef010101u, PEER_IP4, "peer");
    ck_assert_str_eq(received(fd), "");
    ck_assert_uint_eq(drops(SHUNT_DROP_SOURCE_FILTERED), before + 1);
    ck_assert_uint_eq(ring_counters().lwip_in, lwip);
    send_to_group(0xef010101u, OTHER_IP4, "other");
    ck_assert_str_eq(received(fd), "other");
}
END_TEST

/* Two members with opposite filters, and a socket in no group on the same
 * port: each member hears what its filter lets in (the other's copy is
 * dropped and counted at the socket); the non-member hears all, as on Linux
 * (IP_MULTICAST_ALL). */
START_TEST(each_member_its_own_filter)
{
    int a = member_socket(), b = member_socket(), c = member_socket();

    group_source(a, IP_ADD_SOURCE_MEMBERSHIP, 0xef010101u, PEER_IP4);
    group_join(b, 0xef010101u);
    group_source(b, IP_BLOCK_SOURCE, 0xef010101u, PEER_IP4);
    uint64_t before = drops(SHUNT_DROP_SOURCE_FILTERED);
    send_to_group(0xef010101u, PEER_IP4, "peer");
    ck_assert_str_eq(received(a), "peer");
    ck_assert_str_eq(received(b), "");
    ck_assert_str_eq(received(c), "peer");
    send_to_group(0xef010101u, OTHER_IP4, "other");
    ck_assert_str_eq(received(a), "");
    ck_assert_str_eq(received(b), "other");
    ck_assert_str_eq(received(c), "other");
    ck_assert_uint_eq(drops(SHUNT_DROP_SOURCE_FILTERED), before + 2);
}
END_TEST

START_TEST(every_socket_gets_a_copy)
{
    int fds[4];

    for (int i = 0; i < 4; i++) {
        fds[i] = reusing_socket(SO_REUSEPORT);    /* SO_REUSEADDR: the test above */
        group_join(fds[i], 0xef010101u);
    }
    send_to_group(0xef010101u, PEER_IP4, "all");
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(received(fds[i]), "all");
}
END_TEST

/* The IGMP message type of the next frame Shunt sent, or 0 if none. */
static uint8_t next_igmp_type(void)
{
    size_t n = ring_recv(in, sizeof(in));

    if (n < 14 + 20 + 8 || in[14 + 9] != IPPROTO_IGMP)
        return 0;
    return in[14 + (in[14] & 0x0f) * 4];
}

/* 300 sockets in one group (more than lwIP's 8-bit count of members): one
 * IGMPv3 report on the first join, a leave only when the last goes
 * (their repeats and the rest of IGMP: tests/pkt/test-mcreport). */
START_TEST(many_members_one_report)
{
    enum { N = 300 };
    int fds[N];

    for (int i = 0; i < N; i++) {
        fds[i] = shunt_socket(AF_INET, SOCK_DGRAM, 0);
        ck_assert_int_ge(fds[i], 0);
        group_join(fds[i], 0xef010109u);
        if (i == 0)
            ck_assert_uint_eq(next_igmp_type(), 0x22);
        ck_assert_uint_eq(next_igmp_type(), 0);
    }
    for (int i = 0; i < N - 1; i++)
        ck_assert_int_eq(shunt_close(fds[i]), 0);
    ck_assert_uint_eq(next_igmp_type(), 0);
    ck_assert_int_eq(shunt_close(fds[N - 1]), 0);
    ck_assert_uint_eq(next_igmp_type(), 0x22);
}
END_TEST

/* 1,000 groups on one socket: the first, a middle and the last joined are
 * delivered, each frame one lookup in the table. */
START_TEST(thousand_groups_one_socket)
{
    int fd = member_socket();
    unsigned host = table()->count;             /* the host's own groups */

    for (uint32_t i = 0; i < 1000; i++)
        group_join(fd, 0xef020000u + i);
    while (ring_recv(in, sizeof(in)) > 0)       /* the reports */
        ;
    ck_assert_uint_eq(table()->count, host + 1000);
    const uint32_t probe[] = { 0, 500, 999 };
    for (unsigned i = 0; i < 3; i++) {
        uint64_t lookups = table()->lookups;
        char text[8];
        snprintf(text, sizeof(text), "g%u", probe[i]);
        send_to_group(0xef020000u + probe[i], PEER_IP4, text);
        ck_assert_str_eq(received(fd), text);
        ck_assert_uint_eq(table()->lookups, lookups + 1);
    }
    ck_assert_int_eq(shunt_close(fd), 0);
    ck_assert_uint_eq(table()->count, host);
}
END_TEST

/* ---- a measurement: one lookup at 10 and at 1,000 groups ------------------------ */

static double ns_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

#define LOOKUPS 200000

/* The list lwIP's IGMP would walk for these groups had it joined them
 * (port/mcreport.c reports them instead): all-systems first, then the
 * groups newest first, as igmp_joingroup_netif links them. */
static struct igmp_group lwip_list[1 + 1000];

static struct igmp_group *lwip_list_of(unsigned groups)
{
    ip4_addr_set_u32(&lwip_list[0].group_address, PP_HTONL(0xe0000001u));
    for (unsigned i = 0; i < groups; i++)
        ip4_addr_set_u32(&lwip_list[1 + i].group_address,
                         rte_cpu_to_be_32(0xef020000u + groups - 1 - i));
    for (unsigned i = 0; i < groups; i++)
        lwip_list[i].next = &lwip_list[i + 1];
    lwip_list[groups].next = NULL;
    return lwip_list;
}

/* ns per lookup of the group lwIP keeps last (the first joined): the hash,
 * then lwIP's list. */
static void measure(unsigned groups, double *hash_ns, double *list_ns)
{
    uint32_t g = rte_cpu_to_be_32(0xef020000u), src = rte_cpu_to_be_32(PEER_IP4);
    ip4_addr_t ga = { g };
    bool joined;
    volatile unsigned hits = 0;
    struct netif *n = &shunt_stack_netif()->netif;
    void *list = netif_get_client_data(n, LWIP_NETIF_CLIENT_DATA_INDEX_IGMP);

    double t0 = ns_now();
    for (unsigned i = 0; i < LOOKUPS; i++)
        hits += shunt_mcast_accepts(table(), false, (const uint8_t *)&g, (const uint8_t *)&src,
                                    &joined);
    netif_set_client_data(n, LWIP_NETIF_CLIENT_DATA_INDEX_IGMP, lwip_list_of(groups));
    double t1 = ns_now();
    for (unsigned i = 0; i < LOOKUPS; i++)
        hits += igmp_lookfor_group(n, &ga) != NULL;
    double t2 = ns_now();
    netif_set_client_data(n, LWIP_NETIF_CLIENT_DATA_INDEX_IGMP, list);
    ck_assert_uint_eq(hits, 2 * LOOKUPS);
    *hash_ns = (t1 - t0) / LOOKUPS;
    *list_ns = (t2 - t1) / LOOKUPS;
    printf("multicast lookup, %4u groups: Shunt's hash %6.1f ns, lwIP's IGMP list %7.1f ns\n",
           groups, *hash_ns, *list_ns);
}

#define DATAGRAMS 5000

/* ns per datagram to the first group joined, from the ring to the read. */
static double per_datagram(int fd, unsigned groups)
{
    double t0 = ns_now();

    for (unsigned i = 0; i < DATAGRAMS; i++) {
        send_to_group(0xef020000u, PEER_IP4, "x");
        ck_assert_str_eq(received(fd), "x");
    }
    double ns = (ns_now() - t0) / DATAGRAMS;
    printf("multicast datagram, %4u groups: %6.0f ns from the ring to the read\n", groups, ns);
    return ns;
}

START_TEST(lookup_cost)
{
    int fd = member_socket();
    double hash10, list10, hash1000, list1000;

    for (uint32_t i = 0; i < 10; i++)
        group_join(fd, 0xef020000u + i);
    measure(10, &hash10, &list10);
    double d10 = per_datagram(fd, 10);
    for (uint32_t i = 10; i < 1000; i++)
        group_join(fd, 0xef020000u + i);
    while (ring_recv(in, sizeof(in)) > 0)
        ;
    measure(1000, &hash1000, &list1000);
    double d1000 = per_datagram(fd, 1000);
    ck_assert(hash10 > 0 && hash1000 > 0 && list10 > 0 && list1000 > 0 && d10 > 0 && d1000 > 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mcast-pkt");
    TCase *tc = tcase_create("groups");

    tcase_add_checked_fixture(tc, ring_stack_up, ring_stack_down);
    tcase_set_timeout(tc, 60);
    add_tests(tc, joined_delivered_unjoined_counted, host_filter_drops_unwanted_source,
              each_member_its_own_filter, every_socket_gets_a_copy, many_members_one_report,
              thousand_groups_one_socket,
              lookup_cost);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
