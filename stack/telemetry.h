/*
 * telemetry.h - a running instance answers questions without stopping its
 * fast path: Shunt's commands in DPDK's telemetry socket, for shunt-stat and
 * for dpdk-telemetry.py alike.
 *
 *   /shunt/stats            packets, bytes, drops by cause, lwIP's counters and
 *                           pools, the mbuf pool, the port's stats and xstats,
 *                           the device (driver, NUMA node, offloads offered and
 *                           used), the loop (turns, busy turns, lcore, cpu)
 *   /shunt/drops            drops by cause
 *   /shunt/sockets,FROM     the sockets from the FROM-th on (as many as fit in
 *                           one reply; "next" says where the following reply starts)
 *   /shunt/capture          the capture's state
 *   /shunt/capture,start,FILE[,FILTER]   start capturing (a tcpdump filter)
 *   /shunt/capture,stop     stop it
 *   /shunt/faults           the fault stage's state and counts
 *   /shunt/faults,SPEC      start it (port/faults.h's syntax), or change it
 *   /shunt/faults,off       stop it
 *   /shunt/kernel_sockets   under LD_PRELOAD, the sockets the policy left on the
 *                           kernel and why: {"FD": "loopback", ...}
 *
 * Telemetry asks from its own thread; the instance's thread answers at its
 * next loop turn (noticing costs one load per turn), so nothing the fast path
 * touches is locked or shared mid-update.  A question waits at most a second:
 * an instance that does not turn its loop cannot answer.
 */
#ifndef SHUNT_TELEMETRY_H
#define SHUNT_TELEMETRY_H

#include <pthread.h>
#include <stdatomic.h>

#include <rte_branch_prediction.h>
#include <rte_telemetry.h>

/*
 * The socket layer's answer to /shunt/sockets: fill d with the sockets from
 * the from-th on.  Runs on the instance's thread.
 */
typedef int (*shunt_telemetry_sockets_fn)(unsigned from, struct rte_tel_data *d);

typedef int (*shunt_telemetry_answer_fn)(const char *params, struct rte_tel_data *d);

/* A one-slot mailbox between telemetry's threads and the instance's. */
struct shunt_telemetry {
    atomic_int asked;                   /* the loop's one load per turn */
    atomic_int state;
    shunt_telemetry_answer_fn fn;       /* the question */
    const char *params;
    struct rte_tel_data *data;
    int rc;                             /* the answer */
    pthread_mutex_t askers;             /* telemetry serves each client in a thread */
    shunt_telemetry_sockets_fn sockets;
    shunt_telemetry_answer_fn kernel_sockets;   /* NULL: no interposer */
};

/* Register Shunt's commands for t (once the instance is up; once a process). */
void shunt_telemetry_init(struct shunt_telemetry *t);

/* Answer a question, if one waits: the loop calls this every turn. */
void shunt_telemetry_answer(struct shunt_telemetry *t);
static inline void shunt_telemetry_poll(struct shunt_telemetry *t)
{
    if (unlikely(atomic_load_explicit(&t->asked, memory_order_acquire)))
        shunt_telemetry_answer(t);
}

void shunt_telemetry_set_sockets(struct shunt_telemetry *t, shunt_telemetry_sockets_fn fn);

/* The interposer's answer to /shunt/kernel_sockets (api/preload.c). */
void shunt_telemetry_set_kernel_sockets(struct shunt_telemetry *t, shunt_telemetry_answer_fn fn);

#endif /* SHUNT_TELEMETRY_H */
