/*
 * attach.c - a running Shunt process's telemetry socket: found, connected,
 * asked.
 */
#include "attach.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define RUN_DIR_REAL "/run/dpdk"          /* /var/run is a link to /run */
#define SOCKET_NAME "dpdk_telemetry.v2"

/* The telemetry socket's address; prefixes too long for one are refused. */
static void socket_path(const char *prefix, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%.64s/%s", ATTACH_RUN_DIR,
                         prefix, SOCKET_NAME) >= sizeof(sun->sun_path))
        sun->sun_path[0] = '\0';
}

/* Whether a live process listens on prefix's telemetry socket (the files
 * of processes that ended stay behind). */
static bool alive(const char *prefix)
{
    struct sockaddr_un sun;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

    socket_path(prefix, &sun);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* The prefix in a path under the run directory, and its length; 0 if none. */
static size_t prefix_in(const char *target, const char **p)
{
    static const char *const dirs[] = { ATTACH_RUN_DIR "/", RUN_DIR_REAL "/" };

    for (size_t i = 0; i < 2; i++) {
        if (strncmp(target, dirs[i], strlen(dirs[i])) == 0) {
            *p = target + strlen(dirs[i]);
            return strcspn(*p, "/");
        }
    }
    return 0;
}

/* The file-prefix of process pid: the run directory it keeps files open in. */
static int prefix_of_pid(unsigned long pid, char *prefix, size_t len)
{
    char dir[64], link[PATH_MAX], target[PATH_MAX];
    int rc = -1;

    snprintf(dir, sizeof(dir), "/proc/%lu/fd", pid);
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    for (struct dirent *e; rc != 0 && (e = readdir(d)) != NULL;) {
        snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        const char *p;
        size_t l = prefix_in(target, &p);
        if (l > 0 && l < len) {
            memcpy(prefix, p, l);
            prefix[l] = '\0';
            rc = 0;
        }
    }
    closedir(d);
    return rc;
}

/* The one live process there is; the others found are named in err. */
static int only_prefix(char *prefix, size_t len, char *err, size_t errlen)
{
    DIR *d = opendir(ATTACH_RUN_DIR);
    int found = 0;
    char others[256] = "";

    if (d != NULL) {
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            if (e->d_name[0] == '.' || !alive(e->d_name))
                continue;
            if (found++ == 0)
                snprintf(prefix, len, "%s", e->d_name);
            size_t used = strlen(others);
            snprintf(others + used, sizeof(others) - used, "%s%.64s", used ? ", " : "", e->d_name);
        }
        closedir(d);
    }
    if (found == 1)
        return 0;
    snprintf(err, errlen, "not exactly one DPDK process running%s%s%s: name one with "
             "-p PREFIX or -P PID", found ? " (" : "", others, found ? ")" : "");
    return -1;
}

int attach_find(const char *given, unsigned long pid, char *prefix, size_t len,
                char *err, size_t errlen)
{
    if (pid != 0) {
        if (prefix_of_pid(pid, prefix, len) == 0)
            return 0;
        snprintf(err, errlen, "process %lu runs no DPDK instance this can see (no files "
                 "under %s)", pid, ATTACH_RUN_DIR);
        return -1;
    }
    if (given != NULL) {
        snprintf(prefix, len, "%s", given);
        return 0;
    }
    return only_prefix(prefix, len, err, errlen);
}

int attach_connect(struct attach *a, const char *prefix, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    char info[1024];

    memset(a, 0, sizeof(*a));
    snprintf(a->prefix, sizeof(a->prefix), "%s", prefix);
    socket_path(prefix, &sun);
    a->fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (a->fd < 0 || connect(a->fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        snprintf(err, errlen, "cannot reach %s: %s (is the process running, with telemetry, "
                 "and --file-prefix=%s?)", sun.sun_path, strerror(errno), prefix);
        attach_close(a);
        return -1;
    }
    ssize_t n = read(a->fd, info, sizeof(info) - 1);
    if (n <= 0) {                               /* the greeting: version, pid */
        snprintf(err, errlen, "%s said nothing", sun.sun_path);
        attach_close(a);
        return -1;
    }
    info[n] = '\0';
    json_t *greeting = json_loads(info, 0, NULL);
    a->pid = (long)json_integer_value(json_object_get(greeting, "pid"));
    const char *v = json_string_value(json_object_get(greeting, "version"));
    snprintf(a->version, sizeof(a->version), "%s", v != NULL ? v : "");
    json_decref(greeting);
    return 0;
}

json_t *attach_value(json_t *reply)
{
    return json_object_iter_value(json_object_iter(reply));
}

json_t *attach_ask(struct attach *a, const char *command, char *raw, size_t rawlen,
                   char *err, size_t errlen)
{
    ssize_t n;

    /* A signal (the user's ^C) lets this exchange finish first. */
    while ((n = write(a->fd, command, strlen(command))) < 0 && errno == EINTR)
        ;
    if (n < 0) {
        snprintf(err, errlen, "write: %s", strerror(errno));
        return NULL;
    }
    while ((n = read(a->fd, raw, rawlen - 1)) < 0 && errno == EINTR)
        ;
    if (n <= 0) {
        snprintf(err, errlen, "no answer to %s", command);
        return NULL;
    }
    raw[n] = '\0';
    json_t *reply = json_loads(raw, 0, NULL);
    json_t *value = attach_value(reply);
    if (!json_is_object(value) && !json_is_array(value)) {
        snprintf(err, errlen, "%s: %s (does the process run Shunt, and turn its loop?)",
                 command, raw);
        json_decref(reply);
        return NULL;
    }
    return reply;
}

void attach_close(struct attach *a)
{
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
}
