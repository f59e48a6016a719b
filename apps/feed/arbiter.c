/*
 * arbiter.c - see arbiter.h.
 *
 * Each group keeps one byte per sequence of its window, indexed by the
 * sequence modulo the window: which lines brought it, and whether it was
 * declared a gap.  A sequence leaving the window (the window moves when a
 * newer one arrives) is final and its byte is cleared for the sequence
 * window later.
 */
#include "arbiter.h"

#include <errno.h>
#include <stdlib.h>

#define SEEN_MASK 0x3u          /* bit l: line l brought it */
#define GAP       0x4u          /* declared missing on both lines */

int arb_init(struct arbiter *a, unsigned groups, unsigned lines, uint64_t window, bool mid_stream)
{
    *a = (struct arbiter){ .groups = groups, .lines = lines, .window = window, .mid_stream = mid_stream };
    if (groups == 0 || lines < 1 || lines > ARB_LINES || window < 2 || (window & (window - 1))) {
        errno = EINVAL;
        return -1;
    }
    a->g = calloc(groups, sizeof(*a->g));
    if (a->g == NULL)
        return -1;
    for (unsigned i = 0; i < groups; i++) {
        a->g[i].ring = calloc(window, 1);
        if (a->g[i].ring == NULL) {
            arb_free(a);
            errno = ENOMEM;
            return -1;
        }
        a->g[i].base = a->g[i].scan = 1;
    }
    return 0;
}

void arb_free(struct arbiter *a)
{
    if (a->g != NULL)
        for (unsigned i = 0; i < a->groups; i++)
            free(a->g[i].ring);
    free(a->g);
    a->g = NULL;
}

static unsigned char *slot(const struct arbiter *a, struct arb_group *g, uint64_t seq)
{
    return &g->ring[seq & (a->window - 1)];
}

/* Sequence seq leaves the window: final. */
static void finalize(const struct arbiter *a, struct arb_group *g, uint64_t seq)
{
    unsigned char *s = slot(a, g, seq);
    unsigned seen = *s & SEEN_MASK;

    if (seen == 0 && !(*s & GAP))
        g->c.gaps++;
    else if (a->lines == 2 && seen != SEEN_MASK && seen != 0)
        g->c.recovered_by[seen == 1 ? 0 : 1]++;
    *s = 0;
}

/* Everything below end becomes final. */
static void advance(const struct arbiter *a, struct arb_group *g, uint64_t end)
{
    if (end <= g->base)
        return;
    /* Beyond the window nothing was ever seen: gaps, without a look. */
    uint64_t tracked = end - g->base > a->window ? g->base + a->window : end;
    for (uint64_t s = g->base; s < tracked; s++)
        finalize(a, g, s);
    g->c.gaps += end - tracked;
    g->base = end;
    if (g->scan < end)
        g->scan = end;
}

/* Sequences every line in use has passed, and no line brought: gaps now. */
static void declare_gaps(const struct arbiter *a, struct arb_group *g)
{
    uint64_t passed = g->hi[0];

    if (a->lines == 2 && g->hi[1] < passed)
        passed = g->hi[1];
    for (; g->scan < passed; g->scan++) {
        unsigned char *s = slot(a, g, g->scan);
        if ((*s & (SEEN_MASK | GAP)) == 0) {
            *s |= GAP;
            g->c.gaps++;
        }
    }
}

enum arb_verdict arb_offer(struct arbiter *a, unsigned group, uint64_t seq, unsigned line)
{
    struct arb_group *g = &a->g[group];
    unsigned bit = 1u << line;

    g->c.received[line]++;
    if (!g->started) {
        g->started = true;
        if (a->mid_stream && seq > 0)
            g->base = g->scan = seq;
    }
    if (seq < g->base) {
        g->c.stale++;
        return ARB_STALE;
    }
    if (seq - g->base >= a->window)
        advance(a, g, seq - a->window + 1);

    unsigned char *s = slot(a, g, seq);
    if (*s & bit) {
        g->c.duplicates++;
        return ARB_DUPLICATE;
    }
    if (seq > g->hi[line])
        g->hi[line] = seq;
    if (*s & SEEN_MASK) {
        *s |= bit;
        g->c.redundant++;
        declare_gaps(a, g);
        return ARB_REDUNDANT;
    }

    enum arb_verdict v = ARB_DELIVER;
    if (*s & GAP) {
        *s &= ~GAP;
        g->c.gaps--;
        g->c.late++;
        v = ARB_LATE;
    } else if (seq < g->max_delivered) {
        g->c.reordered++;
    }
    *s |= bit;
    g->c.delivered++;
    g->c.first_by[line]++;
    if (seq > g->max_delivered)
        g->max_delivered = seq;
    declare_gaps(a, g);
    return v;
}

void arb_flush(struct arbiter *a)
{
    for (unsigned i = 0; i < a->groups; i++) {
        struct arb_group *g = &a->g[i];
        uint64_t last = g->hi[0] > g->hi[1] ? g->hi[0] : g->hi[1];
        if (g->started)
            advance(a, g, last + 1);
    }
}

void arb_total(const struct arbiter *a, struct arb_counts *out)
{
    *out = (struct arb_counts){ 0 };
    for (unsigned i = 0; i < a->groups; i++) {
        const struct arb_counts *c = &a->g[i].c;
        for (unsigned l = 0; l < ARB_LINES; l++) {
            out->received[l] += c->received[l];
            out->recovered_by[l] += c->recovered_by[l];
            out->first_by[l] += c->first_by[l];
        }
        out->delivered += c->delivered;
        out->gaps += c->gaps;
        out->late += c->late;
        out->redundant += c->redundant;
        out->duplicates += c->duplicates;
        out->reordered += c->reordered;
        out->stale += c->stale;
    }
}
