/*
 * clock.h - the one clock of a stack instance.
 *
 * lwIP's timers (sys_now()), the poll loop, the socket layer's timeouts and
 * the fault stage's delays all read this clock (capture timestamps are the
 * wall clock's, as pcap files want).  It counts the CPU's time-stamp counter
 * by default; a test installs its own source and moves time forward by hand,
 * so retransmission, ARP expiry or reassembly timeouts run in microseconds
 * of real time.
 */
#ifndef SHUNT_CLOCK_H
#define SHUNT_CLOCK_H

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>

/* A time source: monotonic nanoseconds since any fixed origin. */
typedef uint64_t (*shunt_clock_fn)(void *arg);

struct shunt_clock {
    shunt_clock_fn source;      /* NULL: the TSC */
    void *source_arg;
    uint64_t tsc_origin;
    uint64_t tsc_mult;          /* ns = cycles * tsc_mult >> 32: no division per read */
};

/* Calibrate the TSC source; needs the EAL (rte_get_tsc_hz) to be up.  A
 * source installed already stays. */
void shunt_clock_init(struct shunt_clock *c);

/* Use fn instead of the TSC; fn == NULL goes back to the TSC. */
void shunt_clock_set_source(struct shunt_clock *c, shunt_clock_fn fn, void *arg);

/* Now, in nanoseconds (inline: the loop reads it every turn). */
static inline uint64_t shunt_clock_ns(const struct shunt_clock *c)
{
    if (unlikely(c->source != NULL))
        return c->source(c->source_arg);
    uint64_t cycles = rte_get_tsc_cycles() - c->tsc_origin;
    return (uint64_t)(((unsigned __int128)cycles * c->tsc_mult) >> 32);
}

static inline uint32_t shunt_clock_ms(const struct shunt_clock *c)
{
    return (uint32_t)(shunt_clock_ns(c) / 1000000u);
}

#endif /* SHUNT_CLOCK_H */
