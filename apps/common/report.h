/*
 * report.h - one run's results, the way shunt-perf and shunt-floor both
 * print them: a table for people, and JSON or CSV for scripts.
 *
 * Every run fills the same record, so scripts/bench can put runs of any
 * mode, path and tool side by side; what a mode does not measure is null
 * (JSON) or empty (CSV).
 */
#ifndef SHUNT_APPS_REPORT_H
#define SHUNT_APPS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cycles.h"
#include "histogram.h"
#include "sides.h"

struct result {
    /* What ran. */
    const char *tool;           /* "shunt-perf", "shunt-floor" */
    const char *path;           /* "kernel", "shunt", "dpdk" */
    const char *label;          /* --label, or NULL */
    const char *test;           /* "ping-pong", "rr", "connrate", "stream" */
    const char *proto;          /* "tcp", "udp", "eth" */
    const char *poll;           /* how the socket (or port) is polled */
    size_t size;                /* message bytes */
    size_t frame;               /* shunt-floor: bytes on the wire per frame; else 0 */
    int conns;                  /* connections at once (rr); else 1 */
    double mps;                 /* the rate asked for; 0: as fast as possible */
    double warmup;              /* seconds not measured */

    /* What came out, over the measured interval only. */
    double seconds;
    uint64_t ops;               /* round trips, requests, connections, messages sent */
    const char *ops_name;       /* "round trips", "requests", ... */
    uint64_t bytes;             /* payload bytes moved (stream); else 0 */
    bool udp;                   /* sent .. out_of_order mean something (UDP, frames) */
    uint64_t sent, received, lost, out_of_order;
    const struct histogram *latency;    /* NULL when the mode times nothing */
    struct cpu_cost cpu;
    struct side_cost client, server;    /* sides.h: negative where not measured */
};

/* The table on f (stdout, usually). */
void report_table(FILE *f, const struct result *r);
/* The whole record, overwriting path.  0, or -1 after saying why on stderr. */
int report_json(const char *path, const struct result *r);
/* s as a JSON string, escaped, or null when s is NULL (for programs that
 * write JSON of their own, like shunt-feed). */
void report_json_str(FILE *f, const char *s);
/* A header line and one row, overwriting path. */
int report_csv(const char *path, const struct result *r);

#endif /* SHUNT_APPS_REPORT_H */
