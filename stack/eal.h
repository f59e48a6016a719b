/*
 * eal.h - start DPDK's EAL from the `eal` line of the configuration, after
 * checking what the EAL needs but would report obscurely: free hugepages and
 * a mounted hugetlbfs.
 */
#ifndef SHUNT_EAL_H
#define SHUNT_EAL_H

#include "config.h"

/*
 * Start the EAL.  On failure, logs one line saying what is wrong and how to
 * fix it, and returns -1 with errno set.  Once per process.
 */
int shunt_eal_init(const struct shunt_config *c);

#endif /* SHUNT_EAL_H */
