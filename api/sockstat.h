/*
 * sockstat.h - the instance's sockets for shunt-stat, as ss(8) shows the
 * kernel's (api/sockstat.c).
 */
#ifndef SHUNT_SOCKSTAT_H
#define SHUNT_SOCKSTAT_H

#include <stdint.h>

/* Telemetry's /shunt/sockets: the instance's pcbs from the from-th on, as
 * many as fit a reply (a shunt_telemetry_sockets_fn, stack/telemetry.h). */
struct rte_tel_data;
int shunt_sockstat_describe(unsigned from, struct rte_tel_data *d);

/* A socket's latency, as telemetry shows it (nanoseconds): received data's
 * time queued before the application read it, and written data's before
 * its frame went to the port. */
struct shunt_sock_latency {
    uint64_t n, p50, p99, p999, max;
};
struct shunt_sock;
void shunt_sockstat_latency(const struct shunt_sock *s, struct shunt_sock_latency *rx,
                            struct shunt_sock_latency *tx);

/* The same for descriptor fd; -1 (EBADF) when it is not a Shunt socket. */
int shunt_sockstat_latency_of(int fd, struct shunt_sock_latency *rx, struct shunt_sock_latency *tx);

/* ss's name for one of lwIP's TCP states (enum tcp_state): "ESTAB",
 * "TIME-WAIT", ...; the packet tests name states the same way. */
const char *shunt_sockstat_state_name(int state);

#endif /* SHUNT_SOCKSTAT_H */
