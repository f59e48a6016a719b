/*
 * test-arbiter.c - shunt-feed's A/B arbitration (apps/feed/arbiter.h) on
 * its own: sequences offered as the test makes them up, the verdicts and
 * counts checked against what the test knows it lost on each line; and the
 * per-group latency histogram (apps/feed/grouplat.h).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arbiter.h"
#include "grouplat.h"
#include "suite.h"

enum { A, B };

static struct arbiter arb(unsigned groups, unsigned lines, uint64_t window, bool mid_stream)
{
    struct arbiter a;

    ck_assert_int_eq(arb_init(&a, groups, lines, window, mid_stream), 0);
    return a;
}

/* Offer seq on line and expect verdict v. */
#define OFFER(a, g, seq, line, v) ck_assert_int_eq(arb_offer(&(a), (g), (seq), (line)), (v))

START_TEST(both_lines_in_order)
{
    struct arbiter a = arb(1, 2, 64, false);

    for (uint64_t s = 1; s <= 100; s++) {
        OFFER(a, 0, s, A, ARB_DELIVER);
        OFFER(a, 0, s, B, ARB_REDUNDANT);
    }
    arb_flush(&a);
    const struct arb_counts *c = &a.g[0].c;
    ck_assert_uint_eq(c->delivered, 100);
    ck_assert_uint_eq(c->redundant, 100);
    ck_assert_uint_eq(c->first_by[A], 100);
    ck_assert_uint_eq(c->gaps + c->duplicates + c->reordered + c->stale + c->late, 0);
    ck_assert_uint_eq(c->recovered_by[A] + c->recovered_by[B], 0);
    arb_free(&a);
}
END_TEST

/* A gap is declared the moment both lines have passed it, not at the end. */
START_TEST(gap_declared_once_both_lines_passed)
{
    struct arbiter a = arb(1, 2, 64, false);

    OFFER(a, 0, 1, A, ARB_DELIVER);
    OFFER(a, 0, 2, A, ARB_DELIVER);
    OFFER(a, 0, 4, A, ARB_DELIVER);
    ck_assert_uint_eq(a.g[0].c.gaps, 0);        /* B may still bring 3 */
    OFFER(a, 0, 1, B, ARB_REDUNDANT);
    OFFER(a, 0, 2, B, ARB_REDUNDANT);
    ck_assert_uint_eq(a.g[0].c.gaps, 0);
    OFFER(a, 0, 4, B, ARB_REDUNDANT);
    ck_assert_uint_eq(a.g[0].c.gaps, 1);        /* both passed 3: lost on both */
    arb_flush(&a);
    ck_assert_uint_eq(a.g[0].c.gaps, 1);        /* counted once */
    ck_assert_uint_eq(a.g[0].c.delivered, 3);
    arb_free(&a);
}
END_TEST

/* What one line lost the other recovers, and it is counted for that line. */
START_TEST(other_line_recovers)
{
    struct arbiter a = arb(1, 2, 64, false);

    OFFER(a, 0, 1, A, ARB_DELIVER);
    OFFER(a, 0, 3, A, ARB_DELIVER);             /* A lost 2 */
    OFFER(a, 0, 1, B, ARB_REDUNDANT);
    OFFER(a, 0, 2, B, ARB_DELIVER);             /* B brings it, in its order */
    ck_assert_uint_eq(a.g[0].c.reordered, 1);   /* below 3, delivered already */
    OFFER(a, 0, 4, B, ARB_DELIVER);             /* B first this time; B lost 3 */
    OFFER(a, 0, 4, A, ARB_REDUNDANT);
    arb_flush(&a);
    const struct arb_counts *c = &a.g[0].c;
    ck_assert_uint_eq(c->delivered, 4);
    ck_assert_uint_eq(c->gaps, 0);
    ck_assert_uint_eq(c->recovered_by[B], 1);   /* 2 */
    ck_assert_uint_eq(c->recovered_by[A], 1);   /* 3 */
    ck_assert_uint_eq(c->first_by[A], 2);
    ck_assert_uint_eq(c->first_by[B], 2);
    arb_free(&a);
}
END_TEST

/* A declared gap that arrives after all is delivered, once, and is no
 * longer a gap. */
START_TEST(late_fill)
{
    struct arbiter a = arb(1, 2, 64, false);

    OFFER(a, 0, 1, A, ARB_DELIVER);
    OFFER(a, 0, 3, A, ARB_DELIVER);
    OFFER(a, 0, 1, B, ARB_REDUNDANT);
    OFFER(a, 0, 3, B, ARB_REDUNDANT);
    ck_assert_uint_eq(a.g[0].c.gaps, 1);
    OFFER(a, 0, 2, B, ARB_LATE);
    ck_assert_uint_eq(a.g[0].c.gaps, 0);
    ck_assert_uint_eq(a.g[0].c.late, 1);
    OFFER(a, 0, 2, A, ARB_REDUNDANT);
    OFFER(a, 0, 2, B, ARB_DUPLICATE);
    arb_flush(&a);
    ck_assert_uint_eq(a.g[0].c.delivered, 3);
    ck_assert_uint_eq(a.g[0].c.gaps, 0);
    ck_assert_uint_eq(a.g[0].c.duplicates, 1);
    arb_free(&a);
}
END_TEST

/* One line: a later sequence is enough to declare a gap. */
START_TEST(one_line)
{
    struct arbiter a = arb(1, 1, 64, false);

    OFFER(a, 0, 1, A, ARB_DELIVER);
    OFFER(a, 0, 1, A, ARB_DUPLICATE);
    OFFER(a, 0, 4, A, ARB_DELIVER);
    ck_assert_uint_eq(a.g[0].c.gaps, 2);
    OFFER(a, 0, 3, A, ARB_LATE);
    arb_flush(&a);
    ck_assert_uint_eq(a.g[0].c.gaps, 1);
    ck_assert_uint_eq(a.g[0].c.recovered_by[A], 0);
    arb_free(&a);
}
END_TEST

/* A small window, wrapped many times over: sequences that fall out of it
 * are final (gaps, recovered), older ones are stale, and a jump far ahead
 * counts everything skipped. */
START_TEST(window_wraps)
{
    struct arbiter a = arb(1, 2, 8, false);
    uint64_t lost_both = 0, lost_a = 0, lost_b = 0;

    for (uint64_t s = 1; s <= 1000; s++) {
        bool drop_a = s % 7 == 0 || s % 11 == 0, drop_b = s % 7 == 0 || s % 13 == 0;
        if (s == 1000)
            drop_a = drop_b = false;            /* the end is seen */
        lost_both += drop_a && drop_b;
        lost_a += drop_a && !drop_b;
        lost_b += drop_b && !drop_a;
        if (!drop_a)
            OFFER(a, 0, s, A, ARB_DELIVER);
        if (!drop_b)
            OFFER(a, 0, s, B, drop_a ? ARB_DELIVER : ARB_REDUNDANT);
    }
    OFFER(a, 0, 900, A, ARB_STALE);
    arb_flush(&a);
    const struct arb_counts *c = &a.g[0].c;
    ck_assert_uint_eq(c->gaps, lost_both);
    ck_assert_uint_eq(c->recovered_by[B], lost_a);
    ck_assert_uint_eq(c->recovered_by[A], lost_b);
    ck_assert_uint_eq(c->delivered, 1000 - lost_both);
    ck_assert_uint_eq(c->stale, 1);

    OFFER(a, 0, 5000, A, ARB_DELIVER);          /* 3,999 never seen */
    arb_flush(&a);
    ck_assert_uint_eq(c->gaps, lost_both + 3999);
    arb_free(&a);
}
END_TEST

/* --mid-stream: a group starts where it was first seen. */
START_TEST(mid_stream)
{
    struct arbiter a = arb(2, 2, 64, true);

    OFFER(a, 0, 500, A, ARB_DELIVER);
    OFFER(a, 0, 499, B, ARB_STALE);
    OFFER(a, 0, 501, B, ARB_DELIVER);
    OFFER(a, 1, 7, B, ARB_DELIVER);             /* groups are apart */
    arb_flush(&a);
    ck_assert_uint_eq(a.g[0].c.gaps, 0);
    ck_assert_uint_eq(a.g[0].c.delivered, 2);
    ck_assert_uint_eq(a.g[1].c.delivered, 1);
    struct arb_counts t;
    arb_total(&a, &t);
    ck_assert_uint_eq(t.delivered, 3);
    ck_assert_uint_eq(t.stale, 1);
    arb_free(&a);
}
END_TEST

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/*
 * Many groups, each line losing 10% at random on its own, B running behind
 * A by a varying number of messages, and a few duplicates: every sequence
 * not lost on both is delivered exactly once, and gaps are exactly those
 * lost on both.  _i: the seed.
 */
START_TEST(random_loss_exactly_once)
{
    enum { GROUPS = 7, PER = 20000, SKEW = 300 };
    struct arbiter a = arb(GROUPS, 2, 4096, false);
    unsigned char *got = calloc((size_t)GROUPS * (PER + 1), 1);
    uint64_t lost_both = 0, lost_only[2] = { 0, 0 };
    struct { unsigned g; uint64_t s; } *bq = malloc(sizeof(*bq) * GROUPS * PER);
    size_t bq_head = 0, bq_tail = 0;
    uint64_t seq[GROUPS] = { 0 };

    rng += (uint64_t)_i * 0x9e3779b97f4a7c15ull;
    for (unsigned n = 0; n < GROUPS * PER; n++) {
        unsigned g = n % GROUPS;
        uint64_t s = ++seq[g];
        bool last = s == PER;
        bool da = !last && next_rand() % 10 == 0, db = !last && next_rand() % 10 == 0;
        lost_both += da && db;
        lost_only[A] += da && !db;
        lost_only[B] += db && !da;
        if (!da) {
            enum arb_verdict v = arb_offer(&a, g, s, A);
            if (arb_delivered(v))
                got[g * (PER + 1) + s]++;
            if (next_rand() % 500 == 0)
                ck_assert_int_eq(arb_offer(&a, g, s, A), ARB_DUPLICATE);
        }
        if (!db) {
            bq[bq_tail].g = g;
            bq[bq_tail++].s = s;
        }
        /* B delivers what it has, keeping up to SKEW behind */
        size_t keep = next_rand() % SKEW;
        while (bq_tail - bq_head > keep) {
            enum arb_verdict v = arb_offer(&a, bq[bq_head].g, bq[bq_head].s, B);
            if (arb_delivered(v))
                got[bq[bq_head].g * (PER + 1) + bq[bq_head].s]++;
            bq_head++;
        }
    }
    while (bq_head < bq_tail) {
        enum arb_verdict v = arb_offer(&a, bq[bq_head].g, bq[bq_head].s, B);
        if (arb_delivered(v))
            got[bq[bq_head].g * (PER + 1) + bq[bq_head].s]++;
        bq_head++;
    }
    arb_flush(&a);

    uint64_t never = 0;
    for (unsigned g = 0; g < GROUPS; g++)
        for (uint64_t s = 1; s <= PER; s++) {
            ck_assert_uint_le(got[g * (PER + 1) + s], 1);       /* at most once */
            never += got[g * (PER + 1) + s] == 0;
        }
    struct arb_counts t;
    arb_total(&a, &t);
    ck_assert_uint_eq(never, lost_both);
    ck_assert_uint_eq(t.gaps, lost_both);
    ck_assert_uint_eq(t.delivered, (uint64_t)GROUPS * PER - lost_both);
    ck_assert_uint_eq(t.recovered_by[B], lost_only[A]);
    ck_assert_uint_eq(t.recovered_by[A], lost_only[B]);
    ck_assert_uint_eq(t.stale, 0);
    ck_assert_uint_gt(t.reordered, 0);      /* B's recoveries come behind A's */
    free(got);
    free(bq);
    arb_free(&a);
}
END_TEST

START_TEST(bad_arguments)
{
    struct arbiter a;

    ck_assert_int_eq(arb_init(&a, 1, 3, 64, false), -1);
    ck_assert_int_eq(arb_init(&a, 1, 2, 100, false), -1);       /* not a power of two */
    ck_assert_int_eq(arb_init(&a, 0, 2, 64, false), -1);
}
END_TEST

/* Each value lands in a bucket whose top is at or above it and within
 * 12.5%; percentiles of a known spread come out so. */
START_TEST(grouplat_buckets)
{
    for (uint64_t v = 0; v < 50000000; v += v < 100 ? 1 : v / 37) {
        unsigned s = gl_slot(v);
        ck_assert_uint_lt(s, GL_SLOTS);
        ck_assert_uint_ge(gl_top(s), v);
        ck_assert(s == 0 || gl_top(s - 1) < v);
        ck_assert_uint_le(gl_top(s), v + v / 8);
    }
    ck_assert_uint_eq(gl_top(gl_slot(UINT64_MAX)), UINT64_MAX);

    struct grouplat *g = calloc(1, sizeof(*g));
    ck_assert_uint_eq(gl_percentile(g, 50), 0);
    for (uint64_t v = 1; v <= 10000; v++)
        gl_record(g, v * 1000);                 /* 1 us .. 10 ms */
    uint64_t p50 = gl_percentile(g, 50), p99 = gl_percentile(g, 99);
    ck_assert_uint_ge(p50, 5000000);
    ck_assert_uint_le(p50, 5000000 + 5000000 / 8);
    ck_assert_uint_ge(p99, 9900000);
    ck_assert_uint_le(p99, 9900000 + 9900000 / 8);
    ck_assert_uint_ge(gl_percentile(g, 100), 10000000);
    free(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("arbiter");
    TCase *rules = tcase_create("rules"), *mass = tcase_create("random");

    add_tests(rules, both_lines_in_order, gap_declared_once_both_lines_passed, other_line_recovers,
              late_fill, one_line, window_wraps, mid_stream, bad_arguments);
    enum { SEEDS = 4 };
    add_loop_tests(mass, SEEDS, random_loss_exactly_once);
    TCase *lat = tcase_create("grouplat");
    add_tests(lat, grouplat_buckets);
    suite_add_tcase(s, lat);
    suite_add_tcase(s, rules);
    suite_add_tcase(s, mass);
    return run_suite(s);
}
