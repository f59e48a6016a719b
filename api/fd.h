/*
 * fd.h - Shunt's descriptor table.
 *
 * Each Shunt socket or epoll instance holds a real kernel descriptor (an
 * open /dev/null) and uses its number: the kernel never hands that number to
 * anything else, so Shunt's descriptors and the process's own files never
 * collide, and select()'s small numbers keep working.  Running out of
 * descriptors is the kernel's EMFILE, as it would be without Shunt.
 */
#ifndef SHUNT_FD_H
#define SHUNT_FD_H

enum shunt_fd_kind {
    SHUNT_FD_NONE,              /* not Shunt's: the kernel's */
    SHUNT_FD_SOCKET,
    SHUNT_FD_EPOLL,
};

/* A descriptor for obj; -1 with errno (EMFILE, ENFILE, ENOMEM) if none. */
int shunt_fd_alloc(enum shunt_fd_kind kind, void *obj, int cloexec);

/* Give a descriptor from shunt_fd_alloc(kind, NULL, ...) its object. */
void shunt_fd_set_obj(int fd, void *obj);

/* What fd is, and its object (NULL unless fd is Shunt's of that kind). */
enum shunt_fd_kind shunt_fd_kind(int fd);
void *shunt_fd_get(int fd, enum shunt_fd_kind kind);

/* Give the number back (closes the kernel descriptor). */
void shunt_fd_release(int fd);

#endif /* SHUNT_FD_H */
