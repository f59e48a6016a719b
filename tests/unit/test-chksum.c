/*
 * test-chksum.c - port/chksum.c against RFC 1071's definition: every length,
 * every alignment, the worst carries, and through lwIP's own pseudo-header
 * checksum of a pbuf chain.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/inet_chksum.h"
#include "lwip/prot/ip.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "suite.h"

/* RFC 1071 as written: big-endian 16-bit words, one at a time, carries
 * folded at the end.  Returned as lwIP's checksum returns it: the words'
 * sum as they lie in memory (the ones'-complement sum is the same bytes
 * in either order). */
static uint16_t reference(const uint8_t *p, size_t len)
{
    uint64_t sum = 0;

    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len % 2)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((uint16_t)sum);
}

START_TEST(rfc1071_example)
{
    /* RFC 1071 section 3: these bytes sum to ddf2. */
    const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

    ck_assert_uint_eq(ntohs(shunt_chksum(b, sizeof(b))), 0xddf2);
    ck_assert_uint_eq(ntohs(shunt_chksum(b, 7)), 0xdcfb);   /* odd: f6 pads to f600 */
    ck_assert_uint_eq(shunt_chksum(b, 0), 0);
}
END_TEST

/* Every length up to a jumbo frame, at every alignment of the start. */
START_TEST(every_length_and_alignment)
{
    enum { MAX = 9100 };
    uint8_t *buf = malloc(MAX + 8);
    unsigned seed = 12345;

    for (size_t i = 0; i < MAX + 8; i++) {
        seed = seed * 1103515245 + 12345;
        buf[i] = (uint8_t)(seed >> 16);
    }
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len <= MAX; len += len < 300 ? 1 : 97)
            ck_assert_msg(shunt_chksum(buf + off, (int)len) == reference(buf + off, len),
                          "length %zu at offset %zu", len, off);
    free(buf);
}
END_TEST

/* All ones: every addition carries, and the folds must add each back. */
START_TEST(carries_are_added_back)
{
    uint8_t buf[70000];

    memset(buf, 0xff, sizeof(buf));
    for (size_t len = 0; len <= sizeof(buf); len += len < 64 ? 1 : 4999)
        ck_assert_msg(shunt_chksum(buf, (int)len) == reference(buf, len), "length %zu", len);
    memset(buf, 0, sizeof(buf));
    ck_assert_uint_eq(shunt_chksum(buf, sizeof(buf)), 0);
}
END_TEST

/* lwIP sums a pbuf chain piece by piece, swapping after an odd piece: the
 * checksum it builds from ours must equal the whole buffer's. */
START_TEST(lwip_chain_with_odd_pieces)
{
    uint8_t data[301];
    ip_addr_t src = IPADDR4_INIT_BYTES(10, 0, 0, 1), dst = IPADDR4_INIT_BYTES(10, 0, 0, 2);

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 37 + 11);
    struct pbuf *whole = pbuf_alloc(PBUF_RAW, sizeof(data), PBUF_RAM);
    ck_assert_ptr_nonnull(whole);
    pbuf_take(whole, data, sizeof(data));
    u16_t want = ip_chksum_pseudo(whole, IP_PROTO_TCP, sizeof(data), &src, &dst);

    const u16_t pieces[] = { 13, 100, 1, 77, 110 };
    struct pbuf *chain = NULL;
    size_t at = 0;
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        struct pbuf *q = pbuf_alloc(PBUF_RAW, pieces[i], PBUF_RAM);
        ck_assert_ptr_nonnull(q);
        memcpy(q->payload, data + at, pieces[i]);
        at += pieces[i];
        if (chain == NULL)
            chain = q;
        else
            pbuf_cat(chain, q);
    }
    ck_assert_uint_eq(at, sizeof(data));
    ck_assert_uint_eq(ip_chksum_pseudo(chain, IP_PROTO_TCP, sizeof(data), &src, &dst), want);
    pbuf_free(whole);
    pbuf_free(chain);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("chksum");
    TCase *tc = tcase_create("chksum");

    lwip_init();
    tcase_add_test(tc, rfc1071_example);
    tcase_add_test(tc, every_length_and_alignment);
    tcase_add_test(tc, carries_are_added_back);
    tcase_add_test(tc, lwip_chain_with_odd_pieces);
    suite_add_tcase(s, tc);

    return run_suite(s);
}
