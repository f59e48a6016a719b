/*
 * test-cc.c - the congestion-control algorithms (port/cc.h) on their own,
 * against the formulas of their RFCs, on a clock the test drives; and the
 * registry a program adds its own algorithm to.
 *
 * A connection here is the algorithm's view alone: the test plays the ACK
 * clock (one ACK a segment, spread evenly over each RTT) and the loss
 * recovery (cwnd = ssthresh when it ends).
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "cc.h"
#include "suite.h"

#define MSS 1000u

struct sim {
    const struct shunt_cc_ops *ops;
    struct shunt_cc_conn c;
    uint64_t start_ns, now_ns;
    uint64_t rtt_ns;
};

static struct sim sim_new(const struct shunt_cc_ops *ops, uint32_t cwnd_segs,
                          uint32_t ssthresh_segs, uint64_t rtt_ms)
{
    struct sim s = { .ops = ops, .start_ns = 1000000000ull, .now_ns = 1000000000ull,
                     .rtt_ns = rtt_ms * 1000000ull };

    s.c.mss = MSS;
    s.c.cwnd = cwnd_segs * MSS;
    s.c.ssthresh = ssthresh_segs * MSS;
    if (ops->init != NULL)
        ops->init(&s.c);
    return s;
}

static double segs(const struct sim *s)
{
    return (double)s->c.cwnd / MSS;
}

/* One RTT: every segment of the window acknowledged, each by its own ACK
 * of per_ack segments, the ACKs spread evenly over the RTT. */
static void round_trip(struct sim *s, uint32_t per_ack)
{
    uint32_t acks = s->c.cwnd / MSS / per_ack;

    for (uint32_t i = 0; i < acks; i++) {
        s->now_ns += s->rtt_ns / acks;
        struct shunt_cc_ack a = {
            .acked = per_ack * MSS, .srtt_us = (uint32_t)(s->rtt_ns / 1000),
            .min_rtt_us = (uint32_t)(s->rtt_ns / 1000), .now_ns = s->now_ns,
        };
        s->ops->cong_avoid(&s->c, &a);
    }
}

/* Round trips until the clock is at seconds since the start, to the
 * nearest RTT. */
static void run_until(struct sim *s, double seconds)
{
    uint64_t until = s->start_ns + (uint64_t)(seconds * 1e9);

    while (s->now_ns + s->rtt_ns / 2 < until)
        round_trip(s, 1);
}

/* A loss with the whole window in flight, and the recovery that follows
 * (cwnd = ssthresh, RFC 6675 5); returns ssthresh in segments. */
static double loss(struct sim *s)
{
    s->c.prior_cwnd = s->c.cwnd;
    s->c.ssthresh = s->ops->ssthresh(&s->c, s->c.cwnd);
    s->c.cwnd = s->c.ssthresh;
    return (double)s->c.ssthresh / MSS;
}

/* ---- NewReno (RFC 5681 3.1) -------------------------------------------- */

/* Slow start: one MSS per segment acked, so the window doubles per RTT,
 * with an ACK every segment or (RFC 3465's L = 2) every other one. */
START_TEST(reno_slow_start_doubles_per_rtt)
{
    for (uint32_t per_ack = 1; per_ack <= 2; per_ack++) {
        struct sim s = sim_new(&shunt_cc_reno, 10, 1000, 1);
        round_trip(&s, per_ack);
        ck_assert_uint_eq(s.c.cwnd, 20 * MSS);
        round_trip(&s, per_ack);
        ck_assert_uint_eq(s.c.cwnd, 40 * MSS);
    }
}
END_TEST

/* Slow start stops at ssthresh; what is acked beyond it counts towards
 * congestion avoidance. */
START_TEST(reno_slow_start_stops_at_ssthresh)
{
    struct sim s = sim_new(&shunt_cc_reno, 10, 15, 1);

    round_trip(&s, 1);
    ck_assert_uint_eq(s.c.cwnd, 15 * MSS);      /* 5 ACKs to 15, 5 MSS counted */
    round_trip(&s, 1);
    ck_assert_uint_eq(s.c.cwnd, 16 * MSS);      /* 15 MSS counted: one more */
}
END_TEST

/* Congestion avoidance: one MSS per RTT (a window's worth of bytes acked). */
START_TEST(reno_avoidance_one_mss_per_rtt)
{
    struct sim s = sim_new(&shunt_cc_reno, 10, 5, 1);

    for (uint32_t want = 11; want <= 15; want++) {
        round_trip(&s, 1);
        ck_assert_uint_eq(s.c.cwnd, want * MSS);
    }
}
END_TEST

/* RFC 5681 eq. 4: half the flight, never below 2 MSS. */
START_TEST(reno_ssthresh_half_the_flight)
{
    struct sim s = sim_new(&shunt_cc_reno, 40, 5, 1);

    ck_assert_uint_eq(shunt_cc_reno.ssthresh(&s.c, 20 * MSS), 10 * MSS);
    ck_assert_uint_eq(shunt_cc_reno.ssthresh(&s.c, 3 * MSS), 2 * MSS);
    ck_assert_uint_eq(loss(&s), 20);
}
END_TEST

/* ---- CUBIC (RFC 9438) -------------------------------------------------- */

#define C       0.4
#define BETA    0.7
#define ALPHA   (3 * (1 - BETA) / (1 + BETA))

/* Figure 1. */
static double w_cubic(double t, double k, double w_max)
{
    return C * pow(t - k, 3) + w_max;
}

/* Figure 2: K for a window that starts at cwnd_epoch below w_max. */
static double k_of(double w_max, double cwnd_epoch)
{
    return cbrt((w_max - cwnd_epoch) / C);
}

static void near(double got, double want, double within, const char *what)
{
    ck_assert_msg(fabs(got - want) <= within, "%s: %.2f segments, RFC 9438 says %.2f", what, got,
                  want);
}

/* 4.6: ssthresh = β × flight; and the window then follows W_cubic (t
 * counted from the first ACK after the loss) with W_max the window before
 * it and K = cbrt(W_max (1 - β) / C), 4.2 s for W_max = 100. */
START_TEST(cubic_window_follows_w_cubic)
{
    struct sim s = sim_new(&shunt_cc_cubic, 100, 50, 100);

    ck_assert_uint_eq(s.ops->ssthresh(&s.c, 100 * MSS), 70 * MSS);
    s.c.cwnd = s.c.ssthresh = 70 * MSS;
    double k = k_of(100, 70);
    near(k, 4.217, 0.001, "K");
    /* The window chases W_cubic one RTT ahead and catches it within the
     * RTT: it is W_cubic(t), to a quarter of a segment. */
    const double at[] = { 1, 2, 4 };
    for (unsigned i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        run_until(&s, at[i]);
        near(segs(&s), w_cubic(at[i], k, 100), 0.25, "cwnd");
    }
    /* Convex past W_max; from 5.7 s on, Reno's W_est (back above the
     * window of the loss, one segment per RTT) is a little ahead of it. */
    run_until(&s, 8);
    ck_assert_double_ge(segs(&s), w_cubic(8, k, 100) - 0.25);
    ck_assert_double_le(segs(&s), w_cubic(8, k, 100) + 1.5);
}
END_TEST

/* 4.3: on a short RTT Reno grows faster than W_cubic: the window is W_est,
 * α = 3(1-β)/(1+β) segments per RTT until it passes the window of the
 * loss, one per RTT after. */
START_TEST(cubic_reno_friendly_region)
{
    struct sim s = sim_new(&shunt_cc_cubic, 100, 50, 1);

    loss(&s);
    for (int i = 0; i < 20; i++)
        round_trip(&s, 1);
    double k = k_of(100, 70);
    ck_assert_double_lt(w_cubic(0.020, k, 100), 71);    /* W_cubic has hardly moved */
    near(segs(&s), 70 + 20 * ALPHA, 1.0, "cwnd after 20 RTT");
    double rtts_to_prior = 30 / ALPHA;              /* 56.7: from 70 back to 100 */
    for (int i = 20; i < 80; i++)
        round_trip(&s, 1);
    near(segs(&s), 100 + (80 - rtts_to_prior), 1.5, "cwnd after 80 RTT");
}
END_TEST

/* 4.7: a loss below the last W_max sets W_max = cwnd (1 + β) / 2, so K is
 * shorter: from 90, W_max = 76.5, ssthresh 63, K = 3.2 s. */
START_TEST(cubic_fast_convergence)
{
    struct sim s = sim_new(&shunt_cc_cubic, 100, 50, 100);

    loss(&s);
    s.c.cwnd = 90 * MSS;
    near(loss(&s), 63, 0.01, "ssthresh");
    double w_max = 90 * (1 + BETA) / 2, k = k_of(w_max, 63);
    near(k, 3.23, 0.01, "K");
    run_until(&s, 2);
    near(segs(&s), w_cubic(2, k, w_max), 0.25, "cwnd 2 s on");
    ck_assert_double_lt(segs(&s), w_cubic(2, k_of(90, 63), 90) - 5);   /* W_max 90 is not it */
}
END_TEST

/* 4.8: after a timeout the first stage starts from its own window: K = 0,
 * W_max = the window then, so W_cubic = 70 + C t^3. */
START_TEST(cubic_after_timeout_k_is_zero)
{
    struct sim s = sim_new(&shunt_cc_cubic, 100, 50, 500);

    loss(&s);
    s.ops->on_rto(&s.c);
    run_until(&s, 3);
    near(segs(&s), w_cubic(3, 0, 70), 0.03 * 80.8, "cwnd 3 s after");
    ck_assert_double_lt(segs(&s), w_cubic(3, k_of(100, 70), 100) - 10);
}
END_TEST

/* 4.9: a reduction found spurious is forgotten: the window goes back to
 * where it was, and W_max to what the reduction replaced. */
START_TEST(cubic_undo)
{
    struct sim s = sim_new(&shunt_cc_cubic, 100, 50, 100);

    loss(&s);
    s.c.cwnd = 90 * MSS;
    loss(&s);                                   /* W_max would be 76.5 */
    ck_assert_uint_eq(s.ops->undo_cwnd(&s.c), 90 * MSS);
    s.c.cwnd = 90 * MSS;
    run_until(&s, 1);
    near(segs(&s), w_cubic(1, k_of(100, 90), 100), 0.25, "cwnd 1 s after the undo");
}
END_TEST

/* Slow start before any loss is RFC 5681's (no HyStart). */
START_TEST(cubic_slow_start)
{
    struct sim s = sim_new(&shunt_cc_cubic, 10, 1000, 10);

    round_trip(&s, 1);
    ck_assert_uint_eq(s.c.cwnd, 20 * MSS);
}
END_TEST

/* ---- the registry ------------------------------------------------------ */

static void constant_avoid(struct shunt_cc_conn *c, const struct shunt_cc_ack *a)
{
    (void)a;
    c->cwnd = 12 * c->mss;
}

static uint32_t constant_ssthresh(struct shunt_cc_conn *c, uint32_t flight)
{
    (void)flight;
    return 12 * c->mss;
}

START_TEST(registry)
{
    static const struct shunt_cc_ops mine = {
        .name = "unit-constant", .cong_avoid = constant_avoid, .ssthresh = constant_ssthresh,
    };
    static const struct shunt_cc_ops no_avoid = { .name = "x", .ssthresh = constant_ssthresh };
    static const struct shunt_cc_ops no_name = {
        .cong_avoid = constant_avoid, .ssthresh = constant_ssthresh,
    };
    static const struct shunt_cc_ops reno_again = {
        .name = "reno", .cong_avoid = constant_avoid, .ssthresh = constant_ssthresh,
    };
    struct shunt_cc_ops long_name = { .cong_avoid = constant_avoid, .ssthresh = constant_ssthresh };
    memset(long_name.name, 'a', sizeof(long_name.name));

    ck_assert_ptr_eq(shunt_cc_find("reno"), &shunt_cc_reno);
    ck_assert_ptr_eq(shunt_cc_find("cubic"), &shunt_cc_cubic);
    ck_assert_ptr_eq(shunt_cc_default(), &shunt_cc_cubic);
    ck_assert_ptr_null(shunt_cc_find("unit-constant"));
    ck_assert_int_eq(shunt_cc_register(&mine), 0);
    ck_assert_ptr_eq(shunt_cc_find("unit-constant"), &mine);
    const struct shunt_cc_ops *bad[] = { &mine, &reno_again, &no_avoid, &no_name, &long_name,
                                         NULL };
    const int want[] = { EEXIST, EEXIST, EINVAL, EINVAL, EINVAL, EINVAL };
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        errno = 0;
        ck_assert_int_eq(shunt_cc_register(bad[i]), -1);
        ck_assert_int_eq(errno, want[i]);
    }
    ck_assert_ptr_eq(shunt_cc_find("reno"), &shunt_cc_reno);   /* never replaced */
}
END_TEST

START_TEST(registry_full)
{
    static struct shunt_cc_ops many[SHUNT_CC_MAX];
    unsigned n = 0;

    for (; n < SHUNT_CC_MAX; n++) {
        many[n] = (struct shunt_cc_ops){ .cong_avoid = constant_avoid,
                                         .ssthresh = constant_ssthresh };
        snprintf(many[n].name, sizeof(many[n].name), "many-%u", n);
        if (shunt_cc_register(&many[n]) != 0)
            break;
    }
    ck_assert_int_eq(errno, ENOSPC);
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_le(n, SHUNT_CC_MAX - 2);     /* reno and cubic hold two places */
    ck_assert_ptr_eq(shunt_cc_find("many-0"), &many[0]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cc");
    TCase *reno = tcase_create("reno"), *cubic = tcase_create("cubic"),
          *reg = tcase_create("registry");

    add_tests(reno, reno_slow_start_doubles_per_rtt, reno_slow_start_stops_at_ssthresh,
              reno_avoidance_one_mss_per_rtt, reno_ssthresh_half_the_flight);
    add_tests(cubic, cubic_window_follows_w_cubic, cubic_reno_friendly_region,
              cubic_fast_convergence, cubic_after_timeout_k_is_zero, cubic_undo, cubic_slow_start);
    add_tests(reg, registry, registry_full);
    suite_add_tcase(s, reno);
    suite_add_tcase(s, cubic);
    suite_add_tcase(s, reg);
    return run_suite(s);
}
