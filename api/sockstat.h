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

#endif /* SHUNT_SOCKSTAT_H */
