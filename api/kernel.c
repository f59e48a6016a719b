/*
 * kernel.c - find the kernel's socket calls in the C library.
 */
#define _GNU_SOURCE
#include "kernel.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static struct shunt_kernel calls;
static int found;

/* The next definition of name after Shunt's, which is the C library's. */
static void *next(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);

    if (fn == NULL) {
        fprintf(stderr, "shunt: the C library has no %s: %s\n", name, dlerror());
        abort();
    }
    return fn;
}

const struct shunt_kernel *shunt_kernel(void)
{
    if (found)
        return &calls;
#define FIND(fn) calls.fn = next(#fn)
    FIND(socket);
    FIND(bind);
    FIND(listen);
    FIND(accept4);
    FIND(connect);
    FIND(shutdown);
    FIND(close);
    FIND(read);
    FIND(write);
    FIND(readv);
    FIND(writev);
    FIND(sendto);
    FIND(recvfrom);
    FIND(sendmsg);
    FIND(recvmsg);
    FIND(getsockname);
    FIND(getpeername);
    FIND(setsockopt);
    FIND(getsockopt);
    FIND(fcntl);
    FIND(ioctl);
    FIND(poll);
    FIND(select);
    FIND(epoll_create1);
    FIND(epoll_ctl);
    FIND(epoll_wait);
    FIND(epoll_pwait);
    FIND(ppoll);
    FIND(pselect);
    FIND(sendfile);
    FIND(sendmmsg);
    FIND(recvmmsg);
    FIND(dup);
    FIND(dup3);
    FIND(close_range);
#undef FIND
    found = 1;
    return &calls;
}
