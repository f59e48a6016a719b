/*
 * clock.c - the TSC as a nanosecond clock, replaceable by tests.
 */
#include "clock.h"

void shunt_clock_init(struct shunt_clock *c)
{
    uint64_t hz = rte_get_tsc_hz();

    c->tsc_origin = rte_get_tsc_cycles();
    c->tsc_mult = (uint64_t)(((unsigned __int128)1000000000u << 32) / hz);
}

void shunt_clock_set_source(struct shunt_clock *c, shunt_clock_fn fn, void *arg)
{
    c->source = fn;
    c->source_arg = arg;
}
