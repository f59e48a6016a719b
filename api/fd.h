/*
 * fd.h - Shunt's descriptor table.
 *
 * Each Shunt socket or epoll instance stands on a real kernel descriptor and
 * uses its number: a socket on a kernel socket of the same family and type
 * (never bound, never connected), an epoll instance on a kernel epoll (the
 * one that holds the kernel descriptors added to it).  The kernel never
 * hands that number to anything else, so Shunt's descriptors and the
 * process's own files never collide, select()'s small numbers keep working,
 * and running out of descriptors is the kernel's EMFILE.  A call that gets
 * past Shunt to the kernel - a raw syscall(), a glibc-internal call, a
 * statically linked library - meets an unconnected socket and fails loudly
 * (ENOTCONN, EDESTADDRREQ, EINVAL) instead of reading or writing something
 * else.  The cost is one kernel socket per Shunt socket: a socket() and a
 * close() system call in its life, and the kernel's memory for one idle
 * socket (README, "What a Shunt descriptor costs").
 *
 * dup() and friends make two numbers name one object: the table marks it
 * shared, and releasing one number says whether another still holds it.
 */
#ifndef SHUNT_FD_H
#define SHUNT_FD_H

#include <stdbool.h>

enum shunt_fd_kind {
    SHUNT_FD_NONE,              /* not Shunt's: the kernel's */
    SHUNT_FD_SOCKET,
    SHUNT_FD_EPOLL,
};

/*
 * Make the kernel descriptor fd (>= 0) Shunt's, standing for obj.  0, or -1
 * with errno ENOMEM (fd is left open: the caller closes it).  A negative fd
 * is passed through: -1 with the errno its creator set (EMFILE, ENFILE).
 */
int shunt_fd_claim(int fd, enum shunt_fd_kind kind, void *obj);

/* Give a descriptor claimed with a NULL object its object. */
void shunt_fd_set_obj(int fd, void *obj);

/* What fd is, and its object (NULL unless fd is Shunt's of that kind). */
enum shunt_fd_kind shunt_fd_kind(int fd);
void *shunt_fd_get(int fd, enum shunt_fd_kind kind);

/* newfd (a kernel descriptor, e.g. from dup(oldfd)) names oldfd's object too. */
int shunt_fd_dup(int oldfd, int newfd);

/*
 * Give the number back and close the kernel descriptor under it.  True when
 * another number still names the object (a dup): the caller keeps it.
 */
bool shunt_fd_release(int fd);

/* No Shunt descriptor has a number at or above this. */
int shunt_fd_limit(void);

/* Forget fd without closing anything (the kernel already closed it). */
bool shunt_fd_forget(int fd);

#endif /* SHUNT_FD_H */
