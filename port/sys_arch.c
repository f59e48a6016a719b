/*
 * sys_arch.c - what lwIP asks of its platform when NO_SYS=1: the time in
 * milliseconds, random numbers, and somewhere to report a failed
 * assertion.  (Its heap is port/heap.c.)
 */
#include "lwip/sys.h"

#include <rte_random.h>

#include "clock.h"
#include "sys_time.h"

/* lwIP asks the time with no argument, and lwIP's state is the process's:
 * so is this, the clock of the instance lwIP runs in. */
static const struct shunt_clock *lwip_clock;

void shunt_sys_set_clock(const struct shunt_clock *clock)
{
    lwip_clock = clock;
}

void sys_init(void)
{
}

/* lwIP without an instance (a test of its buffers alone) stays at 0. */
u32_t sys_now(void)
{
    return lwip_clock != NULL ? shunt_clock_ms(lwip_clock) : 0;
}

uint32_t shunt_lwip_rand(void)
{
    return (uint32_t)rte_rand();
}

void shunt_lwip_assert(const char *msg, const char *file, int line)
{
    fprintf(stderr, "shunt: lwIP assertion \"%s\" failed at %s:%d\n", msg, file, line);
    fflush(NULL);
    abort();
}
