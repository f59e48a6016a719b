/*
 * telemetry.h - a running instance answers questions without stopping its
 * fast path: Shunt's commands in DPDK's telemetry socket, for shunt-stat and
 * for dpdk-telemetry.py alike.
 *
 *   /shunt/stats            packets, bytes, drops by cause, lwIP's counters and
 *                           pools, the mbuf pool, the port's stats and xstats
 *   /shunt/drops            drops by cause
 *   /shunt/sockets,FROM     the sockets from the FROM-th on (as many as fit in
 *                           one reply; "next" says where the following reply starts)
 *   /shunt/capture          the capture's state
 *   /shunt/capture,start,FILE[,FILTER]   start capturing (a tcpdump filter)
 *   /shunt/capture,stop     stop it
 *
 * Telemetry asks from its own thread; the instance's thread answers at its
 * next loop turn (noticing costs one load per turn), so nothing the fast path
 * touches is locked or shared mid-update.  A question waits at most a second:
 * an instance that does not turn its loop cannot answer.
 */
#ifndef SHUNT_TELEMETRY_H
#define SHUNT_TELEMETRY_H

#include <stdatomic.h>

#include <rte_branch_prediction.h>
#include <rte_telemetry.h>

/* Register Shunt's commands (once the instance is up). */
void shunt_telemetry_init(void);

/* Answer a question, if one waits: the loop calls this every turn. */
extern atomic_int shunt_telemetry_asked;
void shunt_telemetry_answer(void);
static inline void shunt_telemetry_poll(void)
{
    if (unlikely(atomic_load_explicit(&shunt_telemetry_asked, memory_order_acquire)))
        shunt_telemetry_answer();
}

/*
 * The socket layer's answer to /shunt/sockets: fill d with the sockets from
 * the from-th on.  Runs on the instance's thread.
 */
typedef int (*shunt_telemetry_sockets_fn)(unsigned from, struct rte_tel_data *d);
void shunt_telemetry_set_sockets(shunt_telemetry_sockets_fn fn);

#endif /* SHUNT_TELEMETRY_H */
