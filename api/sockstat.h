/*
 * sockstat.h - the instance's sockets for shunt-stat, as ss(8) shows the
 * kernel's (api/sockstat.c).
 */
#ifndef SHUNT_SOCKSTAT_H
#define SHUNT_SOCKSTAT_H

/* Answer telemetry's /shunt/sockets with the instance's pcbs. */
void shunt_sockstat_attach(void);

#endif /* SHUNT_SOCKSTAT_H */
