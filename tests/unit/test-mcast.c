/*
 * test-mcast.c - the group table and the port's multicast filter
 * (port/mcast.h) against a port the test plays: this file defines DPDK's
 * rte_eth_dev_set_mc_addr_list and rte_eth_allmulticast_enable/disable
 * itself (the program's own definitions win over the shared library's), so
 * it sees every list the table programs, and its "port" takes at most
 * port_capacity addresses, or none (-ENOTSUP).  None of this machine's PMDs
 * programs a real filter (net_tap takes the list and ignores it), so this is
 * where programming is checked address by address.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>

#include "mcast.h"
#include "suite.h"

/* ---- the port the test plays ------------------------------------------------- */

static int port_capacity;               /* -1: no filter at all */
static struct rte_ether_addr port_list[SHUNT_MCAST_PROBE_MAX];
static unsigned port_count;
static bool port_allmulti;
static unsigned port_writes;

int rte_eth_dev_set_mc_addr_list(uint16_t port_id, struct rte_ether_addr *set, uint32_t n)
{
    (void)port_id;
    if (port_capacity < 0)
        return -ENOTSUP;
    if (n > (uint32_t)port_capacity)
        return -ENOSPC;
    port_writes++;
    if (n > 0)
        memcpy(port_list, set, n * sizeof(*set));
    port_count = n;
    return 0;
}

int rte_eth_allmulticast_enable(uint16_t port_id)
{
    (void)port_id;
    port_allmulti = true;
    return 0;
}

int rte_eth_allmulticast_disable(uint16_t port_id)
{
    (void)port_id;
    port_allmulti = false;
    return 0;
}

static bool port_has(const uint8_t mac[6])
{
    for (unsigned i = 0; i < port_count; i++)
        if (memcmp(port_list[i].addr_bytes, mac, 6) == 0)
            return true;
    return false;
}

/* ---- the table ----------------------------------------------------------------- */

static struct shunt_mcast m;
static int owner_a, owner_b;            /* two owners: their addresses */

static void eal(void)
{
    static int up;
    char *argv[] = { "test-mcast", "-l", "0", "--no-huge", "-m", "64", "--no-pci",
                     "--file-prefix=test-mcast", "--log-level=error" };

    if (!up++)
        ck_assert_int_ge(rte_eal_init(sizeof(argv) / sizeof(argv[0]), argv), 0);
}

static void table_up(int capacity)
{
    eal();
    port_capacity = capacity;
    port_count = 0;
    port_writes = 0;
    port_allmulti = false;
    ck_assert_int_eq(shunt_mcast_init(&m, "test_mcast", 2048, 0, true), 0);
}

static ip_addr_t v4(uint32_t host_order)
{
    ip_addr_t g;

    ip_addr_set_ip4_u32_val(g, lwip_htonl(host_order));
    return g;
}

static ip_addr_t v6(const char *text)
{
    ip_addr_t g;

    ck_assert(ipaddr_aton(text, &g));
    return g;
}

/* The capacity comes from probing; the filter starts empty, allmulticast off. */
START_TEST(probe_finds_capacity)
{
    table_up(100);
    ck_assert(m.filter.has_filter);
    ck_assert_uint_eq(m.filter.capacity, 100);
    ck_assert_uint_eq(port_count, 0);
    ck_assert(!m.filter.allmulticast && !port_allmulti);
    shunt_mcast_free(&m);

    table_up(SHUNT_MCAST_PROBE_MAX + 10);      /* more than the probe asks: its limit */
    ck_assert_uint_eq(m.filter.capacity, SHUNT_MCAST_PROBE_MAX);
    shunt_mcast_free(&m);
}
END_TEST

/* Joining programs the group's MAC, IPv4 and IPv6 alike; groups sharing one
 * MAC are one address; leaving takes it out when no group needs it. */
START_TEST(join_programs_leave_unprograms)
{
    table_up(8);
    ip_addr_t a = v4(0xef010203u), shared = v4(0xef810203u);   /* 239.1.2.3, 239.129.2.3 */
    ip_addr_t six = v6("ff15::1:2");
    const uint8_t mac4[6] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };
    const uint8_t mac6[6] = { 0x33, 0x33, 0x00, 0x01, 0x00, 0x02 };

    ck_assert_int_eq(shunt_mcast_join(&m, &a, &owner_a, SHUNT_MCAST_EXCLUDE), 0);
    ck_assert_uint_eq(port_count, 1);
    ck_assert(port_has(mac4));
    ck_assert_int_eq(shunt_mcast_join(&m, &six, &owner_a, SHUNT_MCAST_EXCLUDE), 0);
    ck_assert_uint_eq(port_count, 2);
    ck_assert(port_has(mac6));
    ck_assert_int_eq(shunt_mcast_join(&m, &shared, &owner_b, SHUNT_MCAST_EXCLUDE), 0);
    ck_assert_uint_eq(port_count, 2);          /* 239.129.2.3 maps to 239.1.2.3's MAC */
    ck_assert_uint_eq(m.filter.programmed, 2);
    /* A second member changes nothing on the port. */
    unsigned writes = port_writes;
    ck_assert_int_eq(shunt_mcast_join(&m, &a, &owner_b, SHUNT_MCAST_EXCLUDE), 0);
    ck_assert_int_eq(shunt_mcast_join(&m, &a, &owner_b, SHUNT_MCAST_EXCLUDE), -EADDRINUSE);
    ck_assert_uint_eq(port_writes, writes);

    ck_assert_int_eq(shunt_mcast_leave(&m, &a, &owner_a), 0);
    ck_assert_int_eq(shunt_mcast_leave(&m, &a, &owner_b), 0);
    ck_assert(port_has(mac4));                 /* 239.129.2.3 still needs it */
    ck_assert_int_eq(shunt_mcast_leave(&m, &shared, &owner_b), 0);
    ck_assert(!port_has(mac4));
    ck_assert_int_eq(shunt_mcast_leave(&m, &six, &owner_a), 0);
    ck_assert_uint_eq(port_count, 0);
    ck_assert_int_eq(shunt_mcast_leave(&m, &six, &owner_a), -EADDRNOTAVAIL);
    ck_assert(!port_allmulti);
    shunt_mcast_free(&m);
}
END_TEST

/* One group more than the filter holds: allmulticast, and the filter
 * emptied; one less again: the filter, and allmulticast off. */
START_TEST(full_filter_falls_back_to_allmulticast)
{
    table_up(4);
    for (uint32_t i = 0; i < 4; i++) {
        ip_addr_t g = v4(0xef000001u + i);
        ck_assert_int_eq(shunt_mcast_join(&m, &g, &owner_a, SHUNT_MCAST_EXCLUDE), 0);
    }
    ck_assert_uint_eq(port_count, 4);
    ck_assert(!port_allmulti);
    ip_addr_t fifth = v4(0xef000005u);
    ck_assert_int_eq(shunt_mcast_join(&m, &fifth, &owner_a, SHUNT_MCAST_EXCLUDE), 0);
    ck_assert(port_allmulti && m.filter.allmulticast);
    ck_assert_uint_eq(m.filter.programmed, 0);
    ck_assert_uint_eq(port_count, 0);
    ck_assert_int_eq(shunt_mcast_leave(&m, &fifth, &owner_a), 0);
    ck_assert(!port_allmulti && !m.filter.allmulticast);
    ck_assert_uint_eq(port_count, 4);
    shunt_mcast_free(&m);
}
END_TEST

/* A port without a filter receives all multicast from the start. */
START_TEST(no_filter_means_allmulticast)
{
    table_up(-1);
    ck_assert(!m.filter.has_filter);
    ck_assert(port_allmulti && m.filter.allmulticast);
    ip_addr_t g = v4(0xef000001u);
    ck_assert_int_eq(shunt_mcast_join(&m, &g, &owner_a, SHUNT_MCAST_EXCLUDE), 0);
    ck_assert(port_allmulti);
    ck_assert_int_eq(shunt_mcast_leave(&m, &g, &owner_a), 0);
    ck_assert(port_allmulti);
    shunt_mcast_free(&m);
}
END_TEST

/* The host's filter is the union of its members': a source passes if any
 * member's filter lets it in; a member's own filter says for it alone. */
START_TEST(source_filters)
{
    table_up(8);
    ip_addr_t g = v4(0xef000001u), s1 = v4(0x0a000001u), s2 = v4(0x0a000002u);
    uint8_t gb[4], s1b[4], s2b[4];
    bool joined;

    memcpy(gb, &ip_2_ip4(&g)->addr, 4);
    memcpy(s1b, &ip_2_ip4(&s1)->addr, 4);
    memcpy(s2b, &ip_2_ip4(&s2)->addr, 4);
    ck_assert(!shunt_mcast_accepts(&m, false, gb, s1b, &joined) && !joined);
    ck_assert_int_eq(shunt_mcast_join(&m, &g, &owner_a, SHUNT_MCAST_INCLUDE), 0);
    struct shunt_mcast_member *a = shunt_mcast_member(&m, &g, &owner_a);
    a->sources[a->nsources++] = s1;
    ck_assert(shunt_mcast_accepts(&m, false, gb, s1b, &joined) && joined);
    ck_assert(!shunt_mcast_accepts(&m, false, gb, s2b, &joined) && joined);
    ck_assert_int_eq(shunt_mcast_join(&m, &g, &owner_b, SHUNT_MCAST_EXCLUDE), 0);
    struct shunt_mcast_member *b = shunt_mcast_member(&m, &g, &owner_b);
    b->sources[b->nsources++] = s1;
    ck_assert(shunt_mcast_accepts(&m, false, gb, s1b, &joined));   /* a's */
    ck_assert(shunt_mcast_accepts(&m, false, gb, s2b, &joined));   /* b's */
    ck_assert(shunt_mcast_owner_allows(&m, &g, &owner_a, &s1));
    ck_assert(!shunt_mcast_owner_allows(&m, &g, &owner_a, &s2));
    ck_assert(!shunt_mcast_owner_allows(&m, &g, &owner_b, &s1));
    ck_assert(shunt_mcast_owner_allows(&m, &g, &owner_b, &s2));
    int other;
    ck_assert(shunt_mcast_owner_allows(&m, &g, &other, &s2));      /* no member: all */
    ck_assert_uint_eq(shunt_mcast_count_of(&m, &owner_a), 1);
    ck_assert_int_eq(shunt_mcast_leave(&m, &g, &owner_a), 0);
    ck_assert_int_eq(shunt_mcast_leave(&m, &g, &owner_b), 0);
    ck_assert_uint_eq(m.count, 0);
    shunt_mcast_free(&m);
}
END_TEST

/* The table holds what it was made for, and says ENOBUFS beyond. */
START_TEST(table_limit)
{
    eal();
    port_capacity = -1;
    ck_assert_int_eq(shunt_mcast_init(&m, "test_mcast_small", 16, 0, false), 0);
    for (uint32_t i = 0; i < 16; i++) {
        ip_addr_t g = v4(0xef000001u + i);
        ck_assert_int_eq(shunt_mcast_join(&m, &g, &owner_a, SHUNT_MCAST_EXCLUDE), 0);
    }
    ip_addr_t g = v4(0xef0000ffu);
    ck_assert_int_eq(shunt_mcast_join(&m, &g, &owner_a, SHUNT_MCAST_EXCLUDE), -ENOBUFS);
    shunt_mcast_free(&m);
}
END_TEST

static void add_source(const void *owner, const ip_addr_t *g, enum shunt_mcast_mode mode,
                       ip_addr_t src)
{
    struct shunt_mcast_member *mb = shunt_mcast_member(&m, g, owner);

    ck_assert_ptr_nonnull(mb);
    mb->mode = mode;
    mb->sources[mb->nsources++] = src;
}

static bool state_lists(const struct shunt_mcast_state *st, ip_addr_t src)
{
    return shunt_mcast_listed(st->sources, st->nsources, &src);
}

/* The interface's state, members merged as RFC 3376 3.2 says: INCLUDE is
 * the union; any EXCLUDE makes EXCLUDE of what every excluder excludes and
 * no includer includes; too long an INCLUDE is widened to EXCLUDE {}. */
START_TEST(interface_state_merges_members)
{
    struct shunt_mcast_state st;
    static int owners[SHUNT_MCAST_STATE_SOURCES + 1];
    ip_addr_t g = v4(0xef000009u), s1 = v4(0x0a000001u), s2 = v4(0x0a000002u),
              s3 = v4(0x0a000003u);

    table_up(-1);
    shunt_mcast_state(&m, &g, &st);
    ck_assert(st.mode == SHUNT_MCAST_INCLUDE && st.nsources == 0 && !shunt_mcast_state_joined(&st));

    ck_assert_int_eq(shunt_mcast_join(&m, &g, &owner_a, SHUNT_MCAST_INCLUDE), 0);
    add_source(&owner_a, &g, SHUNT_MCAST_INCLUDE, s1);
    ck_assert_int_eq(shunt_mcast_join(&m, &g, &owner_b, SHUNT_MCAST_INCLUDE), 0);
    add_source(&owner_b, &g, SHUNT_MCAST_INCLUDE, s1);
    add_source(&owner_b, &g, SHUNT_MCAST_INCLUDE, s2);
    shunt_mcast_state(&m, &g, &st);
    ck_assert(st.mode == SHUNT_MCAST_INCLUDE && st.nsources == 2);
    ck_assert(state_lists(&st, s1) && state_lists(&st, s2));

    /* b excludes {s2, s3}, a includes {s1}: EXCLUDE {s2, s3} */
    ck_assert_int_eq(shunt_mcast_leave(&m, &g, &owner_b), 0);
    ck_assert_int_eq(shunt_mcast_join(&m, &g, &owner_b, SHUNT_MCAST_EXCLUDE), 0);
    add_source(&owner_b, &g, SHUNT_MCAST_EXCLUDE, s2);
    add_source(&owner_b, &g, SHUNT_MCAST_EXCLUDE, s3);
    shunt_mcast_state(&m, &g, &st);
    ck_assert(st.mode == SHUNT_MCAST_EXCLUDE && st.nsources == 2);
    /* a now includes s3 as well: the routers must send it, EXCLUDE {s2} */
    add_source(&owner_a, &g, SHUNT_MCAST_INCLUDE, s3);
    shunt_mcast_state(&m, &g, &st);
    ck_assert(st.mode == SHUNT_MCAST_EXCLUDE && st.nsources == 1 && state_lists(&st, s2));
    /* a second excluder of {s3} alone: the intersection is empty */
    int c;
    ck_assert_int_eq(shunt_mcast_join(&m, &g, &c, SHUNT_MCAST_EXCLUDE), 0);
    add_source(&c, &g, SHUNT_MCAST_EXCLUDE, s3);
    shunt_mcast_state(&m, &g, &st);
    ck_assert(st.mode == SHUNT_MCAST_EXCLUDE && st.nsources == 0);
    ck_assert_int_eq(shunt_mcast_leave(&m, &g, &c), 0);
    ck_assert_int_eq(shunt_mcast_leave(&m, &g, &owner_a), 0);
    ck_assert_int_eq(shunt_mcast_leave(&m, &g, &owner_b), 0);

    /* more includers' sources than a state lists: any source */
    for (unsigned i = 0; i <= SHUNT_MCAST_STATE_SOURCES; i++) {
        ck_assert_int_eq(shunt_mcast_join(&m, &g, &owners[i], SHUNT_MCAST_INCLUDE), 0);
        add_source(&owners[i], &g, SHUNT_MCAST_INCLUDE, v4(0x0b000000u + i));
        shunt_mcast_state(&m, &g, &st);
        ck_assert_uint_eq(st.nsources, i < SHUNT_MCAST_STATE_SOURCES ? i + 1 : 0);
    }
    ck_assert(st.mode == SHUNT_MCAST_EXCLUDE);
    shunt_mcast_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mcast");
    TCase *tc = tcase_create("table");

    add_tests(tc, probe_finds_capacity, join_programs_leave_unprograms,
              full_filter_falls_back_to_allmulticast, no_filter_means_allmulticast,
              source_filters, table_limit, interface_state_merges_members);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
