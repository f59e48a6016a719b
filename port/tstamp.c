/*
 * tstamp.c - receive and transmit stamps, and the stack clock's line onto
 * CLOCK_REALTIME.
 */
/* rte_eth_read_clock is experimental in DPDK 22.11. */
#define ALLOW_EXPERIMENTAL_API
#include "tstamp.h"

#include <errno.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>

#include "clock.h"

#define ANCHOR_EVERY_NS 1000000000ull   /* re-anchor once a second */
#define FIRST_RATE_NS 10000000ull       /* the TSC's rate first learnt over 10 ms */
#define STEP_NS 1000000ll               /* a system clock step taken at once */
#define SLEW_MAX_PPB 500000ll           /* a correction's most: 500 ppm, NTP's own */
#define BRACKET_TRIES 3                 /* reads of clock_gettime() to bracket */

static struct {
    const struct shunt_clock *clock;
    int field;                          /* the mbuf's timestamp field: offset */
    uint64_t hw_flag;                   /* and the flag a port sets with it */
    /* The line: real = real0 + d + d * slew / 1e9, d = ns - ns0 (slew_q32:
     * slew / 1e9 in 32.32 fixed point). */
    uint64_t ns0;
    int64_t real0;
    int64_t slew_ppb;
    int64_t slew_q32;
    uint64_t next_anchor;
    /* The last true reading, and the TSC's rate learnt from them. */
    uint64_t prev_ns;
    int64_t prev_real;
    int64_t rate_ppb;
    bool rate_known;
    bool driven;                        /* anchored on a driven clock: no more anchors */
    /* The frame lwIP handles: its stamp, or none. */
    const struct rte_mbuf *current;
    /* The port's clock: ticks0 at ns0hw, and its ticks per stack ns. */
    uint16_t port_id;
    uint64_t hw_ticks0, hw_ns0;
    double hw_ns_per_tick;
    struct shunt_tstamp_info info;
} ts = { .field = -1 };

/* Every datagram's stamp comes through here: a multiply, no division. */
static uint64_t real_of(uint64_t ns)
{
    int64_t d = (int64_t)(ns - ts.ns0);

    return (uint64_t)(ts.real0 + d + (int64_t)(((__int128)d * ts.slew_q32) >> 32));
}

static int64_t realtime_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The stack clock's time of one CLOCK_REALTIME read: the middle of the
 * narrowest bracket of a few tries (a preempted try is wide). */
static uint64_t bracket(int64_t *real)
{
    uint64_t best = UINT64_MAX, mid = 0;

    for (int i = 0; i < BRACKET_TRIES; i++) {
        uint64_t a = shunt_clock_ns(ts.clock);
        int64_t r = realtime_now();
        uint64_t b = shunt_clock_ns(ts.clock);
        if (b - a < best) {
            best = b - a;
            mid = a + (b - a) / 2;
            *real = r;
        }
    }
    return mid;
}

/* The port's clock against the stack's, for its stamps: two readings a
 * second or more apart give its rate. */
static void hw_calibrate(void)
{
    uint64_t ticks;
    uint64_t a = shunt_clock_ns(ts.clock);

    if (rte_eth_read_clock(ts.port_id, &ticks) != 0)
        return;
    uint64_t ns = a + (shunt_clock_ns(ts.clock) - a) / 2;
    if (ts.hw_ns0 != 0 && ns > ts.hw_ns0 && ticks > ts.hw_ticks0)
        ts.hw_ns_per_tick = (double)(ns - ts.hw_ns0) / (double)(ticks - ts.hw_ticks0);
    ts.hw_ticks0 = ticks;
    ts.hw_ns0 = ns;
}

/* The TSC's rate against CLOCK_REALTIME from two true readings (ppb), into
 * a running average: a reading's own error (a few tens of ns) weighs an
 * eighth. */
static void learn_rate(uint64_t mid, int64_t real)
{
    if (ts.prev_ns != 0 && mid > ts.prev_ns) {
        int64_t dns = (int64_t)(mid - ts.prev_ns);
        int64_t ppb = (int64_t)(((__int128)((real - ts.prev_real) - dns) * 1000000000) / dns);
        ts.rate_ppb = ts.rate_known ? ts.rate_ppb + (ppb - ts.rate_ppb) / 8 : ppb;
        ts.rate_known = true;
    }
    ts.prev_ns = mid;
    ts.prev_real = real;
}

static int64_t clamp_slew(int64_t v)
{
    return v > SLEW_MAX_PPB ? SLEW_MAX_PPB : v < -SLEW_MAX_PPB ? -SLEW_MAX_PPB : v;
}

/* Put the line through CLOCK_REALTIME's reading now.  The TSC's rate as
 * DPDK estimates it (rte_get_tsc_hz) can be a few thousand ppm off on a VM,
 * more than a correction may take in: so the rate is learnt first, over
 * FIRST_RATE_NS from the start, and the line then runs at it; each anchor
 * after that refines the rate and takes the remaining error in over the
 * next second.  A step of the system clock (an error beyond STEP_NS once
 * the rate is known) is taken at once, and the reading across it is not
 * used for the rate: the TSC did not change its pace. */
static void anchor(bool first)
{
    int64_t real = 0;
    uint64_t mid = bracket(&real);
    int64_t err = first ? 0 : real - (int64_t)real_of(mid);
    uint64_t next = ANCHOR_EVERY_NS;

    if (!first)
        ts.info.last_error_ns = err;
    if (first) {
        ts.slew_ppb = 0;
        ts.prev_ns = 0;
        ts.rate_known = false;
        learn_rate(mid, real);
        next = FIRST_RATE_NS;
    } else if (!ts.rate_known) {
        /* The first rate: run at it from this reading on. */
        learn_rate(mid, real);
        ts.slew_ppb = ts.rate_ppb;
    } else if (err > STEP_NS || err < -STEP_NS) {
        ts.info.steps++;
        ts.prev_ns = 0;
        learn_rate(mid, real);
        ts.slew_ppb = ts.rate_ppb;
    } else {
        learn_rate(mid, real);
        real = (int64_t)real_of(mid);
        ts.slew_ppb = ts.rate_ppb + clamp_slew(err * 1000000000ll / (int64_t)ANCHOR_EVERY_NS);
    }
    ts.slew_q32 = (int64_t)((__int128)ts.slew_ppb * ((__int128)1 << 32) / 1000000000);
    ts.ns0 = mid;
    ts.real0 = real;
    ts.next_anchor = mid + next;
    ts.info.anchors++;
    ts.info.slew_ppb = ts.slew_ppb;
    if (ts.info.hw_enabled)
        hw_calibrate();
}

int shunt_tstamp_init(const struct shunt_clock *clock)
{
    int rc = rte_mbuf_dyn_rx_timestamp_register(&ts.field, &ts.hw_flag);

    ts.clock = clock;
    ts.driven = false;
    ts.info = (struct shunt_tstamp_info){ 0 };
    ts.hw_ns0 = 0;
    anchor(true);
    return rc == 0 ? 0 : -rte_errno;
}

void shunt_tstamp_hw_port(bool capable, bool enabled, uint16_t port_id)
{
    ts.info.hw_capable = capable;
    ts.port_id = port_id;
    ts.hw_ns0 = 0;
    ts.hw_ns_per_tick = 1.0;            /* until a second reading: ns ticks */
    /* The port's stamps are of use only with its clock readable. */
    uint64_t ticks;
    ts.info.hw_enabled = enabled && rte_eth_read_clock(port_id, &ticks) == 0;
    if (ts.info.hw_enabled)
        hw_calibrate();
}

void shunt_tstamp_tick(uint64_t now)
{
    if (ts.clock == NULL)
        return;
    if (ts.clock->source != NULL) {
        /* A driven clock: anchor once on it, then follow it exactly. */
        if (!ts.driven) {
            ts.driven = true;
            anchor(true);
            ts.next_anchor = UINT64_MAX;
        }
        return;
    }
    if (ts.driven) {                    /* back on the TSC */
        ts.driven = false;
        anchor(true);
        return;
    }
    if (now >= ts.next_anchor)
        anchor(false);
}

void shunt_tstamp_burst(struct rte_mbuf **pkts, unsigned n)
{
    if (n == 0 || ts.field < 0)
        return;
    uint64_t now = shunt_clock_ns(ts.clock);
    for (unsigned i = 0; i < n; i++) {
        if ((pkts[i]->ol_flags & ts.hw_flag) && ts.info.hw_enabled)
            continue;
        *RTE_MBUF_DYNFIELD(pkts[i], ts.field, uint64_t *) = now;
        pkts[i]->ol_flags &= ~ts.hw_flag;
    }
}

void shunt_tstamp_set_current(const struct rte_mbuf *m)
{
    ts.current = m;
}

void shunt_tstamp_now(struct shunt_stamp *out)
{
    out->ns = shunt_clock_ns(ts.clock);
    out->real_ns = real_of(out->ns);
    out->hw_real_ns = 0;
}

void shunt_tstamp_rx(struct shunt_stamp *out)
{
    const struct rte_mbuf *m = ts.current;

    if (m == NULL || ts.field < 0) {
        shunt_tstamp_now(out);
        return;
    }
    uint64_t v = *RTE_MBUF_DYNFIELD(m, ts.field, const uint64_t *);
    if (!(m->ol_flags & ts.hw_flag)) {
        out->ns = v;
        out->real_ns = real_of(v);
        out->hw_real_ns = 0;
        return;
    }
    /* The port's ticks, on the stack's clock through the calibration, then
     * on CLOCK_REALTIME; the software stamp is the time lwIP has it. */
    ts.info.hw_frames++;
    shunt_tstamp_now(out);
    int64_t dt = (int64_t)(v - ts.hw_ticks0);
    out->hw_real_ns = real_of(ts.hw_ns0 + (uint64_t)(int64_t)((double)dt * ts.hw_ns_per_tick));
}

void shunt_tstamp_get_info(struct shunt_tstamp_info *out)
{
    *out = ts.info;
}
