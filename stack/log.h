/*
 * log.h - Shunt's messages, through DPDK's rte_log under the log type
 * "shunt", so `--log-level=shunt:debug` in the eal line turns them up.
 * Nothing is logged per packet at the default level (info).
 */
#ifndef SHUNT_LOG_H
#define SHUNT_LOG_H

#include <rte_log.h>

extern int shunt_logtype;

/* SHUNT_LOG(ERR, "bad %s", what) prints "shunt: bad ..." and a newline. */
#define SHUNT_LOG(level, fmt, ...) \
    rte_log(RTE_LOG_ ## level, shunt_logtype, "shunt: " fmt "\n", ##__VA_ARGS__)

#endif /* SHUNT_LOG_H */
