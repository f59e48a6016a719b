/*
 * sockstat.h - the instance's sockets for shunt-stat, as ss(8) shows the
 * kernel's (api/sockstat.c).
 */
#ifndef SHUNT_SOCKSTAT_H
#define SHUNT_SOCKSTAT_H

/* Telemetry's /shunt/sockets: the instance's pcbs from the from-th on, as
 * many as fit a reply (a shunt_telemetry_sockets_fn, stack/telemetry.h). */
struct rte_tel_data;
int shunt_sockstat_describe(unsigned from, struct rte_tel_data *d);

/* ss's name for one of lwIP's TCP states (enum tcp_state): "ESTAB",
 * "TIME-WAIT", ...; the packet tests name states the same way. */
const char *shunt_sockstat_state_name(int state);

#endif /* SHUNT_SOCKSTAT_H */
