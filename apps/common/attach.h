/*
 * attach.h - talking to a running Shunt process through DPDK's telemetry
 * socket (/var/run/dpdk/PREFIX/dpdk_telemetry.v2): finding it by its EAL
 * --file-prefix or its pid, connecting, and asking Shunt's /shunt/...
 * commands (or DPDK's own).  shunt-stat and shunt-doctor both attach so.
 *
 * Nothing here exits: each call says what went wrong in err, one line, and
 * the program decides (shunt-stat stops, shunt-doctor reports a finding).
 */
#ifndef SHUNT_APPS_ATTACH_H
#define SHUNT_APPS_ATTACH_H

#include <limits.h>
#include <stddef.h>

#include <jansson.h>

/* The run directory DPDK keeps each prefix's files in. */
#define ATTACH_RUN_DIR "/var/run/dpdk"

/* Replies are at most this long (telemetry's own limit is 16 KiB a reply). */
#define ATTACH_REPLY_MAX (64 * 1024)

struct attach {
    int fd;                     /* the telemetry socket */
    long pid;                   /* the process, as its greeting says */
    char prefix[NAME_MAX + 1];
    char version[64];           /* its DPDK version, as its greeting says */
};

/*
 * Which prefix to attach to, into prefix: pid's (a process with files open
 * under the run directory) when pid is not 0, else the given one, else the
 * one live process there is.  0, or -1 with err.
 */
int attach_find(const char *given, unsigned long pid, char *prefix, size_t len,
                char *err, size_t errlen);

/* Connect to prefix's telemetry socket and read its greeting.  0, or -1
 * with err. */
int attach_connect(struct attach *a, const char *prefix, char *err, size_t errlen);

/*
 * Ask command: the whole reply, parsed ({"command": value}), and the raw
 * text in raw.  NULL, with err, when the process does not answer or the
 * value is neither an object nor a list (a process that does not run
 * Shunt, or does not turn its loop).
 */
json_t *attach_ask(struct attach *a, const char *command, char *raw, size_t rawlen,
                   char *err, size_t errlen);

/* A reply's value: {"command": value} -> value, or NULL. */
json_t *attach_value(json_t *reply);

void attach_close(struct attach *a);

#endif /* SHUNT_APPS_ATTACH_H */
