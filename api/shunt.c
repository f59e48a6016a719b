/*
 * shunt.c - <shunt/shunt.h>: which path this process takes (Shunt's stack or
 * the kernel's sockets), and the calls that start, turn and stop it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "path.h"
#include "shunt/shunt.h"
#include "shunt/socket.h"
#include "sock.h"
#include "stack.h"
#include "tcp.h"

/* Set for the kernel path and after shunt_exit; the stack path is whenever
 * the stack is up (tests bring it up without shunt_init). */
static enum shunt_path path = SHUNT_PATH_NONE;

enum shunt_path shunt_path(void)
{
    if (path == SHUNT_PATH_NONE && shunt_stack_is_up())
        return SHUNT_PATH_STACK;
    return path;
}

int shunt_init_kernel(void)
{
    if (shunt_path() != SHUNT_PATH_NONE) {
        errno = EALREADY;
        return -1;
    }
    path = SHUNT_PATH_KERNEL;
    return 0;
}

int shunt_init(const char *config_path)
{
    const char *kernel = getenv("SHUNT_KERNEL");

    if (kernel != NULL && strcmp(kernel, "1") == 0)
        return shunt_init_kernel();
    if (shunt_path() != SHUNT_PATH_NONE) {
        errno = EALREADY;
        return -1;
    }
    if (shunt_stack_init(config_path) != 0)
        return -1;
    shunt_sock_attach_stack();
    return 0;
}

int shunt_instances(const char *config_path)
{
    static struct shunt_config c;       /* big: not on the stack */
    char err[512];

    if (shunt_config_load(&c, config_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "shunt: %s\n", err);
        return -1;
    }
    return (int)c.instances;
}

int shunt_poll(void)
{
    switch (shunt_path()) {
    case SHUNT_PATH_STACK: {
        int n = shunt_stack_poll();
        if (n < 0) {
            errno = -n;                 /* EDEADLK: called from inside a turn */
            return -1;
        }
        return n;
    }
    case SHUNT_PATH_KERNEL:
        return 0;
    default:
        errno = EINVAL;
        return -1;
    }
}

int shunt_loop_load(struct shunt_loop_load *out)
{
    const struct shunt_loop *l;

    if (shunt_path() != SHUNT_PATH_STACK) {
        errno = ENODEV;
        return -1;
    }
    l = &shunt_instance()->loop;
    *out = (struct shunt_loop_load){ .turns = l->turns, .busy_turns = l->busy_turns,
                                     .work_ns = l->work_ns };
    return 0;
}

int shunt_capture(const char *path, const char *filter)
{
    char err[512];

    if (shunt_path() != SHUNT_PATH_STACK) {
        errno = ENODEV;
        return -1;
    }
    if (path == NULL) {
        shunt_stack_capture_stop();
        return 0;
    }
    if (shunt_stack_capture_start(path, filter, err, sizeof(err)) != 0) {
        SHUNT_LOG(ERR, "%s", err);
        errno = EINVAL;
        return -1;
    }
    return 0;
}

/*
 * At exit the kernel closes a process's sockets and goes on sending what
 * they hold.  Shunt's sockets die with the process, so it closes them as the
 * kernel would and turns the loop until everything written has been
 * acknowledged and every FIN has gone out - for at most EXIT_DRAIN_MS, real
 * time (a test's driven clock may stand still).
 */
#define EXIT_DRAIN_MS 2000

static uint64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void shunt_exit(void)
{
    if (shunt_path() == SHUNT_PATH_STACK) {
        shunt_socket_close_all();
        uint64_t until = real_ms() + EXIT_DRAIN_MS;
        while (!shunt_tcp_all_sent() && real_ms() < until && shunt_stack_poll() >= 0)
            ;
        shunt_stack_exit();
    }
    path = SHUNT_PATH_OVER;
}
