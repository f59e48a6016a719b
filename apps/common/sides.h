/*
 * sides.h - what each side of a client/server run spent on the CPU over the
 * measured interval, in TSC cycles per operation (round trip, request,
 * message), the way scripts/bench puts it beside the latencies:
 *
 *   core cycles   CPU time on the side's core, spinning included (what the
 *                 core costs): the client's thread (cycles.h's meter), or
 *                 the server's whole process (every thread's
 *                 /proc/PID/task/N/schedstat), plus the softirq time of the
 *                 core it runs on (/proc/stat: this kernel accounts IRQ time
 *                 apart from the tasks'; 10 ms ticks, and whatever else runs
 *                 on that core is in it).
 *   work cycles   on Shunt, the loop's work time (shunt_loop_load in
 *                 <shunt/shunt.h>: the spans next to a turn that moved a
 *                 frame); the client's through a callback, the server's from
 *                 its /shunt/stats (its telemetry socket).  Unknown on the
 *                 kernel's path, where spinning and work are one CPU time.
 *
 * The server is the process --server-pid names; without one only the
 * client's side is measured.
 */
#ifndef SHUNT_APPS_SIDES_H
#define SHUNT_APPS_SIDES_H

#include <stdbool.h>
#include <stdint.h>

#include "attach.h"

/* The client's loop work time so far (ns): 0, or -1 (not on Shunt). */
typedef int (*sides_work_fn)(uint64_t *ns);

struct side_sample {
    uint64_t cpu_ns, softirq_ns, work_ns;
    bool cpu, softirq, work;            /* which of them were read */
};

struct sides {
    sides_work_fn self_work;
    long peer_pid;                      /* 0: no server to measure */
    int self_core, peer_core;           /* -1: unknown */
    struct attach peer;                 /* the server's telemetry, if Shunt */
    bool attached;
    struct side_sample self0, peer0, self1, peer1;
};

/* Per operation; a value not measured is negative. */
struct side_cost {
    double cycles_per_op;               /* core cycles, softirq included */
    double softirq_cycles_per_op;
    double work_cycles_per_op;
};

void sides_open(struct sides *s, long peer_pid, sides_work_fn self_work);
/* At the start and the end of the measured interval (not timed). */
void sides_start(struct sides *s);
void sides_stop(struct sides *s);
/* The client's cost, its own thread's CPU time being self_cpu_ns (the
 * meter's), and the server's. */
void sides_cost(const struct sides *s, uint64_t ops, uint64_t self_cpu_ns,
                struct side_cost *client, struct side_cost *server);
void sides_close(struct sides *s);

#endif /* SHUNT_APPS_SIDES_H */
