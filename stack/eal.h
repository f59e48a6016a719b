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

#endif /* SHUNT_EAL_H */
