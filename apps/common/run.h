/*
 * run.h - one measured run of a timed loop, as shunt-perf and shunt-floor
 * both make it: a warm-up that is run but not counted, then measuring
 * until -t seconds or -n operations, a progress line a second, and the
 * counts, histogram and CPU cost that go into the report.
 *
 *     run_open(&r) ... run_begin(&r, warmup);
 *     while (run_on(&r)) {
 *         ... one operation (a round trip, a request, a message) ...
 *         if (r.measuring) { r.ops++; hist_record(&r.lat, ns); }
 *     }
 *     run_result(&r, tsc_now(), &result);
 *
 * run_on sits between two timed operations: it is inline, and leaves the
 * loop only once a second (progress) and once at the end of the warm-up.
 * Also here: the sequence number stamped into messages, so an echo is
 * matched to its request.
 */
#ifndef SHUNT_APPS_RUN_H
#define SHUNT_APPS_RUN_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "cycles.h"
#include "histogram.h"
#include "report.h"
#include "sides.h"

struct run {
    /* The plan: set these before run_open. */
    const char *ops_name;       /* what an operation is: "round trips", "requests", ... */
    double seconds;             /* measure this long, unless count */
    uint64_t count;             /* measure this many operations; 0: by time */
    bool quiet;                 /* no progress lines */
    long server_pid;            /* the server to measure too (sides.h); 0: none */
    sides_work_fn work;         /* this side's loop work time (Shunt); NULL: none */

    bool measuring;             /* the warm-up is over */
    uint64_t warm_end;          /* TSC: measuring starts */
    uint64_t start, end;        /* TSC: measuring started; ends (by time) */
    uint64_t next_progress;     /* TSC: the next progress line */

    /* Counted by the loop while measuring; bytes and the datagram (or
     * frame) counts only where the mode moves them. */
    uint64_t ops, bytes, sent, received, out_of_order;
    struct histogram lat;
    struct cpu_meter cpu;
    struct sides sides;
};

/* The histogram and the CPU meter: 0, or -1 (out of memory). */
int run_open(struct run *r);
void run_close(struct run *r);

/* The warm-up starts now and lasts this long. */
void run_begin(struct run *r, double warmup);

/* Out of line, for run_on: the end of the warm-up, and the progress line. */
void run_start_measuring(struct run *r, uint64_t now);
void run_progress(struct run *r, uint64_t now);

/* Between two operations: false once the run is complete, or stopped. */
static inline bool run_on(struct run *r)
{
    uint64_t now = tsc_now();

    if (stop)
        return false;
    if (!r->measuring) {
        if (now >= r->warm_end)
            run_start_measuring(r, now);
        return true;
    }
    if (r->count ? r->ops >= r->count : now >= r->end)
        return false;
    if (now >= r->next_progress)
        run_progress(r, now);
    return true;
}

/* One timed operation (a request, a connection) from t0 to t1 (TSC),
 * counted while measuring. */
static inline void run_record(struct run *r, uint64_t t0, uint64_t t1)
{
    if (r->measuring) {
        r->ops++;
        hist_record(&r->lat, tsc_to_ns(t1 - t0));
    }
}

/* A message that wants its echo, sent at t0: counted sent and, if the
 * echo came (at t1), a round trip. */
static inline void run_round_trip(struct run *r, bool echoed, uint64_t t0, uint64_t t1)
{
    if (!r->measuring)
        return;
    r->sent++;
    if (echoed) {
        r->received++;
        r->ops++;
        hist_record(&r->lat, tsc_to_ns(t1 - t0));
    }
}

/* --mps: when each message goes. */
struct pacer {
    uint64_t interval;          /* TSC ticks between messages; 0: each at once */
    uint64_t next;
};

static inline void pacer_init(struct pacer *p, double mps)
{
    p->interval = mps > 0 ? tsc_from_s(1.0 / mps) : 0;
    p->next = tsc_now();
}

/* When (TSC) the next message goes: 0 for at once.  Behind schedule (a
 * slow echo), the missed slots are skipped, not made up in a burst that
 * would queue behind itself. */
static inline uint64_t pacer_next(struct pacer *p)
{
    if (p->interval == 0)
        return 0;
    uint64_t t = p->next, now = tsc_now();
    p->next = t + p->interval;
    if (p->next < now)
        p->next = now;
    return t;
}

/* The run is over at end (TSC): stop the meter and fill in what was
 * measured (seconds, counts, latency, cpu); what ran is the caller's. */
void run_result(struct run *r, uint64_t end, struct result *out);

/* Sequence number seq in a message's first bytes (as many as fit, up to
 * 8, little-endian), and whether a message carries it. */
static inline void stamp(unsigned char *msg, size_t size, uint64_t seq)
{
    uint64_t le = htole64(seq);

    memcpy(msg, &le, size < 8 ? size : 8);
}

static inline bool stamped(const unsigned char *msg, size_t size, uint64_t seq)
{
    uint64_t le = htole64(seq);

    return memcmp(msg, &le, size < 8 ? size : 8) == 0;
}

#endif /* SHUNT_APPS_RUN_H */
