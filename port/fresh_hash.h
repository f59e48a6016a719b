/*
 * fresh_hash.h - an instance's own rte_hash, made anew each time it starts.
 *
 * DPDK's memory outlives a shared group's secondary (stack/config.h): when
 * one is killed and restarted, the tables it named are still there, and
 * rte_hash_create refuses a name in use.  What is in them is the dead
 * process's, so the old table is freed and a new one made.
 */
#ifndef SHUNT_FRESH_HASH_H
#define SHUNT_FRESH_HASH_H

#include <rte_hash.h>

static inline struct rte_hash *shunt_fresh_hash(const struct rte_hash_parameters *params)
{
    struct rte_hash *old = rte_hash_find_existing(params->name);

    if (old != NULL)
        rte_hash_free(old);
    return rte_hash_create(params);
}

#endif /* SHUNT_FRESH_HASH_H */
