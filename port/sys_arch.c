/*
 * sys_arch.c - what lwIP asks of its platform when NO_SYS=1: the time in
 * milliseconds, random numbers, the memory of its heap, and somewhere to
 * report a failed assertion.
 */
#include "lwip/sys.h"

#include <sys/mman.h>

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

/* Mapped at the first lwip_init() and kept for the process's life; a page
 * more than MEM_SIZE holds lwIP's alignment and its end-of-heap marker. */
void *shunt_lwip_heap(void)
{
    static void *heap;

    if (heap == NULL) {
        heap = mmap(NULL, MEM_SIZE + 4096, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (heap == MAP_FAILED)
            shunt_lwip_assert("no memory for lwIP's heap", __FILE__, __LINE__);
    }
    return heap;
}

void shunt_lwip_assert(const char *msg, const char *file, int line)
{
    fprintf(stderr, "shunt: lwIP assertion \"%s\" failed at %s:%d\n", msg, file, line);
    fflush(NULL);
    abort();
}
