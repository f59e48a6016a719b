/*
 * grouplat.h - a latency histogram small enough for one per group (a
 * handler may join thousands): log-linear, 8 buckets per power of two, so a
 * percentile is within 12.5% (never below the true value), in 4 KiB.  The
 * run's total keeps the full histogram (common/histogram.h, 0.1%).
 */
#ifndef SHUNT_FEED_GROUPLAT_H
#define SHUNT_FEED_GROUPLAT_H

#include <stdint.h>

#define GL_SLOTS 512                    /* 8 a power of two, up to 2^64 */

struct grouplat {
    uint64_t n;
    uint64_t counts[GL_SLOTS];
};

static inline unsigned gl_slot(uint64_t v)
{
    if (v < 8)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    return (msb - 2) * 8 + (unsigned)((v >> (msb - 3)) & 7);
}

static inline void gl_record(struct grouplat *g, uint64_t v)
{
    g->counts[gl_slot(v)]++;
    g->n++;
}

/* The highest value slot s holds. */
static inline uint64_t gl_top(unsigned s)
{
    if (s < 8)
        return s;
    unsigned shift = s / 8 - 1;             /* msb - 3 */
    return ((uint64_t)(8 + s % 8 + 1) << shift) - 1;
}

/* The value at percentile p (0..100); 0 when empty. */
static inline uint64_t gl_percentile(const struct grouplat *g, double p)
{
    uint64_t rank = (uint64_t)(p / 100.0 * (double)g->n + 0.5), seen = 0;

    if (rank == 0)
        rank = 1;
    for (unsigned s = 0; s < GL_SLOTS; s++) {
        seen += g->counts[s];
        if (seen >= rank)
            return gl_top(s);
    }
    return 0;
}

#endif /* SHUNT_FEED_GROUPLAT_H */
