/*
 * arbiter.h - A/B line arbitration of sequenced messages, per group: each
 * sequence number goes to the application once, from whichever line brings
 * it first, and what each line missed is counted.  No sockets, no clocks:
 * shunt-feed handle feeds it what it reads, tests/unit/test-arbiter what it
 * makes up.
 *
 * The rules, per group (sequences start at 1, or at the first one seen with
 * mid_stream):
 *   - the first copy of a sequence is delivered; the other line's copy of a
 *     delivered one is redundant (the normal case: every message comes twice);
 *     a second copy on the same line is a duplicate.  Neither is delivered.
 *   - a delivered sequence below the highest delivered so far is reordered.
 *   - a gap is a sequence missing on both lines.  It is declared at once when
 *     every line in use has brought a later sequence (two lines: the lower of
 *     their highest), or at the latest when it falls out of the window (the
 *     window newest sequences are tracked; older ones are final).
 *   - a declared gap that arrives after all is delivered, a late fill: it
 *     counts as late, no longer as a gap.  So at the end gaps are exactly
 *     the sequences lost on both lines.
 *   - a sequence older than the window cannot be told from one delivered
 *     already: stale, not delivered.
 *   - recovered_by[l]: sequences only line l brought (the other line lost
 *     them), counted once a sequence is final (out of the window, or at
 *     arb_flush).  With one line there is nothing to recover.
 */
#ifndef SHUNT_FEED_ARBITER_H
#define SHUNT_FEED_ARBITER_H

#include <stdbool.h>
#include <stdint.h>

#define ARB_LINES 2

struct arb_counts {
    uint64_t received[ARB_LINES];       /* copies each line brought */
    uint64_t delivered;                 /* sequences given to the application */
    uint64_t first_by[ARB_LINES];       /* of them, brought first by that line */
    uint64_t gaps;                      /* sequences missing on both lines */
    uint64_t late;                      /* declared gaps filled later (delivered) */
    uint64_t redundant;                 /* the other line's copy of a delivered one */
    uint64_t duplicates;                /* a line's second copy of a sequence */
    uint64_t reordered;                 /* delivered below the highest delivered */
    uint64_t stale;                     /* older than the window: not delivered */
    uint64_t recovered_by[ARB_LINES];   /* final sequences only that line brought */
};

struct arb_group {
    bool started;
    uint64_t base;                      /* the oldest sequence not final */
    uint64_t scan;                      /* gaps are declared below this already */
    uint64_t hi[ARB_LINES];             /* the highest sequence each line brought; 0: none */
    uint64_t max_delivered;             /* 0: none yet */
    unsigned char *ring;                /* per sequence in the window: lines seen, gap */
    struct arb_counts c;
};

struct arbiter {
    unsigned groups, lines;             /* lines: 1 or 2 */
    uint64_t window;                    /* a power of two */
    bool mid_stream;
    struct arb_group *g;
};

enum arb_verdict {
    ARB_DELIVER,        /* the first copy: the application's */
    ARB_LATE,           /* the first copy of a declared gap: the application's too */
    ARB_REDUNDANT,
    ARB_DUPLICATE,
    ARB_STALE,
};

/* groups groups on lines lines (1 or 2), window a power of two (at least
 * 2).  0, or -1 (ENOMEM, or EINVAL for a bad argument). */
int arb_init(struct arbiter *a, unsigned groups, unsigned lines, uint64_t window, bool mid_stream);
void arb_free(struct arbiter *a);

/* A copy of sequence seq of group (< groups) from line (< lines). */
enum arb_verdict arb_offer(struct arbiter *a, unsigned group, uint64_t seq, unsigned line);

static inline bool arb_delivered(enum arb_verdict v)
{
    return v == ARB_DELIVER || v == ARB_LATE;
}

/* The end of the feed: every sequence up to the highest seen becomes final
 * (gaps and recovered_by counted). */
void arb_flush(struct arbiter *a);

/* The counts of all groups together. */
void arb_total(const struct arbiter *a, struct arb_counts *out);

#endif /* SHUNT_FEED_ARBITER_H */
