/*
 * cycles.h - the clock of the timed loops (the TSC), and what the CPU spent
 * on a run.
 *
 * Reading the TSC costs ~25 cycles where clock_gettime costs ~60, and it
 * needs no system call on any path, so round trips are timed with it and
 * converted to nanoseconds with a rate measured once at start-up against
 * CLOCK_MONOTONIC_RAW.  Off x86 the "TSC" is CLOCK_MONOTONIC in ns.
 *
 * The CPU meter counts cycles and instructions of the calling thread with
 * perf_event_open when the machine has hardware counters (many VMs do not:
 * it says so, and why), its CPU time (task-clock), and the TSC cycles of
 * wall time, which is what a busy-polling thread spends whatever it does.
 */
#ifndef SHUNT_APPS_CYCLES_H
#define SHUNT_APPS_CYCLES_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t tsc_now(void)
{
    return __rdtsc();
}
#else
static inline uint64_t tsc_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/* Measure the TSC's rate (about 50 ms); before anything below. */
void tsc_calibrate(void);
double tsc_hz(void);
extern double tsc_ns_per_tick;

static inline uint64_t tsc_to_ns(uint64_t ticks)
{
    return (uint64_t)((double)ticks * tsc_ns_per_tick + 0.5);
}

static inline double tsc_to_s(uint64_t ticks)
{
    return (double)ticks * tsc_ns_per_tick / 1e9;
}

uint64_t tsc_from_s(double seconds);

struct cpu_meter {
    int fd_cycles, fd_instructions, fd_task_clock;  /* -1 where not available */
    char hw_why[96];            /* why there are no hardware counters */
    uint64_t tsc_start, tsc_ticks;
    struct timespec cpu_start;  /* the thread's CPU time, without task-clock */
    uint64_t cycles, instructions, cpu_ns;
};

/* What a run cost per operation (round trip, request, message). */
struct cpu_cost {
    bool hw;                    /* cycles_per_op, instructions_per_op are real */
    char hw_why[96];            /* else why not, e.g. "not supported (ENOENT)" */
    double cycles_per_op;
    double instructions_per_op;
    double tsc_cycles_per_op;   /* wall time, in TSC cycles */
    double cpu_ns_per_op;       /* the thread's CPU time */
};

/* Open the counters for the calling thread (they start stopped). */
void cpu_meter_open(struct cpu_meter *m);
void cpu_meter_start(struct cpu_meter *m);
void cpu_meter_stop(struct cpu_meter *m);
void cpu_meter_close(struct cpu_meter *m);
void cpu_meter_cost(const struct cpu_meter *m, uint64_t ops, struct cpu_cost *out);

#endif /* SHUNT_APPS_CYCLES_H */
