/*
 * fd.c - descriptor numbers for Shunt's sockets, reserved from the kernel.
 */
#include "fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel.h"

struct slot {
    enum shunt_fd_kind kind;
    void *obj;
};

static struct slot *table;      /* indexed by descriptor number */
static int table_size;

/* Make room for fd in the table. */
static int grow(int fd)
{
    int size = table_size ? table_size : 1024;

    while (size <= fd)
        size *= 2;
    struct slot *t = realloc(table, (size_t)size * sizeof(*t));
    if (t == NULL)
        return -1;
    memset(t + table_size, 0, (size_t)(size - table_size) * sizeof(*t));
    table = t;
    table_size = size;
    return 0;
}

int shunt_fd_alloc(enum shunt_fd_kind kind, void *obj, int cloexec)
{
    int fd = open("/dev/null", O_RDWR | (cloexec ? O_CLOEXEC : 0));

    if (fd < 0)
        return -1;      /* EMFILE or ENFILE, as socket() would say */
    if (fd >= table_size && grow(fd) != 0) {
        shunt_kernel()->close(fd);
        errno = ENOMEM;
        return -1;
    }
    table[fd].kind = kind;
    table[fd].obj = obj;
    return fd;
}

void shunt_fd_set_obj(int fd, void *obj)
{
    table[fd].obj = obj;
}

enum shunt_fd_kind shunt_fd_kind(int fd)
{
    return fd >= 0 && fd < table_size ? table[fd].kind : SHUNT_FD_NONE;
}

void *shunt_fd_get(int fd, enum shunt_fd_kind kind)
{
    return shunt_fd_kind(fd) == kind ? table[fd].obj : NULL;
}

void shunt_fd_release(int fd)
{
    if (shunt_fd_kind(fd) == SHUNT_FD_NONE)
        return;
    table[fd].kind = SHUNT_FD_NONE;
    table[fd].obj = NULL;
    shunt_kernel()->close(fd);
}
