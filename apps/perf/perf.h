/*
 * perf.h - shunt-perf's options and its modes, one file each:
 *
 *     main.c       the command line, and which mode runs
 *     server.c     echo and discard (the server of every mode)
 *     client.c     what the client modes share: set-up, sockets, the report
 *     ping-pong.c  one message out, its echo back, again: round-trip times
 *     rr.c         N connections, one request out on each: requests/s
 *     connrate.c   connect, one request, close: connections/s
 *     stream.c     messages to the discard port as fast as they go
 */
#ifndef SHUNT_APPS_PERF_H
#define SHUNT_APPS_PERF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"

#define PROG            "shunt-perf"
#define DEFAULT_PORT    11111
#define TCP_MAX_ECHO    SERVER_ECHO_BUF     /* the server echoes a message whole */
#define STREAM_MAX      1048576     /* 1 MiB: the largest stream message */

enum test { SERVER, PING_PONG, RR, CONNRATE, STREAM };
enum poll_method { POLL_RECV, POLL_EPOLL, POLL_BLOCK };

/* By enum value, NULL-terminated. */
extern const char *const test_names[];
extern const char *const poll_names[];

struct options {
    enum test test;
    const char *config;         /* -c FILE; NULL: $SHUNT_CONFIG */
    const char *instance;       /* --instance I: one of a group's; NULL: all */
    bool kernel;                /* --kernel */
    const char *host;           /* the server (clients) */
    uint16_t port;              /* -p: echo; PORT+1 discards */
    bool udp;                   /* --udp */
    size_t size;                /* -m */
    double seconds;             /* -t, measured */
    uint64_t count;             /* -n, measured; 0: by time */
    double warmup;              /* --warmup */
    double mps;                 /* --mps; 0: as fast as possible */
    enum poll_method poll;      /* --poll */
    int conns;                  /* --conns */
    int timeout_ms;             /* --timeout: a UDP echo later than this is lost */
    bool rst;                   /* --rst: connrate closes with a reset */
    bool zc;                    /* --zc: ping-pong on <shunt/zc.h>'s calls */
    long server_pid;            /* --server-pid: the server's CPU too (common/sides.h) */
    const char *json, *csv, *label;
    bool quiet;                 /* -q: no progress */
};

/* The server mode: 0, or 1. */
int serve(const struct options *o);

/* A client mode, measured and reported: 0, or 1. */
int run_client(const struct options *o);

#endif /* SHUNT_APPS_PERF_H */
