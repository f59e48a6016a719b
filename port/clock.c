/*
 * clock.c - the TSC as a nanosecond clock, replaceable by tests.
 */
#include "clock.h"

#include <rte_branch_prediction.h>
#include <rte_cycles.h>

static shunt_clock_fn clock_fn;         /* NULL: the TSC */
static void *clock_arg;
static uint64_t tsc_origin;
/* ns = cycles * tsc_mult >> 32, which avoids a division on every read. */
static uint64_t tsc_mult;

void shunt_clock_init(void)
{
    uint64_t hz = rte_get_tsc_hz();

    tsc_origin = rte_get_tsc_cycles();
    tsc_mult = (uint64_t)(((unsigned __int128)1000000000u << 32) / hz);
}

void shunt_clock_set_source(shunt_clock_fn fn, void *arg)
{
    clock_fn = fn;
    clock_arg = arg;
}

uint64_t shunt_clock_ns(void)
{
    if (unlikely(clock_fn != NULL))
        return clock_fn(clock_arg);
    uint64_t cycles = rte_get_tsc_cycles() - tsc_origin;
    return (uint64_t)(((unsigned __int128)cycles * tsc_mult) >> 32);
}

uint32_t shunt_clock_ms(void)
{
    return (uint32_t)(shunt_clock_ns() / 1000000u);
}
