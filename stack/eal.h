/*
 * eal.h - start DPDK's EAL from the `eal` line of the configuration, after
 * checking what the EAL needs but would report obscurely: free hugepages and
 * a mounted hugetlbfs.
 */
#ifndef SHUNT_EAL_H
#define SHUNT_EAL_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/*
 * Start the EAL.  On failure, logs one line saying what is wrong and how to
 * fix it, and returns -1 with errno set.  Once per process.
 */
int shunt_eal_init(const struct shunt_config *c);

/* The iface= of the first --vdev on the eal line whose driver name starts
 * with driver (NULL: any), into iface; false if there is none. */
bool shunt_eal_iface(const char *eal, const char *driver, char *iface, size_t len);

/*
 * The group's lock (a file beside the instances' run directories), held
 * when this returns: a descriptor to close to let it go, or -1.  The
 * instances open their ports under it - two processes attaching the XDP
 * program at once, one fails with EBUSY - and take turns as they end.
 */
int shunt_eal_group_lock(const struct shunt_config *c);

/*
 * An instance of a shared group (config.h) joins it, after the EAL:
 * - telemetry: DPDK 22.11 gives a secondary no telemetry socket, so
 *   instance i > 0 opens its own in PREFIX-i (where an AF_XDP group's
 *   instance has it), and the primary's run directory PREFIX is linked as
 *   PREFIX-0: shunt-stat -p PREFIX-i finds any instance;
 * - a secondary holds a lock in PREFIX-i for as long as it runs
 *   (shunt_eal_secondaries_alive).
 * 0 or -1; nothing for other instances.  _leave takes PREFIX-0 away.
 */
int shunt_eal_shared_join(const struct shunt_config *c);
void shunt_eal_shared_leave(const struct shunt_config *c);

/* How many of a shared group's secondaries still run, as its primary
 * (instance 0) sees it; 0 for any other instance. */
unsigned shunt_eal_secondaries_alive(const struct shunt_config *c);

/* A shared group's primary (config.h) says its port is up, or no longer,
 * in its run directory: its secondaries' shunt_eal_init waits for it.
 * Nothing for other instances. */
void shunt_eal_port_up(const struct shunt_config *c, bool up);

/*
 * As an instance of a group (config instances > 1) ends: how many of the
 * group's others still run.  DPDK primaries hold a lock on their run
 * directory's config file, which goes with the process however it ends.
 * Instances ending together take turns: this one holds a lock on the
 * group's file until the process is gone (its config lock goes first), so
 * the last one to end sees none.  After shunt_eal_init.
 */
unsigned shunt_eal_group_leave(const struct shunt_config *c);

#endif /* SHUNT_EAL_H */
