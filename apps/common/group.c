/*
 * group.c - see group.h.
 */
#define _GNU_SOURCE
#include "group.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shunt/shunt.h"

#include "app.h"

#define INSTANCE_ENV "SHUNT_INSTANCE"

/* A launched instance's side of the barrier group_finish waits at: it
 * writes a byte to done when its work is done, and the launcher closes
 * the write end of go once every instance has (or ended).  -1: none. */
static int done_fd = -1, go_fd = -1;

static volatile sig_atomic_t forward;       /* the last signal to pass on */

static void on_signal(int sig)
{
    forward = sig;
}

/* The exit status a shell would give a child that ended so. */
static int exit_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Forward the signals that stop a group to every live child, wait for all,
 * say when one ends unasked, and open the barrier (close go) once every
 * live child has said done.  The worst exit status. */
static int supervise(pid_t *pids, int n, int done, int go)
{
    struct sigaction sa = { .sa_handler = on_signal };
    int worst = 0, left = n, finished = 0;
    bool stopping = false;

    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    while (left > 0) {
        if (forward != 0) {
            int sig = forward;
            forward = 0;
            stopping = true;
            for (int i = 0; i < n; i++)
                if (pids[i] > 0)
                    kill(pids[i], sig);
        }
        char byte;
        struct pollfd p = { .fd = done, .events = POLLIN };
        if (done >= 0 && poll(&p, 1, TICK_MS) > 0 && read(done, &byte, 1) == 1)
            finished++;
        if (go >= 0 && finished >= left) {
            close(go);
            go = -1;
        }
        int status;
        pid_t pid = waitpid(-1, &status, done >= 0 ? WNOHANG : 0);
        if (pid == 0 || (pid < 0 && errno == EINTR))
            continue;
        if (pid < 0)
            break;
        for (int i = 0; i < n; i++) {
            if (pids[i] != pid)
                continue;
            pids[i] = 0;
            left--;
            int code = exit_code(status);
            if (code > worst)
                worst = code;
            if (!stopping && WIFSIGNALED(status))
                fprintf(stderr, "%s: instance %d (pid %d) was killed by signal %d; %d other%s "
                        "go%s on (restart it with --instance %d)\n", app_name, i, (int)pid,
                        WTERMSIG(status), left, left == 1 ? "" : "s", left == 1 ? "es" : "",
                        i);
            else if (!stopping && code != 0)
                fprintf(stderr, "%s: instance %d (pid %d) exited with status %d; %d other%s "
                        "go%s on\n", app_name, i, (int)pid, code, left, left == 1 ? "" : "s",
                        left == 1 ? "es" : "");
        }
    }
    if (go >= 0)
        close(go);
    return worst;
}

/* Fork the group: -1 in each child (its $SHUNT_INSTANCE set), the exit
 * status in the launcher, or 1 if it could not start them all. */
static int fork_group(int n)
{
    pid_t pids[64];
    int started = 0, done[2], go[2];

    if (n > (int)(sizeof(pids) / sizeof(pids[0])))
        n = (int)(sizeof(pids) / sizeof(pids[0]));
    if (pipe(done) != 0 || pipe(go) != 0) {
        fprintf(stderr, "%s: cannot start the group: %s\n", app_name, strerror(errno));
        return 1;
    }
    fflush(NULL);
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            char index[16];
            snprintf(index, sizeof(index), "%d", i);
            setenv(INSTANCE_ENV, index, 1);
            close(done[0]);
            close(go[1]);
            done_fd = done[1];
            go_fd = go[0];
            return -1;
        }
        if (pid < 0) {
            fprintf(stderr, "%s: cannot start instance %d: %s\n", app_name, i, strerror(errno));
            for (int j = 0; j < started; j++)
                kill(pids[j], SIGTERM);
            close(done[1]);
            supervise(pids, started, -1, -1);
            return 1;
        }
        pids[started++] = pid;
    }
    close(done[1]);
    close(go[0]);
    /* One write: the instances print to the same stderr meanwhile, and a
     * line written piece by piece would take theirs into its middle. */
    char line[64 * 12 + 128];
    int len = snprintf(line, sizeof(line), "%s: started %d instances, pids", app_name, n);
    for (int i = 0; i < n && len < (int)sizeof(line); i++)
        len += snprintf(line + len, sizeof(line) - (size_t)len, " %d", (int)pids[i]);
    fprintf(stderr, "%s; SIGINT or SIGTERM stops them all\n", line);
    return supervise(pids, n, done[0], go[1]);
}

void group_finish(void)
{
    if (done_fd < 0)
        return;
    char byte = 1;
    if (write(done_fd, &byte, 1) != 1)
        return;
    struct pollfd p = { .fd = go_fd, .events = POLLIN };
    while (!stop && poll(&p, 1, 0) == 0)
        shunt_poll();
}

int group_start(const char *config, const char *instance)
{
    if (instance != NULL) {
        setenv(INSTANCE_ENV, instance, 1);
        return -1;
    }
    if (config == NULL && getenv("SHUNT_CONFIG") == NULL)
        return -1;                      /* the kernel's path, or shunt_init says why */
    const char *kernel = getenv("SHUNT_KERNEL");
    if (kernel != NULL && strcmp(kernel, "1") == 0)
        return -1;
    if (getenv(INSTANCE_ENV) != NULL)   /* chosen by whoever started us */
        return -1;
    int n = shunt_instances(config);
    if (n < 0)
        return 1;                       /* as the stack's start would: it said why */
    return n == 1 ? -1 : fork_group(n);
}

int group_exec(const char *config, const char *instance, const char *preload, char **argv)
{
    int rc = group_start(config, instance);
    if (rc >= 0)
        return rc;
    if (done_fd >= 0) {                 /* a program of its own: no barrier */
        close(done_fd);
        close(go_fd);
    }
    if (preload != NULL)
        setenv("LD_PRELOAD", preload, 1);
    execvp(argv[0], argv);
    fprintf(stderr, "%s: cannot run %s: %s\n", app_name, argv[0], strerror(errno));
    return 127;
}
