/*
 * test-chksum.c - port/chksum.c against RFC 1071's definition: every variant
 * this CPU runs (each says whether it ran), every length to 4 KiB at every
 * alignment of the start within a cache line, longer ones to 64 KiB, random
 * data and the worst carries; and through lwIP's own pseudo-header checksum
 * of a pbuf chain.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chksum.h"
#include "lwip/inet_chksum.h"
#include "lwip/prot/ip.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "suite.h"

/* RFC 1071 as written, one byte at a time: big-endian 16-bit words, an odd
 * last byte the high half of a word, carries folded at the end. */
struct rfc1071 {
    uint64_t sum;
    size_t bytes;
};

static void rfc1071_add(struct rfc1071 *r, uint8_t byte)
{
    r->sum += r->bytes++ % 2 == 0 ? (uint32_t)byte << 8 : byte;
}

/* Returned as lwIP's checksum returns it: the words' sum as they lie in
 * memory (the ones'-complement sum is the same bytes in either order). */
static uint16_t rfc1071_result(const struct rfc1071 *r)
{
    uint64_t sum = r->sum;

    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((uint16_t)sum);
}

static uint16_t reference(const uint8_t *p, size_t len)
{
    struct rfc1071 r = { 0, 0 };

    for (size_t i = 0; i < len; i++)
        rfc1071_add(&r, p[i]);
    return rfc1071_result(&r);
}

/* The variants a loop test's _i stands for, and whether this CPU runs it
 * (saying so either way: a variant not run is never silent). */
#define VARIANTS (SHUNT_CHKSUM_KINDS - SHUNT_CHKSUM_PORTABLE)

static enum shunt_chksum_kind variant(int i, const char *test)
{
    enum shunt_chksum_kind k = (enum shunt_chksum_kind)(SHUNT_CHKSUM_PORTABLE + i);

    if (shunt_chksum_has(k))
        printf("test-chksum: %s: variant %s ran\n", test, shunt_chksum_name(k));
    else
        printf("test-chksum: %s: variant %s NOT RUN: this CPU lacks it\n", test,
               shunt_chksum_name(k));
    fflush(stdout);
    return k;
}

enum pattern { RANDOM, ALL_FF, FF00, PATTERNS };
static const char *const pattern_names[] = { "random", "all 0xff", "0xff00" };

static void fill(uint8_t *buf, size_t len, enum pattern pat, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245 + 12345;
        buf[i] = pat == RANDOM ? (uint8_t)(seed >> 16) : pat == ALL_FF || i % 2 == 0 ? 0xff : 0;
    }
}

/* Every length from 0 to last at every alignment 0..63 (a step of step past
 * 4 KiB), each pattern: the reference grows a byte at a time with the length. */
static void every_length(enum shunt_chksum_kind k, size_t first, size_t last, size_t step)
{
    enum { LINE = 64 };
    uint8_t *buf = aligned_alloc(LINE, last + 2 * LINE);

    ck_assert_ptr_nonnull(buf);
    for (int pat = 0; pat < PATTERNS; pat++) {
        fill(buf, last + 2 * LINE, pat, 12345 + (unsigned)pat);
        for (size_t off = 0; off < LINE; off++) {
            struct rfc1071 r = { 0, 0 };
            for (size_t len = 0; len <= last; len++) {
                /* ck_abort_msg, not ck_assert_msg: a passing assertion
                 * costs a write to libcheck's pipe, and these are many. */
                if (len >= first && ((len - first) % step == 0 || len == last) &&
                    shunt_chksum_of(k, buf + off, (int)len) != rfc1071_result(&r))
                    ck_abort_msg("%s: %s, length %zu at alignment %zu: %04x, RFC 1071 %04x",
                                 shunt_chksum_name(k), pattern_names[pat], len, off,
                                 shunt_chksum_of(k, buf + off, (int)len), rfc1071_result(&r));
                rfc1071_add(&r, buf[off + len]);
            }
        }
    }
    free(buf);
}

START_TEST(rfc1071_example)
{
    /* RFC 1071 section 3: these bytes sum to ddf2. */
    const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    enum shunt_chksum_kind k = variant(_i, "rfc1071_example");

    if (!shunt_chksum_has(k))
        return;
    ck_assert_uint_eq(ntohs(shunt_chksum_of(k, b, sizeof(b))), 0xddf2);
    ck_assert_uint_eq(ntohs(shunt_chksum_of(k, b, 7)), 0xdcfb);   /* odd: f6 pads to f600 */
    ck_assert_uint_eq(shunt_chksum_of(k, b, 0), 0);
    ck_assert_uint_eq(shunt_chksum_of(k, b, -1), 0);
}
END_TEST

START_TEST(every_length_to_4k_at_every_alignment)
{
    enum shunt_chksum_kind k = variant(_i, "every_length_to_4k_at_every_alignment");

    if (shunt_chksum_has(k))
        every_length(k, 0, 4096, 1);
}
END_TEST

START_TEST(lengths_to_64k)
{
    enum shunt_chksum_kind k = variant(_i, "lengths_to_64k");

    if (shunt_chksum_has(k))
        every_length(k, 4097, 65536, 997);
}
END_TEST

/* Data that ends where its allocation does: a variant that reads past the
 * end shows under ASan (and its result must not depend on what is there). */
START_TEST(reads_nothing_past_the_end)
{
    enum shunt_chksum_kind k = variant(_i, "reads_nothing_past_the_end");

    if (!shunt_chksum_has(k))
        return;
    for (size_t len = 1; len <= 4096; len++) {
        uint8_t *p = malloc(len);
        ck_assert_ptr_nonnull(p);
        fill(p, len, RANDOM, (unsigned)len);
        if (shunt_chksum_of(k, p, (int)len) != reference(p, len))
            ck_abort_msg("%s: length %zu: %04x, RFC 1071 %04x", shunt_chksum_name(k), len,
                         shunt_chksum_of(k, p, (int)len), reference(p, len));
        free(p);
    }
}
END_TEST

/* All zeros sum to 0, never to 0xffff (the other zero). */
START_TEST(zeros_sum_to_zero)
{
    enum shunt_chksum_kind k = variant(_i, "zeros_sum_to_zero");
    static uint8_t zeros[70000];

    if (shunt_chksum_has(k))
        for (size_t len = 0; len <= sizeof(zeros); len += len < 300 ? 1 : 4999)
            if (shunt_chksum_of(k, zeros, (int)len) != 0)
                ck_abort_msg("%s: %zu zeros sum to %04x", shunt_chksum_name(k), len,
                             shunt_chksum_of(k, zeros, (int)len));
}
END_TEST

/* auto is the widest variant this CPU has, and shunt_chksum() follows
 * shunt_chksum_use(). */
START_TEST(auto_is_the_widest_and_use_switches)
{
    enum shunt_chksum_kind widest = SHUNT_CHKSUM_PORTABLE;
    for (int k = SHUNT_CHKSUM_PORTABLE; k < SHUNT_CHKSUM_KINDS; k++)
        if (shunt_chksum_has(k))
            widest = k;
    printf("test-chksum: auto chose %s\n", shunt_chksum_name(shunt_chksum_in_use()));
    ck_assert_int_eq(shunt_chksum_in_use(), widest);

    for (int k = SHUNT_CHKSUM_PORTABLE; k < SHUNT_CHKSUM_KINDS; k++) {
        if (!shunt_chksum_has(k)) {
            errno = 0;
            ck_assert_int_eq(shunt_chksum_use(k), -1);
            ck_assert_int_eq(errno, ENOTSUP);
            ck_assert_int_eq(shunt_chksum_in_use(), widest);
            continue;
        }
        ck_assert_int_eq(shunt_chksum_use(k), 0);
        ck_assert_int_eq(shunt_chksum_in_use(), k);
    }
    ck_assert_int_eq(shunt_chksum_use(SHUNT_CHKSUM_AUTO), 0);
    ck_assert_int_eq(shunt_chksum_in_use(), widest);
    const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    ck_assert_uint_eq(ntohs(shunt_chksum(b, sizeof(b))), 0xddf2);
}
END_TEST

/* The config's names: each kind's, and one line naming the valid ones. */
START_TEST(names_parse)
{
    enum shunt_chksum_kind k;
    char why[160];

    for (int i = 0; i < SHUNT_CHKSUM_KINDS; i++) {
        int rc = shunt_chksum_parse(shunt_chksum_name(i), &k, why, sizeof(why));
        if (shunt_chksum_has(i)) {
            ck_assert_int_eq(rc, 0);
            ck_assert_int_eq(k, i);
        } else {
            char want[80];
            snprintf(want, sizeof(want), "this CPU has no %s: use auto, or portable",
                     shunt_chksum_name(i));
            ck_assert_int_eq(rc, -1);
            ck_assert_str_eq(why, want);
        }
    }
    ck_assert_int_eq(shunt_chksum_parse("avx512", &k, why, sizeof(why)), -1);
    ck_assert_str_eq(why, "'avx512' is no checksum variant: use auto, portable, sse or avx2");
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
    tcase_set_timeout(tc, 60);      /* ASan: the every-length tests take seconds */
    add_loop_tests(tc, VARIANTS, rfc1071_example, every_length_to_4k_at_every_alignment,
                   lengths_to_64k, reads_nothing_past_the_end, zeros_sum_to_zero);
    add_tests(tc, auto_is_the_widest_and_use_switches, names_parse, lwip_chain_with_odd_pieces);
    suite_add_tcase(s, tc);

    return run_suite(s);
}
