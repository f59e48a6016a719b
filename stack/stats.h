/*
 * stats.h - snapshots and summaries of a stack instance's counters
 * (port/counters.h), completed with what others count: the port (frames it
 * had no buffer for), the kernel under an AF_XDP or AF_PACKET port (frames
 * dropped at a full ring, stack/dev.h) and lwIP (frames its protocols threw
 * away, by reason).  lwIP counts each dropped packet once under "drop" and
 * once under a reason; the reasons Shunt can name are taken out of "lwip".
 */
#ifndef SHUNT_STATS_H
#define SHUNT_STATS_H

#include <stdio.h>

#include "counters.h"
#include "dev.h"

/* live, completed with the port's, the kernel's and lwIP's own counts; dev
 * may be NULL when there is no port (yet). */
void shunt_stats_snapshot(const struct shunt_counters *live, struct shunt_dev *dev,
                          struct shunt_counters *out);

/* A human summary, a few lines. */
void shunt_stats_print(FILE *f, const struct shunt_counters *c);

#endif /* SHUNT_STATS_H */
