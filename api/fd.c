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

/*
 * The table, indexed by descriptor number.  Another thread may read it
 * without the stack's lock (the interposer asks whose a descriptor is on
 * every call), so growing never frees or moves what a reader may hold: a
 * bigger table is built beside the old one, which it keeps a pointer to
 * (the tables add up to at most twice the last), and is published in one
 * store.
 */
struct table {
    struct table *older;        /* kept, never freed: a reader may be in it */
    int size;
    struct slot slot[];
};

static struct table *table;

static struct table *current(void)
{
    return __atomic_load_n(&table, __ATOMIC_ACQUIRE);
}

/* Make room for fd in the table. */
static int grow(int fd)
{
    struct table *old = table;
    int size = old != NULL ? old->size : 1024;

    while (size <= fd)
        size *= 2;
    struct table *t = calloc(1, sizeof(*t) + (size_t)size * sizeof(t->slot[0]));
    if (t == NULL)
        return -1;
    t->size = size;
    t->older = old;
    if (old != NULL)
        memcpy(t->slot, old->slot, (size_t)old->size * sizeof(t->slot[0]));
    __atomic_store_n(&table, t, __ATOMIC_RELEASE);
    return 0;
}

/* fd's slot, or NULL if the table has none for it. */
static struct slot *slot_of(int fd)
{
    struct table *t = current();

    return t != NULL && fd >= 0 && fd < t->size ? &t->slot[fd] : NULL;
}

int shunt_fd_claim(int fd, enum shunt_fd_kind kind, void *obj)
{
    if (fd < 0)
        return -1;
    if (slot_of(fd) == NULL && grow(fd) != 0) {
        errno = ENOMEM;
        return -1;
    }
    *slot_of(fd) = (struct slot){ .kind = kind, .obj = obj };
    return 0;
}

void shunt_fd_set_obj(int fd, void *obj)
{
    slot_of(fd)->obj = obj;
}

enum shunt_fd_kind shunt_fd_kind(int fd)
{
    const struct slot *sl = slot_of(fd);

    return sl != NULL ? sl->kind : SHUNT_FD_NONE;
}

void *shunt_fd_get(int fd, enum shunt_fd_kind kind)
{
    const struct slot *sl = slot_of(fd);

    return sl != NULL && sl->kind == kind ? sl->obj : NULL;
}

int shunt_fd_dup(int oldfd, int newfd)
{
    struct slot was = *slot_of(oldfd);

    if (shunt_fd_claim(newfd, was.kind, was.obj) != 0)
        return -1;
    slot_of(oldfd)->shared = slot_of(newfd)->shared = true;
    return 0;
}

int shunt_fd_limit(void)
{
    struct table *t = current();

    return t != NULL ? t->size : 0;
}

bool shunt_fd_forget(int fd)
{
    struct slot *sl = slot_of(fd);

    if (sl == NULL || sl->kind == SHUNT_FD_NONE)
        return false;
    struct slot was = *sl;
    *sl = (struct slot){ .kind = SHUNT_FD_NONE };
    if (!was.shared)
        return false;
    /* Rare (a dup'd socket): look for another holder. */
    struct table *t = current();
    for (int i = 0; i < t->size; i++)
        if (t->slot[i].kind == was.kind && t->slot[i].obj == was.obj)
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
