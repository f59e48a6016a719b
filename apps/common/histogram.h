/*
 * histogram.h - every latency sample of a run, in HdrHistogram-style
 * log-linear buckets: exact below 2,048, and above that 1,024 buckets per
 * power of two, so any value is kept to 3 significant digits (within 0.1%).
 * Nothing is sampled or thrown away, so p99.99 and max are as good as p50.
 *
 * Values are whatever unit the caller records (shunt-perf and shunt-floor
 * record nanoseconds).  Recording is a few instructions and no branch that
 * mispredicts in a steady run: it sits inside the timed loop.
 */
#ifndef SHUNT_APPS_HISTOGRAM_H
#define SHUNT_APPS_HISTOGRAM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HIST_SUB_BITS   11                          /* 2,048 sub-buckets: 3 digits */
#define HIST_SUB        (1u << HIST_SUB_BITS)
#define HIST_HALF       (HIST_SUB / 2)
#define HIST_MAX_SHIFT  40                          /* up to 2^51 ns: 26 days */
#define HIST_SLOTS      (HIST_SUB + HIST_MAX_SHIFT * HIST_HALF)

struct histogram {
    uint64_t *counts;           /* HIST_SLOTS of them */
    uint64_t n;
    uint64_t min, max;          /* exact */
    uint64_t shift;             /* the first value: sums are kept relative to it */
    double sum, sumsq;          /* of (value - shift), for mean and std-dev */
};

/* 0, or -1 (ENOMEM). */
int hist_init(struct histogram *h);
void hist_free(struct histogram *h);
void hist_reset(struct histogram *h);

/* The slot a value counts in. */
static inline unsigned hist_slot(uint64_t v)
{
    if (v < HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - (HIST_SUB_BITS - 1);     /* v >> shift is in [HALF, SUB) */
    unsigned slot = HIST_SUB + (shift - 1) * HIST_HALF + (unsigned)((v >> shift) - HIST_HALF);
    return slot < HIST_SLOTS ? slot : HIST_SLOTS - 1;
}

static inline void hist_record(struct histogram *h, uint64_t v)
{
    if (h->n == 0)
        h->shift = h->min = h->max = v;
    h->counts[hist_slot(v)]++;
    h->n++;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    double d = (double)v - (double)h->shift;
    h->sum += d;
    h->sumsq += d * d;
}

/* The value at percentile p (0..100): the highest value of the bucket that
 * holds that rank, so never below the true one; p 0 is min, p 100 is max. */
uint64_t hist_percentile(const struct histogram *h, double p);
double hist_mean(const struct histogram *h);
double hist_stddev(const struct histogram *h);

/*
 * The percentile distribution for plots, HdrHistogram's way: percentiles
 * 0, 50, 75, 87.5, ... (five steps per halving of what is left), up to the
 * last one a sample backs, then 100.  Calls fn(percentile, value, arg) for
 * each.
 */
void hist_for_each_percentile(const struct histogram *h,
                              void (*fn)(double p, uint64_t value, void *arg), void *arg);

#endif /* SHUNT_APPS_HISTOGRAM_H */
