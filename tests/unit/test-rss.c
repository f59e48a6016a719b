/*
 * test-rss.c - port/rss.c: the Toeplitz hash against Microsoft's published
 * verification vectors ("Verifying the RSS Hash Calculation"), the
 * symmetric key's symmetry, and the active-open port choice: every port
 * it picks for a queue brings the replies back to that queue.  No port
 * with Toeplitz RSS exists on the test machine (veth and AF_XDP have
 * none): this checks the computation the choice rests on.
 */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "rss.h"
#include "suite.h"

/* The key of Microsoft's examples (and many NICs' default). */
static const uint8_t ms_key[SHUNT_RSS_KEY_LEN] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static uint32_t ip4(const char *s)
{
    struct in_addr a;
    ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
    return a.s_addr;
}

START_TEST(microsoft_vectors_ipv4)
{
    static const struct { const char *dst; uint16_t dport; const char *src; uint16_t sport;
                          uint32_t hash; } v[] = {
        { "161.142.100.80", 1766, "66.9.149.187", 2794, 0x51ccc178 },
        { "65.69.140.83", 4739, "199.92.111.2", 14230, 0xc626b0ea },
        { "12.22.207.184", 38024, "24.19.198.95", 12898, 0x5c2b394a },
        { "209.142.163.6", 2217, "38.27.205.30", 48228, 0xafc7327f },
        { "202.188.127.2", 1303, "153.39.163.191", 44251, 0x10e828a2 },
    };
    struct shunt_rss r;

    shunt_rss_init(&r, ms_key, 128, 4);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        ck_assert_uint_eq(shunt_rss_hash4(&r, ip4(v[i].src), ip4(v[i].dst), v[i].sport,
                                          v[i].dport), v[i].hash);
}
END_TEST

START_TEST(microsoft_vector_ipv6)
{
    uint8_t src[16], dst[16];
    struct shunt_rss r;

    shunt_rss_init(&r, ms_key, 128, 4);
    ck_assert_int_eq(inet_pton(AF_INET6, "3ffe:2501:200:1fff::7", src), 1);
    ck_assert_int_eq(inet_pton(AF_INET6, "3ffe:2501:200:3::1", dst), 1);
    ck_assert_uint_eq(shunt_rss_hash6(&r, src, dst, 2794, 1766), 0x40207d3d);
}
END_TEST

/* With the symmetric key a flow and its reverse hash the same. */
START_TEST(symmetric_key)
{
    struct shunt_rss r;
    uint8_t a6[16], b6[16];

    shunt_rss_init(&r, SHUNT_RSS_SYMMETRIC_KEY, 128, 4);
    inet_pton(AF_INET6, "fd00:9::1", a6);
    inet_pton(AF_INET6, "fd00:9::2", b6);
    for (unsigned p = 1; p < 65536; p += 97) {
        uint16_t q = (uint16_t)(65535 - p);
        ck_assert_uint_eq(shunt_rss_hash4(&r, ip4("10.9.0.1"), ip4("10.9.0.2"), (uint16_t)p, q),
                          shunt_rss_hash4(&r, ip4("10.9.0.2"), ip4("10.9.0.1"), q, (uint16_t)p));
        ck_assert_uint_eq(shunt_rss_hash6(&r, a6, b6, (uint16_t)p, q),
                          shunt_rss_hash6(&r, b6, a6, q, (uint16_t)p));
    }
}
END_TEST

/* Each port picked for queue q: the reply (peer -> us) lands on q; the
 * picks spread over the range; a queue no RETA entry names gets none. */
START_TEST(pick_port_lands_on_queue)
{
    struct shunt_rss r;
    uint32_t local = ip4("10.9.0.2"), remote = ip4("10.9.0.1");
    uint8_t l6[16], r6[16];

    inet_pton(AF_INET6, "fd00:9::2", l6);
    inet_pton(AF_INET6, "fd00:9::1", r6);
    for (unsigned queues = 1; queues <= 8; queues *= 2) {
        shunt_rss_init(&r, SHUNT_RSS_SYMMETRIC_KEY, 128, queues);
        for (uint16_t q = 0; q < queues; q++) {
            uint16_t cursor = 0, last = 0;
            unsigned picked = 0;
            for (int i = 0; i < 200; i++) {
                uint16_t port = shunt_rss_pick_port(&r, q, 0, &local, &remote, 80, 49152,
                                                    65535, &cursor);
                ck_assert_uint_ge(port, 49152);
                ck_assert_uint_eq(shunt_rss_queue(&r, shunt_rss_hash4(&r, remote, local, 80, port)),
                                  q);
                ck_assert_uint_ne(port, last);          /* moves on */
                last = port;
                picked++;
                uint16_t p6 = shunt_rss_pick_port(&r, q, 1, l6, r6, 443, 49152, 65535, &cursor);
                ck_assert_uint_eq(shunt_rss_queue(&r, shunt_rss_hash6(&r, r6, l6, 443, p6)), q);
            }
            ck_assert_uint_eq(picked, 200);
        }
        uint16_t cursor = 0;
        ck_assert_uint_eq(shunt_rss_pick_port(&r, (uint16_t)queues, 0, &local, &remote, 80,
                                              49152, 65535, &cursor), 0);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rss");
    TCase *tc = tcase_create("rss");

    tcase_add_test(tc, microsoft_vectors_ipv4);
    tcase_add_test(tc, microsoft_vector_ipv6);
    tcase_add_test(tc, symmetric_key);
    tcase_add_test(tc, pick_port_lands_on_queue);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
