/*
 * test-mcreport.c - IGMP and MLD reports frame by frame (port/mcreport.h),
 * on a net_ring port whose clock the test moves: what a join, a leave and
 * a source change send and send again; what general, group-specific and
 * group-and-source-specific queries are answered with, and when; the
 * switch to IGMPv2, IGMPv1 and MLDv1 when such a querier speaks, and back;
 * suppression by another host's report; forced versions; malformed and
 * misaddressed queries counted and dropped.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "shunt/socket.h"
#include "netif.h"
#include "stack.h"

#include "frames.h"
#include "groups.h"
#include "ring.h"
#include "suite.h"

#define G1 0xef010101u          /* 239.1.1.1 */
#define G2 0xef010102u
#define G3 0xef010103u
#define S1 RTE_IPV4(10, 0, 0, 11)
#define S2 RTE_IPV4(10, 0, 0, 12)
#define S3 RTE_IPV4(10, 0, 0, 13)
#define ROUTER RTE_IPV4(10, 0, 0, 1)

enum { IS_IN = 1, IS_EX, TO_IN, TO_EX, ALLOW, BLOCK };

static uint8_t frame[FRAME_MAX];

/* ---- what Shunt sent ----------------------------------------------------------- */

/* A report as read off the wire: its message type and destination, and for
 * IGMPv3 / MLDv2 its records (addresses as 4 or 16 bytes, network order). */
struct report {
    uint8_t type;
    uint8_t dst[16];
    uint8_t group[16];          /* v1/v2: the group the message names */
    unsigned nrec;
    struct {
        uint8_t type;
        uint8_t group[16];
        unsigned n;
        uint8_t src[16][16];
    } rec[32];
};

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void read_records(struct report *r, const uint8_t *msg, size_t len, size_t al)
{
    unsigned n = get16(msg + 6);
    size_t off = 8;

    ck_assert_uint_le(n, 32);
    for (unsigned i = 0; i < n; i++) {
        ck_assert_uint_le(off + 4 + al, len);
        r->rec[i].type = msg[off];
        r->rec[i].n = get16(msg + off + 2);
        ck_assert_uint_le(r->rec[i].n, 16);
        memcpy(r->rec[i].group, msg + off + 4, al);
        for (unsigned j = 0; j < r->rec[i].n; j++)
            memcpy(r->rec[i].src[j], msg + off + 4 + al * (1 + j), al);
        off += 4 + al * (1 + r->rec[i].n) + msg[off + 1] * 4u;
    }
    ck_assert_uint_eq(off, len);
    r->nrec = n;
}

/* An IGMP frame: TTL 1, Router Alert, a good checksum. */
static bool igmp_report(const uint8_t *f, size_t n, struct report *r)
{
    const uint8_t *ip = f + 14;

    if (n < 14 + 24 || get16(f + 12) != 0x0800 || ip[9] != IPPROTO_IGMP)
        return false;
    size_t hl = (ip[0] & 0xfu) * 4u, total = get16(ip + 2);
    ck_assert_uint_eq(hl, 24);
    ck_assert_uint_eq(ip[8], 1);
    ck_assert(ip[20] == 0x94 && ip[21] == 4);
    const uint8_t *msg = ip + hl;
    ck_assert_uint_eq(rte_raw_cksum(msg, total - hl), 0xffff);
    r->type = msg[0];
    memcpy(r->dst, ip + 16, 4);
    memcpy(r->group, msg + 4, 4);
    r->nrec = 0;
    if (r->type == 0x22)
        read_records(r, msg, total - hl, 4);
    return true;
}

/* An MLD frame: hop limit 1, a hop-by-hop Router Alert, from the
 * link-local address. */
static bool mld_report(const uint8_t *f, size_t n, struct report *r)
{
    const uint8_t *ip = f + 14;

    if (n < 14 + 48 + 24 || get16(f + 12) != 0x86dd || ip[6] != 0 || ip[40] != 58)
        return false;
    const uint8_t *msg = ip + 48;
    if (msg[0] != 131 && msg[0] != 132 && msg[0] != 143)
        return false;
    ck_assert_uint_eq(ip[7], 1);
    ck_assert(ip[42] == 5 && ip[43] == 2);      /* Router Alert, MLD */
    ck_assert(ip[8] == 0xfe && (ip[9] & 0xc0) == 0x80);
    size_t len = get16(ip + 4) - 8u;
    ck_assert_uint_eq(icmp6_checksum(ip + 8, ip + 24, msg, len), 0);
    r->type = msg[0];
    memcpy(r->dst, ip + 24, 16);
    memcpy(r->group, msg + 8, 16);
    r->nrec = 0;
    if (r->type == 143)
        read_records(r, msg, len, 16);
    return true;
}

static bool solicited_node(const uint8_t g[16])
{
    static const uint8_t prefix[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };
    return memcmp(g, prefix, 13) == 0;
}

/* A state-change report of the host's own solicited-node groups, which
 * the stack sends as it comes up and once more when the clock first moves. */
static bool host_groups_only(const struct report *r)
{
    if (r->type != 143 || r->nrec == 0)
        return false;
    for (unsigned i = 0; i < r->nrec; i++)
        if (r->rec[i].type != TO_EX || !solicited_node(r->rec[i].group))
            return false;
    return true;
}

/* The next IGMP or MLD report Shunt sent, but for host_groups_only; false
 * if none (frames of other kinds are passed over). */
static bool next_report(struct report *r)
{
    size_t n;

    while ((n = ring_recv(frame, sizeof(frame))) > 0)
        if (igmp_report(frame, n, r) || (mld_report(frame, n, r) && !host_groups_only(r)))
            return true;
    return false;
}

static void no_report(void)
{
    struct report r;
    bool sent = next_report(&r);

    ck_assert_msg(!sent, "an unexpected report of type 0x%x", r.type);
}

static uint32_t be32(uint32_t host)
{
    return rte_cpu_to_be_32(host);
}

static bool is4(const uint8_t *a, uint32_t host)
{
    uint32_t v = be32(host);
    return memcmp(a, &v, 4) == 0;
}

/* The report is IGMPv3 to 224.0.0.22, of one record: type, group, and the
 * sources given (in any order). */
static void assert_record(const struct report *r, unsigned i, uint8_t type, uint32_t group,
                          unsigned n, const uint32_t *sources)
{
    ck_assert_uint_eq(r->type, 0x22);
    ck_assert(is4(r->dst, 0xe0000016u));
    ck_assert_uint_gt(r->nrec, i);
    ck_assert_uint_eq(r->rec[i].type, type);
    ck_assert(is4(r->rec[i].group, group));
    ck_assert_uint_eq(r->rec[i].n, n);
    for (unsigned k = 0; k < n; k++) {
        bool found = false;
        for (unsigned j = 0; j < r->rec[i].n; j++)
            found = found || is4(r->rec[i].src[j], sources[k]);
        ck_assert_msg(found, "source %u of record %u missing", k, i);
    }
}

static void expect_one(uint8_t type, uint32_t group, unsigned n, const uint32_t *sources)
{
    struct report r;

    ck_assert(next_report(&r));
    ck_assert_uint_eq(r.nrec, 1);
    assert_record(&r, 0, type, group, n, sources);
    no_report();
}

/* An IGMPv1/v2 message: its type, group and destination. */
static void expect_old(uint8_t type, uint32_t group, uint32_t dst)
{
    struct report r;

    ck_assert(next_report(&r));
    ck_assert_uint_eq(r.type, type);
    ck_assert(is4(r.group, group));
    ck_assert(is4(r.dst, dst));
}

/* Reports until the retransmissions are over: they are due within 1 s
 * (IGMPv3, MLDv2) or 10 s (before). */
static void drain(void)
{
    struct report r;

    ring_advance_ms(10100);
    while (next_report(&r))
        ;
}

/* ---- what the test sends --------------------------------------------------------- */

static int sock4(void)
{
    int fd = shunt_socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    return fd;
}

/* An IGMP message of len bytes (its checksum filled in here) from the
 * router to dst. */
static void send_igmp(uint8_t *msg, size_t len, uint32_t dst)
{
    const struct rte_ether_addr mac = { { 0x01, 0x00, 0x5e, (uint8_t)(dst >> 16 & 0x7f),
                                          (uint8_t)(dst >> 8), (uint8_t)dst } };

    msg[2] = msg[3] = 0;
    uint16_t sum = (uint16_t)~rte_raw_cksum(msg, len);
    memcpy(msg + 2, &sum, 2);
    ring_send(frame, frame_ipv4(frame, &mac, &peer_mac, ROUTER, dst, IPPROTO_IGMP, 1, 0, msg, len));
}

/* An IGMPv3 query: max response code code, for group (0: general) and
 * the n sources given. */
static void query_v3(uint8_t code, uint32_t group, unsigned n, const uint32_t *sources)
{
    uint8_t q[12 + 4 * 16] = { 0x11, code };
    uint32_t g = be32(group);

    memcpy(q + 4, &g, 4);
    q[8] = 2;                           /* QRV */
    q[9] = 125;                         /* QQIC */
    q[10] = 0;
    q[11] = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        uint32_t s = be32(sources[i]);
        memcpy(q + 12 + 4 * i, &s, 4);
    }
    send_igmp(q, 12 + 4 * n, group != 0 ? group : 0xe0000001u);
}

/* An IGMPv1 (code 0) or v2 query, or another host's report (type). */
static void igmp_old(uint8_t type, uint8_t code, uint32_t group)
{
    uint8_t q[8] = { type, code };
    uint32_t g = be32(group);

    memcpy(q + 4, &g, 4);
    send_igmp(q, 8, group != 0 ? group : 0xe0000001u);
}

static uint64_t drops(enum shunt_drop_cause cause)
{
    return ring_counters().drops[cause];
}

static const struct shunt_mcreport_family *igmp(void)
{
    return &shunt_stack_netif()->report.family[SHUNT_MCREPORT_IGMP];
}

/* ---- IGMPv3 ----------------------------------------------------------------------- */

/* A record of type for group with no sources, sent now and once more within
 * a second, then nothing. */
static void expect_twice(uint8_t type, uint32_t group)
{
    expect_one(type, group, 0, NULL);
    ring_advance_ms(1100);
    expect_one(type, group, 0, NULL);
    ring_advance_ms(3000);
    no_report();
}

/* A join is TO_EX {} at once and once more within a second; a leave TO_IN {}. */
START_TEST(join_and_leave_reported_twice)
{
    int fd = sock4();

    group_join(fd, G1);
    expect_twice(TO_EX, G1);
    group_leave(fd, G1);
    expect_twice(TO_IN, G1);
    ck_assert_uint_eq(shunt_mcreport_version(&shunt_stack_netif()->report, SHUNT_MCREPORT_IGMP), 3);
}
END_TEST

/* Source joins are ALLOW, source drops BLOCK; a retransmission merges what
 * is pending; a second socket's any-source join turns the group EXCLUDE. */
START_TEST(source_changes_allow_and_block)
{
    int fd = sock4(), other = sock4();
    const uint32_t s1[] = { S1 }, s2[] = { S2 }, both[] = { S1, S2 };


    group_source(fd, IP_ADD_SOURCE_MEMBERSHIP, G1, S1);
    expect_one(ALLOW, G1, 1, s1);
    group_source(fd, IP_ADD_SOURCE_MEMBERSHIP, G1, S2);
    expect_one(ALLOW, G1, 2, both);     /* S1's repeat is due: merged */
    ring_advance_ms(1100);              /* S2's repeat */
    expect_one(ALLOW, G1, 1, s2);
    drain();
    group_source(fd, IP_DROP_SOURCE_MEMBERSHIP, G1, S1);
    expect_one(BLOCK, G1, 1, s1);
    drain();
    group_join(other, G1);                    /* INCLUDE {S2} + EXCLUDE {} = EXCLUDE {} */
    expect_one(TO_EX, G1, 0, NULL);
    drain();
    group_source(other, IP_BLOCK_SOURCE, G1, S1);     /* S1: no one wants it now */
    expect_one(BLOCK, G1, 1, s1);
    drain();
    ck_assert_int_eq(shunt_close(other), 0);        /* back to INCLUDE {S2} */
    expect_one(TO_IN, G1, 1, s2);
    drain();
    ck_assert_int_eq(shunt_close(fd), 0);           /* the last source goes: BLOCK it */
    expect_one(BLOCK, G1, 1, s2);
    drain();
}
END_TEST

/* A general query is answered once, within its maximum response time, with
 * every group's state (not all-systems'). */
START_TEST(general_query_answered_with_every_group)
{
    int fd = sock4();
    const uint32_t s1[] = { S1 };
    struct report r;

    group_join(fd, G1);
    group_source(fd, IP_ADD_SOURCE_MEMBERSHIP, G2, S1);
    drain();
    query_v3(10, 0, 0, NULL);           /* 1 s */
    ck_assert(!next_report(&r));
    ring_advance_ms(1100);
    ck_assert(next_report(&r));
    ck_assert_uint_eq(r.nrec, 2);
    bool g1_first = is4(r.rec[0].group, G1);
    assert_record(&r, g1_first ? 0 : 1, IS_EX, G1, 0, NULL);
    assert_record(&r, g1_first ? 1 : 0, IS_IN, G2, 1, s1);
    ring_advance_ms(3000);
    no_report();
    ck_assert_uint_eq(igmp()->stats.queries[3], 1);
    ck_assert_uint_eq(igmp()->robustness, 2);
}
END_TEST

/* A group query: that group's state; a group-and-source query: the asked
 * sources the group lets in; an unjoined group's: nothing. */
START_TEST(group_and_source_queries)
{
    int fd = sock4(), ex = sock4();
    const uint32_t s1[] = { S1 }, asked[] = { S1, S3 }, s3[] = { S3 };

    group_source(fd, IP_ADD_SOURCE_MEMBERSHIP, G2, S1);
    group_join(ex, G1);
    group_source(ex, IP_BLOCK_SOURCE, G1, S1);
    drain();
    query_v3(10, G2, 0, NULL);
    ring_advance_ms(1100);
    expect_one(IS_IN, G2, 1, s1);
    query_v3(10, G2, 2, asked);         /* of S1 and S3, G2 takes S1 */
    ring_advance_ms(1100);
    expect_one(IS_IN, G2, 1, s1);
    query_v3(10, G1, 2, asked);         /* G1 excludes S1: S3 */
    ring_advance_ms(1100);
    expect_one(IS_IN, G1, 1, s3);
    query_v3(10, G3, 0, NULL);
    ring_advance_ms(1100);
    no_report();
}
END_TEST

/* An IGMPv2 querier: v2 reports and leaves until it has been quiet for
 * the Older Version Querier Present Timeout (2 x 125 s + 1 s), then v3. */
START_TEST(v2_querier_switches_to_v2_and_back)
{
    int fd = sock4();

    group_join(fd, G1);
    drain();
    igmp_old(0x11, 10, 0);              /* v2 general, 1 s */
    ck_assert_uint_eq(shunt_mcreport_version(&shunt_stack_netif()->report, SHUNT_MCREPORT_IGMP), 2);
    ring_advance_ms(1100);
    expect_old(0x16, G1, G1);
    no_report();
    group_join(fd, G2);
    expect_old(0x16, G2, G2);
    drain();
    group_leave(fd, G2);
    expect_old(0x17, G2, 0xe0000002u);
    drain();
    ring_advance_ms(252000);
    group_join(fd, G3);
    expect_one(TO_EX, G3, 0, NULL);
    ck_assert_uint_eq(igmp()->stats.queries[2], 1);
}
END_TEST

/* IGMPv1: v1 reports, and no leaves. */
START_TEST(v1_querier)
{
    int fd = sock4();

    group_join(fd, G1);
    drain();
    igmp_old(0x11, 0, 0);               /* v1: 10 s to answer */
    ck_assert_uint_eq(shunt_mcreport_version(&shunt_stack_netif()->report, SHUNT_MCREPORT_IGMP), 1);
    ring_advance_ms(10100);
    expect_old(0x12, G1, G1);
    no_report();
    group_leave(fd, G1);
    no_report();
}
END_TEST

/* In v2, another host's report for the group makes this host's needless. */
START_TEST(v2_report_suppressed_by_another_host)
{
    int fd = sock4();

    group_join(fd, G1);
    drain();
    igmp_old(0x11, 100, G1);            /* v2 group query, 10 s */
    igmp_old(0x16, 0, G1);              /* someone else answers first */
    ring_advance_ms(10100);
    no_report();
    ck_assert_uint_eq(igmp()->stats.suppressed, 1);
}
END_TEST

/* Queries that do not add up are counted and dropped, unanswered. */
START_TEST(bad_queries_dropped)
{
    int fd = sock4();
    uint8_t q[12] = { 0x11, 10 };

    group_join(fd, G1);
    drain();
    uint64_t sums = drops(SHUNT_DROP_BAD_CHECKSUM), frames = drops(SHUNT_DROP_BAD_FRAME);
    send_igmp(q, 12, 0xe0000001u);
    q[2] ^= 0xff;                       /* a bad checksum */
    ring_send(frame, frame_ipv4(frame, &(struct rte_ether_addr){ { 1, 0, 0x5e, 0, 0, 1 } },
                                &peer_mac, ROUTER, 0xe0000001u, IPPROTO_IGMP, 1, 0, q, 12));
    ck_assert_uint_eq(drops(SHUNT_DROP_BAD_CHECKSUM), sums + 1);
    send_igmp(q, 10, 0xe0000001u);      /* neither 8 nor 12 or more */
    q[11] = 5;                          /* five sources, none there */
    send_igmp(q, 12, 0xe0000001u);
    ck_assert_uint_eq(drops(SHUNT_DROP_BAD_FRAME), frames + 2);
    ck_assert_uint_eq(igmp()->stats.bad, 3);
    ring_advance_ms(1100);
    struct report r;
    ck_assert(next_report(&r));         /* the first, good one only */
    ck_assert_uint_eq(r.nrec, 1);
    no_report();
    ring_assert_balance();
}
END_TEST

/* ---- forced versions ---------------------------------------------------------------- */

static void up_forced(void)
{
    ring_stack_up_with("force_igmp_version = 2\nforce_mld_version = 1\n");
}

START_TEST(forced_v2_ignores_v3_querier)
{
    int fd = sock4();

    group_join(fd, G1);
    expect_old(0x16, G1, G1);
    drain();
    query_v3(10, 0, 0, NULL);
    ck_assert_uint_eq(shunt_mcreport_version(&shunt_stack_netif()->report, SHUNT_MCREPORT_IGMP), 2);
    ring_advance_ms(1100);
    expect_old(0x16, G1, G1);
}
END_TEST

/* ---- MLD ---------------------------------------------------------------------------- */

static const uint8_t G6[16] = { 0xff, 0x3e, [14] = 0x12, [15] = 0x34 };
static const uint8_t ROUTER6[16] = { 0xfe, 0x80, [15] = 0x01 };

static int sock6_joined(void)
{
    int fd = shunt_socket(AF_INET6, SOCK_DGRAM, 0);
    struct ipv6_mreq mr = { .ipv6mr_interface = 0 };

    ck_assert_int_ge(fd, 0);
    memcpy(mr.ipv6mr_multiaddr.s6_addr, G6, 16);
    ck_assert_int_eq(shunt_setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)), 0);
    return fd;
}

/* An MLD query from src: v2 (28 bytes) or v1 (24), general, 1 s. */
static void mld_query(const uint8_t src[16], bool v2)
{
    uint8_t q[28] = { 130, 0, 0, 0, 0x03, 0xe8 };      /* 1,000 ms */
    uint8_t all[16] = { 0xff, 0x02, [15] = 1 };
    struct rte_ether_addr mac;

    q[24] = 2;
    q[25] = 125;
    ip6_multicast_mac(all, &mac);
    ring_send(frame, frame_icmp6(frame, &mac, &peer_mac, src, all, 1, q, v2 ? 28 : 24));
}

/* MLDv2: a join is TO_EX to ff02::16; a general query is answered with the
 * group and the solicited-node groups, never all-nodes. */
START_TEST(mld_v2_join_and_general_query)
{
    static const uint8_t to[16] = { 0xff, 0x02, [15] = 0x16 };
    struct report r;

    sock6_joined();
    ck_assert(next_report(&r));
    ck_assert_uint_eq(r.type, 143);
    ck_assert(memcmp(r.dst, to, 16) == 0);
    ck_assert_uint_eq(r.nrec, 1);
    ck_assert_uint_eq(r.rec[0].type, TO_EX);
    ck_assert(memcmp(r.rec[0].group, G6, 16) == 0);
    drain();
    mld_query(ROUTER6, true);
    ring_advance_ms(1100);
    ck_assert(next_report(&r));
    ck_assert_uint_eq(r.type, 143);
    unsigned mine = 0, solicited = 0;
    for (unsigned i = 0; i < r.nrec; i++) {
        ck_assert_uint_eq(r.rec[i].type, IS_EX);
        mine += memcmp(r.rec[i].group, G6, 16) == 0;
        solicited += solicited_node(r.rec[i].group);
    }
    ck_assert_uint_eq(mine, 1);
    ck_assert_uint_ge(solicited, 1);    /* fe80::ff:fe00:2 and fd00::2 share one */
    ck_assert_uint_eq(mine + solicited, r.nrec);
    no_report();
}
END_TEST

/* MLDv1: a v1 query is answered with a report to each group, and a leave
 * is Done to ff02::2; a query from a global address is not a router's. */
START_TEST(mld_v1_querier)
{
    static const uint8_t routers[16] = { 0xff, 0x02, [15] = 2 };
    struct report r;
    int fd = sock6_joined();

    drain();
    uint64_t bad = drops(SHUNT_DROP_BAD_FRAME);
    mld_query(peer_ip6, false);         /* fd00::1: dropped */
    ck_assert_uint_eq(drops(SHUNT_DROP_BAD_FRAME), bad + 1);
    ring_advance_ms(1100);
    no_report();
    mld_query(ROUTER6, false);
    ck_assert_uint_eq(shunt_mcreport_version(&shunt_stack_netif()->report, SHUNT_MCREPORT_MLD), 1);
    ring_advance_ms(1100);
    bool mine = false;
    while (next_report(&r)) {
        ck_assert_uint_eq(r.type, 131);
        ck_assert(memcmp(r.dst, r.group, 16) == 0);
        mine = mine || memcmp(r.group, G6, 16) == 0;
    }
    ck_assert(mine);
    ck_assert_int_eq(shunt_close(fd), 0);
    ck_assert(next_report(&r));
    ck_assert_uint_eq(r.type, 132);
    ck_assert(memcmp(r.group, G6, 16) == 0 && memcmp(r.dst, routers, 16) == 0);
}
END_TEST

START_TEST(forced_mld_v1)
{
    struct report r;

    sock6_joined();
    ck_assert(next_report(&r));
    ck_assert_uint_eq(r.type, 131);
    ck_assert(memcmp(r.group, G6, 16) == 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mcreport");
    TCase *tc = tcase_create("reports");
    TCase *forced = tcase_create("forced");

    tcase_add_checked_fixture(tc, ring_stack_up, ring_stack_down_balanced);
    tcase_set_timeout(tc, 60);
    add_tests(tc, join_and_leave_reported_twice, source_changes_allow_and_block,
              general_query_answered_with_every_group, group_and_source_queries,
              v2_querier_switches_to_v2_and_back, v1_querier, v2_report_suppressed_by_another_host,
              bad_queries_dropped, mld_v2_join_and_general_query, mld_v1_querier);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(forced, up_forced, ring_stack_down_balanced);
    add_tests(forced, forced_v2_ignores_v3_querier, forced_mld_v1);
    suite_add_tcase(s, forced);
    return run_suite(s);
}
