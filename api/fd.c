/*
 * fd.c - descriptor numbers for Shunt's sockets, reserved from the kernel.
 */
#include "fd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

struct slot {
    enum shunt_fd_kind kind;
    bool shared;                /* another slot may name the same object */
    void *obj;
};

static struct slot *table;      /* indexed by descriptor number */
static int table_size;

/*
 * Make room for fd in the table.  Another thread may be reading the table
 * without the stack's lock (the interposer asks whose a descriptor is on
 * every call), so the old table is left as it is, never freed - the tables
 * add up to at most twice the last - and the new one is in place before the
 * size that lets a reader look at it.
 */
static int grow(int fd)
{
    int size = table_size ? table_size : 1024;

    while (size <= fd)
        size *= 2;
    struct slot *t = calloc((size_t)size, sizeof(*t));
    if (t == NULL)
        return -1;
    if (table_size)
        memcpy(t, table, (size_t)table_size * sizeof(*t));
    __atomic_store_n(&table, t, __ATOMIC_RELEASE);
    __atomic_store_n(&table_size, size, __ATOMIC_RELEASE);
    return 0;
}

int shunt_fd_claim(int fd, enum shunt_fd_kind kind, void *obj)
{
    if (fd < 0)
        return -1;
    if (fd >= table_size && grow(fd) != 0) {
        errno = ENOMEM;
        return -1;
    }
    table[fd] = (struct slot){ .kind = kind, .obj = obj };
    return 0;
}

void shunt_fd_set_obj(int fd, void *obj)
{
    table[fd].obj = obj;
}

enum shunt_fd_kind shunt_fd_kind(int fd)
{
    return fd >= 0 && fd < __atomic_load_n(&table_size, __ATOMIC_ACQUIRE) ?
           __atomic_load_n(&table, __ATOMIC_ACQUIRE)[fd].kind : SHUNT_FD_NONE;
}

void *shunt_fd_get(int fd, enum shunt_fd_kind kind)
{
    return shunt_fd_kind(fd) == kind ? table[fd].obj : NULL;
}

int shunt_fd_dup(int oldfd, int newfd)
{
    if (shunt_fd_claim(newfd, table[oldfd].kind, table[oldfd].obj) != 0)
        return -1;
    table[oldfd].shared = table[newfd].shared = true;
    return 0;
}

int shunt_fd_limit(void)
{
    return table_size;
}

bool shunt_fd_forget(int fd)
{
    if (shunt_fd_kind(fd) == SHUNT_FD_NONE)
        return false;
    struct slot was = table[fd];
    table[fd] = (struct slot){ .kind = SHUNT_FD_NONE };
    if (!was.shared)
        return false;
    /* Rare (a dup'd socket): look for another holder. */
    for (int i = 0; i < table_size; i++)
        if (table[i].kind == was.kind && table[i].obj == was.obj)
            return true;
    return false;
}

bool shunt_fd_release(int fd)
{
    if (shunt_fd_kind(fd) == SHUNT_FD_NONE)
        return false;
    bool held = shunt_fd_forget(fd);
    shunt_kernel()->close(fd);
    return held;
}
