/*
 * cycles.c - see cycles.h.
 */
#define _GNU_SOURCE
#include "cycles.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

double tsc_ns_per_tick = 1.0;
static double hz = 1e9;

static uint64_t raw_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void tsc_calibrate(void)
{
#if defined(__x86_64__) || defined(__i386__)
    /* Spin rather than sleep: a sleep's wake-up lands between the two reads. */
    uint64_t ns0 = raw_ns(), t0 = tsc_now(), ns1, t1;
    do {
        ns1 = raw_ns();
        t1 = tsc_now();
    } while (ns1 - ns0 < 50000000u);
    hz = (double)(t1 - t0) * 1e9 / (double)(ns1 - ns0);
    tsc_ns_per_tick = 1e9 / hz;
#endif
}

double tsc_hz(void)
{
    return hz;
}

uint64_t tsc_from_s(double seconds)
{
    return (uint64_t)(seconds * hz);
}

/* ---- the CPU meter ---------------------------------------------------------- */

static int perf_open(uint32_t type, uint64_t config, bool user_only)
{
    struct perf_event_attr a;

    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.type = type;
    a.config = config;
    a.disabled = 1;
    a.exclude_hv = 1;
    a.exclude_kernel = user_only;
    /* pid 0, cpu -1: this thread, wherever it runs; not its children or
     * the EAL's other threads. */
    return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

/* A hardware counter, kernel time included if we may (system calls are
 * what the kernel path pays for), else user time only. */
static int open_hw(uint64_t config, char *why, size_t whylen)
{
    int fd = perf_open(PERF_TYPE_HARDWARE, config, false);

    if (fd < 0 && (errno == EACCES || errno == EPERM))
        fd = perf_open(PERF_TYPE_HARDWARE, config, true);
    if (fd < 0 && why[0] == '\0') {
        int err = errno;
        snprintf(why, whylen, "%s (perf_event_open: %s)",
                 err == ENOENT || err == EOPNOTSUPP || err == ENODEV ? "not supported here" : "not permitted",
                 strerror(err));
    }
    return fd;
}

void cpu_meter_open(struct cpu_meter *m)
{
    memset(m, 0, sizeof(*m));
    m->fd_cycles = open_hw(PERF_COUNT_HW_CPU_CYCLES, m->hw_why, sizeof(m->hw_why));
    m->fd_instructions = open_hw(PERF_COUNT_HW_INSTRUCTIONS, m->hw_why, sizeof(m->hw_why));
    m->fd_task_clock = perf_open(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, false);
}

static void counter_start(int fd)
{
    if (fd >= 0) {
        ioctl(fd, PERF_EVENT_IOC_RESET, 0);
        ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
    }
}

static uint64_t counter_stop(int fd)
{
    uint64_t v = 0;

    if (fd < 0)
        return 0;
    ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
    if (read(fd, &v, sizeof(v)) != sizeof(v))
        return 0;
    return v;
}

void cpu_meter_start(struct cpu_meter *m)
{
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &m->cpu_start);
    counter_start(m->fd_task_clock);
    counter_start(m->fd_cycles);
    counter_start(m->fd_instructions);
    m->tsc_start = tsc_now();
}

void cpu_meter_stop(struct cpu_meter *m)
{
    m->tsc_ticks = tsc_now() - m->tsc_start;
    m->instructions = counter_stop(m->fd_instructions);
    m->cycles = counter_stop(m->fd_cycles);
    if (m->fd_task_clock >= 0) {
        m->cpu_ns = counter_stop(m->fd_task_clock);
    } else {
        struct timespec now;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
        m->cpu_ns = (uint64_t)((now.tv_sec - m->cpu_start.tv_sec) * 1000000000ll +
                               (now.tv_nsec - m->cpu_start.tv_nsec));
    }
}

void cpu_meter_close(struct cpu_meter *m)
{
    int *fds[] = { &m->fd_cycles, &m->fd_instructions, &m->fd_task_clock };

    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}

void cpu_meter_cost(const struct cpu_meter *m, uint64_t ops, struct cpu_cost *out)
{
    double n = ops > 0 ? (double)ops : 1.0;

    memset(out, 0, sizeof(*out));
    out->hw = m->fd_cycles >= 0 && m->fd_instructions >= 0;
    snprintf(out->hw_why, sizeof(out->hw_why), "%s", out->hw ? "" : m->hw_why);
    if (out->hw) {
        out->cycles_per_op = (double)m->cycles / n;
        out->instructions_per_op = (double)m->instructions / n;
    }
    out->tsc_cycles_per_op = (double)m->tsc_ticks / n;
    out->cpu_ns_per_op = (double)m->cpu_ns / n;
}
