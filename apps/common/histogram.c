/*
 * histogram.c - see histogram.h.
 */
#include "histogram.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int hist_init(struct histogram *h)
{
    memset(h, 0, sizeof(*h));
    h->counts = calloc(HIST_SLOTS, sizeof(h->counts[0]));
    if (h->counts == NULL) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

void hist_free(struct histogram *h)
{
    free(h->counts);
    h->counts = NULL;
}

void hist_reset(struct histogram *h)
{
    uint64_t *counts = h->counts;

    memset(counts, 0, HIST_SLOTS * sizeof(counts[0]));
    memset(h, 0, sizeof(*h));
    h->counts = counts;
}

/* The highest value that counts in a slot. */
static uint64_t slot_high(unsigned slot)
{
    if (slot < HIST_SUB)
        return slot;
    unsigned k = slot - HIST_SUB;
    unsigned shift = k / HIST_HALF + 1;
    uint64_t sub = k % HIST_HALF + HIST_HALF;
    return ((sub + 1) << shift) - 1;
}

uint64_t hist_percentile(const struct histogram *h, double p)
{
    if (h->n == 0)
        return 0;
    if (p <= 0)
        return h->min;
    if (p >= 100)
        return h->max;
    /* The rank of the sample at p: the smallest that has p% at or below it. */
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->n);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned s = 0; s < HIST_SLOTS; s++) {
        seen += h->counts[s];
        if (seen >= rank) {
            uint64_t v = slot_high(s);
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double hist_mean(const struct histogram *h)
{
    return h->n == 0 ? 0.0 : (double)h->shift + h->sum / (double)h->n;
}

double hist_stddev(const struct histogram *h)
{
    if (h->n < 2)
        return 0.0;
    double m = h->sum / (double)h->n;
    double var = h->sumsq / (double)h->n - m * m;
    return var > 0 ? sqrt(var) : 0.0;
}

void hist_for_each_percentile(const struct histogram *h,
                              void (*fn)(double p, uint64_t value, void *arg), void *arg)
{
    if (h->n == 0)
        return;
    for (double p = 0.0;;) {
        /* Past the last percentile a sample stands for: the max ends it. */
        if ((100.0 - p) / 100.0 * (double)h->n < 1.0) {
            fn(100.0, h->max, arg);
            return;
        }
        fn(p, hist_percentile(h, p), arg);
        double half = pow(2.0, floor(log2(100.0 / (100.0 - p))) + 1.0);
        p += 100.0 / (5.0 * half);
    }
}
